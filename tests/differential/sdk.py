"""Driving the official SDKs offline: an httpx2 client that answers every request with
a recorded stream, for the SDK's ``http_client=``."""

from __future__ import annotations

import httpx2


def replaying(body: bytes) -> httpx2.Client:
    """A client whose every request gets ``body`` back as a 200 ``text/event-stream``."""

    def respond(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=body)

    return httpx2.Client(transport=httpx2.MockTransport(respond))
