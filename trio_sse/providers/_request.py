"""What each provider's streaming request looks like: its interpreter, headers and body."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal, TypeAlias

from . import anthropic, gemini, openai_chat, openai_responses
from ._interpreter import Interpreter

__all__ = ["ANTHROPIC_VERSION", "ProviderName", "ProviderRequest", "provider_request"]

ProviderName: TypeAlias = Literal["anthropic", "openai-chat", "openai-responses", "gemini"]

ANTHROPIC_VERSION: Final = "2023-06-01"
"""The ``anthropic-version`` header sent unless the caller sets one."""


@dataclass(frozen=True, slots=True)
class ProviderRequest:
    """A provider's streaming request, ready for :func:`trio_sse.pump_events`."""

    url: str
    headers: dict[str, str]
    json: Mapping[str, Any]
    params: dict[str, str]
    interpreter: Callable[[], Interpreter]


def provider_request(
    provider: ProviderName,
    url: str,
    *,
    json: Mapping[str, Any],
    headers: Mapping[str, str] | None,
    api_key: str | None,
) -> ProviderRequest:
    """Build ``provider``'s request; the caller's headers and body fields win.

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
    params: dict[str, str] = {}
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
        params["alt"] = "sse"
    else:
        raise ValueError(
            f"unknown provider {provider!r}: expected 'anthropic', 'openai-chat', "
            "'openai-responses' or 'gemini'"
        )
    return ProviderRequest(
        url=url, headers={**auth, **given}, json=body, params=params, interpreter=factory
    )
