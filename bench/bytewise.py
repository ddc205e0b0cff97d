"""The decoder's cost per byte where a constant could hide: a body fed one byte at a time
(events of 40 and 4,000 bytes), and floods of blank lines and comments in 64 KiB chunks.

Best of three runs each, on the decoder alone (no I/O).

    python bench/bytewise.py
"""

from __future__ import annotations

import sys
import time

from trio_sse import SSEDecoder


def bytewise_us_per_byte(size: int, total: int = 400_000) -> float:
    event = b"data: " + b"x" * (size - 8) + b"\n\n"
    body = event * (total // size)
    pieces = [body[i : i + 1] for i in range(len(body))]
    best = float("inf")
    for _ in range(3):
        feed = SSEDecoder().feed
        start = time.perf_counter()
        count = sum(len(feed(piece)) for piece in pieces)
        best = min(best, time.perf_counter() - start)
        assert count == total // size
    return best / len(body) * 1e6


def flood_ns_per_byte(unit: bytes, chunks: int = 160) -> float:
    chunk = (unit * (65536 // len(unit) + 1))[:65536]
    best = float("inf")
    for _ in range(3):
        feed = SSEDecoder().feed
        start = time.perf_counter()
        for _ in range(chunks):
            feed(chunk)
        best = min(best, time.perf_counter() - start)
    return best / (chunks * len(chunk)) * 1e9


def main() -> None:
    print(f"Python {sys.version.split()[0]}")
    for size in (40, 4000):
        print(f"{size:>5}-byte events fed bytewise: {bytewise_us_per_byte(size):6.2f} us/byte")
    for name, unit in (
        ("blank lines, LF", b"\n"),
        ("blank lines, CR LF", b"\r\n"),
        ("comment lines ':'", b":\n"),
        ("events 'data: x'", b"data: x\n\n"),
    ):
        print(f"{name:>20}: {flood_ns_per_byte(unit):8.2f} ns/byte")


if __name__ == "__main__":
    main()
