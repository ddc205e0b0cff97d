"""What the benchmarks share: HTTP framing, a server in a child process, the consumers.

Each benchmark runs its server in a separate process (``python bench/X.py --serve ...``),
so the server's work never competes with the client's in one interpreter.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import httpx_sse

import trio_sse

SSE_HEAD = (
    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
    b"transfer-encoding: chunked\r\nconnection: close\r\n\r\n"
)


def save_results(path: str | None, results: dict[str, Any]) -> None:
    """Write a benchmark's results as JSON (for ``bench/plot.py``), when asked to."""
    if path is None:
        return
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w") as out:
        json.dump({"python": sys.version.split()[0], **results}, out, indent=1)
        out.write("\n")


def chunk(event: bytes) -> bytes:
    """``event`` as one HTTP/1.1 chunk."""
    return b"%x\r\n%s\r\n" % (len(event), event)


def anthropic_event(payload: dict[str, object]) -> bytes:
    """One Anthropic event: its type as the event name, its JSON as data."""
    return f"event: {payload['type']}\ndata: {json.dumps(payload)}\n\n".encode()


def token_event(i: int) -> bytes:
    """An Anthropic-shaped text delta."""
    return anthropic_event(
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "text_delta", "text": f" token{i % 100}"},
        }
    )


def anthropic_reply(tokens: int) -> list[bytes]:
    """A whole Anthropic Messages stream of ``tokens`` text deltas, one event per item."""
    usage = {"input_tokens": 12, "output_tokens": 1}
    message = {"id": "msg_1", "type": "message", "role": "assistant", "model": "m"}
    return [
        anthropic_event(
            {
                "type": "message_start",
                "message": {**message, "content": [], "stop_reason": None, "usage": usage},
            }
        ),
        anthropic_event(
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "text", "text": ""},
            }
        ),
        *(token_event(i) for i in range(tokens)),
        anthropic_event({"type": "content_block_stop", "index": 0}),
        anthropic_event(
            {
                "type": "message_delta",
                "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                "usage": {"output_tokens": tokens},
            }
        ),
        anthropic_event({"type": "message_stop"}),
    ]


@contextmanager
def listening() -> Iterator[socket.socket]:
    """A server socket on 127.0.0.1, a free port, which it prints for the parent to read."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        print(listener.getsockname()[1], flush=True)
        yield listener


def accept_stream(listener: socket.socket) -> socket.socket:
    """The next connection, its request read (head and body), the response head sent."""
    connection, _ = listener.accept()
    request = b""
    while b"\r\n\r\n" not in request:
        request += connection.recv(65536)
    head, _, body = request.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        body += connection.recv(65536)
    connection.sendall(SSE_HEAD)
    return connection


@contextmanager
def server_process(script: str, *args: str) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """Run ``script --serve *args``; yield its URL (from the port it prints) and the process."""
    server = subprocess.Popen(
        [sys.executable, script, "--serve", *args], stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        yield f"http://127.0.0.1:{int(server.stdout.readline())}/stream", server
    finally:
        server.kill()
        server.wait()


async def consume_httpx_sse(client: httpx.AsyncClient, url: str) -> int:
    """httpx-sse's ``aiter_sse``, every event JSON-decoded; returns the count."""
    count = 0
    async with httpx_sse.aconnect_sse(client, "GET", url) as source:
        async for event in source.aiter_sse():
            json.loads(event.data)
            count += 1
    return count


async def consume_trio_sse(client: httpx.AsyncClient, url: str) -> int:
    """trio-sse's ``open_event_stream``, every event JSON-decoded; returns the count.

    One response, as httpx-sse reads it: no reconnecting when the body ends.
    """
    count = 0
    async with trio_sse.open_event_stream(client, "GET", url, reconnect=False) as events:
        async for event in events:
            json.loads(event.data)
            count += 1
    return count
