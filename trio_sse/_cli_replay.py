"""``trio-sse record`` and ``trio-sse serve``: offline replies for testing agent frameworks.

::

    trio-sse record URL [the stream command's options] -o FILE
    trio-sse serve [FILE[@/PATH]...] [--example NAME]... [--port N] [--host 127.0.0.1]
                   [--speed X | --fast] [--pace SECONDS]

``record`` makes one request, exactly as the stream command would (``--provider``
included), and writes the response to FILE as it arrived: status, headers without
credentials, the body's bytes untouched (still compressed if they were), and when each
chunk came. It prints the events as they arrive too. Nothing is retried and no redirect
is followed (a redirect is recorded as it is, so no key follows it to another origin):
the recording is one exchange. ``serve`` answers requests with recordings, at their pace (see
:mod:`trio_sse._replay_server`), until Ctrl-C. It also takes raw SSE bodies (``.sse``),
served at the endpoint their content names (see :mod:`trio_sse._replay_files`), and the
examples shipped in the package (``--example``, see :mod:`trio_sse._examples`).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, Final, cast

import trio

from ._cli_output import EVENT_FORMATS, Printer
from ._decoder import SSEDecoder
from ._examples import EXAMPLES, example_recordings
from ._http import AsyncHTTPClient, sse_request_headers, streaming_timeout
from ._recording import Recording, scrub_headers, scrub_url
from ._replay_files import load_reply
from ._replay_server import h11_path, serve_recordings
from .providers._request import provider_request

if TYPE_CHECKING:
    from ._cli import Options

__all__ = ["ServeOptions", "build_serve_parser", "parse_serve", "record", "serve"]

DEFAULT_PORT: Final = 8000


@dataclass(frozen=True)
class ServeOptions:
    """``trio-sse serve``'s command line, parsed and checked."""

    recordings: tuple[tuple[str, Recording], ...]
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    speed: float | None = 1.0


def _pace(text: str) -> float:
    value = float(text)
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be 0 or more seconds, got {text!r}")
    return value


def build_serve_parser() -> argparse.ArgumentParser:
    """The parser of ``trio-sse serve``."""
    summaries: dict[str, list[str]] = {}
    for name, example in EXAMPLES.items():
        summaries.setdefault(example.summary, []).append(name)
    examples = "; ".join(f"{', '.join(names)}: {text}" for text, names in summaries.items())
    parser = argparse.ArgumentParser(
        prog="trio-sse serve",
        description="Replay recordings made by 'trio-sse record', or raw SSE bodies, on a "
        "local HTTP server, at the provider paths (/v1/messages, /v1/chat/completions, "
        "/v1/responses, ...:streamGenerateContent). Several replies at one path are played in "
        "turn, and round again. Faults per request: x-trio-sse-status: CODE, "
        "x-trio-sse-cut-after: EVENTS, x-trio-sse-stall: SECONDS[@EVENTS].",
        epilog="No recording yet? 'trio-sse serve --example anthropic-tool-loop' serves a "
        "tool call, then the answer, at http://127.0.0.1:8000/v1/messages.",
    )
    add = parser.add_argument
    add(
        "files",
        metavar="FILE[@/PATH]",
        nargs="*",
        help="a recording, or a raw SSE body (.sse, the body only) served at the path its "
        "events name (an Anthropic message_start: /v1/messages; chat.completion.chunk: "
        "/v1/chat/completions; response.created: /v1/responses; Gemini's candidates: "
        "...:streamGenerateContent); @/PATH serves it at PATH instead. Played in this order",
    )
    add(
        "--example",
        dest="examples",
        action="append",
        default=[],
        choices=list(EXAMPLES),
        metavar="NAME",
        help=f"serve replies shipped with trio-sse, in turn (repeatable): {examples}",
    )
    add("--host", default="127.0.0.1", help="the address to listen on (default 127.0.0.1)")
    add("--port", type=int, default=DEFAULT_PORT, help=f"default {DEFAULT_PORT}; 0: any free")
    pace = parser.add_mutually_exclusive_group().add_argument
    pace("--speed", type=float, default=1.0, help="2 plays twice as fast (default 1)")
    pace("--fast", action="store_true", help="no pauses at all")
    add(
        "--pace",
        type=_pace,
        default=0.0,
        metavar="SECONDS",
        help="between two events of a raw SSE body (default 0: none)",
    )
    return parser


