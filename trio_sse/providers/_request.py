"""What each provider's streaming request looks like: its interpreter, headers and body."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal, TypeAlias, cast
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from . import anthropic, gemini, openai_chat, openai_responses
from ._interpreter import Interpreter

__all__ = ["ANTHROPIC_VERSION", "ProviderName", "ProviderRequest", "QueryInput", "provider_request"]

ProviderName: TypeAlias = Literal["anthropic", "openai-chat", "openai-responses", "gemini"]

QueryInput: TypeAlias = "Mapping[str, Any] | Iterable[tuple[str, Any]] | None"
"""Query parameters as a caller may give them: a mapping (a list value repeats the
name), pairs, or nothing."""

ANTHROPIC_VERSION: Final = "2023-06-01"
"""The ``anthropic-version`` header sent unless the caller sets one."""


@dataclass(frozen=True, slots=True)
class ProviderRequest:
    """A provider's streaming request, ready for :func:`trio_sse.pump_events`.

    ``url`` carries the whole query: the caller's own, then the provider's, then
    ``params``. (Passing ``params=`` to httpx would replace the URL's query: Azure's
    ``?api-version=`` and Gemini's ``?key=`` would vanish.)
    """

    url: str
    headers: dict[str, str]
    json: Mapping[str, Any]
    interpreter: Callable[[], Interpreter]


def provider_request(
    provider: ProviderName,
    url: str,
    *,
    json: Mapping[str, Any],
    headers: Mapping[str, str] | None,
    api_key: str | None,
    params: QueryInput = None,
) -> ProviderRequest:
    """Build ``provider``'s request; the caller's headers and body fields win.

    The URL keeps its own query; the provider's parameters (Gemini's ``alt=sse``, unless
    the URL or ``params`` sets ``alt``) and then ``params`` are appended to it.

    - ``anthropic``: ``x-api-key``, ``anthropic-version``; ``"stream": true``.
    - ``openai-chat``: ``Authorization: Bearer``; ``"stream": true`` and
      ``stream_options.include_usage`` (so the reply's usage arrives in the stream).
    - ``openai-responses``: ``Authorization: Bearer``; ``"stream": true``.
    - ``gemini``: ``x-goog-api-key``; the query parameter ``alt=sse`` (without it Gemini
      streams one JSON array, not events). The body is sent as given.

    Raises:
        ValueError: an unknown provider name.
    """
    given = {name.lower(): value for name, value in (headers or {}).items()}
    body = dict(json)
    auth: dict[str, str] = {}
    provider_params: dict[str, str] = {}
    if provider == "anthropic":
        factory: Callable[[], Interpreter] = anthropic.Interpreter
        if api_key is not None:
            auth["x-api-key"] = api_key
        auth["anthropic-version"] = ANTHROPIC_VERSION
        body.setdefault("stream", True)
    elif provider in ("openai-chat", "openai-responses"):
        if provider == "openai-chat":
            factory = openai_chat.Interpreter
            body.setdefault("stream_options", {"include_usage": True})
        else:
            factory = openai_responses.Interpreter
        if api_key is not None:
            auth["authorization"] = f"Bearer {api_key}"
        body.setdefault("stream", True)
    elif provider == "gemini":
        factory = gemini.Interpreter
        if api_key is not None:
            auth["x-goog-api-key"] = api_key
        provider_params["alt"] = "sse"
    else:
        raise ValueError(
            f"unknown provider {provider!r}: expected 'anthropic', 'openai-chat', "
            "'openai-responses' or 'gemini'"
        )
    return ProviderRequest(
        url=with_query(url, params, provider_params),
        headers={**auth, **given},
        json=body,
        interpreter=factory,
    )


def with_query(url: str, params: QueryInput, defaults: Mapping[str, str]) -> str:
    """``url`` with ``defaults`` (those it does not set already) and ``params`` appended.

    The URL's own query is kept byte for byte; what is added is form-encoded.
    """
    parts = urlsplit(url)
    given = _pairs(params)
    present = {name for name, _ in parse_qsl(parts.query, keep_blank_values=True)}
    present.update(name for name, _ in given)
    added = [(name, value) for name, value in defaults.items() if name not in present]
    added.extend(given)
    if not added:
        return url
    encoded = urlencode([(name, _query_value(value)) for name, value in added])
    query = f"{parts.query}&{encoded}" if parts.query else encoded
    return urlunsplit(parts._replace(query=query))


def _pairs(params: QueryInput) -> list[tuple[str, Any]]:
    if params is None:
        return []
    if not isinstance(params, Mapping):
        return list(params)
    pairs: list[tuple[str, Any]] = []
    for name, value in cast("Mapping[str, Any]", params).items():
        if isinstance(value, list | tuple):
            pairs.extend((name, item) for item in cast("Iterable[Any]", value))
        else:
            pairs.append((name, value))
    return pairs


def _query_value(value: object) -> str:
    """A query value as httpx writes one: ``true``/``false``, ``""`` for ``None``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)
