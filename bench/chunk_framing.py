"""The design change the performance section proposes, sized: HTTP chunk framing per read.

The pipeline's floor is h11 handling one ``Data`` event per HTTP chunk. This measures,
on the pipeline's own body (one Anthropic-shaped event per chunk) with no I/O at all:

- h11 as httpcore drives it: the body fed 64 KiB at a time, ``next_event()`` until
  ``NEED_DATA``, one event per chunk;
- a sketch of the alternative: a strict chunked-framing parser that, for each 64 KiB
  read, returns the payload of every complete chunk in it joined into one ``bytes`` (what
  the decoder is fastest on: see ``bench/decoder.py`` workload (b)).

Interleaved, best of N rounds; µs per HTTP chunk. The sketch is not used by trio-sse.

    python bench/chunk_framing.py [--events N] [--rounds N]
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections.abc import Callable

import h11
from _loopback import SSE_HEAD
from pipeline import body

READ = 65536
_SIZE_LINE = re.compile(rb"([0-9A-Fa-f]{1,16})(?:;[^\r\n]*)?\r\n")


def h11_events(payload: bytes) -> int:
    connection = h11.Connection(h11.CLIENT)
    connection.send(h11.Request(method="GET", target="/", headers=[("host", "loopback")]))
    connection.send(h11.EndOfMessage())
    position = chunks = 0
    while True:
        event = connection.next_event()
        if event is h11.NEED_DATA:
            connection.receive_data(payload[position : position + READ])
            position += READ
        elif type(event) is h11.Data:
            chunks += 1
        elif type(event) is h11.EndOfMessage:
            return chunks


def framing_per_read(payload: bytes) -> int:
    """Complete chunks' payloads, joined per read; strict about the framing."""
    start = payload.index(b"\r\n\r\n") + 4  # the head is h11's job either way
    pending = b""
    chunks = 0
    for offset in range(start, len(payload), READ):
        buffer = pending + payload[offset : offset + READ]
        position, parts = 0, []
        while match := _SIZE_LINE.match(buffer, position):
            size = int(match[1], 16)
            data_start = match.end()
            data_end = data_start + size
            if data_end + 2 > len(buffer):
                break  # the chunk is not complete yet
            if buffer[data_end : data_end + 2] != b"\r\n":
                raise ValueError("a chunk not followed by CRLF")
            position = data_end + 2
            if size == 0:
                return chunks
            parts.append(buffer[data_start:data_end])
            chunks += 1
        pending = buffer[position:]
        if len(pending) > 32 and not _SIZE_LINE.match(pending):  # longer than any size line
            raise ValueError("not a chunk-size line")
        b"".join(parts)  # what the decoder would be fed: one bytes per read
    raise ValueError("the body ended without its last chunk")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    payload = SSE_HEAD + body(args.events)
    contenders: dict[str, Callable[[bytes], int]] = {
        "h11, one Data event per chunk": h11_events,
        "framing per 64 KiB read (sketch)": framing_per_read,
    }
    best = dict.fromkeys(contenders, float("inf"))
    for _ in range(args.rounds):
        for name, parse in contenders.items():
            start = time.perf_counter()
            chunks = parse(payload)
            best[name] = min(best[name], time.perf_counter() - start)
            if chunks < args.events:  # h11 splits a chunk that straddles two reads
                raise SystemExit(f"{name}: {chunks} chunks, expected {args.events}")
    print(
        f"Python {sys.version.split()[0]}, {args.events:,} chunks, no I/O, "
        f"best of {args.rounds} interleaved rounds"
    )
    for name, seconds in best.items():
        print(f"  {name:<36}{seconds / args.events * 1e6:>8.2f} µs per chunk")
    h11_time, sketch_time = best.values()
    print(f"h11's time over the sketch's: {h11_time / sketch_time:.1f}x")


if __name__ == "__main__":
    main()
