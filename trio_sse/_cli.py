"""The ``trio-sse`` command line: print a URL's events as they arrive, or run the demo.

::

    trio-sse URL [-X METHOD] [-H 'Name: value']... [-d BODY | --json-body FILE]
                 [--jsonl | --raw] [--no-reconnect] [--idle-timeout S] [--max-attempts N]
                 [--provider NAME [--api-key KEY]]
    trio-sse demo
    trio-sse record URL [the options above] -o FILE
    trio-sse serve [FILE[@/PATH]...] [--example NAME]... [--port N] [--speed X | --fast]

Exit status: 0 at a clean end; 1 when the stream failed (the error's message on one line
on standard error, no traceback); 2 for a usage error; 130 after Ctrl-C, which cancels
the stream so its connection is closed in the task that owns it; 141 when the reader of
standard output goes away (``| head``).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import signal
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal, TypeAlias, cast, get_args
from urllib.parse import urlsplit

import trio

if sys.version_info < (3, 11):
    from exceptiongroup import BaseExceptionGroup

from . import __version__
from ._cli_output import (
    EVENT_FORMATS,
    OutputClosedError,
    OutputMode,
    Printer,
    ReplyPrinter,
    log_notices,
)
from ._cli_replay import ServeOptions, parse_serve, record, serve
from ._demo import run_demo
from ._errors import RetriesExhaustedError, SSEError
from ._groups import open_hidden_nursery
from ._http import AsyncHTTPClient, new_client
from ._pump import DEFAULT_RETRY_POLICY
from ._retry import RetryPolicy
from ._stream import open_event_stream
from .providers import ProviderName, open_provider_stream

__all__ = ["Options", "main", "parse_command", "run", "run_until_interrupted"]

EXIT_OK: Final = 0
EXIT_FAILURE: Final = 1
EXIT_USAGE: Final = 2
EXIT_INTERRUPTED: Final = 130  # 128 + SIGINT, as a shell reports it
EXIT_OUTPUT_CLOSED: Final = 141  # 128 + SIGPIPE

API_KEY_VARIABLES: Final[dict[ProviderName, str]] = {
    "anthropic": "ANTHROPIC_API_KEY",
    "openai-chat": "OPENAI_API_KEY",
    "openai-responses": "OPENAI_API_KEY",
    "gemini": "GEMINI_API_KEY",
}


@dataclass(frozen=True)
class Options:
    """One stream's command line, parsed and checked."""

    url: str
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()
    content: bytes | None = None  # -d, sent as given
    json_body: Any = None  # --json-body (or -d with --provider), parsed
    output: OutputMode = "human"
    reconnect: bool | None = None  # None: the library's default (GET reconnects)
    idle_timeout: float | None = None
    retry: RetryPolicy = DEFAULT_RETRY_POLICY
    provider: ProviderName | None = None
    api_key: str | None = None
    verbose: bool = False


@dataclass(frozen=True)
class RecordOptions:
    """``trio-sse record``: a stream's options, and the file to write."""

    options: Options
    path: str


Command: TypeAlias = "Options | RecordOptions | ServeOptions | Literal['demo']"
"""A parsed command line: a stream to print, the demo, a recording to make or serve."""


def _positive_float(text: str) -> float:
    value = float(text)
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a number above 0, got {text!r}")
    return value


