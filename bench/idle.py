"""Idle streams: the Python heap each open stream holds while no event arrives.

A server in a separate process sends N streams their response head and then nothing.
Each contender runs in a fresh process under ``tracemalloc``: one client, N streams
opened and each waiting for its first event, then the traced heap over a baseline taken
before the client was made, per stream (the connection pool's share included, alike for
all). ``--where`` also prints where trio-sse's heap per stream goes, by file.

    python bench/idle.py [--streams N] [--rounds N] [--where] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tracemalloc
from collections.abc import Awaitable, Callable

import httpx
import httpx_sse
import trio
import trio.testing
from _loopback import save_results, serve_events, server_process

import trio_sse

Opened = Callable[[httpx.AsyncClient, str, "Opening"], Awaitable[None]]


class Opening:
    """Counts streams as their heads arrive; ``all`` is set when every one has."""

    def __init__(self, streams: int) -> None:
        self.left = streams
        self.all = trio.Event()

    def one(self) -> None:
        self.left -= 1
        if not self.left:
            self.all.set()


async def raw_httpx(client: httpx.AsyncClient, url: str, opened: Opening) -> None:
    async with client.stream("GET", url) as response:
        opened.one()
        async for _ in response.aiter_bytes():
            pass


async def with_httpx_sse(client: httpx.AsyncClient, url: str, opened: Opening) -> None:
    async with httpx_sse.aconnect_sse(client, "GET", url) as source:
        opened.one()
        async for _ in source.aiter_sse():
            pass


async def with_trio_sse(client: httpx.AsyncClient, url: str, opened: Opening) -> None:
    async with trio_sse.open_event_stream(client, "GET", url) as events:
        opened.one()
        async for _ in events:
            pass


CONTENDERS: dict[str, Opened] = {
    "raw httpx": raw_httpx,
    "httpx-sse": with_httpx_sse,
    "trio-sse": with_trio_sse,
}


async def measure(name: str, url: str, streams: int, where: bool) -> dict[str, float]:
    stream = CONTENDERS[name]
    opened = Opening(streams)
    tracemalloc.start(1)
    baseline = tracemalloc.take_snapshot() if where else None
    before = tracemalloc.get_traced_memory()[0]
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=0)
    async with (
        httpx.AsyncClient(timeout=None, limits=limits) as client,
        trio.open_nursery() as nursery,
    ):
        for _ in range(streams):
            nursery.start_soon(stream, client, url, opened)
        await opened.all.wait()
        await trio.testing.wait_all_tasks_blocked()
        heap = tracemalloc.get_traced_memory()[0] - before
        if baseline is not None:
            stats = tracemalloc.take_snapshot().compare_to(baseline, "filename")
            for stat in stats[:12]:
                frame = stat.traceback[0]
                print(f"# {stat.size_diff / streams / 1024:8.2f} KiB/stream  {frame.filename}")
        nursery.cancel_scope.cancel()
    return {"kib_per_stream": heap / streams / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--where", action="store_true")
    parser.add_argument("--json", metavar="FILE", help="also write the results there")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--contender", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve_events([])
        return
    if args.contender:
        print(json.dumps(trio.run(measure, args.contender, args.url, args.streams, args.where)))
        return
    results: dict[str, list[float]] = {name: [] for name in CONTENDERS}
    with server_process(__file__) as (url, _):
        for _ in range(args.rounds):
            for name in CONTENDERS:
                command = [sys.executable, __file__, "--contender", name, "--url", url,
                           "--streams", str(args.streams)]  # fmt: skip
                if args.where and name == "trio-sse":
                    command.append("--where")
                out = subprocess.run(command, capture_output=True, text=True, check=True)
                lines = out.stdout.splitlines()
                if args.where and name == "trio-sse" and not any(results[name]):
                    print("\n".join(line for line in lines if line.startswith("#")))
                results[name].append(json.loads(lines[-1])["kib_per_stream"])
    print(
        f"Python {sys.version.split()[0]}, {args.streams} idle streams, traced Python heap "
        f"per stream (smallest of {args.rounds} rounds)"
    )
    summary = {name: min(runs) for name, runs in results.items()}
    for name, kib in summary.items():
        print(f"  {name:<10}{kib:>8.1f} KiB")
    print(f"trio-sse over httpx-sse: {summary['trio-sse'] - summary['httpx-sse']:+.1f} KiB/stream")
    save_results(args.json, {"streams": args.streams, "kib_per_stream": summary})


if __name__ == "__main__":
    main()
