"""How the pump reads a body: straight from the transport unless something must decode it."""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator
from typing import ClassVar

import httpx

import trio_sse
from trio_sse._http import raw_body

from .scripted import Script, scripted_client, sse


class Chunks(httpx.AsyncByteStream):
    """A body whose iterator is recognisable: ``raw_body`` must hand out this one."""

    def __init__(self, *chunks: bytes) -> None:
        self.chunks = chunks
        self.iterator: AsyncIterator[bytes] | None = None

    def __aiter__(self) -> AsyncIterator[bytes]:
        self.iterator = self._iterate()
        return self.iterator

    async def _iterate(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            yield chunk


async def read(chunks: AsyncIterator[bytes]) -> list[bytes]:
    return [chunk async for chunk in chunks]


async def test_an_unencoded_body_is_read_from_the_transports_stream() -> None:
    body = Chunks(b"data: a\n\n", b"data: b\n\n")
    response = httpx.Response(200, stream=body)
    chunks = raw_body(response)
    assert chunks is body.iterator  # no aiter_bytes / aiter_raw generators in between
    assert response.is_stream_consumed  # as aiter_raw marks it: a second read raises
    assert await read(chunks) == [b"data: a\n\n", b"data: b\n\n"]


async def test_a_compressed_body_is_decoded_by_httpx() -> None:
    body = Chunks(gzip.compress(b"data: a\n\n"))
    response = httpx.Response(200, headers={"content-encoding": "gzip"}, stream=body)
    assert b"".join(await read(raw_body(response))) == b"data: a\n\n"


async def test_a_body_already_read_is_served_from_httpxs_copy() -> None:
    response = httpx.Response(200, stream=Chunks(b"data: a\n\n"))
    await response.aread()
    assert await read(raw_body(response)) == [b"data: a\n\n"]


async def test_a_response_hook_that_reads_the_body_loses_no_event() -> None:
    async def read_it(response: httpx.Response) -> None:
        await response.aread()

    client, _ = scripted_client(Script([sse("a"), sse("b")]), event_hooks={"response": [read_it]})
    async with trio_sse.open_event_stream(client, "GET", "/s", reconnect=False) as events:
        assert [event.data async for event in events] == ["a", "b"]


async def test_a_response_of_another_kind_is_read_with_aiter_bytes() -> None:
    class Duck:
        status_code = 200
        headers: ClassVar = {"content-type": "text/event-stream"}
        url = "http://duck/"

        async def aiter_bytes(self, chunk_size: int | None = None) -> AsyncIterator[bytes]:
            yield b"data: quack\n\n"

    assert await read(raw_body(Duck())) == [b"data: quack\n\n"]
