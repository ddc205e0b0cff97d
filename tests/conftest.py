from __future__ import annotations

import os

import pytest
import trio
from hypothesis import settings

from .servers import ServerLog, serve_app

# Property tests and fuzzers: the same examples on every run by default (seeded, so CI is
# reproducible and bounded); ``HYPOTHESIS_PROFILE=fuzz`` (``nox -s fuzz``) runs 100x more,
# freshly random each time. No deadline: a property test proves behaviour, not speed, and
# a loaded machine must not turn a slow example into a failure.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("fuzz", max_examples=10_000, deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
async def app_server(nursery: trio.Nursery) -> tuple[str, ServerLog]:
    """The Starlette + sse-starlette app on 127.0.0.1, in the test's nursery."""
    log = ServerLog()
    url = await serve_app(nursery, log)
    return url, log
