"""What a provider stream raises when its content, not its transport, goes wrong.

::

    trio_sse.SSEError
    ├── ProviderError              carries ``partial``: the Message accumulated so far
    │   ├── APIStreamError             the provider sent an error in the stream
    │   ├── IncompleteStreamError      the stream ended without its terminator
    │   ├── MalformedEventError        an event's data is not the JSON expected, or the
    │   │                              stream breaks its format's grammar
    │   ├── InterruptedStreamError     the event stream underneath failed (network, idle
    │   │                              timeout, an oversized event): ``error``
    │   └── StalledStreamError         no progress for ``progress_timeout`` seconds
    └── ResponseError
        └── StatusError
            └── ProviderStatusError    a status other than 200, the provider's error parsed

Every failure after a reply has begun is a :class:`ProviderError`, so ``partial`` is
always at hand; a failure before it (a status, a refused connection) is raised by
``async with`` as the layer below raises it (a status as :class:`ProviderStatusError`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, cast

from .._errors import NetworkError, SSEError, StatusError
from ._vocabulary import Message

__all__ = [
    "APIStreamError",
    "IncompleteStreamError",
    "InterruptedStreamError",
    "MalformedEventError",
    "ProviderError",
    "ProviderStatusError",
    "StalledStreamError",
]

_EXCERPT_CHARS = 200


class ProviderError(SSEError):
    """A provider's stream could not be read to its end.

    Attributes:
        provider: ``"anthropic"``, ``"openai-chat"``, ``"openai-responses"`` or ``"gemini"``.
        partial: the :class:`Message` accumulated before the failure.
    """

    def __init__(self, message: str, *, provider: str, partial: Message) -> None:
        super().__init__(f"{provider}: {message}")
        self.provider = provider
        self.partial = partial


class APIStreamError(ProviderError):
    """The provider reported an error inside a stream that had started (HTTP 200).

    Attributes:
        error_type: the provider's error type or code (``"overloaded_error"``,
            ``"server_error"``, Gemini's ``status``), ``""`` if it gave none.
        error_message: the provider's message.
    """

    def __init__(
        self, *, provider: str, partial: Message, error_type: str, error_message: str
    ) -> None:
        super().__init__(
            f"the stream reported {error_type or 'an error'}: {error_message}",
            provider=provider,
            partial=partial,
        )
        self.error_type = error_type
        self.error_message = error_message


class IncompleteStreamError(ProviderError):
    """The stream ended (EOF) before the provider's terminator arrived."""

    def __init__(self, *, provider: str, partial: Message, expected: str) -> None:
        super().__init__(f"the stream ended before {expected}", provider=provider, partial=partial)
        self.expected = expected


class MalformedEventError(ProviderError):
    """An event's data was not the JSON the provider's format promises, or the event broke
    the format's grammar (a delta for a block that never started, a second reply spliced
    into the first, ...): no single message can be built from the stream.

    Attributes:
        event_name: the SSE event's name (``"message"`` when it had none).
        excerpt: the start of the data, at most 200 characters.
    """

    def __init__(
        self, *, provider: str, partial: Message, event_name: str, data: str, reason: str
    ) -> None:
        excerpt = data[:_EXCERPT_CHARS]
        super().__init__(
            f"malformed {event_name!r} event ({reason}): {excerpt!r}",
            provider=provider,
            partial=partial,
        )
        self.event_name = event_name
        self.excerpt = excerpt


class InterruptedStreamError(ProviderError):
    """The event stream underneath the reply failed before the provider's terminator.

    The failure of the layer below (a :class:`~trio_sse.NetworkError`, an
    :class:`~trio_sse.IdleTimeoutError`, an :class:`~trio_sse.EventTooLargeError`, ...)
    is ``error`` and ``__cause__``; ``partial`` is the reply so far. A provider reply is
    never replayed once begun, so whether to ask again is the caller's decision:
    ``transient`` says whether asking again could help.

    Attributes:
        error: the event stream's own failure.
    """

    def __init__(self, *, provider: str, partial: Message, error: SSEError) -> None:
        super().__init__(f"the stream broke: {error}", provider=provider, partial=partial)
        self.error = error

    @property
    def transient(self) -> bool:
        """Whether the failure underneath might not happen again (a dropped connection, an
        idle timeout), as :attr:`trio_sse.NetworkError.transient` says; ``False`` for the
        rest (an event beyond ``max_event_size``)."""
        return isinstance(self.error, NetworkError) and self.error.transient


