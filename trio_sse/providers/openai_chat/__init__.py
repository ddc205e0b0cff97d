"""OpenAI Chat Completions (and compatible servers): the stream read, the next turn written.

Sans-IO, synchronous: nothing here is a checkpoint or does I/O.

Reading
-------
Feed :class:`Interpreter` every SSE event of one ``POST /v1/chat/completions`` stream
(``"stream": true``), in order: OpenAI's, and the compatible ones of DeepSeek, Groq, xAI,
OpenRouter, vLLM, Gemini's OpenAI endpoint and others. It returns the neutral events each
one carried and keeps the :class:`~trio_sse.providers.Message` so far.

- Events are data-only chunks; ``data: [DONE]`` is the terminator: every tool call not
  yet ended ends, then a :class:`MessageStop`, then :attr:`done`. Events after it are
  logged and ignored. EOF before it is an incomplete stream.
- ``id`` and ``model``: the first non-empty value the chunks carry. The first chunk gives
  a :class:`MessageStart`.
- One reply: with ``n > 1`` the chunks interleave several choices, but a
  :class:`Message` is one reply, so only the choice with ``index`` 0 is interpreted; the
  others are ignored (logged once). Ask for one choice per stream to get them all.
- ``delta.content`` grows a :class:`TextBlock`, ``delta.refusal`` a ``TextBlock`` with
  ``refusal=True``, ``delta.reasoning_content`` (DeepSeek, xAI, vLLM) or
  ``delta.reasoning`` (Groq, OpenRouter; its text used only when ``reasoning_content`` is
  absent or empty, as some servers send both) a :class:`ThinkingBlock`, which also holds
  OpenRouter's ``delta.reasoning_details`` (a delta with only those still makes or grows
  one). A new
  block starts whenever the kind changes; the stream events' ``index`` is the block's
  position in ``Message.content``.
- ``delta.tool_calls[]`` fragments are merged by their ``index`` (any integer: some
  servers start at 1; a fragment without one takes its place in the list). ``id``,
  ``type`` and names are set once, by the first non-empty value (servers that repeat them
  must not produce ``"callcall"``); ``function.arguments`` (``custom.input`` for a
  ``"custom"`` tool call) is joined. :class:`ToolCallStart` comes once the name is known;
  ``finish_reason`` (or ``[DONE]``) ends every tool call. A function call's arguments are
  then parsed (``{}`` if empty or unparseable, ``raw_arguments`` kept); a custom call's
  input is free-form text: ``raw_arguments`` holds it, ``arguments`` is ``{}``. The
  legacy ``delta.function_call`` is a :class:`ToolCall` too (``id`` ``""``). An empty
  ``tool_calls`` list (vLLM sends one in every delta) holds nothing and is dropped.
- ``delta.annotations`` (web search citations) are the :attr:`TextBlock.citations` of the
  last text block (of the next, if they come first); their ``start_index`` and
  ``end_index`` count in the message's whole ``content``.
- Signatures, in the neutral view: :attr:`ToolCall.signature` is Gemini's
  ``extra_content.google.thought_signature``; :attr:`ThinkingBlock.signature` the last of
  its ``reasoning_details`` (a ``reasoning.text``'s ``signature``, a
  ``reasoning.encrypted``'s ``data``). ``raw`` holds them all, and goes back.
- :attr:`ToolCall.complete` is ``False`` for a call that never ended (a partial message),
  for the last block of a reply cut by ``finish_reason`` ``"length"`` or
  ``"content_filter"``, and for function arguments that are not a JSON object.
- ``finish_reason`` is the ``stop_reason``. ``usage`` (on a chunk with empty ``choices``
  or on the last one) keeps the last non-null value: chunks without usage never wipe it.
  ``prompt_tokens`` -> ``input_tokens`` and ``total_input_tokens`` (it counts cached
  tokens), ``completion_tokens`` -> ``output_tokens``,
  ``prompt_tokens_details.cached_tokens`` -> ``cache_read_input_tokens``,
  ``completion_tokens_details.reasoning_tokens`` -> ``reasoning_tokens``; ``Usage.raw`` is
  the usage object whole (DeepSeek's ``prompt_cache_hit_tokens``, xAI's cost ...).
- A chunk with a top-level ``error`` (even beside ``choices``), or an ``event: error``,
  raises :class:`APIStreamError` (``error.type``, else ``error.code``).

A known field of the wrong JSON type raises :class:`MalformedEventError`; unknown fields
are logged at DEBUG on ``trio_sse.providers`` and kept in ``raw``.

What ``raw`` holds
------------------
Nothing the server sent of choice 0 is dropped, but a tool call's streaming ``index`` and
an empty ``tool_calls`` list. Fragments are assembled by one rule:
strings of the streamed fields (``content``, ``refusal``, ``reasoning_content``,
``reasoning``, ``arguments``, ``input``, and ``text``, ``summary``, ``data``,
``transcript``, ``thinking`` inside them) are joined; any other value is set by the first
fragment that gives it; ``null`` never wipes a value; objects merge field by field;
arrays of objects with an integer ``index`` merge by ``index``, others are extended.

- ``TextBlock.raw``: ``{"content": text}`` (``{"refusal": text}`` for a refusal).
- ``ThinkingBlock.raw``: the reasoning fields as received: ``reasoning_content`` and/or
  ``reasoning``, and ``reasoning_details`` (OpenRouter; the signed and encrypted entries
  Anthropic and Gemini models need back).
- ``ToolCall.raw``: the ``tool_calls[]`` entry as assembled, without its streaming
  ``index``: ``id``, ``type``, ``function{name, arguments}`` or ``custom{name, input}``,
  and whatever else the server put there (Gemini's
  ``extra_content.google.thought_signature``). A legacy call: the ``function_call``
  object, ``{"name", "arguments"}``.
- ``Message.raw``, the reply level::

      {
          "id": ..., "object": ..., "created": ..., "model": ..., "system_fingerprint": ...,
          ...,            # every other chunk-level field (x_groq, OpenRouter's provider)
          "usage": {...},                        # the last non-null usage, whole
          "choice": {"finish_reason": ..., "logprobs": {...}, ...},  # choice 0, but delta
          "message": {"role": "assistant", "annotations": [...], "audio": {...}, ...},
      }

  ``"message"`` holds the delta fields no block holds: ``role``, ``annotations`` (web
  search citations), ``audio``, the empty or ``null`` ``content`` and ``refusal`` a
  server sends, and unknown fields.

Writing
-------
:func:`user_turn` gives the user's message; :func:`assistant_turn` the assistant message
as the server streamed it; :func:`tool_results_turn` the ``role: tool`` messages
answering the calls; each a list of the entries to add to ``messages`` (``[]`` when there
is nothing to send). :func:`tool_declarations` gives the request's ``tools``. A loop::

    messages = user_turn("Weather in Paris?")
    while True:
        body = {"model": model, "messages": messages, "tools": tool_declarations(tools)}
        async with open_provider_stream(client, "openai-chat", url, json=body,
                                        api_key=key) as reply:
            async for event in reply:
                ...
        message = reply.message
        messages += assistant_turn(message)
        if not message.tool_calls:
            break
        messages += tool_results_turn((c, run(c)) for c in message.tool_calls)

Reasoning goes back: DeepSeek requires ``reasoning_content`` back on every assistant turn
that made tool calls (a 400 otherwise) and ignores it elsewhere; vLLM and llama.cpp chat
templates read it; OpenRouter asks for ``reasoning_details`` back unchanged and in order;
Gemini's OpenAI endpoint rejects a Gemini 3 tool turn without the call's
``extra_content.google.thought_signature``. Groq and Cerebras reject ``reasoning`` and
``reasoning_content`` in a request: pass ``include_reasoning=False`` there.

Where the official SDK differs
------------------------------
Compared with the final message of ``ChatCompletionStreamState`` (what
``tests/differential`` checks, field by field, on every recording and more):

- it joins every string, so a server that repeats ``id``, ``type``, ``name`` or ``role``
  in each fragment gets ``"call_0call_0"``, ``"getget"``, ``"assistantassistant"``; here
  they are set once;
- tool-call indexes starting at 1 crash it (``IndexError``);
- it keeps an empty ``tool_calls`` list (vLLM sends one in every delta), which OpenAI
  rejects in a request; and a reply with no text and no call has ``content`` null, which
  its param allows only beside ``tool_calls``; the turn leaves the list out and sends
  ``content`` ``""``;
- its message is a response model, not a request param: ``to_dict()`` keeps each
  ``tool_calls[]`` entry's ``index``, the ``annotations`` and the whole ``audio``
  (``data``, ``transcript``, ``expires_at``), which its own
  ``ChatCompletionAssistantMessageParam`` does not take, and every absent field as
  ``null``; :func:`assistant_turn` leaves those out (``audio`` keeps its ``id``; the rest
  stays in ``Message.raw``).
"""

from ..._names import claim_public_names
from ._reading import Interpreter as Interpreter
from ._writing import assistant_turn as assistant_turn
from ._writing import is_legacy as is_legacy
from ._writing import tool_declarations as tool_declarations
from ._writing import tool_results_turn as tool_results_turn
from ._writing import user_turn as user_turn

__all__ = [
    "Interpreter",
    "assistant_turn",
    "is_legacy",
    "tool_declarations",
    "tool_results_turn",
    "user_turn",
]

claim_public_names(globals(), __all__)
