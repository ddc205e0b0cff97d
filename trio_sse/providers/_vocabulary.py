"""The neutral vocabulary: what every provider's stream is translated into.

Two kinds of value, all frozen and slotted:

- stream events, yielded as they happen (:data:`StreamEvent` is their union);
- the accumulated :class:`Message`, built from the same deltas, with its ordered
  content blocks (:data:`ContentBlock`).

``index`` in a stream event is the position of the block it belongs to in
:attr:`Message.content`, the same for every provider (not the provider's own index).
A :class:`TextBlock`'s ``signature`` and ``citations`` have no event of their own: read
them in the message (:class:`MessageStop` carries it); a :class:`ToolCall`'s
``signature`` is in :class:`ToolCallEnd`'s ``call``.

Nothing the next request needs is lost: every block keeps ``raw``, the provider's own
JSON for it as finally assembled (every field, those this version does not know
included), and :class:`Message` keeps ``raw``, what the provider said of the reply outside
its blocks, and names its ``provider``. The neutral fields are a view for code that only
reads; ``raw`` is what each provider module's ``assistant_turn`` sends back. ``raw`` takes
no part in equality (two blocks are equal when their neutral fields are) and is not in
``repr``. Treat it as read-only: snapshots may share it.

Going the other way, :class:`Tool` declares a tool and :data:`ToolOutput` is what running
a :class:`ToolCall` gave; each provider module's ``tool_declarations`` and
``tool_results_turn`` turn them into that provider's JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeAlias

__all__ = [
    "ContentBlock",
    "Message",
    "MessageStart",
    "MessageStop",
    "OtherBlock",
    "StreamEvent",
    "TextBlock",
    "TextDelta",
    "ThinkingBlock",
    "ThinkingDelta",
    "Tool",
    "ToolCall",
    "ToolCallDelta",
    "ToolCallEnd",
    "ToolCallStart",
    "ToolOutput",
    "Usage",
    "UsageUpdate",
]


def _raw() -> Any:
    """A ``raw`` field: the provider's JSON, not compared, not in the repr."""
    return field(default_factory=dict[str, Any], compare=False, repr=False)


