"""The four provider modules write turns alike: lists of entries, the same refusals, the
same exception text, the same empty-schema declaration (one agent loop for all four)."""

from __future__ import annotations

import json
from types import ModuleType
from typing import Any

import pytest

from trio_sse.providers import (
    Message,
    TextBlock,
    Tool,
    ToolCall,
    anthropic,
    gemini,
    openai_chat,
    openai_responses,
)

MODULES = [anthropic, openai_chat, openai_responses, gemini]
IDS = ["anthropic", "openai_chat", "openai_responses", "gemini"]
modules = pytest.mark.parametrize("module", MODULES, ids=IDS)

# Each provider's own streamed call (its raw JSON), then what its answer's text field is.
CALLS: dict[str, ToolCall] = {
    "anthropic": ToolCall(
        "toolu_1",
        "f",
        {},
        "{}",
        raw={"type": "tool_use", "id": "toolu_1", "name": "f", "input": {}},
    ),
    "openai_chat": ToolCall(
        "call_1",
        "f",
        {},
        "{}",
        raw={"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}},
    ),
    "openai_responses": ToolCall(
        "call_1",
        "f",
        {},
        "{}",
        raw={"type": "function_call", "call_id": "call_1", "name": "f", "arguments": "{}"},
    ),
    "gemini": ToolCall("", "f", {}, "{}", raw={"functionCall": {"name": "f", "args": {}}}),
}
BY_HAND = ToolCall("c1", "f", {}, "{}")  # raw empty: anyone's


def answer_text(module: ModuleType, turn: list[dict[str, Any]]) -> Any:
    """The text (or error) one tool result carries, whatever the provider's shape."""
    if module is anthropic:
        return turn[0]["content"][0]["content"]
    if module is openai_chat:
        return turn[0]["content"]
    if module is openai_responses:
        return turn[0]["output"]
    response = turn[0]["parts"][0]["functionResponse"]["response"]
    return response.get("error", response.get("output"))


@modules
def test_the_user_turn_is_a_list_of_one_user_entry(module: ModuleType) -> None:
    turn = module.user_turn("Weather in Paris?")
    expected = (
        {"role": "user", "parts": [{"text": "Weather in Paris?"}]}
        if module is gemini
        else {"role": "user", "content": "Weather in Paris?"}
    )
    assert turn == [expected]
    turn[0]["role"] = "changed"  # a fresh value each time
    assert module.user_turn("x")[0]["role"] == "user"


@modules
def test_every_turn_is_a_list_so_one_history_takes_them_all(module: ModuleType) -> None:
    history: list[Any] = module.user_turn("q")
    history += module.assistant_turn(Message(content=(TextBlock("Hi"),)))
    history += module.tool_results_turn([(BY_HAND, "ok")])
    assert len(history) == 3
    assert all(isinstance(entry, dict) for entry in history)


@modules
def test_no_results_are_no_entries(module: ModuleType) -> None:
    assert module.tool_results_turn([]) == []


@pytest.mark.parametrize(
    ("error", "text"),
    [(ValueError("bad city"), "ValueError: bad city"), (ValueError(), "ValueError")],
    ids=["with-message", "empty-message"],
)
@modules
def test_an_exception_is_written_alike(module: ModuleType, error: Exception, text: str) -> None:
    assert answer_text(module, module.tool_results_turn([(BY_HAND, error)])) == text


@pytest.mark.parametrize("output", [KeyboardInterrupt(), SystemExit(), 42, None, ["a"]], ids=repr)
@modules
def test_an_output_that_is_no_tool_output_is_a_type_error(module: ModuleType, output: Any) -> None:
    with pytest.raises(TypeError, match="a tool output is text, a mapping or an Exception"):
        module.tool_results_turn([(BY_HAND, output)])


@modules
def test_text_and_mappings_are_answers(module: ModuleType) -> None:
    assert answer_text(module, module.tool_results_turn([(BY_HAND, "sunny")])) == "sunny"
    answer = answer_text(module, module.tool_results_turn([(BY_HAND, {"celsius": 21})]))
    assert (answer if isinstance(answer, dict) else json.loads(answer)) == {"celsius": 21}


@pytest.mark.parametrize("own", IDS)
@pytest.mark.parametrize("other", IDS)
def test_another_providers_call_is_refused_alike(own: str, other: str) -> None:
    module = MODULES[IDS.index(own)]
    call = CALLS[other]
    if own == other:
        assert answer_text(module, module.tool_results_turn([(call, "ok")])) == "ok"
        return
    with pytest.raises(ValueError, match="is another provider's; answer it with that provider"):
        module.tool_results_turn([(call, "ok")])


@modules
def test_a_tool_with_an_empty_schema_declares_an_object(module: ModuleType) -> None:
    declared = module.tool_declarations([Tool("now", "The time.", {})])
    text = json.dumps(declared)
    assert '{"type": "object", "properties": {}}' in text
    assert ": {}" not in text.replace('"properties": {}', "")


@pytest.mark.parametrize("module", [anthropic, gemini], ids=["anthropic", "gemini"])
def test_a_reply_with_nothing_to_send_back_is_no_entry(module: ModuleType) -> None:
    """Anthropic and Gemini refuse an empty turn: none is written."""
    assert module.assistant_turn(Message()) == []
    assert module.assistant_turn(Message(content=(TextBlock(" \n"),))) == (
        [] if module is anthropic else [{"role": "model", "parts": [{"text": " \n"}]}]
    )
