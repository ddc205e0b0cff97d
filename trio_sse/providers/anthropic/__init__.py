"""Anthropic Messages (``POST /v1/messages``): the stream read, and the next turn written.

Reading: :class:`Interpreter` turns the stream's events into the neutral vocabulary (the
rules are in its docstring). Nothing the next request needs is lost:

- every block's ``raw`` is the block's JSON as finally assembled: its
  ``content_block_start`` JSON with the deltas applied (the joined ``text`` and its
  ``citations``; ``thinking`` and the ``signature``; a tool call's parsed ``input``, ``{}``
  when it did not parse; a ``compaction`` block's ``content`` and ``encrypted_content``),
  every other field kept as sent (``caller``, ``toolset_name``, ``server_name``, fields
  this version does not know). ``raw["type"]`` tells ``server_tool_use`` from
  ``mcp_tool_use``;
- ``Message.raw`` is the reply-level JSON: ``message_start``'s ``message`` without
  ``content`` and ``usage``, updated by each ``message_delta`` (its ``delta`` fields and
  its own top-level fields but ``type`` and ``usage``; a ``null`` never erases a value)::

      {"id": "msg_...", "type": "message", "role": "assistant", "model": "...",
       "stop_reason": "refusal", "stop_sequence": None,
       "stop_details": {"type": "refusal", "category": "cyber", "explanation": "..."},
       "container": {"id": "container_...", "expires_at": "...", "skills": [...]},
       "context_management": ..., "input_transformations": [...], ...}

  A ``fallback`` block (a server-side model fallback) relabels ``model`` (``Message.model``
  and ``raw["model"]``) to the model that served the rest, as the SDK does;
- ``Usage.raw`` is the usage JSON merged the same way (``cache_creation``,
  ``server_tool_use``, ``output_tokens_details``, ``iterations``, ``service_tier``, ...);
  ``reasoning_tokens`` is ``output_tokens_details.thinking_tokens`` and
  ``total_input_tokens`` is ``input_tokens`` + cache reads + cache writes;
- a tool call cut off (not stopped, its input JSON does not parse, or it is the last
  block of a reply ``max_tokens`` ended) has ``complete=False``.

Writing, sans-IO, plain JSON values; each function gives the entries to add to the
request's ``messages`` (a list, ``[]`` when there is nothing to send), so that
``messages += anthropic.assistant_turn(message)`` is the same for every provider:

- :func:`user_turn`: ``[{"role": "user", "content": text}]``;
- :func:`assistant_turn`: ``[{"role": "assistant", "content": [...]}]``, each block its
  ``raw`` (but a text block with nothing but whitespace, which Anthropic refuses); ``[]``
  for a reply with nothing to send back (a refusal with no content), as Anthropic
  refuses an empty turn. The reply's container goes in the next request's top-level
  ``container`` field, not in the turn: :func:`container` gives its id;
- :func:`tool_results_turn`: ``[{"role": "user", "content": [{"type": "tool_result",
  "tool_use_id", "content", "is_error"?}, ...]}]``;
- :func:`tool_declarations`: the request's ``tools``, ``[{"name", "description",
  "input_schema"}, ...]``.

Where the official SDK (``anthropic`` 2.14, ``beta.messages.stream(...)
.get_final_message().to_param()``) builds another assistant turn from the same stream
(``tests/differential/test_anthropic_turns_sdk.py`` checks each on every recording):

- a recording of several responses back to back: the SDK merges them into the first
  message; the turn here is the first response's, complete at its ``message_stop``;
- a text block of nothing but whitespace (the API streams ``""`` before a tool call,
  ``" "`` or ``"\\n\\n"`` between cited blocks): the SDK sends it back and the API
  answers 400 "text content blocks must contain non-whitespace text"
  (anthropics/anthropic-sdk-python#461); here it is left out;
- a tool call whose input was cut off: the SDK sends what its partial JSON parser makes
  of the fragments (a guess at the arguments the model never finished); here ``input`` is
  ``{}`` and the call is ``complete=False``, so it cannot pass for a real call;
- a stream that ends before ``message_stop``: the SDK returns a message; here it is an
  :class:`~trio_sse.providers.IncompleteStreamError` whose ``partial`` holds what came;
- the non-beta ``messages.stream`` also loses ``mcp_tool_use``'s input (``{}``).

Otherwise the turn, ``Message.raw`` and ``Usage.raw`` are the SDK's, field by field (its
final message also says ``"stop_details": None`` where the stream never mentioned it).
"""

from ..._names import claim_public_names
from ._reading import Interpreter as Interpreter
from ._reading import container as container
from ._writing import assistant_turn as assistant_turn
from ._writing import tool_declarations as tool_declarations
from ._writing import tool_results_turn as tool_results_turn
from ._writing import user_turn as user_turn

__all__ = [
    "Interpreter",
    "assistant_turn",
    "container",
    "tool_declarations",
    "tool_results_turn",
    "user_turn",
]

claim_public_names(globals(), __all__)
