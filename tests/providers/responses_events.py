"""Building OpenAI Responses events by hand, for the interpreter's and the turns' tests."""

from __future__ import annotations

from typing import Any

from trio_sse import ServerSentEvent
from trio_sse.providers import Message, StreamEvent, openai_responses

from .feeding import run_all, typed_event

USAGE = {
    "input_tokens": 30,
    "input_tokens_details": {"cached_tokens": 10},
    "output_tokens": 20,
    "output_tokens_details": {"reasoning_tokens": 5},
    "total_tokens": 50,
}


sse = typed_event  # OpenAI frames Responses events so: ``event:`` is the JSON ``type``


def ev(kind: str, **fields: Any) -> ServerSentEvent:
    return sse({"type": f"response.{kind}", **fields})


def response(
    status: str = "in_progress", output: list[dict[str, Any]] | None = None, **fields: Any
) -> dict[str, Any]:
    body = {"id": "resp_1", "object": "response", "model": "gpt-x", "status": status}
    return body | {"output": output or [], **fields}


def created(**fields: Any) -> ServerSentEvent:
    return ev("created", response=response(**fields), sequence_number=0)


def completed(output: list[dict[str, Any]] | None = None, **fields: Any) -> ServerSentEvent:
    return ev("completed", response=response("completed", output, usage=USAGE, **fields))


def added(index: int, item: dict[str, Any]) -> ServerSentEvent:
    return ev("output_item.added", output_index=index, item=item)


def item_done(index: int, item: dict[str, Any]) -> ServerSentEvent:
    return ev("output_item.done", output_index=index, item=item)


def message_item(*texts: str, refusal: str | None = None) -> dict[str, Any]:
    parts: list[dict[str, Any]] = [{"type": "output_text", "text": t} for t in texts]
    if refusal is not None:
        parts.append({"type": "refusal", "refusal": refusal})
    return {"type": "message", "id": "msg_1", "role": "assistant", "content": parts}


def text(index: int, piece: str, part: int = 0) -> ServerSentEvent:
    return ev("output_text.delta", output_index=index, content_index=part, delta=piece)


def text_done(index: int, whole: str, part: int = 0) -> ServerSentEvent:
    return ev("output_text.done", output_index=index, content_index=part, text=whole)


def call_item(arguments: str = "", **fields: Any) -> dict[str, Any]:
    item = {"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "get"}
    return item | {"arguments": arguments, **fields}


def arguments(index: int, piece: str) -> ServerSentEvent:
    return ev("function_call_arguments.delta", output_index=index, delta=piece)


def run(*events: ServerSentEvent) -> tuple[list[StreamEvent], Message]:
    return run_all(openai_responses.Interpreter(), events)
