"""What every interpreter promises (the Interpreter protocol), checked on all four."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

import pytest

from trio_sse import ServerSentEvent
from trio_sse.providers import (
    IncompleteStreamError,
    Interpreter,
    MalformedEventError,
    Message,
    MessageStop,
    anthropic,
    gemini,
    openai_chat,
    openai_responses,
)

from .feeding import feed_all

# Each format: its interpreter, its name in errors, its terminator, a shortest whole stream.
FORMATS = [
    pytest.param(
        anthropic.Interpreter,
        "anthropic",
        "message_stop",
        [
            ServerSentEvent("message_start", '{"type": "message_start", "message": {}}'),
            ServerSentEvent("message_stop", '{"type": "message_stop"}'),
        ],
        id="anthropic",
    ),
    pytest.param(
        openai_chat.Interpreter,
        "openai-chat",
        "[DONE]",
        [ServerSentEvent(data='{"choices": []}'), ServerSentEvent(data="[DONE]")],
        id="openai-chat",
    ),
    pytest.param(
        openai_responses.Interpreter,
        "openai-responses",
        "response.completed",
        [ServerSentEvent("response.completed", '{"type": "response.completed", "response": {}}')],
        id="openai-responses",
    ),
    pytest.param(
        gemini.Interpreter,
        "gemini",
        "a finishReason",
        [ServerSentEvent(data='{"candidates": [{"finishReason": "STOP"}]}')],
        id="gemini",
    ),
]
PARAMETERS = ("new", "provider", "terminator", "stream")


@pytest.mark.parametrize(PARAMETERS, FORMATS)
def test_a_fresh_interpreter_holds_an_empty_unfinished_message(
    new: Callable[[], Interpreter], provider: str, terminator: str, stream: list[ServerSentEvent]
) -> None:
    interpreter = new()
    assert not interpreter.done
    assert interpreter.message == Message(provider=provider)


@pytest.mark.parametrize(PARAMETERS, FORMATS)
def test_the_shortest_stream_is_a_message_and_later_events_are_logged_and_ignored(
    new: Callable[[], Interpreter],
    provider: str,
    terminator: str,
    stream: list[ServerSentEvent],
    caplog: pytest.LogCaptureFixture,
) -> None:
    interpreter = new()
    events = feed_all(interpreter, *stream)
    assert interpreter.done
    final = interpreter.finish()
    assert events[-1] == MessageStop(final.stop_reason, final)
    with caplog.at_level(logging.DEBUG, logger="trio_sse.providers"):
        assert feed_all(interpreter, *stream, ServerSentEvent(data="{oops")) == []
    assert interpreter.finish() == final
    assert f"{provider}: 'message' event after {terminator}, ignored" in caplog.messages


@pytest.mark.parametrize(PARAMETERS, FORMATS)
def test_finish_before_the_terminator_is_incomplete_and_spends_the_interpreter(
    new: Callable[[], Interpreter], provider: str, terminator: str, stream: list[ServerSentEvent]
) -> None:
    interpreter = new()
    with pytest.raises(IncompleteStreamError) as info:
        interpreter.finish()
    error = info.value
    assert (error.provider, error.expected, error.partial) == (
        provider,
        terminator,
        Message(provider=provider),
    )
    for call in (lambda: interpreter.feed(stream[-1]), interpreter.finish):
        with pytest.raises(IncompleteStreamError) as again:
            call()
        assert again.value is error


@pytest.mark.parametrize(PARAMETERS, FORMATS)
@pytest.mark.parametrize(
    ("data", "reason"),
    [('{"a": ' + "x" * 1000, "Expecting value"), ("[1]", "expected a JSON object, got list")],
)
def test_data_that_is_no_json_object_is_malformed_and_spends_the_interpreter(
    new: Callable[[], Interpreter],
    provider: str,
    terminator: str,
    stream: list[ServerSentEvent],
    data: str,
    reason: str,
) -> None:
    interpreter = new()
    with pytest.raises(MalformedEventError) as info:
        interpreter.feed(ServerSentEvent("delta", data))
    error = info.value
    assert (error.provider, error.event_name, error.excerpt) == (provider, "delta", data[:200])
    assert reason in str(error)
    assert len(str(error)) < 400  # the excerpt is bounded
    assert isinstance(error.__cause__, json.JSONDecodeError) == (reason == "Expecting value")
    for call in (lambda: interpreter.feed(stream[0]), interpreter.finish):
        with pytest.raises(MalformedEventError) as again:
            call()
        assert again.value is error


@pytest.mark.parametrize(
    "factory",
    [
        anthropic.Interpreter,
        openai_chat.Interpreter,
        openai_responses.Interpreter,
        gemini.Interpreter,
    ],
)
def test_json_nested_too_deep_is_malformed_not_a_crash(factory: Callable[[], Interpreter]) -> None:
    interpreter = factory()
    deep = "[" * 100_000 + "]" * 100_000
    with pytest.raises(MalformedEventError, match="RecursionError"):
        interpreter.feed(ServerSentEvent("message", deep))
    with pytest.raises(MalformedEventError):  # and it stays spent
        interpreter.feed(ServerSentEvent("message", "{}"))
