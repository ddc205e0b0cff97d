"""Gemini's ``streamGenerateContent?alt=sse`` stream (Gemini API and Vertex AI), both ways.

Reading: :class:`Interpreter` turns the stream into neutral events and a :class:`Message`.
Writing: :func:`assistant_turn`, :func:`tool_results_turn` and :func:`tool_declarations`
build the next request's ``contents`` and ``tools`` from it, as plain JSON values. All of
it is synchronous and sans-IO: no checkpoints, nothing to cancel, not thread-safe.

**Reading.** Each event's data is a whole ``GenerateContentResponse``; only the first
candidate (``index`` 0) is read. Its ``content.parts`` become blocks of
:attr:`Message.content`, one block per part of the turn to send back:

- a text part is a :class:`TextBlock`, or a :class:`ThinkingBlock` for ``thought: true``.
  Consecutive text parts join into one block when neither carries a ``thoughtSignature``
  (Google: never merge a signed part with another) and their other fields are equal; a
  signed part is a block of its own (often an empty text part ending the stream), and
  an empty part with nothing else is dropped (the API refuses empty text);
- a ``functionCall`` part is a :class:`ToolCall` (``id`` is ``""`` when Gemini gives
  none). Arriving whole it yields ``ToolCallStart``, ``ToolCallDelta`` (its ``args`` as
  compact JSON) and ``ToolCallEnd`` at once. Vertex streams arguments instead: a part with
  the name and ``willContinue``, then parts of ``partialArgs`` (a JSON path and a scalar,
  strings in pieces), ended by a bare ``functionCall: {}``, by a part without
  ``willContinue``, or by anything else. Those pieces are written out as JSON text, in
  order, so the deltas add up to the ``raw_arguments`` and parse into ``arguments``. A
  call still streaming when the ``finishReason`` arrives (or the stream breaks), or
  ended by another part of the chunk carrying it (real final chunks carry
  ``{"text": ""}``), or whose arguments are not a JSON object, has ``complete=False``;
- any other part (``executableCode``, ``inlineData``, unknown ones): an
  :class:`OtherBlock` of it, whole. An empty part ``{}`` holds nothing: skipped (logged
  at DEBUG); a part that is not a JSON object is a :class:`MalformedEventError`.

A ``thoughtSignature`` is the ``signature`` of its part's block: announced by a
:class:`ThinkingDelta` on a thought part, carried by :class:`ToolCallEnd` on a call, read
in the message (as :class:`MessageStop` has it) on a text part. A signed bare
``functionCall: {}`` with no call open is logged and dropped (no call to send it with).

**raw.** Each block's ``raw`` is its part as finally assembled, every field kept: a text
block's ``{"text": <all its text>, "thought"?, "thoughtSignature"?, ...}``; a call's
``{"functionCall": {"name", "id"?, "args", ...}, "thoughtSignature"?, ...}``, with
streamed arguments assembled into ``args`` (``partialArgs`` and ``willContinue`` are
streaming only, and Gemini takes neither back), the fields of a call's later parts
winning; an :class:`OtherBlock`'s ``data`` is the part. :attr:`Message.raw` is what the
chunks said outside the parts, each field as last stated::

    {"responseId", "modelVersion", "createTime", "usageMetadata", "promptFeedback", ...,
     "candidate": {"finishReason", "finishMessage", "safetyRatings", "citationMetadata",
                   "groundingMetadata", "urlContextMetadata", "continuationToken",
                   "avgLogprobs", "index", ...}}

(every top-level field but ``candidates``; candidate 0's every field but ``content``),
except that ``citationMetadata.citationSources`` (Gemini API) or ``.citations`` (Vertex
AI) gathers every distinct citation of every chunk, in order. :func:`continuation_token`
and :func:`grounding_metadata` read it.

``finishReason`` (``"STOP"``, ``"MAX_TOKENS"``, ``"SAFETY"``, ``"CONTINUATION"``, ...) is
the ``stop_reason`` and the terminator; the stream has no other, so EOF without one is an
incomplete stream. A blocked prompt (``promptFeedback.blockReason``, no candidates) ends
the reply too: an :class:`OtherBlock` ``"promptFeedback"`` holds the feedback and
``stop_reason`` is the block reason. Safety, like ``"MAX_TOKENS"``, is an outcome to
read, not an exception. An ``{"error": {...}}`` chunk raises :class:`APIStreamError`
(``error_type``: its ``status``); a ``jsonPath`` the interpreter cannot read raises
:class:`MalformedEventError`, both with the partial message.

``usageMetadata`` holds running totals (the last wins; it is ``Usage.raw``):
``input_tokens`` and ``total_input_tokens`` are ``promptTokenCount`` +
``toolUsePromptTokenCount`` (cached tokens included), ``output_tokens`` is
``candidatesTokenCount`` + ``thoughtsTokenCount`` (together they make
``totalTokenCount``), ``reasoning_tokens`` is ``thoughtsTokenCount``,
``cache_read_input_tokens`` is ``cachedContentTokenCount``. ``modelVersion`` is the model
and ``responseId`` the id.

**Writing.** Each turn is a list of the entries to add to ``contents`` (``[]`` when
there is nothing to send, as Gemini refuses a Content without parts), the same shape as
every provider module's: :func:`user_turn` gives ``[{"role": "user", "parts": [{"text":
...}]}]``; :func:`assistant_turn` ``[{"role": "model", "parts": [...]}]``: each block's
``raw``, so every part goes back with its signature on its own part boundary;
:func:`tool_results_turn` ``[{"role": "user", "parts": [{"functionResponse": {"id",
"name", "response": {"output": ...} or {"error": ...}}}]}]``, one part per call (answer
every call, a cut-off one with an exception: Gemini wants as many ``functionResponse``
parts as ``functionCall`` parts); :func:`tool_declarations` gives
``[{"functionDeclarations": [{"name", "description", "parametersJsonSchema"}]}]``.
``parametersJsonSchema`` takes full JSON Schema (``$ref``, ``anyOf``,
``additionalProperties``, ...); the older ``parameters`` takes only Google's OpenAPI
``Schema`` subset and the two are mutually exclusive. A continued reply
(``"CONTINUATION"``) is resumed by sending :func:`continuation_token` as the request's
top-level ``continuationToken``; it is not part of the turn.

**Against google-genai** (3.6; it has no stream accumulator: its chat history keeps every
chunk's ``Content`` as it came), on the same chunks, the parts sent back agree field by
field with its ``Part`` models, with these differences, on purpose:

- consecutive unsigned text parts with equal fields are one part (the text joined), not
  one per chunk: the same content in fewer parts;
- an empty text part with no other field is left out (the API refuses empty text);
- streamed arguments go back as one ``args`` object: google-genai keeps the
  ``partialArgs`` pieces, which its own request converter refuses for the Gemini API;
- ``thoughtSignature`` stays the base64 text Gemini sent (google-genai decodes it to bytes
  and encodes it again when it sends it).
"""

from ..._names import claim_public_names
from ._reading import Interpreter as Interpreter
from ._reply import continuation_token as continuation_token
from ._reply import grounding_metadata as grounding_metadata
from ._writing import assistant_turn as assistant_turn
from ._writing import tool_declarations as tool_declarations
from ._writing import tool_results_turn as tool_results_turn
from ._writing import user_turn as user_turn

__all__ = [
    "Interpreter",
    "assistant_turn",
    "continuation_token",
    "grounding_metadata",
    "tool_declarations",
    "tool_results_turn",
    "user_turn",
]

claim_public_names(globals(), __all__)
