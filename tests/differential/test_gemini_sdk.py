"""trio-sse's Gemini turns against google-genai, offline, on the same bytes.

google-genai has no stream accumulator (its chat history keeps every chunk's ``Content``
as it came), so the reference is its own ``Part`` models of the chunks, read by
``client.models.generate_content_stream`` over an ``httpx2.MockTransport``, with the
differences the package docstring lists applied to them (:data:`SDK_DIFFERENCES`; none
of them is the SDK being wrong, each is a choice about what goes back):

- the native assistant turn, validated by ``types.Content`` (``extra='forbid'``: a field
  it does not know fails), equals those parts, field by field;
- the reply-level fields (``Message.raw``) equal the SDK's last candidate and response;
- round trip: a request built from the native turns and declarations goes through the
  SDK's own request converter (``generate_content``) and reaches the wire unchanged.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import httpx2
import pytest

from trio_sse.providers import Message, Tool, ToolCall, ToolOutput, gemini

from ..providers.feeding import final_message, stream_params
from .sdk import replaying

genai = pytest.importorskip("google.genai")
types = pytest.importorskip("google.genai.types")

SDK_DIFFERENCES = {
    "joined-text": (
        "consecutive unsigned text parts with equal fields are one part, text joined: the"
        " SDK's history keeps one per chunk (the same content; Google's rule forbids only"
        " merging a signed part with another)"
    ),
    "empty-text": "an empty text part with no other field is left out (the API refuses it)",
    "partial-args": (
        "streamed arguments go back as one args object: the SDK keeps the partialArgs"
        " pieces, which its own request converter refuses for the Gemini API"
    ),
    "finish-message": (
        "the SDK drops the candidate's finishMessage (its Gemini API converter has no such"
        " field); Message.raw keeps it. The SDK is wrong here"
    ),
    "request-casing": (
        "on the wire the SDK writes some request fields in snake_case (mime_type,"
        " parameters_json_schema); the turns use the documented camelCase (the API reads both)"
    ),
    "signature-alphabet": (
        "thoughtSignature stays the base64 text Gemini sent; the SDK decodes it to bytes and"
        " writes it back URL-safe (the same bytes)"
    ),
}

# --- the SDK's side ----------------------------------------------------------------------------


def sdk_chunks(body: bytes) -> list[Any]:
    """google-genai's ``GenerateContentResponse`` for each chunk of ``body``."""
    with replaying(body) as http:
        client = genai.Client(api_key="t", http_options=types.HttpOptions(httpx_client=http))
        config = types.GenerateContentConfig(automatic_continuation=False)
        chunks = client.models.generate_content_stream(model="m", contents="x", config=config)
        return list(chunks)


def sdk_parts(chunks: Iterable[Any]) -> list[Any]:
    """Candidate 0's parts of every chunk, in order, as the SDK parsed them."""
    return [
        part
        for chunk in chunks
        for candidate in (chunk.candidates or [])[:1]
        if candidate.content is not None
        for part in candidate.content.parts or []
    ]


def _set(args: dict[str, Any], path: str, value: Any, append: bool) -> None:
    """Put ``value`` at the JSONPath ``path`` of ``args`` (a string appended if ``append``)."""
    steps: list[str | int] = [
        int(index) if index else key or quoted
        for key, index, quoted in re.findall(r"\.(\w+)|\[(\d+)\]|\['([^']*)'\]", path)
    ]
    node: Any = args
    for step, after in itertools.pairwise(steps):
        empty: Any = [] if isinstance(after, int) else {}
        if isinstance(step, int):
            node.extend([None] * (step + 1 - len(node)))
            if node[step] is None:
                node[step] = empty
        else:
            node.setdefault(step, empty)
        node = node[step]
    last = steps[-1]
    if isinstance(last, int):
        node.extend([None] * (last + 1 - len(node)))
    elif last not in node:
        node[last] = None
    node[last] = (node[last] or "") + value if append else value


def _assemble(call_parts: list[Any]) -> Any:
    """One streamed call's parts as the single part that goes back."""
    head = call_parts[0]
    args: dict[str, Any] = {}
    open_string: str | None = None
    for part in call_parts:
        for arg in part.function_call.partial_args or []:
            if arg.string_value is not None:
                _set(args, arg.json_path, arg.string_value, append=open_string == arg.json_path)
                open_string = arg.json_path if arg.will_continue else None
            else:
                value = arg.bool_value if arg.bool_value is not None else arg.number_value
                _set(args, arg.json_path, value, append=False)
                open_string = None
    signatures = [p.thought_signature for p in call_parts if p.thought_signature is not None]
    call = types.FunctionCall(name=head.function_call.name, id=head.function_call.id, args=args)
    return types.Part(function_call=call, thought_signature=(signatures or [None])[-1])


