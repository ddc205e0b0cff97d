"""The Responses turns against the official openai SDK, on every recorded stream.

Two checks:

- the assistant turn equals the SDK's own final object, item by item: each of the final
  ``Response.output`` items, ``to_dict()``, is what trio-sse's ``assistant_turn`` gives
  (the SDK has no conversion of its own to input params; ``to_dict`` keeps what the
  server sent, explicit nulls included, which is what goes back);
- the next request passes the SDK's own request types: the user message, the assistant
  turn and the tool results, each validated against the SDK's param TypedDict for its
  type with extra keys forbidden (pydantic, ``extra="forbid"``) and checked to come out
  unchanged, and the tool declarations against ``FunctionToolParam``.

Every difference is listed below with its reason and asserted, not skipped.
"""

from __future__ import annotations

import typing
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from trio_sse.providers import Tool, ToolOutput, openai_responses

from ..providers.feeding import provider_streams, read_recording, stream_params
from .test_openai_responses_sdk import SDK_REFUSES, ours, sdk_response

openai = pytest.importorskip("openai")
pydantic = pytest.importorskip("pydantic")

from openai.types.responses import FunctionToolParam, ResponseInputItemParam  # noqa: E402

# --- the expected differences --------------------------------------------------------------

SDK_ADDS = {"output_text": "parsed", "function_call": "parsed_arguments"}
"""What the SDK's stream helper adds to the items it returns (its ``ParsedResponse``):
its own parse of the text and arguments, not the server's JSON and no input field. The
comparison leaves them out of the SDK's side."""

NOT_IN_SDK_TYPES: dict[str, tuple[tuple[str, tuple[Any, ...], str], ...]] = {
    "openai-custom-tool.1": (
        (
            "custom_tool_call",
            ("status",),
            "the server sends a custom_tool_call's status; the SDK's param type has no such"
            " field (its function_call param has one). trio-sse sends back what came.",
        ),
    ),
    "xai-x-search-tool": (
        (
            "custom_tool_call",
            ("status",),
            "as above (xAI's server-side X search calls)",
        ),
        (
            "custom_tool_call",
            ("status",),
            "as above (xAI's server-side X search calls)",
        ),
        (
            "message",
            ("AnnotationURLCitation", "end_index"),
            "xAI's url_citation has only a url (OpenAI's has title, start and end index)",
        ),
    ),
    "xai-web-search-tool.1": (
        (
            "web_search_call",
            ("arguments",),
            "xAI's web_search_call carries name, arguments and call_id, and no action",
        ),
        (
            "message",
            ("AnnotationURLCitation", "end_index"),
            "xAI's url_citation has only a url (OpenAI's has title, start and end index)",
        ),
    ),
}
"""Items of the assistant turn that the SDK's request types do not describe: the server's
own output, sent back unchanged. (recording -> (item type, where it differs, why); inside
a list the SDK types as an ``Iterable``, pydantic gives the place from that list on.)"""

# --- the SDK's request types -----------------------------------------------------------------

_ADAPTERS: dict[type[Any], Any] = {}  # kept alive: pydantic's lazy iterators need them


def _param_types() -> dict[str, list[type[Any]]]:
    """The SDK's input item TypedDicts by the ``type`` each declares."""
    types: dict[str, list[type[Any]]] = {}
    for member in typing.get_args(ResponseInputItemParam):
        hint = typing.get_type_hints(member, include_extras=True)["type"]
        while typing.get_origin(hint) is not typing.Literal:
            hint = typing.get_args(hint)[0]  # Required[Literal[...]]
        for literal in typing.get_args(hint):
            types.setdefault(literal, []).append(member)
    return types


PARAM_TYPES = _param_types()


def _materialize(value: object) -> object:
    """A validated value with pydantic's lazy iterators consumed (which validates them)."""
    if isinstance(value, dict):
        return {key: _materialize(item) for key, item in value.items()}
    if isinstance(value, list | Iterator):
        return [_materialize(item) for item in value]
    return value


def strict_errors(item: dict[str, Any], param: type[Any]) -> list[tuple[Any, ...]]:
    """Where ``item`` breaks ``param`` (extra keys forbidden), or ``[]`` if it is one,
    unchanged by validation."""
    adapter = _ADAPTERS.get(param)
    if adapter is None:
        config = pydantic.ConfigDict(extra="forbid")
        adapter = _ADAPTERS[param] = pydantic.TypeAdapter(list[param], config=config)  # type: ignore[valid-type]
    try:
        validated = _materialize(adapter.validate_python([item]))
    except pydantic.ValidationError as exc:
        return [tuple(error["loc"][1:]) for error in exc.errors()]
    return [] if validated == [item] else [("changed",)]


