"""Fan-out: every item of one receive channel, in order, to each of several consumers.

A Trio memory channel is a work queue: two tasks receiving from it (or from clones of
it) split its items between them. :func:`fan_out` broadcasts instead, without a task
of its own: the copies share a window of items that some copy has not yet received,
and whichever copy first needs an item not in the window receives it from the source,
on behalf of all (one at a time; another copy waiting for the same item waits for it).

The window is the memory bound: the fastest copy is never more than ``max_buffer_size``
items ahead of the slowest open one. When it would be, it waits, the source is not
read, and the producer behind it (a pump, say) is held back as a single slow consumer
would hold it back: the slowest copy sets the pace.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Final, Generic, NoReturn, Protocol, TypeVar

import trio

__all__ = ["DEFAULT_FAN_OUT_BUFFER", "FanOutChannel", "Source", "fan_out"]

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class Source(Protocol[T_co]):
    """What a fan-out reads: a receive channel with ``receive_nowait``."""

    async def receive(self) -> T_co: ...

    def receive_nowait(self) -> T_co: ...


DEFAULT_FAN_OUT_BUFFER: Final = 64
"""How far (in items) the fastest copy of a fan-out may run ahead of the slowest."""

_SCHEDULE_EVERY: Final = 64
"""Receives that may take a shared item without a schedule point, before one must."""


def fan_out(
    source: Source[T],
    consumers: int,
    *,
    max_buffer_size: int = DEFAULT_FAN_OUT_BUFFER,
    close_source: Callable[[], None],
) -> list[FanOutChannel[T]]:
    """``consumers`` receive channels, each of which receives every item of ``source``.

    Synchronous, not a checkpoint. From then on only the copies may receive from
    ``source``. Each copy must be consumed or closed: an open copy nobody reads holds
    the others back once they are ``max_buffer_size`` items ahead of it.

    Args:
        source: the channel to broadcast.
        consumers: how many copies (1 or more).
        max_buffer_size: how many items the fastest copy may be ahead of the slowest
            (1 or more; 1 keeps the copies in step).
        close_source: called once every copy is closed (to stop the producer).

    Raises:
        ValueError: ``consumers`` or ``max_buffer_size`` below 1.
    """
    if consumers < 1:
        raise ValueError(f"consumers must be 1 or more, got {consumers}")
    if max_buffer_size < 1:
        raise ValueError(f"max_buffer_size must be 1 or more, got {max_buffer_size}")
    hub = _Hub(source, max_buffer_size, close_source)
    hub.copies = [FanOutChannel(hub) for _ in range(consumers)]
    return list(hub.copies)


class _Hub(Generic[T]):
    """What the copies share: the source, the window, how the source ended."""

    __slots__ = (
        "close_source",
        "copies",
        "end",
        "fetch_scope",
        "fetching",
        "first",
        "items",
        "lot",
        "size",
        "source",
        "waiting",
    )

    def __init__(self, source: Source[T], size: int, close_source: Callable[[], None]) -> None:
        self.source = source
        self.size = size
        self.close_source = close_source
        self.copies: list[FanOutChannel[T]] = []  # the open ones
        self.items: deque[T] = deque()  # received from the source, not yet by every copy
        self.first = 0  # how many items came before items[0]
        self.end: Exception | None = None  # how the source ended, after the last item
        self.fetching: FanOutChannel[T] | None = None  # the copy waiting on the source
        self.fetch_scope = trio.CancelScope()  # around its wait
        self.lot = trio.lowlevel.ParkingLot()  # copies waiting for any of that to change
        self.waiting = 0  # receives parked in ``lot``

    async def wait(self) -> None:
        """Until something changes: an item, room in the window, a fetch over, an end."""
        self.waiting += 1
        try:
            await self.lot.park()
        finally:
            self.waiting -= 1

    def wake(self) -> None:
        if self.waiting:  # unpark_all costs a few microseconds even with nobody parked
            self.lot.unpark_all()

    def trim(self) -> None:
        """Forget the items every open copy has received; wake copies waiting for room."""
        low = min((copy.received for copy in self.copies), default=self.first + len(self.items))
        if low > self.first:
            for _ in range(low - self.first):
                self.items.popleft()
            self.first = low
            self.wake()

    def ended(self, exc: Exception) -> None:
        self.end = exc
        self.wake()

    def raise_end(self) -> NoReturn:
        end = self.end
        if isinstance(end, trio.EndOfChannel):
            raise trio.EndOfChannel  # a fresh one for each copy: nothing is shared
        if isinstance(end, trio.ClosedResourceError):
            raise trio.ClosedResourceError("the source was closed (its producer cancelled?)")
        assert end is not None
        raise end  # the source's own error, as itself, for every copy


class FanOutChannel(trio.abc.ReceiveChannel[T]):
    """One copy of a fanned-out channel: every item of the source, in order.

    ``receive`` is always a cancellation point (cancelled, it takes no item, so none is
    lost), and a schedule point when it waits and at least once every 64 items. After
    the last item it raises what the source raised to end: :exc:`trio.EndOfChannel` at
    a clean end, the source's error itself (the same object for every copy), or
    :exc:`trio.ClosedResourceError` if the source was closed. Closing a copy does not
    affect the others; closing the last one closes the source.

    Made by ``fan_out`` (:meth:`trio_sse.EventStream.fan_out`,
    :meth:`trio_sse.providers.ProviderStream.fan_out`), not directly.

    Attributes:
        received: how many items this copy has received so far.
    """

    __slots__ = ("_closed", "_hub", "_unyielded", "received")

    def __init__(self, hub: _Hub[T]) -> None:
        self._hub = hub
        self._closed = False
        self._unyielded = 0  # receives since the last schedule point
        self.received = hub.first  # also the index (in the whole stream) of its next item

    async def receive(self) -> T:
        """Wait for this copy's next item.

        Raises:
            trio.EndOfChannel: the source ended cleanly, and every item was received.
            trio.ClosedResourceError: this copy, or the source, was closed.
            Exception: the error that ended the source, after every item before it.
        """
        self._unyielded += 1
        if self._unyielded < _SCHEDULE_EVERY:  # a cancellation point, scheduling nothing
            await trio.lowlevel.checkpoint_if_cancelled()
        else:
            self._unyielded = 0
            await trio.lowlevel.checkpoint()
        hub = self._hub
        while True:
            if self._closed:
                raise trio.ClosedResourceError("this copy was closed")
            offset = self.received - hub.first
            if offset < len(hub.items):
                return self._take(offset)
            if hub.end is not None:
                hub.raise_end()
            if hub.fetching is not None or len(hub.items) >= hub.size:
                self._unyielded = 0
                await hub.wait()  # for the fetching copy, or for the slowest to take one
                continue
            try:
                return self.receive_nowait()  # buffered in the source: no wait, no scope
            except trio.WouldBlock:
                pass
            return await self._fetch()  # outside that except: nothing chained

    def receive_nowait(self) -> T:
        """Take this copy's next item if it is at hand, without blocking; not a checkpoint.

        Raises:
            trio.WouldBlock: the item is not at hand yet (another copy may be waiting for
                it, or this copy is ``max_buffer_size`` items ahead of the slowest).
            trio.EndOfChannel | trio.ClosedResourceError | Exception: as :meth:`receive`.
        """
        hub = self._hub
        if self._closed:
            raise trio.ClosedResourceError("this copy was closed")
        offset = self.received - hub.first
        if offset < len(hub.items):
            return self._take(offset)
        if hub.end is not None:
            hub.raise_end()
        if hub.fetching is not None or len(hub.items) >= hub.size:
            raise trio.WouldBlock  # the fetching copy's item comes first: never overtake it
        try:
            item = hub.source.receive_nowait()
        except trio.WouldBlock:
            raise
        except Exception as exc:
            hub.ended(exc)
            raise
        return self._append(item)

    def _take(self, offset: int) -> T:
        hub = self._hub
        item = hub.items[offset]
        self.received += 1
        if offset == 0:  # this copy may have been the slowest
            hub.trim()
        return item

    async def _fetch(self) -> T:
        """Receive the next item from the source, for every copy."""
        hub = self._hub
        scope = hub.fetch_scope = trio.CancelScope()  # close() cancels it
        hub.fetching = self
        try:
            with scope:
                item = await hub.source.receive()
                if not self._closed:
                    return self._append(item)
                if hub.copies:  # this copy was closed just as the item arrived:
                    hub.items.append(item)  # the item is the other copies'
        except Exception as exc:  # the source's end: EndOfChannel, its error, or closed
            hub.ended(exc)
            raise
        finally:  # cancelled, the source took nothing: another copy may fetch instead
            hub.fetching = None
            hub.wake()
        raise trio.ClosedResourceError("this copy was closed")

    def _append(self, item: T) -> T:
        """Take ``item``, new from the source, and keep it for the other copies."""
        hub = self._hub
        self.received += 1
        if len(hub.copies) == 1:  # this copy alone (the others closed): nothing to keep
            hub.first += 1
        else:
            hub.items.append(item)
            hub.wake()
        return item

    def close(self) -> None:
        """Stop receiving on this copy; the others go on. Closing the last open copy
        closes the source (a pump stops). Synchronous and idempotent."""
        if self._closed:
            return
        self._closed = True
        hub = self._hub
        hub.copies.remove(self)
        if hub.fetching is self:
            hub.fetch_scope.cancel()  # its receive stops waiting on the source, and raises
        hub.wake()  # a receive waiting on this copy raises; others may have room
        if hub.copies:
            hub.trim()
        else:
            hub.items.clear()
            hub.close_source()

    async def aclose(self) -> None:
        """Like :meth:`close`, and a checkpoint."""
        self.close()
        await trio.lowlevel.checkpoint()

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"at {self.received}"
        return f"<trio_sse fan-out copy {state} of {len(self._hub.copies)} open>"