def expected_parts(parts: list[Any]) -> list[Any]:
    """The SDK's parts with :data:`SDK_DIFFERENCES` applied: what should go back."""
    out: list[Any] = []
    streaming: list[Any] | None = None
    for part in parts:
        call = part.function_call
        if call is not None and not call.name and call.args is None and streaming is not None:
            streaming.append(part)  # partial-args
            if not call.will_continue:
                out.append(_assemble(streaming))
                streaming = None
            continue
        if streaming is not None:
            out.append(_assemble(streaming))
            streaming = None
        if call is not None and call.will_continue:
            streaming = [part]
            continue
        fields = part.model_dump(exclude_none=True, exclude={"text"})
        if part.text == "" and set(fields) <= {"thought"}:
            continue  # empty-text
        last = out[-1] if out else None
        if (
            part.text is not None
            and last is not None
            and last.text is not None
            and part.thought_signature is None
            and last.model_dump(exclude_none=True, exclude={"text"}) == fields
        ):
            out[-1] = last.model_copy(update={"text": last.text + part.text})  # joined-text
            continue
        out.append(part)
    if streaming is not None:
        out.append(_assemble(streaming))
    return out


# --- the recordings and our own streams ----------------------------------------------------------


def data(payload: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(payload).encode() + b"\r\n\r\n"


def candidate(*parts: dict[str, Any], **fields: Any) -> bytes:
    content = {"role": "model", "parts": list(parts)}
    return data({"candidates": [{"content": content, "index": 0, **fields}], "responseId": "r"})


SIG = base64.b64encode(bytes(range(200, 256))).decode()  # '+' and '/' in it
CITATION = {"startIndex": 0, "endIndex": 4, "uri": "https://a.example", "license": "mit"}
SECOND = {"startIndex": 5, "endIndex": 11, "uri": "https://b.example"}
OWN_STREAMS = {
    "thinking-text-signatures": candidate({"text": "plan", "thought": True})
    + candidate({"text": " more", "thought": True}, {"text": "", "thought": True})
    + candidate({"text": "Hel", "thoughtSignature": SIG}, {"text": "lo"})
    + candidate({"text": " there"}, {"text": "", "thoughtSignature": SIG}, finishReason="STOP"),
    "whole-calls-with-ids": candidate(
        {"functionCall": {"id": "c1", "name": "f", "args": {"a": [1, {"b": None}]}}},
        {"functionCall": {"id": "c2", "name": "g", "args": {}}, "thoughtSignature": SIG},
    )
    + candidate({"text": ""}, finishReason="STOP"),
    "code-execution": candidate(
        {"executableCode": {"language": "PYTHON", "code": "print(1)"}, "thoughtSignature": SIG},
        {"codeExecutionResult": {"outcome": "OUTCOME_OK", "output": "1\n"}},
        {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}},
        {"text": "done"},
        finishReason="STOP",
    ),
    "grounded-and-cited": candidate(
        {"text": "Sunny today."},
        citationMetadata={"citationSources": [CITATION]},
        safetyRatings=[{"category": "HARM_CATEGORY_HARASSMENT", "probability": "NEGLIGIBLE"}],
    )
    + candidate(
        {"text": ""},
        finishReason="STOP",
        finishMessage="done",
        citationMetadata={"citationSources": [CITATION, SECOND]},
        groundingMetadata={
            "searchEntryPoint": {"renderedContent": "<div>chips</div>"},
            "webSearchQueries": ["weather"],
            "groundingChunks": [{"web": {"uri": "https://w.example", "title": "W"}}],
        },
    ),
    "continuation": candidate(
        {"text": "first half"}, finishReason="CONTINUATION", continuationToken="Y3Q="
    ),
}


def bodies() -> list[object]:
    params = stream_params("gemini")
    own = [pytest.param(body, id=name) for name, body in OWN_STREAMS.items()]
    return [*params, *own]


def body_of(source: Path | bytes) -> bytes:
    return source.read_bytes() if isinstance(source, Path) else source


def ours(body: bytes) -> Message:
    return final_message(gemini.Interpreter, body)