# --- usage ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts as the provider reports them; ``None`` where it reports nothing.

    ``input_tokens`` means what the provider means by it; ``total_input_tokens`` is the
    same quantity for every provider: every prompt token, cached or not.

    Attributes:
        input_tokens: prompt tokens as the provider counts them (Anthropic: not counting
            cache reads and writes; OpenAI and Gemini: counting them).
        output_tokens: generated tokens, reasoning included where the provider counts it so.
        cache_read_input_tokens: prompt tokens read from a cache.
        cache_creation_input_tokens: prompt tokens written to a cache (Anthropic).
        reasoning_tokens: tokens spent thinking (OpenAI's ``reasoning_tokens``, Anthropic's
            ``thinking_tokens``, Gemini's ``thoughtsTokenCount``).
        total_input_tokens: every prompt token, cache reads and writes included (Anthropic:
            ``input_tokens`` + cache reads + cache writes; the others: ``input_tokens``);
            ``None`` when the provider has not yet said enough to know.
        raw: the provider's own usage JSON, as last stated.
    """

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_input_tokens: int | None = None
    cache_creation_input_tokens: int | None = None
    reasoning_tokens: int | None = None
    total_input_tokens: int | None = None
    raw: Mapping[str, Any] = _raw()


# --- content blocks --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TextBlock:
    """Text the model wrote (OpenAI's refusal text is a :class:`TextBlock` too, flagged).

    Attributes:
        text: the text.
        refusal: OpenAI's refusal text rather than an answer.
        signature: what must be sent back with the block (Gemini's ``thoughtSignature`` on a
            text part), if any.
        citations: the provider's citation objects for the text, as JSON, in order
            (Anthropic's ``citations``, OpenAI Responses' ``annotations``).
        id: the id of the provider's item holding the text (OpenAI Responses: the
            ``message`` item's ``id``), if it has one.
        phase: OpenAI Responses' ``phase`` of the message item (``"commentary"``,
            ``"final_answer"``), to be sent back with it; ``None`` if none.
        raw: the provider's JSON for the block, as finally assembled.
    """

    text: str
    refusal: bool = False
    signature: str | None = None
    citations: tuple[Mapping[str, Any], ...] = ()
    id: str | None = None
    phase: str | None = None
    raw: Mapping[str, Any] = _raw()


@dataclass(frozen=True, slots=True)
class ThinkingBlock:
    """Reasoning the model showed, or an opaque one it did not.

    Attributes:
        thinking: the reasoning text (summary text for OpenAI Responses); ``""`` if redacted.
        signature: what must be sent back with the block (Anthropic's ``signature``,
            Gemini's ``thoughtSignature``, OpenAI's ``encrypted_content``), if any.
        redacted: Anthropic's ``redacted_thinking``: ``signature`` holds its ``data``.
        id: the provider's item id (OpenAI Responses' ``reasoning`` item ``id``, which a
            next request without ``store`` must send back), if it has one.
        summary: the reasoning summary's parts, in order, each as it was streamed
            (OpenAI Responses' ``summary[]``); ``()`` when the provider has none.
        raw: the provider's JSON for the block, as finally assembled.
    """

    thinking: str
    signature: str | None = None
    redacted: bool = False
    id: str | None = None
    summary: tuple[str, ...] = ()
    raw: Mapping[str, Any] = _raw()


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A call the model made to a tool.

    Attributes:
        id: the id to answer with (OpenAI Responses: the ``call_id``); ``""`` if the
            provider gives none (Gemini may not).
        name: the tool's name.
        arguments: the arguments, parsed; ``{}`` for an empty argument string.
        raw_arguments: the argument JSON exactly as streamed (kept even when it does not
            parse, e.g. cut off by a token limit; ``arguments`` is then ``{}``), or a custom
            tool's free-form input (OpenAI Responses' ``custom_tool_call``).
        provider_executed: the provider ran the tool itself (Anthropic's
            ``server_tool_use``, OpenAI's built-in tools): nothing to answer.
        signature: what must be sent back with the call (Gemini's ``thoughtSignature`` on a
            function-call part; Gemini 3 requires it), if any.
        complete: the call was streamed to its end and its arguments are what the model
            meant: ``False`` when it was cut off (a token limit, a stream that broke) or
            its arguments do not parse, so it cannot pass for a real call. Check it
            before running a tool.
        item_id: the provider's item id, where it differs from ``id`` (OpenAI Responses:
            the ``function_call`` item's ``id``; ``id`` is its ``call_id``).
        raw: the provider's JSON for the call, as finally assembled.
    """

    id: str
    name: str
    arguments: Mapping[str, Any]
    raw_arguments: str
    provider_executed: bool = False
    signature: str | None = None
    complete: bool = True
    item_id: str | None = None
    raw: Mapping[str, Any] = _raw()


@dataclass(frozen=True, slots=True)
class OtherBlock:
    """A block with no neutral form (a server tool's result, an image, ...), kept whole.

    Attributes:
        type: the provider's block or item type, e.g. ``"web_search_tool_result"``.
        data: the provider's JSON for the block, as finally assembled (also ``raw``).
    """

    type: str
    data: Mapping[str, Any]

    @property
    def raw(self) -> Mapping[str, Any]:
        """The provider's JSON for the block: ``data``, named as on every other block."""
        return self.data


ContentBlock: TypeAlias = TextBlock | ThinkingBlock | ToolCall | OtherBlock


# --- the accumulated message -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Message:
    """One reply, as accumulated from its stream (partial until the stream's terminator).

    Attributes:
        id: the provider's message / response id, if it sent one.
        model: the model that answered, as the provider names it.
        content: the blocks in order.
        stop_reason: the provider's own value (``"end_turn"``, ``"tool_calls"``,
            ``"STOP"``, ...), ``None`` until it arrives.
        usage: the latest token counts, ``None`` if none arrived.
        provider: whose reply this is (``"anthropic"``, ``"openai-chat"``,
            ``"openai-responses"``, ``"gemini"``), so signatures are never sent to another;
            ``None`` for a message built by hand.
        raw: what the provider said of the reply outside its content blocks, as last
            stated, unknown fields included (Anthropic's ``container`` and
            ``stop_details``, Gemini's ``continuationToken`` and candidate metadata, ...);
            each provider module documents its shape.
    """

    id: str | None = None
    model: str | None = None
    content: tuple[ContentBlock, ...] = ()
    stop_reason: str | None = None
    usage: Usage | None = None
    provider: str | None = None
    raw: Mapping[str, Any] = _raw()

    @property
    def text(self) -> str:
        """All text blocks' text, joined (refusals excluded)."""
        return "".join(
            block.text
            for block in self.content
            if isinstance(block, TextBlock) and not block.refusal
        )

    @property
    def refusal(self) -> str | None:
        """The refusal text (OpenAI), or ``None``."""
        parts = [b.text for b in self.content if isinstance(b, TextBlock) and b.refusal]
        return "".join(parts) if parts else None

    @property
    def thinking(self) -> str:
        """All thinking blocks' text, joined."""
        return "".join(block.thinking for block in self.content if isinstance(block, ThinkingBlock))

    @property
    def tool_calls(self) -> tuple[ToolCall, ...]:
        """Every tool call, in order (those the provider executed included, flagged)."""
        return tuple(block for block in self.content if isinstance(block, ToolCall))


# --- going back: tools and their results -------------------------------------------------


@dataclass(frozen=True, slots=True)
class Tool:
    """A tool the model may call, for each provider module's ``tool_declarations``.

    Attributes:
        name: the name the model calls it by.
        description: what it does, for the model.
        parameters: the JSON Schema of its arguments (an ``"object"`` schema).
    """

    name: str
    description: str
    parameters: Mapping[str, Any]


ToolOutput: TypeAlias = "str | Mapping[str, Any] | Exception"
"""What running a :class:`ToolCall` gave, for each provider module's ``tool_results_turn``:
text, a JSON object, or the exception it raised (sent back as an error, flagged the way
the provider expects)."""


# --- stream events -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MessageStart:
    """The reply began. ``id`` and ``model`` as far as the provider has said."""

    id: str | None
    model: str | None


@dataclass(frozen=True, slots=True)
class TextDelta:
    """More text for the text block at ``index``."""

    index: int
    text: str
    refusal: bool = False


@dataclass(frozen=True, slots=True)
class ThinkingDelta:
    """More reasoning for the thinking block at ``index``; or its signature, when it comes."""

    index: int
    thinking: str = ""
    signature: str | None = None


@dataclass(frozen=True, slots=True)
class ToolCallStart:
    """A tool call began at ``index``: its id and name are known, its arguments are not."""

    index: int
    id: str
    name: str
    provider_executed: bool = False


@dataclass(frozen=True, slots=True)
class ToolCallDelta:
    """A raw fragment of the JSON arguments of the tool call at ``index``."""

    index: int
    arguments: str


@dataclass(frozen=True, slots=True)
class ToolCallEnd:
    """The tool call at ``index`` is complete: ``call`` is all of it, signature included."""

    index: int
    call: ToolCall


@dataclass(frozen=True, slots=True)
class UsageUpdate:
    """New token counts (the whole of them so far, not an increment)."""

    usage: Usage


@dataclass(frozen=True, slots=True)
class MessageStop:
    """The reply is complete; the stream's terminator arrived."""

    stop_reason: str | None
    message: Message = field(repr=False)


StreamEvent: TypeAlias = (
    MessageStart
    | TextDelta
    | ThinkingDelta
    | ToolCallStart
    | ToolCallDelta
    | ToolCallEnd
    | UsageUpdate
    | MessageStop
)
