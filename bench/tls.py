"""Hosted-API shape: TLS on loopback, one TLS record per event, as fast as it goes.

A server in a separate process (a thread per connection, ``trustme`` certificates) sends
N Anthropic-shaped events, each its own HTTP chunk in its own TLS record. Consumers, in
this process, interleaved over rounds, each with a fresh client: raw httpx
``aiter_bytes`` (the floor), httpx-sse, trio-sse, and trio-sse with its direct body path
forced off. Prints the best round's µs per event and trio-sse's ratios.

    python bench/tls.py [--events N] [--rounds N] [--json FILE]
"""

from __future__ import annotations

import argparse
import sys
import tempfile

from _loopback import (
    anthropic_reply,
    certificates,
    client_tls,
    interleaved,
    report,
    save_results,
    serve_events,
    server_process,
    tls_url,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", metavar="FILE", help="also write the results there")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--certificate", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve_events(anthropic_reply(args.events - 5), certificate=args.certificate)
        return
    with tempfile.TemporaryDirectory() as directory:
        ca, server_pem = certificates(directory)
        with server_process(
            __file__, "--events", str(args.events), "--certificate", server_pem
        ) as (url, _):
            best = interleaved(tls_url(url), args.events, args.rounds, verify=client_tls(ca))
    print(
        f"Python {sys.version.split()[0]}, TLS on loopback, {args.events:,} events, one record "
        f"each, best of {args.rounds} rounds"
    )
    report(best, args.events, {"httpx-sse": ">= 1.3x"})
    save_results(
        args.json,
        {
            "events": args.events,
            "rounds": args.rounds,
            "us_per_event": {name: s / args.events * 1e6 for name, s in best.items()},
        },
    )


if __name__ == "__main__":
    main()
