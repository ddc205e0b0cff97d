"""How exceptions leave a context manager that hides a nursery."""

from __future__ import annotations

import sys
from types import TracebackType
from typing import NoReturn

import trio

if sys.version_info < (3, 11):
    from exceptiongroup import BaseExceptionGroup

__all__ = ["open_hidden_nursery", "raise_single"]


class open_hidden_nursery:  # lower case: used as a function, ``async with open_hidden_nursery()``
    """A nursery whose tasks are cancelled when the block ends, for a context manager to hide.

    What comes out follows :func:`raise_single`: one exception unwrapped, a group only
    when two things failed at once. A class, not a generator context manager: every open
    stream holds it, and a generator's frame is heavier.
    """

    __slots__ = ("_manager", "_nursery")

    def __init__(self) -> None:
        self._manager = trio.open_nursery()
        self._nursery: trio.Nursery | None = None

    async def __aenter__(self) -> trio.Nursery:
        self._nursery = nursery = await self._manager.__aenter__()
        return nursery

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool:
        assert self._nursery is not None, "__aexit__ before __aenter__"
        self._nursery.cancel_scope.cancel()
        try:
            return bool(await self._manager.__aexit__(exc_type, exc, traceback))
        except BaseExceptionGroup as group:
            raise_single(group)


def raise_single(group: BaseExceptionGroup[BaseException]) -> NoReturn:
    """Re-raise the one exception that matters in a nursery's ``group``, unwrapped.

    Only the nursery's own group is looked into, never a group one of its tasks raised:
    that comes out as it was raised.

    - a KeyboardInterrupt or SystemExit wins over everything;
    - else the single exception other than :class:`trio.Cancelled` (one object raised by
      two tasks, as a pump bug reaching its consumer is, counts once), with its own
      ``__context__`` and ``__cause__``: the group is not chained onto it;
    - else (only Cancelled) the group unchanged, for the cancel scopes above to catch;
    - more than one other exception (the block and the pump failed at once): the group
      unchanged, since picking one would hide the other.
    """
    for exc in group.exceptions:
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            _reraise(exc)
    errors: list[BaseException] = []
    for exc in group.exceptions:
        if not isinstance(exc, trio.Cancelled) and all(exc is not seen for seen in errors):
            errors.append(exc)
    if len(errors) == 1:
        _reraise(errors[0])
    raise group


def _reraise(exc: BaseException) -> NoReturn:
    context = exc.__context__
    try:
        raise exc
    finally:
        exc.__context__ = context
        del exc, context
