"""The project's own shorthand over :mod:`trio_sse.testing` (which downstream tests use too).

``module`` is ``httpx`` or ``httpx2``: the two have the same API but distinct classes.
"""

from __future__ import annotations

from collections.abc import Iterable
from types import ModuleType
from typing import Any

import httpx

from trio_sse.testing import Drop as Drop
from trio_sse.testing import Pause as Pause
from trio_sse.testing import Raise as Crash
from trio_sse.testing import ScriptedResponse as Script
from trio_sse.testing import ScriptedTransport

__all__ = ["Crash", "Drop", "Pause", "Script", "scripted_client", "sse"]


def scripted_client(
    *scripts: Script, module: ModuleType = httpx, **client_kwargs: Any
) -> tuple[Any, ScriptedTransport]:
    """An AsyncClient of ``module`` on a :class:`ScriptedTransport` playing ``scripts``,
    and the transport (its ``requests``, ``times`` and ``bodies``)."""
    transport = ScriptedTransport(*scripts, http=module)
    client = module.AsyncClient(transport=transport, base_url="http://test", **client_kwargs)
    return client, transport


def sse(*events: Iterable[tuple[str, str]] | str) -> bytes:
    """Frame events: each a block of ``field: value`` pairs, or a bare data string."""
    out = []
    for event in events:
        if isinstance(event, str):
            out.append(f"data: {event}\n\n")
        else:
            out.append("".join(f"{name}: {value}\n" for name, value in event) + "\n")
    return "".join(out).encode()
