from __future__ import annotations

import pytest
import trio

from .servers import ServerLog, serve_app


@pytest.fixture
async def app_server(nursery: trio.Nursery) -> tuple[str, ServerLog]:
    """The Starlette + sse-starlette app on 127.0.0.1, in the test's nursery."""
    log = ServerLog()
    url = await serve_app(nursery, log)
    return url, log
