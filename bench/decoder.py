"""Decoder speed: trio-sse against its peers, on the same chunk lists, in one process.

Peers, each run the way its library runs it on a response body:

- httpx-sse: httpx's incremental text decoder, then httpx-sse's line splitter and
  decoder, exactly the path of ``EventSource.aiter_sse``;
- anthropic and openai: the SDKs' ``SSEDecoder.iter_bytes``;
- sseclient-py: ``SSEClient(chunks).events()``.

Workloads: (a) a token stream of Anthropic-shaped events, one event per chunk; (b) the
same bytes in 64 KiB chunks; (c) CRLF line ends in 1,460-byte chunks (one TCP segment);
(d) 256 KiB events in 16 KiB chunks. Runs are interleaved (every decoder once per round)
and the best round is reported, so drift on a noisy machine hits all alike.

    python bench/decoder.py [--rounds N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable, Iterable
from typing import Any

from anthropic._streaming import SSEDecoder as AnthropicDecoder
from httpx._decoders import TextDecoder
from httpx_sse._decoders import SSEDecoder as HttpxSSEDecoder
from httpx_sse._decoders import SSELineDecoder
from openai._streaming import SSEDecoder as OpenAIDecoder
from sseclient import SSEClient

from trio_sse import SSEDecoder

Decoder = Callable[[list[bytes]], int]


def trio_sse(chunks: list[bytes]) -> int:
    decoder = SSEDecoder(max_event_size=1 << 30)
    count = 0
    for chunk in chunks:
        count += len(decoder.feed(chunk))
    return count


def httpx_sse(chunks: list[bytes]) -> int:
    text_decoder = TextDecoder()
    line_decoder = SSELineDecoder()
    decoder = HttpxSSEDecoder()
    count = 0
    for chunk in chunks:
        for line in line_decoder.decode(text_decoder.decode(chunk)):
            if decoder.decode(line.rstrip("\n")) is not None:
                count += 1
    for line in line_decoder.decode(text_decoder.flush()) + line_decoder.flush():
        if decoder.decode(line.rstrip("\n")) is not None:
            count += 1
    return count


def anthropic_sdk(chunks: list[bytes]) -> int:
    return sum(1 for _ in AnthropicDecoder().iter_bytes(iter(chunks)))


def openai_sdk(chunks: list[bytes]) -> int:
    return sum(1 for _ in OpenAIDecoder().iter_bytes(iter(chunks)))


def sseclient_py(chunks: list[bytes]) -> int:
    return sum(1 for _ in SSEClient(iter(chunks)).events())  # type: ignore[no-untyped-call]


DECODERS: dict[str, Decoder] = {
    "trio-sse": trio_sse,
    "httpx-sse": httpx_sse,
    "anthropic": anthropic_sdk,
    "openai": openai_sdk,
    "sseclient-py": sseclient_py,
}


def token_events(count: int) -> list[bytes]:
    words = ["Hello", " world", ",", " this", " is", " a", " streamed", " reply", " ✓", "."]
    events = []
    for i in range(count):
        payload = {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "text_delta", "text": words[i % len(words)]},
        }
        events.append(
            f"event: content_block_delta\ndata: {json.dumps(payload, ensure_ascii=False)}\n\n"
        )
    return [event.encode() for event in events]


def rechunk(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def workloads(token_count: int) -> dict[str, tuple[list[bytes], int]]:
    tokens = token_events(token_count)
    joined = b"".join(tokens)
    big = b"".join(b"data: " + b"x" * (256 * 1024) + b"\n\n" for _ in range(40))
    return {
        "(a) token stream, one event per chunk": (tokens, token_count),
        "(b) token stream, 64 KiB chunks": (rechunk(joined, 64 * 1024), token_count),
        "(c) CRLF, 1,460-byte chunks": (
            rechunk(joined.replace(b"\n", b"\r\n"), 1460),
            token_count,
        ),
        "(d) 256 KiB events, 16 KiB chunks": (rechunk(big, 16 * 1024), 40),
    }


def measure(decoders: dict[str, Decoder], chunks: list[bytes], rounds: int) -> dict[str, float]:
    """Best time of ``rounds`` interleaved rounds, per decoder."""
    times: dict[str, list[float]] = {name: [] for name in decoders}
    for _ in range(rounds):
        for name, decode in decoders.items():
            start = time.perf_counter()
            decode(chunks)
            times[name].append(time.perf_counter() - start)
    return {name: min(samples) for name, samples in times.items()}


def main(argv: Iterable[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--events", type=int, default=20_000)
    args = parser.parse_args(list(argv) if argv is not None else None)
    print(f"Python {sys.version.split()[0]}, best of {args.rounds} interleaved rounds")
    results: dict[str, Any] = {}
    for title, (chunks, expected) in workloads(args.events).items():
        for name, decode in DECODERS.items():
            got = decode(chunks)
            if got != expected:
                raise SystemExit(f"{name} decoded {got} events on {title}, expected {expected}")
        best = measure(DECODERS, chunks, args.rounds)
        size = sum(map(len, chunks))
        ours = best["trio-sse"]
        print(f"\n{title}: {len(chunks):,} chunks, {size / 1e6:.1f} MB, {expected:,} events")
        print(f"  {'decoder':<14}{'ns/event':>12}{'MB/s':>10}{'trio-sse is':>14}")
        for name, seconds in sorted(best.items(), key=lambda item: item[1]):
            ratio = seconds / ours
            print(
                f"  {name:<14}{seconds / expected * 1e9:>12,.0f}{size / seconds / 1e6:>10.1f}"
                f"{'' if name == 'trio-sse' else f'{ratio:>12.2f}x':>14}"
            )
        results[title] = {name: seconds / ours for name, seconds in best.items()}
    print("\nRatios: how many times longer each peer takes than trio-sse (higher is better).")
    summary = {
        title: round(statistics.fmean([ratios["httpx-sse"]]), 2)
        for title, ratios in results.items()
    }
    print("trio-sse vs httpx-sse:", summary)
    return results


if __name__ == "__main__":
    main()
