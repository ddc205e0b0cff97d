"""What every provider interpreter is: a sans-IO state machine, events in, events out."""

from __future__ import annotations

from typing import Protocol

from httpx_sse import ServerSentEvent

from ._vocabulary import Message, StreamEvent

__all__ = ["Interpreter"]


class Interpreter(Protocol):
    """A provider format's interpreter: no I/O, no Trio, one per stream.

    Every method is synchronous: none is a checkpoint, none can be cancelled half-way.

    ``feed`` every event in order; call ``finish`` when the event stream ends.
    Once :attr:`done`, later events are ignored (``feed`` returns ``[]`` and logs them at
    DEBUG on ``trio_sse.providers``): the message is complete. After ``feed`` or
    ``finish`` has raised, the interpreter is spent and both raise the same error again.
    """

    def feed(self, event: ServerSentEvent) -> list[StreamEvent]:
        """Interpret one SSE event; return the neutral events it carried, in order.

        Raises:
            APIStreamError: the provider reported an error in the stream.
            MalformedEventError: the event's data is not the JSON the format promises, or
                the event breaks the format's grammar.
        """
        ...

    def finish(self) -> Message:
        """The stream has ended: return the final message.

        Raises:
            IncompleteStreamError: the provider's terminator never arrived.
        """
        ...

    @property
    def message(self) -> Message:
        """The message accumulated so far (a fresh frozen snapshot)."""
        ...

    @property
    def done(self) -> bool:
        """The provider's terminator has arrived: the message is complete."""
        ...
