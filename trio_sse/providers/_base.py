"""What every interpreter does the same way: keep the message, end, and stay spent."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from httpx_sse import ServerSentEvent

from ._errors import IncompleteStreamError, MalformedEventError, ProviderError
from ._json import Malformed
from ._vocabulary import ContentBlock, Message, MessageStart, StreamEvent, Usage

__all__ = ["BaseInterpreter", "logger"]

logger = logging.getLogger("trio_sse.providers")


class _Draft(Protocol):
    """A content block being streamed."""

    def snapshot(self) -> ContentBlock:
        """The block as it stands, frozen."""
        ...


_B = TypeVar("_B", bound=_Draft)


class BaseInterpreter(Generic[_B]):
    """The :class:`~trio_sse.providers.Interpreter` plumbing; a format adds ``_feed``.

    ``_feed`` reads one event: it updates the state below and adds the neutral events the
    event carried with :meth:`_emit` (so a MessageStart always comes first); it raises
    :class:`Malformed` (or a ProviderError) when the event is wrong, and sets ``_done`` at
    the format's terminator. Not thread-safe; no I/O.
    """

    _PROVIDER: ClassVar[str]  # what ProviderError.provider says
    _TERMINATOR: ClassVar[str]  # what IncompleteStreamError says never arrived

    def __init__(self) -> None:
        self._id: str | None = None
        self._model: str | None = None
        self._blocks: list[_B] = []  # Message.content, being streamed
        self._stop_reason: str | None = None
        self._usage: Usage | None = None
        self._started = False  # MessageStart has been emitted
        self._done = False
        self._failure: ProviderError | None = None
        self._events: list[StreamEvent] = []  # what the event being fed carried

    @property
    def message(self) -> Message:
        """The message accumulated so far (a fresh frozen snapshot)."""
        content = tuple(block.snapshot() for block in self._blocks)
        return Message(
            self._id,
            self._model,
            content,
            self._stop_reason,
            self._usage,
            self._PROVIDER,
            self._reply_raw(),
        )

    def _reply_raw(self) -> Mapping[str, Any]:
        """:attr:`Message.raw`: what the provider said of the reply outside its blocks.

        A format overrides this; the mapping returned must not change afterwards (a
        snapshot keeps it), so build a new one rather than mutating one handed out.
        """
        return {}

    @property
    def done(self) -> bool:
        """The format's terminator has arrived: the message is complete."""
        return self._done

    def feed(self, event: ServerSentEvent) -> list[StreamEvent]:
        """Interpret one SSE event; return the neutral events it carried, in order.

        Once :attr:`done`, an event is logged at DEBUG and ignored.

        Raises:
            APIStreamError: the provider reported an error in the stream.
            MalformedEventError: the event's data is not the JSON the format promises, or
                the event breaks the format's grammar (see the module's docstring).
        """
        if self._failure is not None:
            raise self._failure
        if self._done:
            logger.debug(
                "%s: %r event after %s, ignored", self._PROVIDER, event.event, self._TERMINATOR
            )
            return []
        self._events = []
        try:
            self._feed(event)
        except Malformed as exc:
            self._failure = MalformedEventError(
                provider=self._PROVIDER,
                partial=self.message,
                event_name=event.event,
                data=event.data,
                reason=str(exc),
            )
            raise self._failure from exc.__cause__
        except ProviderError as exc:
            self._failure = exc
            raise
        return self._events

    def finish(self) -> Message:
        """The stream has ended: return the final message.

        Raises:
            IncompleteStreamError: the format's terminator never arrived (``partial``
                holds what did).
        """
        if self._failure is not None:
            raise self._failure
        if not self._done:
            self._failure = IncompleteStreamError(
                provider=self._PROVIDER, partial=self.message, expected=self._TERMINATOR
            )
            raise self._failure
        return self.message

    def _feed(self, event: ServerSentEvent) -> None:
        raise NotImplementedError

    def _start(self) -> None:
        """Emit :class:`MessageStart` (with the id and model known so far), once."""
        if not self._started:
            self._started = True
            self._events.append(MessageStart(self._id, self._model))

    def _emit(self, *events: StreamEvent) -> None:
        """Add ``events`` to what ``feed`` returns, after a MessageStart if none has gone."""
        if events:
            self._start()
            self._events.extend(events)