@pytest.mark.parametrize("source", bodies())
def test_the_assistant_turn_is_the_sdks_parts(source: Path | bytes) -> None:
    body = body_of(source)
    (content,) = gemini.assistant_turn(ours(body))
    turn = types.Content.model_validate(content)
    assert turn.role == "model"
    assert turn.parts == expected_parts(sdk_parts(sdk_chunks(body)))


def sdk_reply_fields(chunks: list[Any]) -> Any:
    """Candidate 0's fields but content, each as last stated by a chunk, citations
    gathered: the rule ``Message.raw["candidate"]`` follows, over the SDK's parsing."""
    fields: dict[str, Any] = {}
    citations: list[Any] = []
    for chunk in chunks:
        for candidate in (chunk.candidates or [])[:1]:
            fields |= candidate.model_dump(exclude_none=True, exclude={"content"})
            metadata = candidate.citation_metadata
            for citation in (metadata and metadata.citations) or []:
                if citation not in citations:
                    citations.append(citation)
    if citations:
        fields["citation_metadata"] = types.CitationMetadata(citations=citations)
    return types.Candidate.model_validate(fields)


@pytest.mark.parametrize("source", bodies())
def test_the_reply_level_fields_are_the_sdks(source: Path | bytes) -> None:
    body = body_of(source)
    message, chunks = ours(body), sdk_chunks(body)
    last = chunks[-1]
    assert (message.id, message.model) == (last.response_id, last.model_version)
    raw = dict(message.raw["candidate"])
    if "citationMetadata" in raw:  # the Gemini API's name; the SDK's is Vertex AI's
        raw["citationMetadata"] = {"citations": raw["citationMetadata"]["citationSources"]}
    sdk = sdk_reply_fields(chunks)
    assert sdk.finish_message is None  # finish-message
    assert types.Candidate.model_validate(raw) == sdk.model_copy(
        update={"finish_message": raw.get("finishMessage")}
    )
    assert message.stop_reason == sdk.finish_reason.value
    if last.usage_metadata is not None:
        assert message.usage is not None
        usage = types.GenerateContentResponseUsageMetadata.model_validate(message.usage.raw)
        assert usage == last.usage_metadata


def test_a_signature_is_the_same_bytes_in_another_alphabet() -> None:
    body = OWN_STREAMS["whole-calls-with-ids"]
    (part,) = [p for p in sdk_parts(sdk_chunks(body)) if p.thought_signature]
    assert part.model_dump(mode="json", by_alias=True)["thoughtSignature"] != SIG
    assert part.thought_signature == base64.b64decode(SIG)
    assert ours(body).tool_calls[1].signature == SIG


# --- round trip through the SDK's request converter ----------------------------------------------


def sent_request(contents: list[Any], tools: list[Any]) -> dict[str, Any]:
    """What google-genai puts on the wire for these contents and tools."""
    sent: list[bytes] = []

    def respond(request: httpx2.Request) -> httpx2.Response:
        sent.append(request.read())
        return httpx2.Response(200, json={"candidates": []})

    with httpx2.Client(transport=httpx2.MockTransport(respond)) as http:
        client = genai.Client(api_key="t", http_options=types.HttpOptions(httpx_client=http))
        config = types.GenerateContentConfig(tools=tools) if tools else None
        client.models.generate_content(model="m", contents=contents, config=config)
    return dict(json.loads(sent[0]))


@pytest.mark.parametrize("source", bodies())
def test_a_request_built_from_the_turns_passes_the_sdk_unchanged(source: Path | bytes) -> None:
    message = ours(body_of(source))
    outputs: list[ToolOutput] = [{"ok": True}, "text", ValueError("bad city")]
    results: list[tuple[ToolCall, ToolOutput]] = [
        (call, outputs[i % 3]) for i, call in enumerate(message.tool_calls)
    ]
    contents = [*gemini.user_turn("x"), *gemini.assistant_turn(message)]
    contents += gemini.tool_results_turn(results)
    schema = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
    tools = gemini.tool_declarations([Tool("weather", "Weather in a city.", schema)])
    validated = [types.Content.model_validate(content) for content in contents]
    request = sent_request(validated, [types.Tool.model_validate(tool) for tool in tools])
    assert [types.Content.model_validate(content) for content in request["contents"]] == validated
    assert [types.Tool.model_validate(tool) for tool in request["tools"]] == [
        types.Tool.model_validate(tool) for tool in tools
    ]  # request-casing
