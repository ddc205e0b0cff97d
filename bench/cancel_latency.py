"""Cancellation latency: from ``cancel()`` to the server seeing the connection close.

The server (a separate process) sends an event every millisecond and watches its socket;
when the client's close arrives it reports the wall-clock time. The client receives a few
events inside ``open_event_stream``, notes the time and cancels the enclosing scope.
Same machine, same clock: the difference is the latency. Prints the median and the worst
of N runs.

    python bench/cancel_latency.py [--runs N]
"""

from __future__ import annotations

import argparse
import select
import socket
import statistics
import subprocess
import sys
import time

import httpx
import trio

import trio_sse


def serve() -> None:
    """One connection after another; print the port, then each disconnect's time."""
    head = (
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
        b"transfer-encoding: chunked\r\nconnection: close\r\n\r\n"
    )
    event = b"data: tick\n\n"
    chunk = b"%x\r\n%s\r\n" % (len(event), event)
    with socket.create_server(("127.0.0.1", 0)) as listener:
        print(listener.getsockname()[1], flush=True)
        while True:
            connection, _ = listener.accept()
            with connection:
                connection.recv(65536)
                connection.sendall(head)
                try:
                    while True:
                        connection.sendall(chunk)
                        readable, _, _ = select.select([connection], [], [], 0.001)
                        if readable and not connection.recv(65536):
                            break
                except OSError:
                    pass
                print(repr(time.time()), flush=True)


async def cancel_once(client: httpx.AsyncClient, url: str) -> float:
    with trio.CancelScope() as scope:
        async with trio_sse.open_event_stream(client, "GET", url) as events:
            seen = 0
            async for _ in events:
                seen += 1
                if seen == 5:
                    cancelled_at = time.time()
                    scope.cancel()
    return cancelled_at


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve()
        return
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve"], stdout=subprocess.PIPE, text=True
    )
    latencies: list[float] = []
    try:
        assert server.stdout is not None
        url = f"http://127.0.0.1:{int(server.stdout.readline())}/stream"

        async def run() -> None:
            async with httpx.AsyncClient(timeout=None) as client:
                for _ in range(args.runs):
                    cancelled_at = await cancel_once(client, url)
                    assert server.stdout is not None
                    seen_at = float(await trio.to_thread.run_sync(server.stdout.readline))
                    latencies.append(seen_at - cancelled_at)

        trio.run(run)
    finally:
        server.kill()
        server.wait()
    median = statistics.median(latencies) * 1e3
    print(f"Python {sys.version.split()[0]}, {args.runs} runs: cancel() to the server seeing EOF")
    print(f"  median {median:.2f} ms, worst {max(latencies) * 1e3:.2f} ms")


if __name__ == "__main__":
    main()
