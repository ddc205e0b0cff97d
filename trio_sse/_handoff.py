"""A receive channel that ends with its producer's error, raised after every item before it."""

from __future__ import annotations

from typing import TypeVar

import trio

from ._fan_out import DEFAULT_FAN_OUT_BUFFER, FanOutChannel, fan_out

__all__ = ["Handoff", "HandoffChannel"]

T = TypeVar("T")

_SCHEDULE_EVERY = 64
"""Receives that may take a buffered item without a schedule point, before one must."""


class Handoff:
    """Shared by a producer task and its channels: the error that ended the producer,
    and how many items the channels have handed out (``delivered``: a receive that
    returned an item, a fan-out copy's fetch included; items a close discarded are not).

    A producer that must wait until the channels have handed out ``n`` items in all sets
    ``wake_at`` to ``n`` and waits on ``room``: the receive that hands out the ``n``-th
    sets it (an integer compare on the receive path, nothing more)."""

    __slots__ = ("delivered", "error", "room", "wake_at")

    def __init__(self) -> None:
        self.error: BaseException | None = None
        self.delivered = 0
        self.wake_at = -1  # the delivered count that sets room; -1: nobody waits
        self.room: trio.Event | None = None

    def wake(self) -> None:
        """The producer's ``wake_at`` was reached: let it go on. Synchronous."""
        self.wake_at = -1
        if self.room is not None:
            self.room.set()
            self.room = None


class HandoffChannel(trio.abc.ReceiveChannel[T]):
    """The receiving end of a producer task's memory channel.

    When the producer closes its end after setting ``handoff.error``, that error is
    raised by ``receive`` once every item sent before it has been received, and by every
    call after: a failure is never taken for a clean end, and loses nothing.
    """

    __slots__ = ("_fanned_out", "_handoff", "_receive", "_unyielded")

    def __init__(self, receive_channel: trio.MemoryReceiveChannel[T], handoff: Handoff) -> None:
        self._receive = receive_channel
        self._handoff = handoff
        self._unyielded = 0  # receives since the last schedule point
        self._fanned_out = False

    async def receive(self) -> T:
        """Wait for the next item.

        Always a cancellation point: cancelled, it raises before taking an item, so none
        is lost. A schedule point when it has to wait, and otherwise once every 64 items:
        a consumer of a fast stream still lets other tasks run, without paying a trip
        through Trio's scheduler (several microseconds) for each item.

        Raises:
            trio.EndOfChannel: the producer finished cleanly and every item was received.
            trio.ClosedResourceError: this channel was closed, or its producer cancelled.
            Exception: the error that ended the producer, after the items before it.
            trio.BusyResourceError: the channel was fanned out (receive from the copies).
        """
        if self._fanned_out:
            raise trio.BusyResourceError("fanned out: receive from the copies fan_out made")
        self._unyielded += 1
        if self._unyielded < _SCHEDULE_EVERY:  # a cancellation point, scheduling nothing
            await trio.lowlevel.checkpoint_if_cancelled()
        else:
            self._unyielded = 0
            await trio.lowlevel.checkpoint()
        try:
            try:
                item = self._receive.receive_nowait()
            except trio.WouldBlock:
                pass
            else:
                handoff = self._handoff
                handoff.delivered += 1
                if handoff.delivered == handoff.wake_at:
                    handoff.wake()
                return item
            item = await self._receive.receive()  # outside that except: nothing chained
        except trio.EndOfChannel:
            if self._handoff.error is None:
                raise
        else:
            handoff = self._handoff
            handoff.delivered += 1
            if handoff.delivered == handoff.wake_at:
                handoff.wake()
            return item
        raise self._handoff.error  # outside the except: no EndOfChannel chained onto it

    def receive_nowait(self) -> T:
        """Take the next item if one is buffered, without blocking; not a checkpoint.

        Raises:
            trio.WouldBlock: nothing is buffered yet.
            trio.EndOfChannel | trio.ClosedResourceError | Exception: as :meth:`receive`.
            trio.BusyResourceError: the channel was fanned out (receive from the copies).
        """
        if self._fanned_out:
            raise trio.BusyResourceError("fanned out: receive from the copies fan_out made")
        try:
            item = self._receive.receive_nowait()
        except trio.EndOfChannel:
            if self._handoff.error is None:
                raise
        else:
            handoff = self._handoff
            handoff.delivered += 1
            if handoff.delivered == handoff.wake_at:
                handoff.wake()
            return item
        raise self._handoff.error  # outside the except: no EndOfChannel chained onto it

    def fan_out(
        self, consumers: int, *, max_buffer_size: int = DEFAULT_FAN_OUT_BUFFER
    ) -> list[FanOutChannel[T]]:
        """Hand every item to each of ``consumers`` tasks: one receive channel for each.

        A channel distributes its items (two receivers split them); the copies broadcast
        them: each receives every item, in order, then the end as this channel would have
        raised it (:exc:`trio.EndOfChannel`; or the producer's error itself, the same
        object for every copy, after every item before it). Synchronous, not a checkpoint.
        Items received before the call are not repeated (call it before anyone receives
        for every item), and from then on only the copies receive.

        The slowest copy sets the pace: the fastest is never more than
        ``max_buffer_size`` items (default 64) ahead of the slowest open one, and waits
        when it would be, while the producer waits on its own full buffer. So each copy
        must be read or closed (``async with copy:``): one that nobody reads stops the
        others. Closing a copy leaves the others running; closing the last closes this
        channel, which stops the producer. (An :class:`~trio_sse.EventStream`'s
        ``statistics()`` counts an event delivered once a copy has taken it.)

        Raises:
            trio.BusyResourceError: this channel was fanned out already.
            ValueError: ``consumers`` or ``max_buffer_size`` below 1.
        """
        if self._fanned_out:
            raise trio.BusyResourceError("this channel was fanned out already")
        copies = fan_out(
            HandoffChannel(self._receive, self._handoff),  # the items, to the copies only
            consumers,
            max_buffer_size=max_buffer_size,
            close_source=self.close,
        )
        self._fanned_out = True
        return copies

    def close(self) -> None:
        """Stop listening: the producer's next send fails, and it stops. Synchronous."""
        self._receive.close()

    async def aclose(self) -> None:
        """Like :meth:`close`, and a checkpoint."""
        self.close()
        await trio.lowlevel.checkpoint()
