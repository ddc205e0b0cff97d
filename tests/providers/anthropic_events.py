"""Anthropic stream events built by hand, for the reading and the writing tests."""

from __future__ import annotations

from typing import Any

from trio_sse import ServerSentEvent
from trio_sse.providers import Message, StreamEvent, anthropic

from .feeding import run_all, typed_event

START_USAGE = {"input_tokens": 12, "output_tokens": 1, "cache_read_input_tokens": 5}


sse = typed_event  # Anthropic frames events so: ``event:`` is the JSON ``type``


def message_start(
    message_id: str = "msg_1", usage: dict[str, Any] | None = START_USAGE, **extra: Any
) -> ServerSentEvent:
    """``message_start``; ``extra``: more fields of its ``message``."""
    message: dict[str, Any] = {"id": message_id, "type": "message", "model": "claude-x"}
    message |= {"role": "assistant", "content": [], "stop_reason": None} | extra
    if usage is not None:
        message["usage"] = usage
    return sse({"type": "message_start", "message": message})


def block_start(index: int, block: dict[str, Any]) -> ServerSentEvent:
    return sse({"type": "content_block_start", "index": index, "content_block": block})


def delta(index: int, **fields: Any) -> ServerSentEvent:
    return sse({"type": "content_block_delta", "index": index, "delta": fields})


def text(index: int, piece: str) -> ServerSentEvent:
    return delta(index, type="text_delta", text=piece)


def json_piece(index: int, piece: str) -> ServerSentEvent:
    return delta(index, type="input_json_delta", partial_json=piece)


def block_stop(index: int) -> ServerSentEvent:
    return sse({"type": "content_block_stop", "index": index})


def message_delta(stop_reason: str = "end_turn", **usage: int) -> ServerSentEvent:
    payload: dict[str, Any] = {"type": "message_delta", "delta": {"stop_reason": stop_reason}}
    return sse(payload | {"usage": usage} if usage else payload)


MESSAGE_STOP = sse({"type": "message_stop"})
TEXT_BLOCK = {"type": "text", "text": ""}


def tool_block(kind: str = "tool_use", **extra: Any) -> dict[str, Any]:
    return {"type": kind, "id": "toolu_1", "name": "weather", "input": {}} | extra


def run(*events: ServerSentEvent) -> tuple[list[StreamEvent], Message]:
    """Feed ``events`` (a whole stream) and finish."""
    return run_all(anthropic.Interpreter(), events)
