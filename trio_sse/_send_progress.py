"""Whether a request may have been written: the one thing a retry of a POST must know.

No httpx here: :mod:`trio_sse._http` and the direct body path both use it.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any, cast

__all__ = ["SendProgress", "is_send_progress"]


class SendProgress:
    """Whether one request may have been written, from httpcore's ``trace`` extension.

    httpcore reports each step of an exchange to ``extensions["trace"]``; once it reports
    ``*.send_request_headers.*`` the server may have the request. Until then (connecting,
    TLS) it certainly has not. A transport that never calls the trace (a mock, a custom
    one) leaves :attr:`unsent` ``False``: nothing is known, so the request may have gone.
    """

    __slots__ = ("_sending", "_traced")

    def __init__(self) -> None:
        self._traced = False
        self._sending = False

    def reset(self) -> None:
        """A new request: nothing known about it yet."""
        self._traced = self._sending = False

    @property
    def unsent(self) -> bool:
        """The transport reported progress, and none of it was writing the request."""
        return self._traced and not self._sending

    async def _trace(self, name: str, info: Mapping[str, Any]) -> None:
        self._traced = True
        if "send_request_headers" in name:
            self._sending = True

    def extensions(self, given: object) -> dict[str, Any]:
        """The request extensions to send: the caller's ``given`` ones (a mapping, or
        ``None``), with a ``trace`` that records progress and then calls the caller's own
        ``trace``, if any (awaited when it returns an awaitable, as httpcore does)."""
        extensions = dict(cast("Mapping[str, Any]", given)) if isinstance(given, Mapping) else {}
        theirs = extensions.get("trace")
        if theirs is None:
            extensions["trace"] = self._trace
            return extensions

        async def trace(name: str, info: Mapping[str, Any]) -> None:
            await self._trace(name, info)
            result = theirs(name, info)
            if inspect.isawaitable(result):
                await result

        extensions["trace"] = trace
        return extensions


def is_send_progress(trace: object) -> bool:
    """Whether a request's ``trace`` extension is trio-sse's own :class:`SendProgress`
    and nobody else's: it needs nothing reported once the request is sent, so the
    direct body path may read the body past httpcore's tracing."""
    return isinstance(getattr(trace, "__self__", None), SendProgress)
