"""Many paced streams: N concurrent streams, each one event every 200 ms, as hosted LLM
APIs stream tokens to many users at once; the client's marginal CPU per event, its RSS.

A server in a separate process (a thread per connection; TLS with ``--tls``, ``trustme``
certificates) sends each stream an Anthropic-shaped text delta every 200 ms, each its own
HTTP chunk (and TLS record), until the client leaves. Each contender runs in a fresh
process: it opens N streams on one client, waits until every stream has its first event
and one more second, then measures for ``--seconds``: process CPU (user + system) over
events received in that window (setup excluded), and RSS over a baseline taken before the
client was made, per stream. Contenders alternate over rounds; the best CPU per event
and the largest RSS per stream of each are kept.

A client near a whole core of load in the window is saturated: it takes more than one
event per wake-up and the server's pace, not the client, sets its CPU per event (every
client converges on cores / events-per-second). The load is printed with each figure and
a saturated best round is flagged; measure with fewer ``--streams`` there.

    python bench/paced.py [--tls] [--streams N] [--seconds S] [--rounds N] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
from collections.abc import Awaitable, Callable

import httpx
import httpx_sse
import trio
from _loopback import (
    certificates,
    client_tls,
    rss_kib,
    save_results,
    serve_events,
    server_process,
    tls_url,
    token_event,
)

import trio_sse

SATURATED = 0.8  # cores of client CPU in the window: above it the figure is the machine's
Stream = Callable[[httpx.AsyncClient, str, list[int]], Awaitable[None]]


async def raw_httpx(client: httpx.AsyncClient, url: str, count: list[int]) -> None:
    async with client.stream("GET", url) as response:
        async for _ in response.aiter_bytes():
            count[0] += 1  # paced: one read, one chunk, one event


async def with_httpx_sse(client: httpx.AsyncClient, url: str, count: list[int]) -> None:
    async with httpx_sse.aconnect_sse(client, "GET", url) as source:
        async for event in source.aiter_sse():
            json.loads(event.data)
            count[0] += 1


async def with_trio_sse(client: httpx.AsyncClient, url: str, count: list[int]) -> None:
    async with trio_sse.open_event_stream(client, "GET", url, reconnect=False) as events:
        async for event in events:
            json.loads(event.data)
            count[0] += 1


CONTENDERS: dict[str, Stream] = {
    "raw httpx aiter_bytes": raw_httpx,
    "httpx-sse aiter_sse": with_httpx_sse,
    "trio-sse open_event_stream": with_trio_sse,
    "trio-sse, direct body path off": with_trio_sse,
}


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def measure(
    name: str, url: str, streams: int, seconds: float, ca: str | None
) -> dict[str, float]:
    stream = CONTENDERS[name]
    baseline = rss_kib()
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=0)
    async with httpx.AsyncClient(timeout=None, limits=limits, verify=client_tls(ca)) as client:
        counters: list[list[int]] = []

        async def counted() -> None:
            mine = [0]
            counters.append(mine)
            await stream(client, url, mine)

        async with trio.open_nursery() as nursery:
            for _ in range(streams):
                nursery.start_soon(counted)
            # A counter the streams' own loops update, polled outside the measured window.
            while sum(1 for c in counters if c[0]) < streams:  # noqa: ASYNC110
                await trio.sleep(0.1)
            await trio.sleep(1.0)
            cpu, events = cpu_seconds(), sum(c[0] for c in counters)
            await trio.sleep(seconds)
            cpu, events = cpu_seconds() - cpu, sum(c[0] for c in counters) - events
            rss = rss_kib()
            nursery.cancel_scope.cancel()
    return {"cpu_us_per_event": cpu / events * 1e6, "events": events, "load": cpu / seconds,
            "kib_per_stream": (rss - baseline) / streams}  # fmt: skip


def contender(name: str, url: str, streams: int, seconds: float, ca: str | None) -> None:
    if name == "trio-sse, direct body path off":
        os.environ["TRIO_SSE_DIRECT_BODY"] = "0"
    print(json.dumps(trio.run(measure, name, url, streams, seconds, ca)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tls", action="store_true")
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", metavar="FILE", help="also write the results there")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--certificate", help=argparse.SUPPRESS)
    parser.add_argument("--contender", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--ca", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve_events([token_event(i) for i in range(100)], interval=0.2, repeat=True,
                     certificate=args.certificate)  # fmt: skip
        return
    if args.contender:
        contender(args.contender, args.url, args.streams, args.seconds, args.ca)
        return
    results: dict[str, list[dict[str, float]]] = {name: [] for name in CONTENDERS}
    with tempfile.TemporaryDirectory() as directory:
        ca, server_pem = certificates(directory) if args.tls else (None, None)
        serve_args = ["--certificate", server_pem] if server_pem else []
        with server_process(__file__, *serve_args) as (url, _):
            url = tls_url(url) if args.tls else url
            for _ in range(args.rounds):
                for name in CONTENDERS:
                    command = [sys.executable, __file__, "--contender", name, "--url", url]
                    command += ["--streams", str(args.streams), "--seconds", str(args.seconds)]
                    if ca:
                        command += ["--ca", ca]
                    out = subprocess.run(command, capture_output=True, text=True, check=True)
                    results[name].append(json.loads(out.stdout))
    print(
        f"Python {sys.version.split()[0]}, {args.streams:,} streams, one event per 200 ms each, "
        f"{'TLS' if args.tls else 'plain HTTP'}, {args.seconds:g} s measured, "
        f"best of {args.rounds} rounds"
    )
    print(f"  {'client':<32}{'CPU µs/event':>14}{'KiB/stream':>12}{'events':>9}{'load':>7}")
    summary: dict[str, dict[str, float]] = {}
    for name, runs in results.items():
        best = min(runs, key=lambda run: run["cpu_us_per_event"])
        kib = max(run["kib_per_stream"] for run in runs)
        summary[name] = {
            "cpu_us_per_event": best["cpu_us_per_event"],
            "kib_per_stream": kib,
            "load": best["load"],
            "every_round_cpu_us_per_event": [run["cpu_us_per_event"] for run in runs],
        }
        print(f"  {name:<32}{best['cpu_us_per_event']:>14.1f}{kib:>12.1f}{best['events']:>9,.0f}"
              f"{best['load']:>7.2f}")  # fmt: skip
        print(f"  {'':<32}every round: " + ", ".join(
            f"{run['cpu_us_per_event']:.1f}" for run in runs))  # fmt: skip
    ratio = (
        summary["httpx-sse aiter_sse"]["cpu_us_per_event"]
        / summary["trio-sse open_event_stream"]["cpu_us_per_event"]
    )
    print(f"trio-sse: {ratio:.2f}x httpx-sse's events per CPU second")
    saturated = [name for name, result in summary.items() if result["load"] >= SATURATED]
    if saturated:
        print(f"SATURATED at {args.streams:,} streams (load >= {SATURATED} of a core): "
              f"{', '.join(saturated)}; the pace, not the client, sets these figures: "
              "rerun with fewer --streams")  # fmt: skip
    save_results(
        args.json,
        {"streams": args.streams, "seconds": args.seconds, "rounds": args.rounds,
         "tls": args.tls, "saturated": saturated, "results": summary},
    )  # fmt: skip


if __name__ == "__main__":
    main()