def _attempts(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 (no limit) or more, got {text!r}")
    return value


JSONL_HELP: Final = "one JSON object per event (event, data, id, retry)"
IDLE_HELP: Final = "take this long without a byte as a dropped connection (default: wait)"
ATTEMPTS_HELP: Final = "give up after N failed attempts in a row (default 6; 0: never)"
PROVIDER_HELP: Final = "POST the body to this provider and print the reply as it streams"


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``trio-sse URL ...`` (``trio-sse demo`` is recognised before it)."""
    parser = argparse.ArgumentParser(
        prog="trio-sse",
        usage="%(prog)s URL [options]\n       %(prog)s demo\n"
        "       %(prog)s record URL [options] -o FILE\n"
        "       %(prog)s serve [FILE...] [--example anthropic-tool-loop]",
        description="Print a Server-Sent Events stream as it arrives, reconnecting the way "
        "EventSource does (a GET resumes with Last-Event-ID).",
        epilog="'trio-sse demo' shows the library at work, offline, in a second or two. "
        "Exit status: 0 at a clean end, 1 when the stream failed, 2 for a usage error, "
        "130 after Ctrl-C, 141 when the reader of the output goes away.",
    )
    add = parser.add_argument
    add("url", metavar="URL", help="the event stream's URL")
    add("-X", "--request", dest="method", metavar="METHOD", help="GET, or POST with a body")
    add(
        "-H",
        "--header",
        dest="headers",
        action="append",
        metavar="'NAME: VALUE'",
        help="repeatable",
    )
    body = parser.add_mutually_exclusive_group().add_argument
    body("-d", "--data", metavar="BODY", help="the body (JSON Content-Type unless -H sets one)")
    body("--json-body", metavar="FILE", help="a JSON file as the body ('-': standard input)")
    output = parser.add_mutually_exclusive_group().add_argument
    output("--jsonl", dest="output", action="store_const", const="jsonl", help=JSONL_HELP)
    output("--raw", dest="output", action="store_const", const="raw", help="each event's data")
    add("--no-reconnect", action="store_true", help="end with the body (a GET resumes by default)")
    add("--idle-timeout", type=_positive_float, metavar="SECONDS", help=IDLE_HELP)
    add("--max-attempts", type=_attempts, metavar="N", help=ATTEMPTS_HELP)
    add("--provider", choices=get_args(ProviderName), help=PROVIDER_HELP)
    add("--api-key", help="the provider's API key (default: from its environment variable)")
    add("-v", "--verbose", action="store_true", help="also log connects, statuses and ends")
    add("--version", action="version", version=f"%(prog)s {__version__}")
    parser.set_defaults(output="human", headers=[])
    return parser


def parse_command(argv: Sequence[str]) -> Command:
    """Parse a command line; a usage error exits with status 2, as argparse does."""
    if argv[:1] == ["demo"]:
        argparse.ArgumentParser(
            prog="trio-sse demo",
            description="Stream a recorded LLM reply, a dropped connection and a "
            "cancellation through trio-sse, against a server on 127.0.0.1; no keys.",
        ).parse_args(argv[1:])
        return "demo"
    if argv[:1] == ["serve"]:
        return parse_serve(argv[1:])
    parser = build_parser()
    if argv[:1] == ["record"]:
        parser.prog = "trio-sse record"
        parser.usage = "%(prog)s URL [options] -o FILE"
        parser.add_argument("-o", "--output-file", required=True, metavar="FILE")
        args = parser.parse_args(argv[1:])
        return RecordOptions(options_from(parser, args), str(args.output_file))
    return options_from(parser, parser.parse_args(argv))


def options_from(parser: argparse.ArgumentParser, args: argparse.Namespace) -> Options:
    """The stream's :class:`Options` from parsed arguments; usage errors exit with 2."""
    url = str(args.url)
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        parser.error(f"{url!r}: {exc}")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        parser.error(f"{url!r}: expected an http:// or https:// URL")
    headers: list[tuple[str, str]] = []
    for header in cast("list[str]", args.headers):
        name, colon, value = header.partition(":")
        if not colon or not name.strip():
            parser.error(f"-H {header!r}: expected 'Name: value'")
        if not header.isascii():  # httpx sends header names and values as ASCII
            parser.error(f"-H {header!r}: header names and values must be ASCII")
        headers.append((name.strip(), value.strip()))
    provider = cast("ProviderName | None", args.provider)
    content: bytes | None = None if args.data is None else os.fsencode(str(args.data))
    json_body: Any = None
    if args.json_body is not None:
        json_body = _load_json(parser, str(args.json_body))
    elif content is not None and provider is not None:
        json_body = _parse_json(parser, "-d", content)
        content = None
    if content is not None and all(name.lower() != "content-type" for name, _ in headers):
        headers.append(("Content-Type", "application/json"))
    has_body = json_body is not None or content is not None
    method = str(args.method or ("POST" if has_body else "GET")).upper()
    if provider is not None:
        if not isinstance(json_body, dict):
            parser.error("--provider needs the request as a JSON object (-d or --json-body)")
        if method != "POST":
            parser.error(f"--provider sends a POST, not {method}")
    max_attempts = cast("int | None", args.max_attempts)
    api_key = cast("str | None", args.api_key)
    if api_key is None and provider is not None:
        api_key = os.environ.get(API_KEY_VARIABLES[provider])
    return Options(
        url=url,
        method=method,
        headers=tuple(headers),
        content=content,
        json_body=json_body,
        output=cast("OutputMode", args.output),
        reconnect=False if args.no_reconnect else None,
        idle_timeout=cast("float | None", args.idle_timeout),
        retry=DEFAULT_RETRY_POLICY
        if max_attempts is None
        else RetryPolicy(max_attempts=max_attempts or None),
        provider=provider,
        api_key=api_key,
        verbose=bool(args.verbose),
    )


def _load_json(parser: argparse.ArgumentParser, path: str) -> Any:
    try:
        if path == "-":
            text = sys.stdin.read()
        else:
            with open(path, encoding="utf-8") as file:
                text = file.read()
    except (OSError, UnicodeDecodeError) as exc:
        parser.error(f"--json-body {path}: {exc}")
    return _parse_json(parser, f"--json-body {path}", text)


def _parse_json(parser: argparse.ArgumentParser, where: str, text: str | bytes) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        parser.error(f"{where}: not JSON ({exc})")


async def run(command: Command, printer: Printer) -> int:
    """Run a parsed command; return its exit status. Errors of the stream become one line
    on ``printer``'s error stream and status 1; cancellation propagates."""
    verbose = isinstance(command, Options) and command.verbose
    with log_notices(printer, verbose=verbose):
        try:
            async with new_client(follow_redirects=True) as client:
                if isinstance(command, ServeOptions):
                    await serve(command, printer)
                elif isinstance(command, RecordOptions):
                    await record(client, command.options, command.path, printer)
                elif not isinstance(command, Options):
                    await run_demo(client, printer)
                elif command.provider is None:
                    await print_events(client, command, printer)
                else:
                    await print_reply(client, command, command.provider, printer)
        except SSEError as exc:
            printer.error(describe(exc))
            return EXIT_FAILURE
    return EXIT_OK


def describe(error: SSEError) -> str:
    """What went wrong, for one line: the error's class and message. A policy of one
    attempt has nothing to give up on: its only failure is shown as it is."""
    if isinstance(error, RetriesExhaustedError) and error.attempts == 1 and error.last_error:
        error = error.last_error
    return f"{type(error).__name__}: {error}"


async def print_events(client: AsyncHTTPClient, options: Options, printer: Printer) -> None:
    """Print each event of ``options.url`` as it arrives, until the stream ends."""
    show = EVENT_FORMATS[options.output]
    body: dict[str, Any] = {}
    if options.json_body is not None:
        body["json"] = options.json_body
    elif options.content is not None:
        body["content"] = options.content
    async with open_event_stream(
        client,
        options.method,
        options.url,
        headers=options.headers,
        retry=options.retry,
        reconnect=options.reconnect,
        idle_timeout=options.idle_timeout,
        **body,
    ) as events:
        async for event in events:
            printer.write(show(event, printer))


async def print_reply(
    client: AsyncHTTPClient, options: Options, provider: ProviderName, printer: Printer
) -> None:
    """POST to a provider and print its reply as it streams, then a summary line."""
    async with open_provider_stream(
        client,
        provider,
        options.url,
        json=options.json_body,
        headers=dict(options.headers),
        api_key=options.api_key,
        retry=options.retry,
        idle_timeout=options.idle_timeout,
    ) as reply:
        shown = ReplyPrinter(printer, options.output)
        async for event in reply:
            shown.feed(event)
        shown.finish(reply.message)


async def run_until_interrupted(command: Command, printer: Printer) -> int:
    """:func:`run`, cancelled by SIGINT (Ctrl-C): then status 130, no traceback.

    The signal cancels the scope around the stream, so the pump closes its response in
    its own task, as any cancellation does. Must run in the main thread.
    """
    interrupted = False
    status = EXIT_INTERRUPTED
    with trio.open_signal_receiver(signal.SIGINT) as signals:
        async with open_hidden_nursery() as nursery:

            async def cancel_on_signal() -> None:
                nonlocal interrupted
                async for _ in signals:
                    interrupted = True
                    nursery.cancel_scope.cancel()
                    return

            nursery.start_soon(cancel_on_signal)
            status = await run(command, printer)
    if interrupted:
        printer.notice("interrupted")
        return EXIT_INTERRUPTED
    return status


def main(argv: Sequence[str] | None = None) -> int:
    """The console script: parse, run under Trio, return the exit status."""
    command = parse_command(sys.argv[1:] if argv is None else argv)
    printer = Printer.for_console()
    try:
        return trio.run(run_until_interrupted, command, printer)
    except KeyboardInterrupt:  # before the handler was in place, or after
        printer.notice("interrupted")
        return EXIT_INTERRUPTED
    except (OutputClosedError, BaseExceptionGroup) as exc:
        # The demo's server prints too: a closed pipe may come out of its nursery in a group.
        if isinstance(exc, BaseExceptionGroup) and not _only_output_closed(exc):
            raise
        _silence_stdout()
        return EXIT_OUTPUT_CLOSED


def _only_output_closed(group: BaseExceptionGroup[BaseException]) -> bool:
    """Whether every exception in ``group`` (nested groups too) is an OutputClosedError."""
    _, rest = group.split(OutputClosedError)
    return rest is None


def _silence_stdout() -> None:
    """Point standard output at the null device, so the flush at exit cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):
        pass