class StalledStreamError(ProviderError):
    """The reply made no progress for ``progress_timeout`` seconds.

    Bytes may still have been arriving: providers send ``ping`` events while a model is
    stuck, and they keep a byte-level ``idle_timeout`` from firing. Progress is a neutral
    event other than :class:`~trio_sse.providers.UsageUpdate`: text, thinking, a tool
    call's start, arguments or end, the end of the reply. Time spent waiting for a slow
    consumer does not count.

    Attributes:
        progress_timeout: the limit, in seconds.
    """

    def __init__(self, *, provider: str, partial: Message, progress_timeout: float) -> None:
        super().__init__(
            f"no progress for {progress_timeout:g} s", provider=provider, partial=partial
        )
        self.progress_timeout = progress_timeout


class ProviderStatusError(StatusError):
    """A provider answered a status other than 200, its error body parsed.

    A :class:`~trio_sse.StatusError` (``status_code``, ``headers``, ``url``, ``body``), so
    code catching that keeps working; also what the provider said, read from the JSON
    error body every provider sends (Anthropic ``{"type": "error", "error": {"type",
    "message"}}``, OpenAI ``{"error": {"type", "code", "message"}}``, Gemini ``{"error":
    {"code", "status", "message"}}``, possibly inside a one-element list). A body that is
    not such JSON (a proxy's HTML page, one cut at the 2 KiB excerpt) leaves
    ``error_type`` empty and ``error_message`` the body's start.

    Attributes:
        provider: the provider that was asked.
        error_type: the provider's error type or code (``"rate_limit_error"``,
            ``"insufficient_quota"``, ``"RESOURCE_EXHAUSTED"``), ``""`` if none.
        error_message: the provider's message.
    """

    def __init__(
        self,
        *,
        provider: str,
        status_code: int,
        headers: Mapping[str, str],
        url: str,
        body: str,
        error_type: str,
        error_message: str,
    ) -> None:
        super().__init__(status_code=status_code, headers=headers, url=url, body=body)
        self.args = (
            f"{provider}: {url} answered {status_code}: "
            f"{error_type or 'error'}: {error_message[:_EXCERPT_CHARS]}",
        )
        self.provider = provider
        self.error_type = error_type
        self.error_message = error_message

    @classmethod
    def from_status_error(cls, provider: str, error: StatusError) -> ProviderStatusError:
        """``error`` with the provider's error read from its body."""
        error_type, error_message = _parse_error_body(error.body)
        return cls(
            provider=provider,
            status_code=error.status_code,
            headers=error.headers,
            url=error.url,
            body=error.body,
            error_type=error_type,
            error_message=error_message,
        )


def _parse_error_body(body: str) -> tuple[str, str]:
    """(type, message) from a provider's JSON error body; ``("", excerpt)`` otherwise."""
    try:
        value: Any = json.loads(body)
    except (ValueError, RecursionError):
        return "", body[:_EXCERPT_CHARS]
    if isinstance(value, list) and len(cast("list[object]", value)) == 1:
        value = cast("list[object]", value)[0]  # Gemini, on some endpoints
    if not isinstance(value, dict):
        return "", body[:_EXCERPT_CHARS]
    outer = cast("dict[str, Any]", value)
    error = outer.get("error")
    found = cast("dict[str, Any]", error) if isinstance(error, dict) else outer
    kind = next(
        (
            str(found[key])
            for key in ("type", "status", "code")
            if isinstance(found.get(key), str | int) and found.get(key) not in ("", "error")
        ),
        "",
    )
    message = found.get("message")
    return kind, message if isinstance(message, str) else body[:_EXCERPT_CHARS]
