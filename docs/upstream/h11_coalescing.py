"""The h11 patch (h11.patch), checked and timed: ``Connection(coalesce_body_data=True)``.

Run with the patched h11 first on the path (``patch -p1 < h11.patch`` in a copy of h11)::

    PYTHONPATH=/path/to/patched python docs/upstream/h11_coalescing.py

1. Differential check: random chunked bodies (a third of them corrupted or cut short),
   fed in random reads to a stock reader and a coalescing one: the same body bytes, the
   same ending (end of message, or the same error), never more events than reads + 1.
2. Timing: a 64 KiB read of token-sized chunks (~150 bytes each, as a token stream
   sends them), parsed to the end: microseconds per chunk, per-chunk events vs one.
"""

from __future__ import annotations

import random
import time

import h11

HEAD = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"


def in_body(**options: bool) -> h11.Connection:
    connection = h11.Connection(h11.CLIENT, **options)
    connection.send(h11.Request(method="GET", target="/", headers=[("Host", "x")]))
    connection.send(h11.EndOfMessage())
    connection.receive_data(HEAD)
    assert isinstance(connection.next_event(), h11.Response)
    return connection


def drive(connection: h11.Connection, reads: list[bytes]) -> tuple[bytes, int, str]:
    data, events = [], 0
    for read in [*reads, b""]:
        connection.receive_data(read)
        while True:
            try:
                event = connection.next_event()
            except h11.RemoteProtocolError:
                return b"".join(data), events, "error"
            if event is h11.NEED_DATA:
                break
            if isinstance(event, h11.Data):
                data.append(event.data)
                events += 1
            else:
                return b"".join(data), events, type(event).__name__
    return b"".join(data), events, "eof"


def check(trials: int = 5000) -> None:
    rnd = random.Random(13)
    for _ in range(trials):
        chunks = [rnd.randbytes(rnd.randrange(1, 30)) for _ in range(rnd.randrange(20))]
        body = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks) + b"0\r\n\r\n"
        if rnd.random() < 0.33:
            i = rnd.randrange(len(body))
            body = body[:i] + (rnd.randbytes(1) if rnd.random() < 0.5 else b"") + body[i + 1 :]
        cuts = sorted(rnd.randrange(len(body) + 1) for _ in range(rnd.randrange(6)))
        reads = [body[a:b] for a, b in zip([0, *cuts], [*cuts, len(body)], strict=True)]
        stock, coalesced = drive(in_body(), reads), drive(in_body(coalesce_body_data=True), reads)
        assert (stock[0], stock[2]) == (coalesced[0], coalesced[2]), (reads, stock, coalesced)
        assert coalesced[1] <= len(reads) + 1
    print(f"check: {trials} bodies, the same bytes and the same ending both ways")


def time_per_chunk(rounds: int = 20, **options: bool) -> float:
    event = b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,' \
            b'"delta":{"type":"text_delta","text":" token42"}}\n\n'  # fmt: skip
    chunk = b"%x\r\n%s\r\n" % (len(event), event)
    count = 65536 // len(chunk)
    read = chunk * count
    best = float("inf")
    for _ in range(rounds):
        connection = in_body(**options)
        start = time.perf_counter()
        connection.receive_data(read)
        while connection.next_event() is not h11.NEED_DATA:
            pass
        best = min(best, time.perf_counter() - start)
    return best / count * 1e6


if __name__ == "__main__":
    check()
    stock, coalesced = time_per_chunk(), time_per_chunk(coalesce_body_data=True)
    print(f"h11 {h11.__version__}: {stock:.2f} µs per chunk, one event each; coalesced "
          f"{coalesced:.2f} µs per chunk ({stock / coalesced:.2f}x)")  # fmt: skip
