"""The OpenAI Responses API (also xAI's and GitHub Copilot's): the stream as neutral events,
and the next request's assistant turn, tool results and tool declarations.

Reading
-------
Events are typed (the JSON ``type``, echoed by the ``event:`` line); there is no
``[DONE]``. Output items arrive by ``output_index``: opened by ``output_item.added``,
filled by deltas, given whole by ``output_item.done``; the terminal event repeats them all.
Each becomes blocks of :attr:`Message.content`, in the order they first appear:

- ``message``: a :class:`TextBlock` per content part (``refusal`` parts flagged), whose
  ``id`` and ``phase`` are the item's; an ``output_text`` part's ``annotations`` are its
  ``citations``, as its whole forms (``content_part.done``, ``output_item.done``, the
  terminal response) state them, with no stream event (``output_text.annotation.added``
  is not read). A part of another type is an :class:`OtherBlock` of that type.
- ``reasoning``: one :class:`ThinkingBlock` (even with no summary: it carries the item's
  ``id`` and ``encrypted_content``, which a next request without ``store`` needs):
  ``thinking`` is the raw reasoning parts, then the summary parts, the non-empty ones
  joined by a blank line; ``summary`` is the summary parts' texts, one by one;
  ``encrypted_content`` is its ``signature``; ``id`` the item's.
- ``function_call`` and ``custom_tool_call``: a :class:`ToolCall` whose ``id`` is the
  ``call_id`` (what the output must answer) and ``item_id`` the item's ``id``. A custom
  tool's free-form ``input`` is its ``raw_arguments`` (``arguments`` is ``{}`` unless it
  is a JSON object); a ``custom_tool_call`` is ``provider_executed`` when the response's
  ``tools`` list a server-side tool (any type but ``function``, ``custom`` and
  ``namespace``) and no function or custom tool of that name is declared, directly,
  inside a ``namespace`` tool or loaded by a ``tool_search_output`` item (xAI reports its
  server-side X search so); a call carrying a ``namespace`` never is. It is
  ``complete`` once its own ``.done`` event came (or a ``completed`` response ended it),
  its item's ``status`` is not ``"incomplete"`` and, for a function, its
  arguments are a JSON object (or empty): a call cut off by ``max_output_tokens`` is not.
- any other item (web, file and tool search, code interpreter, image generation, MCP,
  shell, apply-patch, programs, computer use, and types this version does not know), and
  a ``message`` item whose final form has no content part: an :class:`OtherBlock` of the
  item's JSON, as last stated (so the item, and its id, go back). Those items carry their results
  too, or must be answered with an item of their own type: as a ToolCall they would lose
  data or invite a wrong answer.

Which statement wins: the deltas build each block; an item's ``.done`` events, then the
terminal ``response.output`` (paired with the streamed items in order, or by item id when
the counts differ), are later, whole statements, and they win. What they add to the
streamed text is emitted as one more delta, so the events still add up to the message; a
contradiction replaces the text without an event and is logged at WARNING. So the final
message agrees with the response the provider stored, ``id`` and ``model`` included
(GitHub Copilot rotates every id; :class:`MessageStart` has the first ones). Text grows in
linear time however it is cut.

``stop_reason`` is ``incomplete_details.reason`` when given (``"max_output_tokens"``,
``"content_filter"``), else the response's ``status`` (``"completed"``): Responses has
no finish reason of its own, and a reply with tool calls is ``"completed"`` too.
``response.done`` (sent by some xAI versions) ends the reply like ``response.completed``.
``response.failed`` and ``error`` raise :class:`APIStreamError` (``error_type``: the
error's ``code``, else its ``type``). Events after the terminal one are ignored (one HTTP
response holds one response); unknown types are logged at DEBUG on ``trio_sse.providers``.
``Usage.input_tokens`` counts cached tokens (it is ``total_input_tokens``); ``Usage.raw``
is the response's ``usage``.

What ``raw`` holds
------------------
Every block's ``raw`` is an item of the response's ``output``, as finally assembled (the
deltas applied, the latest whole form's fields, unknown ones included):

- a :class:`TextBlock` (or an :class:`OtherBlock` for a part of an unknown type): its
  ``message`` item with ``content`` holding this block's part only. A message of several
  parts is several blocks with the same item fields; :func:`assistant_turn` joins
  neighbouring blocks of one item ``id`` back into one item, parts in order;
- a :class:`ThinkingBlock`: its ``reasoning`` item whole (``id``, ``summary`` and
  ``content`` as lists of parts, ``encrypted_content``, ``status``);
- a :class:`ToolCall`: its ``function_call`` or ``custom_tool_call`` item whole (``id``,
  ``call_id``, ``name``, ``arguments`` or ``input``, ``namespace``, ``caller``, ``status``);
- an :class:`OtherBlock`: its item whole (``data`` is ``raw``).

:attr:`Message.raw` is the response object as last stated (the terminal event's, once it
came) without its ``output``: ``id``, ``object``, ``created_at``, ``status``, ``model``,
``usage``, ``incomplete_details``, ``tools``, ``instructions``, ``previous_response_id``
and whatever else the server sent. Nothing in it goes back in the assistant turn.

Writing
-------
Plain JSON values (dicts, lists, strings, numbers, booleans); nothing is sent anywhere:

- :func:`user_turn`: ``[{"role": "user", "content": text}]``;
- :func:`assistant_turn`: the output items to put in the next request's ``input``
  (when not chaining with ``previous_response_id``);
- :func:`tool_results_turn`: ``function_call_output`` items (``custom_tool_call_output``
  for a custom tool), to follow them in ``input``;

each a list of items (``[]`` when there is nothing to send), the same shape as every
provider module's turns
- :func:`tool_declarations`: the request's ``tools``.

A tool loop::

    request["input"] = user_turn("Weather in Paris?")
    ...
    request["input"] += assistant_turn(message)
    request["input"] += tool_results_turn((call, run(call)) for call in message.tool_calls)

Differences from the openai SDK (on every recorded stream, checked in
``tests/differential``): the assistant turn is the SDK's final ``Response.output`` items
(``to_dict()``) less what its stream helper adds (``parsed`` on text parts,
``parsed_arguments`` on function calls: its own parses, not input fields). Where the SDK
cannot read a stream (GitHub Copilot's rotating ids, a ``call_id`` that changes at
``.done``, several responses in one stream) it raises; trio-sse reads it by the rules
above. Against the SDK's request types, what servers send and the types do not
describe goes back unchanged: a ``custom_tool_call``'s ``status``, xAI's
``web_search_call`` (``name``, ``arguments``, ``call_id``, no ``action``) and xAI's
``url_citation`` (a ``url`` only).
"""

from ..._names import claim_public_names
from ._reading import Interpreter as Interpreter
from ._writing import assistant_turn as assistant_turn
from ._writing import tool_declarations as tool_declarations
from ._writing import tool_results_turn as tool_results_turn
from ._writing import user_turn as user_turn

__all__ = ["Interpreter", "assistant_turn", "tool_declarations", "tool_results_turn", "user_turn"]

claim_public_names(globals(), __all__)