def parse_serve(argv: Sequence[str]) -> ServeOptions:
    """Parse ``trio-sse serve``'s arguments and load the replies (status 2 if bad)."""
    parser = build_serve_parser()
    args = parser.parse_args(argv)
    speed: float | None = None if args.fast else float(args.speed)
    if speed is not None and not speed > 0:
        parser.error(f"--speed must be more than 0, got {speed}")
    pace = float(args.pace)
    if args.fast and pace:
        parser.error("--pace with --fast: choose one")
    if not args.files and not args.examples:
        parser.error("nothing to serve: give a FILE or an --example")
    loaded: list[tuple[str, Recording]] = []
    for name in cast("list[str]", args.examples):
        loaded.extend((f"{name}: {file}", r) for file, r in example_recordings(name, pace=pace))
    for spec in cast("list[str]", args.files):
        try:
            loaded.append((spec, load_reply(spec, pace=pace)))
        except (OSError, ValueError) as exc:  # noqa: PERF203 (a usage error ends it)
            parser.error(f"{spec}: {exc}")
    return ServeOptions(tuple(loaded), host=str(args.host), port=int(args.port), speed=speed)


async def serve(options: ServeOptions, printer: Printer) -> None:
    """Serve the recordings until cancelled (Ctrl-C); say where on standard error."""
    recordings = [recording for _, recording in options.recordings]
    async with trio.open_nursery() as nursery:
        server = partial(
            serve_recordings,
            recordings,
            host=options.host,
            port=options.port,
            speed=options.speed,
        )
        port: int = await nursery.start(server)
        printer.notice(f"serving on http://{options.host}:{port} (Ctrl-C to stop)")
        for label, recording in options.recordings:
            printer.notice(f"  {recording.method} {h11_path(recording.url)} <- {label}")


async def record(
    client: AsyncHTTPClient, options: Options, path: str, printer: Printer
) -> Recording:
    """Make ``options``' request once; write the response to ``path`` as it arrived.

    ``options`` is the stream command's :class:`~trio_sse._cli.Options`. The events are
    printed as they arrive (an uncompressed body only). Cancelled (Ctrl-C), it writes
    what had arrived, then lets the cancellation go on. Not retried.
    """
    url, headers = options.url, sse_request_headers(options.headers)
    body: dict[str, Any] = {}
    if options.provider is not None:
        request = provider_request(
            options.provider,
            options.url,
            json=options.json_body,
            headers=dict(options.headers),
            api_key=options.api_key,
        )
        url, headers = request.url, sse_request_headers(request.headers)
        body = {"json": request.json}
    elif options.json_body is not None:
        body = {"json": options.json_body}
    elif options.content is not None:
        body = {"content": options.content}
    show = EVENT_FORMATS[options.output]
    chunks: list[tuple[float, bytes]] = []
    async with client.stream(
        options.method,
        url,
        headers=headers,
        timeout=streaming_timeout(client),
        follow_redirects=False,  # a redirect is recorded as it is: no key follows it anywhere
        **body,
    ) as answer:
        response = cast("Any", answer)  # an httpx.Response: its raw bytes are recorded
        head = trio.current_time()
        encoded = "content-encoding" in response.headers
        decoder = SSEDecoder()
        try:
            async for data in response.aiter_raw():
                chunks.append((trio.current_time() - head, data))
                if not encoded:
                    for event in decoder.feed(data):
                        printer.write(show(event, printer))
        finally:
            recording = Recording(
                options.method,
                scrub_url(str(response.url)),
                response.status_code,
                scrub_headers(response.headers.multi_items()),
                tuple(chunks),
            )
            recording.save(path)
            printer.notice(
                f"recorded {response.status_code}, {len(recording.body)} bytes in "
                f"{len(chunks)} chunks over {recording.duration:.2f} s to {path}"
            )
    return recording
