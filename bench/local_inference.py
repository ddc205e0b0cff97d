"""Local inference server shape: OpenAI-compatible chat streams over plain HTTP on loopback.

vLLM, llama.cpp's server and Ollama stream a chat completion as ``data: {chunk}`` events,
one per token, each written on its own, then ``data: [DONE]``. A server in a separate
process (a thread per connection, keep-alive) answers each POST with R tokens as fast as
it can; each consumer sends Q requests in a row on one client, as a chat client does, so
the cost of opening and closing each stream is counted with its events. Consumers,
interleaved over rounds: raw httpx ``aiter_bytes`` (the floor), httpx-sse, trio-sse, and
trio-sse with its direct body path off; every event's JSON decoded (not ``[DONE]``).

    python bench/local_inference.py [--requests Q] [--tokens R] [--rounds N] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import httpx
import httpx_sse
from _loopback import (
    FLOOR,
    Consume,
    interleaved,
    openai_reply,
    report,
    save_results,
    serve_events,
    server_process,
)

import trio_sse

REQUEST = {"model": "local-model", "stream": True, "messages": [{"role": "user", "content": "hi"}]}


def consumers(requests: int) -> dict[str, Consume]:
    async def raw(client: httpx.AsyncClient, url: str) -> int:
        size = 0
        for _ in range(requests):
            async with client.stream("POST", url, json=REQUEST) as response:
                async for part in response.aiter_bytes():
                    size += len(part)
        return size

    async def with_httpx_sse(client: httpx.AsyncClient, url: str) -> int:
        count = 0
        for _ in range(requests):
            async with httpx_sse.aconnect_sse(client, "POST", url, json=REQUEST) as source:
                async for event in source.aiter_sse():
                    if event.data != "[DONE]":
                        json.loads(event.data)
                        count += 1
        return count

    async def with_trio_sse(client: httpx.AsyncClient, url: str) -> int:
        count = 0
        for _ in range(requests):
            async with trio_sse.open_event_stream(client, "POST", url, json=REQUEST) as events:
                async for event in events:
                    if event.data != "[DONE]":
                        json.loads(event.data)
                        count += 1
        return count

    async def usual_path(client: httpx.AsyncClient, url: str) -> int:
        os.environ["TRIO_SSE_DIRECT_BODY"] = "0"
        try:
            return await with_trio_sse(client, url)
        finally:
            del os.environ["TRIO_SSE_DIRECT_BODY"]

    return {
        FLOOR: raw,
        "httpx-sse aiter_sse": with_httpx_sse,
        "trio-sse open_event_stream": with_trio_sse,
        "trio-sse, direct body path off": usual_path,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--tokens", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", metavar="FILE", help="also write the results there")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve_events(openai_reply(args.tokens))
        return
    events = args.requests * args.tokens
    with server_process(__file__, "--tokens", str(args.tokens)) as (url, _):
        best = interleaved(url, events, args.rounds, consumers(args.requests))
    print(
        f"Python {sys.version.split()[0]}, {args.requests} chat streams of {args.tokens} tokens "
        f"in a row, plain HTTP keep-alive, best of {args.rounds} rounds"
    )
    report(best, events)
    save_results(
        args.json,
        {
            "requests": args.requests,
            "tokens": args.tokens,
            "rounds": args.rounds,
            "us_per_event": {name: s / events * 1e6 for name, s in best.items()},
        },
    )


if __name__ == "__main__":
    main()
