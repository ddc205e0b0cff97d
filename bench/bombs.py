"""Hostile bodies on 127.0.0.1: peak memory and time of one stream reading each.

Each case runs in a fresh child process (peak RSS is per process): a raw Trio server in
that process sends the body with the headers below, whatever the request asked for, and
``open_event_stream`` reads it to the end. Reported: wall and CPU seconds, the peak RSS
above the process's RSS before the stream, and the events read (or the error).

- stacked: ``Content-Encoding: gzip, gzip``, 256 MiB of blank lines in a few hundred bytes;
- blank: ``Content-Encoding: gzip``, 256 MiB of blank lines in ~260 KB;
- data-lines: ``Content-Encoding: gzip``, 64 MiB of empty ``data`` lines (one endless event);
- endless-line: identity, a 64 MiB line with no end;
- tokens-gzip / tokens-identity: 20,000 token events, gzip flushed per event as a server
  does, or plain: what asking for identity costs on a normal stream.

    python bench/bombs.py [--case NAME] [--trace]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
import tracemalloc
import zlib
from collections.abc import Iterable, Iterator
from functools import partial
from typing import Any

import httpx
import trio

import trio_sse

MiB = 1024 * 1024
HEAD = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n"
TOKEN = (
    b"event: content_block_delta\n"
    b'data: {"type":"content_block_delta","index":0,'
    b'"delta":{"type":"text_delta","text":"token"}}\n\n'
)


def gzipped(pieces: Iterable[bytes], *, flush: bool = False) -> Iterator[bytes]:
    """gzip framing, built a piece at a time (a bomb is never whole in memory); with
    ``flush``, a sync flush after every piece, as a streaming server sends events."""
    compressor = zlib.compressobj(9, wbits=31)
    for piece in pieces:
        yield compressor.compress(piece)
        if flush:
            yield compressor.flush(zlib.Z_SYNC_FLUSH)
    yield compressor.flush()


def repeated(unit: bytes, total: int) -> Iterator[bytes]:
    piece = unit * (MiB // len(unit))
    for _ in range(total // len(piece)):
        yield piece


def body(case: str) -> tuple[bytes, bytes]:
    """(extra header lines, body bytes) of a case."""
    if case == "stacked":
        payload = b"".join(gzipped(gzipped(repeated(b"\n", 256 * MiB))))
        return b"content-encoding: gzip, gzip\r\n", payload
    if case == "blank":
        return b"content-encoding: gzip\r\n", b"".join(gzipped(repeated(b"\n", 256 * MiB)))
    if case == "data-lines":
        return b"content-encoding: gzip\r\n", b"".join(gzipped(repeated(b"data\n", 64 * MiB)))
    if case == "endless-line":
        return b"", b"data: ".ljust(6 + 64 * MiB, b"x")  # one allocation
    if case == "tokens-gzip":
        return b"content-encoding: gzip\r\n", b"".join(gzipped([TOKEN] * 20_000, flush=True))
    if case == "tokens-identity":
        return b"", TOKEN * 20_000
    raise ValueError(case)


def rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / MiB


async def measure(case: str, trace: bool) -> dict[str, Any]:
    headers, payload = body(case)

    async def handler(stream: trio.SocketStream) -> None:
        async with stream:
            while b"\r\n\r\n" not in await stream.receive_some():
                pass
            await stream.send_all(HEAD + headers + b"\r\n")
            for i in range(0, len(payload), 65536):
                await stream.send_all(payload[i : i + 65536])

    result: dict[str, Any] = {"case": case, "wire_bytes": len(payload)}
    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(partial(trio.serve_tcp, handler, 0, host="127.0.0.1"))
        url = f"http://127.0.0.1:{listeners[0].socket.getsockname()[1]}/"
        async with httpx.AsyncClient() as client:  # made first: its TLS context is ~16 MiB
            before = rss_mib()
            if trace:
                tracemalloc.start()
            wall, cpu = time.perf_counter(), time.process_time()
            events = 0
            try:
                async with trio_sse.open_event_stream(client, "GET", url, retry=None) as stream:
                    async for _ in stream:
                        events += 1
            except trio_sse.SSEError as exc:
                result["error"] = type(exc).__name__
        result["wall_s"] = round(time.perf_counter() - wall, 3)
        result["cpu_s"] = round(time.process_time() - cpu, 3)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        # The body was built before ``before``; only the endless line is big (64 MiB).
        result["peak_rss_above_start_mib"] = round(peak - before, 1)
        result["events"] = events
        if trace:
            result["traced_peak_mib"] = round(tracemalloc.get_traced_memory()[1] / MiB, 2)
            tracemalloc.stop()
        nursery.cancel_scope.cancel()
    return result


CASES = ["stacked", "blank", "data-lines", "endless-line", "tokens-gzip", "tokens-identity"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--case", choices=CASES)
    parser.add_argument(
        "--trace", action="store_true", help="also the tracemalloc peak (slower; RSS inflates)"
    )
    args = parser.parse_args()
    if args.case:
        print(json.dumps(trio.run(measure, args.case, args.trace)))
        return
    print(f"trio-sse {trio_sse.__version__}, Python {sys.version.split()[0]}")
    for case in CASES:
        out = subprocess.run(
            [sys.executable, __file__, "--case", case, *(["--trace"] if args.trace else [])],
            capture_output=True,
            text=True,
            check=False,
        )
        print(out.stdout.strip() or out.stderr.strip().splitlines()[-1])


if __name__ == "__main__":
    main()
