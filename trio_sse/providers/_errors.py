"""What a provider stream raises when its content, not its transport, goes wrong.

::

    trio_sse.SSEError
    └── ProviderError              carries ``partial``: the Message accumulated so far
        ├── APIStreamError             the provider sent an error in the stream
        ├── IncompleteStreamError      the stream ended without its terminator
        └── MalformedEventError        an event's data is not the JSON expected, or the
                                       stream breaks its format's grammar
"""

from __future__ import annotations

from .._errors import SSEError
from ._vocabulary import Message

__all__ = ["APIStreamError", "IncompleteStreamError", "MalformedEventError", "ProviderError"]

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