def item_errors(item: dict[str, Any]) -> list[tuple[Any, ...]] | None:
    """``None`` when ``item`` is one of the SDK's input items; else the errors against the
    closest of the types declaring its ``type`` (the fewest errors)."""
    params = PARAM_TYPES.get(item["type"], [])
    if item["type"] == "message" and "id" in item:  # an output message, not an input one
        params = [param for param in params if param.__name__ == "ResponseOutputMessageParam"]
    candidates = [strict_errors(item, param) for param in params]
    if any(not errors for errors in candidates):
        return None
    return min(candidates, key=len, default=[("no type",)])


# --- the tests -------------------------------------------------------------------------------


def sdk_items(body: bytes) -> list[dict[str, Any]]:
    """The SDK's final output items as dicts, without what its stream helper adds."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # xAI's x_search tool: see test_openai_responses_sdk
        final = sdk_response(body)
    items = []
    for output in final.output:
        item = output.to_dict()
        item.pop(SDK_ADDS["function_call"], None)
        for part in item.get("content") or [] if item["type"] == "message" else []:
            part.pop(SDK_ADDS["output_text"], None)
        items.append(item)
    return items


@pytest.mark.parametrize("path", stream_params("openai_responses", leave_out=SDK_REFUSES))
def test_assistant_turn_is_the_sdk_final_output(path: Path) -> None:
    body = path.read_bytes()
    assert openai_responses.assistant_turn(ours(body)) == sdk_items(body)


def test_assistant_turn_of_the_first_of_several_recorded_responses() -> None:
    body = read_recording("openai_responses", "openai-reasoning-encrypted-content.1")
    first = body[: body.index(b"event: response.created", 1)]
    assert openai_responses.assistant_turn(ours(body)) == sdk_items(first)


def test_the_tables_name_only_recordings_that_exist() -> None:
    names = {path.stem for path in provider_streams("openai_responses")}
    if not names:
        pytest.skip("the recordings are absent")
    assert set(NOT_IN_SDK_TYPES) <= names


@pytest.mark.parametrize("path", stream_params("openai_responses"))
def test_the_next_request_passes_the_sdk_request_types(path: Path) -> None:
    message = ours(path.read_bytes())
    user = {"type": "message", "role": "user", "content": "Go on."}
    turn = openai_responses.assistant_turn(message)
    answers = [(call, "done") for call in message.tool_calls if not call.provider_executed]
    results = openai_responses.tool_results_turn(answers)
    assert len(results) == len(answers)
    differing, passing = [], []
    for item in [user, *turn, *results]:
        errors = item_errors(item)
        if errors is None:
            passing.append(item)
        else:
            differing.append((item["type"], errors))
    expected = NOT_IN_SDK_TYPES.get(path.stem, ())
    assert len(differing) == len(expected), differing
    for (kind, errors), (expected_kind, where, _why) in zip(differing, expected, strict=True):
        assert kind == expected_kind
        assert any(error[: len(where)] == where for error in errors), errors
    # and the input, as the SDK's own union of input items reads it
    adapter = pydantic.TypeAdapter(list[ResponseInputItemParam])
    _materialize(adapter.validate_python(passing))


def test_tool_declarations_pass_the_sdk_function_tool_type() -> None:
    schema = {"type": "object", "properties": {"city": {"type": "string"}}}
    tools = [Tool("weather", "The weather in a city.", schema), Tool("now", "The time.", {})]
    for declaration in openai_responses.tool_declarations(tools):
        assert strict_errors(declaration, FunctionToolParam) == []


def test_tool_results_of_every_kind_pass_the_sdk_types() -> None:
    body = read_recording("openai_responses", "openai-custom-tool.1")
    (custom,) = ours(body).tool_calls
    body = read_recording("openai_responses", "programmatic-tool-calling.1")
    (programmatic,) = ours(body).tool_calls
    outputs: list[ToolOutput] = ["text", {"a": [1]}, ValueError("no")]
    for call in (custom, programmatic):
        for item in openai_responses.tool_results_turn((call, out) for out in outputs):
            assert item_errors(item) is None, item
