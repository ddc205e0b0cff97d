"""How exceptions leave a context manager that hides a nursery."""

from __future__ import annotations

import sys
from typing import NoReturn, cast

import trio

if sys.version_info < (3, 11):
    from exceptiongroup import BaseExceptionGroup

__all__ = ["raise_single"]


def _leaves(group: BaseExceptionGroup[BaseException]) -> list[BaseException]:
    leaves: list[BaseException] = []
    for exc in group.exceptions:
        if isinstance(exc, BaseExceptionGroup):
            leaves.extend(_leaves(cast("BaseExceptionGroup[BaseException]", exc)))
        else:
            leaves.append(exc)
    return leaves


def raise_single(group: BaseExceptionGroup[BaseException]) -> NoReturn:
    """Re-raise the one exception that matters in ``group``, unwrapped.

    - a KeyboardInterrupt or SystemExit wins over everything;
    - else the single exception other than :class:`trio.Cancelled`, with its own
      ``__context__`` and ``__cause__`` (the group is not chained onto it);
    - else (only Cancelled) the group unchanged, for the cancel scopes above to catch;
    - more than one other exception (the body and the pump failed at once): the group
      unchanged, since picking one would hide the other.
    """
    leaves = _leaves(group)
    for exc in leaves:
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            _reraise(exc)
    errors = [exc for exc in leaves if not isinstance(exc, trio.Cancelled)]
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
