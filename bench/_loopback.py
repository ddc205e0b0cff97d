"""What the benchmarks share: HTTP framing, a server in a child process, the consumers.

Each benchmark runs its server in a separate process (``python bench/X.py --serve ...``),
so the server's work never competes with the client's in one interpreter.
"""

from __future__ import annotations

import json
import os
import socket
import socketserver
import ssl
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import httpx_sse
import trio

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


# -- realistic workloads: a threaded server, TLS, paced streams --------------------------

SSE_HEAD_KEEPALIVE = SSE_HEAD.replace(b"connection: close\r\n", b"")


def openai_chunk(i: int) -> bytes:
    """One OpenAI-compatible chat completion chunk, as vLLM, llama.cpp and Ollama send it."""
    payload = {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1764547200,
        "model": "local-model",
        "choices": [{"index": 0, "delta": {"content": f" token{i % 100}"}, "finish_reason": None}],
    }
    return b"data: %s\n\n" % json.dumps(payload, separators=(",", ":")).encode()


def openai_reply(tokens: int) -> list[bytes]:
    """A whole chat completion stream: ``tokens`` chunks, then ``data: [DONE]``."""
    return [*(openai_chunk(i) for i in range(tokens)), b"data: [DONE]\n\n"]


def certificates(directory: str) -> tuple[str, str]:
    """A trustme CA and a server certificate for 127.0.0.1 in ``directory``:
    (the CA's PEM, the server's key and chain PEM)."""
    import trustme

    ca = trustme.CA()
    ca_path = os.path.join(directory, "ca.pem")
    server_path = os.path.join(directory, "server.pem")
    ca.cert_pem.write_to_path(ca_path)
    ca.issue_cert("127.0.0.1").private_key_and_cert_chain_pem.write_to_path(server_path)
    return ca_path, server_path


def client_tls(ca_path: str | None) -> ssl.SSLContext | bool:
    """The ``verify=`` for an httpx client of a server using :func:`certificates`."""
    return True if ca_path is None else ssl.create_default_context(cafile=ca_path)


def serve_events(
    events: list[bytes],
    *,
    interval: float = 0.0,
    repeat: bool = False,
    certificate: str | None = None,
) -> None:
    """A thread per connection on 127.0.0.1 (TLS with ``certificate``); print the port first.

    Each request (keep-alive: any number a connection) is answered with ``events``, each
    its own HTTP chunk written on its own (so its own TLS record), ``interval`` seconds
    apart; ``repeat`` sends them again and again until the client leaves; an empty
    ``events`` sends the head and then nothing (an idle stream).
    """
    context = None
    if certificate is not None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(certificate)

    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            connection: socket.socket = self.request
            connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if context is not None:
                connection = context.wrap_socket(connection, server_side=True)
            try:
                while self.answer(connection):
                    pass
            except OSError:
                pass  # the client left

        def answer(self, connection: socket.socket) -> bool:
            request = b""
            while b"\r\n\r\n" not in request:
                data = connection.recv(65536)
                if not data:
                    return False
                request += data
            head, _, body = request.partition(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            while len(body) < length:
                body += connection.recv(65536)
            connection.sendall(SSE_HEAD_KEEPALIVE)
            if not events:
                time.sleep(3600)
            while True:
                for event in events:
                    connection.sendall(chunk(event))
                    if interval:
                        time.sleep(interval)
                if not repeat:
                    break
            connection.sendall(b"0\r\n\r\n")
            return True

    socketserver.ThreadingTCPServer.daemon_threads = True
    socketserver.ThreadingTCPServer.request_queue_size = 4096
    socketserver.ThreadingTCPServer.allow_reuse_address = True
    with socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler) as server:
        print(server.server_address[1], flush=True)
        server.serve_forever()


def tls_url(url: str) -> str:
    return url.replace("http://", "https://", 1)


async def consume_raw_httpx(client: httpx.AsyncClient, url: str) -> int:
    """Raw httpx ``aiter_bytes``: no parsing at all (the floor); returns the bytes read."""
    size = 0
    async with client.stream("GET", url) as response:
        async for part in response.aiter_bytes():
            size += len(part)
    return size


def rss_kib() -> int:
    """This process's resident set now, in KiB (Linux)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * (os.sysconf("SC_PAGE_SIZE") // 1024)


async def consume_trio_sse_usual_path(client: httpx.AsyncClient, url: str) -> int:
    """:func:`consume_trio_sse` with the direct body path forced off."""
    os.environ["TRIO_SSE_DIRECT_BODY"] = "0"
    try:
        return await consume_trio_sse(client, url)
    finally:
        del os.environ["TRIO_SSE_DIRECT_BODY"]


Consume = Callable[[httpx.AsyncClient, str], Awaitable[int]]

FLOOR = "raw httpx aiter_bytes"
CONTENDERS: dict[str, Consume] = {
    FLOOR: consume_raw_httpx,
    "httpx-sse aiter_sse": consume_httpx_sse,
    "trio-sse open_event_stream": consume_trio_sse,
    "trio-sse, direct body path off": consume_trio_sse_usual_path,
}


def interleaved(
    url: str,
    events: int,
    rounds: int,
    contenders: dict[str, Consume] = CONTENDERS,
    **client_kwargs: Any,
) -> dict[str, float]:
    """Each contender once a round, in turn, each with a client of its own (not timed);
    the best round's seconds of each. Every contender but the floor must count ``events``."""
    best = {name: float("inf") for name in contenders}

    async def one(name: str, consume: Consume) -> None:
        async with httpx.AsyncClient(timeout=None, **client_kwargs) as client:
            start = time.perf_counter()
            result = await consume(client, url)
            best[name] = min(best[name], time.perf_counter() - start)
        if name != FLOOR and result != events:
            raise SystemExit(f"{name} received {result} events, expected {events}")

    for _ in range(rounds):
        for name, consume in contenders.items():
            trio.run(one, name, consume)
    return best


def report(best: dict[str, float], events: int, targets: dict[str, float] | None = None) -> None:
    """µs per event of each; trio-sse's ratios (httpx-sse's time over its, its over the floor)."""
    floor = best[FLOOR]
    print(f"  {'consumer':<34}{'µs/event':>10}{'events/s':>12}{'x floor':>9}")
    for name, seconds in best.items():
        per_event = seconds / events
        print(f"  {name:<34}{per_event * 1e6:>10.2f}{1 / per_event:>12,.0f}{seconds / floor:>9.2f}")
    ours = best["trio-sse open_event_stream"]
    print(
        f"trio-sse: {best['httpx-sse aiter_sse'] / ours:.2f}x httpx-sse's events/s, "
        f"{ours / floor:.2f}x the raw floor's time"
        + (
            ""
            if not targets
            else " (targets: " + ", ".join(f"{k} {v}" for k, v in targets.items()) + ")"
        )
    )
