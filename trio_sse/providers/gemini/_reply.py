"""Reading a Gemini :attr:`Message.raw`: what the next request or the page needs."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any, cast

from .._vocabulary import Message

__all__ = ["continuation_token", "grounding_metadata"]


def continuation_token(message: Message) -> str | None:
    """The token that continues a reply cut at its per-request limit (``stop_reason``
    ``"CONTINUATION"``): send it as the next request's top-level ``continuationToken``
    (with the same contents). ``None`` when the reply has none.

    >>> from trio_sse.providers import Message
    >>> continuation_token(Message(raw={"candidate": {"continuationToken": "Y3Q="}}))
    'Y3Q='
    """
    token = _candidate(message).get("continuationToken")
    return token if isinstance(token, str) and token else None


def grounding_metadata(message: Message) -> dict[str, Any] | None:
    """The candidate's ``groundingMetadata`` (Search grounding), ``None`` when absent: a
    fresh copy, which the caller may change without touching ``message``.

    Google requires an app that uses Search grounding to show its
    ``searchEntryPoint.renderedContent`` (HTML) with the answer.

    >>> from trio_sse.providers import Message
    >>> meta = {"searchEntryPoint": {"renderedContent": "<div/>"}}
    >>> grounding_metadata(Message(raw={"candidate": {"groundingMetadata": meta}})) == meta
    True
    """
    metadata = _candidate(message).get("groundingMetadata")
    if not isinstance(metadata, Mapping):
        return None
    return copy.deepcopy(dict(cast("Mapping[str, Any]", metadata)))


def _candidate(message: Message) -> Mapping[str, Any]:
    candidate = message.raw.get("candidate")
    return cast("Mapping[str, Any]", candidate) if isinstance(candidate, Mapping) else {}
