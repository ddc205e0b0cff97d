"""Where a token stream's time goes: py-spy samples of the pipeline, summed by layer.

The same loopback server as ``bench/pipeline.py`` (a separate process, one HTTP chunk
per Anthropic-shaped event, every event JSON-decoded by the consumer). Each consumer runs
in a child process under py-spy, which samples from outside (no tracing hook in the
interpreter, though pausing the child to read its stack slows it down by a third here). A
sample is charged to the innermost function on its stack that belongs to one of the layers
below (so a ``contextlib`` helper counts for the code that entered it). The table prints
each layer's share of the samples, for trio-sse and for httpx-sse on the same stream;
``bench/pipeline.py`` gives the unprofiled times they divide.

py-spy reads the child's memory with ptrace: as root here; elsewhere it may need
``sudo`` or ``kernel.yama.ptrace_scope=0``.

    python bench/profile.py [--events N] [--rounds N]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter

import httpx
import trio
from _loopback import consume_httpx_sse, consume_trio_sse, server_process

CONSUMERS = {"trio-sse": consume_trio_sse, "httpx-sse": consume_httpx_sse}
RATE = 250  # samples per second: few enough that pausing the child costs little

LAYERS = [  # (a path fragment, the layer it belongs to); the first match wins
    ("/h11/", "h11: HTTP/1.1 parsing"),
    ("/httpcore/", "httpcore: connection, body iterator"),
    ("/httpx/", "httpx: response, stream wrappers"),
    ("/httpx_sse/", "httpx-sse: lines, fields, events"),
    ("/trio_sse/_decoder", "trio-sse: WHATWG decoder"),
    ("/trio_sse/", "trio-sse: pump, channel, stream"),
    ("/trio/_channel", "trio: memory channel"),
    ("/trio/", "trio: scheduler, sockets"),
    ("/json/", "json.loads (the consumer's)"),
]
OTHER = "the rest (consumer loop, codecs, ...)"
_FRAME = re.compile(r"\((?P<path>[^()]*):\d+\)$")


def layer(stack: list[str]) -> str:
    """The layer of the innermost frame (the last) that belongs to one."""
    for frame in reversed(stack):
        match = _FRAME.search(frame)
        path = "/" + match["path"] if match else ""
        for fragment, name in LAYERS:
            if fragment in path:
                return name
    return OTHER


def per_layer(raw: str) -> Counter[str]:
    """Samples taken while the consumer ran, by layer."""
    counts: Counter[str] = Counter()
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if "unrolled_run" in stack:  # inside trio.run: not imports, not the child's setup
            counts[layer(stack.split(";"))] += int(count)
    return counts


def run(name: str, url: str, rounds: int) -> None:
    """In the child under py-spy: one consumer, ``rounds`` times over; prints the seconds."""

    async def main() -> None:
        async with httpx.AsyncClient(timeout=None) as client:
            for _ in range(rounds):
                await CONSUMERS[name](client, url)

    start = time.perf_counter()
    trio.run(main)
    print(f"seconds={time.perf_counter() - start}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--run", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        run(args.run, args.url, args.rounds)
        return
    pipeline = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pipeline.py")
    results: dict[str, Counter[str]] = {}
    seconds: dict[str, float] = {}
    with (
        server_process(pipeline, "--events", str(args.events)) as (url, _),
        tempfile.TemporaryDirectory() as tmp,
    ):
        for name in CONSUMERS:
            out = os.path.join(tmp, "samples.txt")
            child = subprocess.run(
                ["py-spy", "record", "--rate", str(RATE), "--format", "raw", "--output", out,
                 "--", sys.executable, __file__, "--run", name, "--url", url,
                 "--rounds", str(args.rounds)],
                check=True, capture_output=True, text=True,
            )  # fmt: skip
            seconds[name] = float(re.findall(r"^seconds=(\S+)$", child.stdout, re.M)[-1])
            with open(out) as samples:
                results[name] = per_layer(samples.read())
    events = args.events * args.rounds
    print(
        f"Python {sys.version.split()[0]}, {args.events:,} events x {args.rounds} rounds, "
        f"py-spy at {RATE} Hz: the share of each consumer's samples taken in each layer"
    )
    print(f"  {'layer':<40}" + "".join(f"{name:>11}" for name in CONSUMERS))
    for name in [*(name for _, name in LAYERS), OTHER]:
        shares = [counts[name] / sum(counts.values()) for counts in results.values()]
        if any(share >= 0.005 for share in shares):
            print(f"  {name:<40}" + "".join(f"{share:>11.0%}" for share in shares))
    profiled = [seconds[name] / events * 1e6 for name in CONSUMERS]
    print(f"  {'µs per event, profiled':<40}" + "".join(f"{us:>11.2f}" for us in profiled))


if __name__ == "__main__":
    main()
