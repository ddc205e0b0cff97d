"""The ``trio-sse`` command line: parsing, output, errors, Ctrl-C, and the demo.

In-process tests drive :func:`trio_sse._cli.run` with a capturing printer; subprocess tests
run ``python -m trio_sse`` for exit statuses, standard error and SIGINT. Every server is on
127.0.0.1, in the test's nursery; every test runs under a ``fail_after`` guard.
"""

from __future__ import annotations

import io
import json
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import trio

from trio_sse import RetryPolicy, ServerSentEvent
from trio_sse._cli import Options, main, parse_command, run
from trio_sse._cli_output import (
    OutputClosedError,
    OutputMode,
    Printer,
    ReplyPrinter,
    human_event,
    jsonl_event,
    log_notices,
    raw_event,
    summary_line,
    wants_color,
)
from trio_sse._demo import recording
from trio_sse.providers import (
    Message,
    MessageStart,
    StreamEvent,
    TextDelta,
    ThinkingDelta,
    ToolCall,
    ToolCallEnd,
    Usage,
)

from .recorded import FIXTURES
from .servers import SSE_HEAD, ResumableFeed, ServerLog, read_body, serve_raw_with_head

GUARD = 20  # seconds: a subprocess imports trio and httpx first
ROOT = Path(__file__).resolve().parent.parent
REPLY = "Hello! I'm doing well, thank you for asking. How are you doing today? Is there anything I can help you with?"  # noqa: E501
SUMMARY = "[claude-sonnet-4-5-20250929] stop: end_turn | usage: 12 in, 30 out | tool calls: none"
REQUEST = '{"model": "m", "max_tokens": 64, "messages": []}'


def capture(*, color: bool = False) -> tuple[Printer, io.StringIO, io.StringIO]:
    out, err = io.StringIO(), io.StringIO()
    return Printer(out, err, color=color), out, err


async def run_cli(*argv: str) -> tuple[int, str, str]:
    """Parse and run ``argv`` in this process; the status, standard output and error."""
    printer, out, err = capture()
    with trio.fail_after(GUARD):
        status = await run(parse_command(argv), printer)
    return status, out.getvalue(), err.getvalue()


async def run_subprocess(*argv: str, **env: str) -> subprocess.CompletedProcess[bytes]:
    with trio.fail_after(GUARD):
        return await trio.run_process(
            cli_command(*argv),
            capture_stdout=True,
            capture_stderr=True,
            check=False,
            env=cli_env(**env),
        )


def cli_command(*argv: str) -> list[str]:
    """``python -m trio_sse argv``, warnings as errors but for the known upstream one
    (httpx's and httpcore's body generators left to the collector; see pyproject.toml)."""
    known = [f"-Wignore:Async generator '{lib}.:ResourceWarning" for lib in ("httpx", "httpcore")]
    return [sys.executable, "-W", "error", *known, "-m", "trio_sse", *argv]


def cli_env(**extra: str) -> dict[str, str]:
    """This environment without keys, proxies or NO_COLOR, plus ``extra``."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.endswith("_API_KEY") and "proxy" not in name.lower() and name != "NO_COLOR"
    }
    env["PYTHONPATH"] = str(ROOT)
    return {**env, **extra}


async def replay_anthropic(stream: trio.SocketStream, head: bytes, log: list[bytes]) -> None:
    """Serve the demo's recorded Anthropic reply, keeping the request in ``log``."""
    log.extend([head, await read_body(stream, head)])
    await stream.send_all(SSE_HEAD + b"".join(recording()))


# --- parsing -------------------------------------------------------------------------------


def test_defaults() -> None:
    assert parse_command(["http://127.0.0.1/feed"]) == Options(url="http://127.0.0.1/feed")
    assert parse_command(["demo"]) == "demo"


def test_every_option() -> None:
    options = parse_command(
        [
            *("https://x.test/v1", "-X", "put", "-H", "A: b c", "-H", "D:e", "--jsonl"),
            *("--no-reconnect", "--idle-timeout", "2.5", "--max-attempts", "3", "-v"),
        ]
    )
    assert options == Options(
        url="https://x.test/v1",
        method="PUT",
        headers=(("A", "b c"), ("D", "e")),
        output="jsonl",
        reconnect=False,
        idle_timeout=2.5,
        retry=RetryPolicy(max_attempts=3),
        verbose=True,
    )
    assert isinstance(options, Options)
    assert options.retry.max_attempts == 3
    unlimited = parse_command(["http://x.test/", "--max-attempts", "0", "--raw"])
    assert isinstance(unlimited, Options)
    assert (unlimited.retry.max_attempts, unlimited.output) == (None, "raw")


def test_a_body_makes_a_post() -> None:
    options = parse_command(["http://x.test/", "-d", '{"a": 1}'])
    assert isinstance(options, Options)
    assert (options.method, options.content) == ("POST", b'{"a": 1}')
    assert options.headers == (("Content-Type", "application/json"),)
    typed = parse_command(["http://x.test/", "-d", "hi", "-H", "content-type: text/plain"])
    assert isinstance(typed, Options)
    assert typed.headers == (("content-type", "text/plain"),)


def test_json_body_from_a_file_or_stdin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "body.json"
    path.write_text('{"b": [1, 2]}', encoding="utf-8")
    options = parse_command(["http://x.test/", "--json-body", str(path)])
    assert isinstance(options, Options)
    assert (options.method, options.json_body, options.content) == ("POST", {"b": [1, 2]}, None)
    monkeypatch.setattr(sys, "stdin", io.StringIO("[3]"))
    from_stdin = parse_command(["http://x.test/", "--json-body", "-"])
    assert isinstance(from_stdin, Options)
    assert from_stdin.json_body == [3]


def test_provider_options(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "from-env")
    options = parse_command(["http://x.test/", "--provider", "openai-chat", "-d", '{"m": 1}'])
    assert isinstance(options, Options)
    assert (options.provider, options.api_key, options.json_body) == (
        "openai-chat",
        "from-env",
        {"m": 1},
    )
    assert (options.method, options.content) == ("POST", None)
    given = parse_command(["http://x.test/", "--provider", "gemini", "-d", "{}", "--api-key", "k"])
    assert isinstance(given, Options)
    assert given.api_key == "k"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "the following arguments are required: URL"),
        (["x.test/feed"], "expected an http:// or https:// URL"),
        (["http://x", "-H", "no colon"], "expected 'Name: value'"),
        (["http://x", "-d", "a", "--json-body", "f"], "not allowed with argument"),
        (["http://x", "--jsonl", "--raw"], "not allowed with argument"),
        (["http://x", "--idle-timeout", "0"], "must be a number above 0"),
        (["http://x", "--max-attempts", "-1"], "must be 0 (no limit) or more"),
        (["http://x", "--json-body", "/nonexistent/body.json"], "No such file"),
        (["http://x", "--provider", "anthropic"], "needs the request as a JSON object"),
        (["http://x", "--provider", "anthropic", "-d", "[1]"], "needs the request as a JSON"),
        (["http://x", "--provider", "anthropic", "-d", "{"], "-d: not JSON"),
        (["http://x", "--provider", "anthropic", "-d", "{}", "-X", "GET"], "sends a POST"),
        (["http://x", "--provider", "cohere", "-d", "{}"], "invalid choice: 'cohere'"),
        (["http://x", "-H", "X-Name: é"], "must be ASCII"),
    ],
)
def test_usage_errors_exit_2_with_one_line(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        parse_command(argv)
    assert exited.value.code == 2
    last = capsys.readouterr().err.splitlines()[-1]
    assert last.startswith("trio-sse: error: ")
    assert message in last


# --- output ------------------------------------------------------------------------------------


EVENT = ServerSentEvent(event="update", data='{"n": 1}\nsecond line', id="7", retry=1500)


def test_human_output() -> None:
    printer, _, _ = capture()
    assert human_event(EVENT, printer) == 'update id=7 retry=1500\n  {"n": 1}\n  second line\n'
    assert human_event(ServerSentEvent(data="hi"), printer) == "message\n  hi\n"
    colored, _, _ = capture(color=True)
    assert human_event(ServerSentEvent(data="hi"), colored) == "\x1b[1;36mmessage\x1b[0m\n  hi\n"


def test_jsonl_and_raw_output() -> None:
    printer, _, _ = capture()
    line = jsonl_event(EVENT, printer)
    assert line.endswith("\n")
    assert line.count("\n") == 1
    assert json.loads(line) == {
        "event": "update",
        "data": '{"n": 1}\nsecond line',
        "id": "7",
        "retry": 1500,
    }
    assert json.loads(jsonl_event(ServerSentEvent(data="é"), printer))["retry"] is None
    assert raw_event(EVENT, printer) == '{"n": 1}\nsecond line\n'


def test_colors_only_on_a_terminal_without_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    assert wants_color(Terminal())
    assert not wants_color(io.StringIO())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not wants_color(Terminal())
    printer, _, _ = capture()
    assert printer.paint("x", "bold") == "x"


CALL = ToolCall(id="t1", name="search", arguments={"q": "trio"}, raw_arguments='{"q":"trio"}')


def test_a_reply_in_each_mode() -> None:
    message = Message(
        model="m1",
        content=(CALL,),
        stop_reason="tool_use",
        usage=Usage(input_tokens=9, output_tokens=21, cache_read_input_tokens=4),
    )
    events: list[StreamEvent] = [
        MessageStart(id="msg", model="m1"),
        ThinkingDelta(index=0, thinking="Let me "),
        ThinkingDelta(index=0, thinking="look."),
        ThinkingDelta(index=0, signature="sig"),
        TextDelta(index=1, text="Looking "),
        TextDelta(index=1, text="it up."),
        ToolCallEnd(index=2, call=CALL),
    ]
    outputs: dict[str, str] = {}
    modes: tuple[OutputMode, ...] = ("human", "raw", "jsonl")
    for mode in modes:
        printer, out, _ = capture()
        shown = ReplyPrinter(printer, mode)
        for event in events:
            shown.feed(event)
        shown.finish(message)
        outputs[mode] = out.getvalue()
    assert outputs["human"] == (
        "[thinking] Let me look.\n\nLooking it up.\n\n"
        '[tool call] search({"q":"trio"})\n'
        "[m1] stop: tool_use | usage: 9 in, 21 out (4 cache read) | tool calls: search\n"
    )
    assert outputs["raw"] == "Looking it up.\n"
    lines = [json.loads(line) for line in outputs["jsonl"].splitlines()]
    assert [line["type"] for line in lines] == [type(event).__name__ for event in events]
    assert lines[-1]["call"]["arguments"] == {"q": "trio"}


def test_summary_line() -> None:
    assert summary_line(Message()) == "stop: none | tool calls: none"


def test_errors_and_notices_are_one_line() -> None:
    printer, out, err = capture()
    printer.write("half a line")
    printer.error("StatusError: it broke\n  badly")
    printer.notice("retrying")
    assert out.getvalue() == "half a line\n"
    assert err.getvalue() == "trio-sse: error: StatusError: it broke badly\ntrio-sse: retrying\n"


def test_a_closed_pipe_is_output_closed() -> None:
    class ClosedPipe(io.StringIO):
        def write(self, text: str) -> int:
            raise BrokenPipeError

    printer = Printer(ClosedPipe(), io.StringIO())
    with pytest.raises(OutputClosedError):
        printer.write("x")


def test_log_records_become_notices() -> None:
    logger = logging.getLogger("trio_sse")
    level = logger.level
    printer, _, err = capture()
    with log_notices(printer):
        logger.info("reconnected: %s", "x")
        logger.debug("connecting")
    with log_notices(printer, verbose=True):
        logger.debug("connecting")
    logger.info("not shown")
    assert err.getvalue() == "trio-sse: reconnected: x\ntrio-sse: connecting\n"
    assert logger.level == level


# --- against servers, in process ------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ([], "tick id=0\n  0:\ntick id=1\n  1:\ntick id=2\n  2:\n"),
        (["--raw"], "0:\n1:\n2:\n"),
        (
            ["--jsonl"],
            "".join(
                json.dumps({"event": "tick", "data": f"{i}:", "id": str(i), "retry": None}) + "\n"
                for i in range(3)
            ),
        ),
    ],
    ids=["human", "raw", "jsonl"],
)
async def test_output_modes_against_a_real_server(
    mode: list[str], expected: str, app_server: tuple[str, ServerLog]
) -> None:
    url, _ = app_server
    status, out, err = await run_cli(f"{url}/events?n=3", *mode, "--no-reconnect")
    assert (status, out) == (0, expected)
    assert err == ""


async def test_method_headers_and_body_reach_the_server(
    nursery: trio.Nursery, tmp_path: Path
) -> None:
    seen: list[tuple[bytes, bytes]] = []

    async def echo(stream: trio.SocketStream, head: bytes) -> None:
        seen.append((head, await read_body(stream, head)))
        await stream.send_all(SSE_HEAD + b"data: ok\n\n")

    url = f"http://127.0.0.1:{await serve_raw_with_head(nursery, echo)}/v1?x=1"
    body_file = tmp_path / "body.json"
    body_file.write_text('{"b": [1, 2]}', encoding="utf-8")
    sent = await run_cli(url, "-X", "PUT", "-H", "X-Token: abc", "-d", '{"a": 1}', "--raw")
    posted = await run_cli(url, "--json-body", str(body_file), "-H", "Accept: */*", "--raw")
    assert sent == posted == (0, "ok\n", "")
    (put_head, put_body), (post_head, post_body) = seen
    assert put_head.startswith(b"PUT /v1?x=1 HTTP/1.1\r\n")
    assert b"\r\nX-Token: abc\r\n" in put_head
    assert b"\r\nContent-Type: application/json\r\n" in put_head
    assert put_body == b'{"a": 1}'
    assert post_head.startswith(b"POST /v1?x=1 HTTP/1.1\r\n")
    assert b"\r\nAccept: */*\r\n" in post_head  # the caller's header wins
    assert json.loads(post_body) == {"b": [1, 2]}


async def test_a_4xx_is_one_line_and_status_1(app_server: tuple[str, ServerLog]) -> None:
    url, _ = app_server
    status, out, err = await run_cli(f"{url}/status/404")
    assert (status, out) == (1, "")
    assert err.count("\n") == 1
    assert err.startswith(f"trio-sse: error: StatusError: {url}/status/404 answered 404: ")


async def test_a_reconnect_is_noticed_on_stderr(nursery: trio.Nursery) -> None:
    feed = ResumableFeed(total=4, per_connection=2)
    url = f"http://127.0.0.1:{await serve_raw_with_head(nursery, feed.serve)}/feed"
    status, out, err = await run_cli(url, "--raw")
    assert (status, out) == (0, "1\n2\n3\n4\n")
    assert feed.resumed_from == [None, "2", "4"]
    notices = err.splitlines()
    assert f"trio-sse: GET {url}: the body ended; retrying in 0 s" in notices
    assert f"trio-sse: reconnected: {url} answered 200" in notices
    assert notices[-1] == f"trio-sse: {url} answered 204 No Content: the stream is over"


async def test_idle_timeout_and_no_reconnect(nursery: trio.Nursery) -> None:
    async def one_then_silence(stream: trio.SocketStream, head: bytes) -> None:
        await stream.send_all(SSE_HEAD + b"id: 1\ndata: first\n\n")
        await trio.sleep_forever()

    url = f"http://127.0.0.1:{await serve_raw_with_head(nursery, one_then_silence)}/"
    status, out, err = await run_cli(url, "--idle-timeout", "0.2", "--no-reconnect", "--raw")
    assert (status, out) == (1, "first\n")
    assert err == f"trio-sse: error: IdleTimeoutError: {url}: no data for 0.2 s\n"


async def test_provider_prints_the_text_then_a_summary(nursery: trio.Nursery) -> None:
    request: list[bytes] = []

    async def serve(stream: trio.SocketStream, head: bytes) -> None:
        await replay_anthropic(stream, head, request)

    url = f"http://127.0.0.1:{await serve_raw_with_head(nursery, serve)}/v1/messages"
    status, out, err = await run_cli(
        url, "--provider", "anthropic", "--api-key", "k", "-d", REQUEST
    )
    assert (status, out, err) == (0, f"{REPLY}\n{SUMMARY}\n", "")
    head, body = request
    assert b"\r\nx-api-key: k\r\n" in head
    assert b"\r\nanthropic-version: 2023-06-01\r\n" in head
    assert json.loads(body) == {**json.loads(REQUEST), "stream": True}


@pytest.mark.skipif(not FIXTURES.is_dir(), reason=f"{FIXTURES} is absent")
async def test_provider_shows_tool_calls(nursery: trio.Nursery) -> None:
    recorded = (FIXTURES / "anthropic" / "anthropic-tool-no-args.sse").read_bytes()

    async def serve(stream: trio.SocketStream, head: bytes) -> None:
        await read_body(stream, head)
        await stream.send_all(SSE_HEAD + recorded)

    url = f"http://127.0.0.1:{await serve_raw_with_head(nursery, serve)}/"
    status, out, _ = await run_cli(url, "--provider", "anthropic", "-d", REQUEST)
    assert (status, out) == (
        0,
        "I'll update the issue list for you.\n\n[tool call] updateIssueList({})\n"
        "[claude-sonnet-4-5-20250929] stop: tool_use | usage: 565 in, 48 out | "
        "tool calls: updateIssueList\n",
    )


async def test_a_reply_cut_short_is_one_line(nursery: trio.Nursery) -> None:
    async def cut(stream: trio.SocketStream, head: bytes) -> None:
        await read_body(stream, head)
        await stream.send_all(SSE_HEAD + b"".join(recording()[:5]))

    url = f"http://127.0.0.1:{await serve_raw_with_head(nursery, cut)}/"
    status, out, err = await run_cli(url, "--provider", "anthropic", "-d", REQUEST)
    assert (status, out) == (1, "Hello! I\n")
    assert err == (
        "trio-sse: error: IncompleteStreamError: anthropic: the stream ended before message_stop\n"
    )


def test_main_returns_the_status(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--max-attempts", "1", "http://127.0.0.1:1/"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("trio-sse: error: NetworkError: GET http://127.0.0.1:1/: ")
    assert captured.err.count("\n") == 1


def test_the_demo_recording_is_the_shared_fixture() -> None:
    shared = FIXTURES / "anthropic" / "anthropic-text.sse"
    if not shared.is_file():
        pytest.skip(f"{shared} is absent")
    assert b"".join(recording()) == shared.read_bytes()


# --- as a program: python -m trio_sse ------------------------------------------------------------


async def test_program_prints_events_and_exits_0(app_server: tuple[str, ServerLog]) -> None:
    url, _ = app_server
    done = await run_subprocess(f"{url}/events?n=2&retry=1", "--jsonl")
    assert done.returncode == 0, done.stderr
    assert [json.loads(line)["data"] for line in done.stdout.splitlines()] == ["0:", "1:"]
    assert b"Traceback" not in done.stderr


async def test_program_exits_1_with_one_line_on_a_4xx(app_server: tuple[str, ServerLog]) -> None:
    url, _ = app_server
    done = await run_subprocess(f"{url}/status/403")
    assert (done.returncode, done.stdout) == (1, b"")
    assert done.stderr.count(b"\n") == 1
    assert done.stderr.startswith(b"trio-sse: error: StatusError: ")


async def test_program_takes_the_key_from_the_environment(nursery: trio.Nursery) -> None:
    request: list[bytes] = []

    async def serve(stream: trio.SocketStream, head: bytes) -> None:
        await replay_anthropic(stream, head, request)

    url = f"http://127.0.0.1:{await serve_raw_with_head(nursery, serve)}/v1/messages"
    done = await run_subprocess(
        url, "--provider", "anthropic", "-d", REQUEST, ANTHROPIC_API_KEY="from-env"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode() == f"{REPLY}\n{SUMMARY}\n"
    assert b"\r\nx-api-key: from-env\r\n" in request[0]


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process is POSIX")
async def test_ctrl_c_closes_the_connection_and_exits_130(nursery: trio.Nursery) -> None:
    closed = trio.Event()

    async def endless(stream: trio.SocketStream, head: bytes) -> None:
        async def tick() -> None:
            try:
                for i in range(1_000_000):
                    await stream.send_all(b"id: %d\ndata: tick %d\n\n" % (i, i))
                    await trio.sleep(0.01)
            except trio.BrokenResourceError:
                pass

        await stream.send_all(SSE_HEAD)
        async with trio.open_nursery() as inner:
            inner.start_soon(tick)
            try:
                while await stream.receive_some():  # a GET sends nothing more: EOF is a close
                    pass
            except trio.BrokenResourceError:
                pass
            closed.set()
            inner.cancel_scope.cancel()

    url = f"http://127.0.0.1:{await serve_raw_with_head(nursery, endless)}/"
    out, err = bytearray(), bytearray()
    with trio.fail_after(GUARD):
        process = await trio.lowlevel.open_process(
            cli_command(url, "--raw"), stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=cli_env()
        )
        try:
            assert process.stdout is not None
            assert process.stderr is not None
            async with trio.open_nursery() as readers:
                readers.start_soon(drain, process.stderr, err)
                while b"tick" not in out:
                    chunk = await process.stdout.receive_some()
                    assert chunk, err.decode()
                    out += chunk
                process.send_signal(signal.SIGINT)
                await drain(process.stdout, out)
            status = await process.wait()
            await closed.wait()
        finally:
            if process.returncode is None:
                process.kill()
                with trio.CancelScope(shield=True):
                    await process.wait()
    assert status == 130, err.decode()
    assert err.decode() == "trio-sse: interrupted\n"
    assert out.startswith(b"tick 0\n")


async def drain(stream: trio.abc.ReceiveStream, into: bytearray) -> None:
    while chunk := await stream.receive_some():
        into += chunk


async def test_the_demo_runs_and_says_what_it_showed() -> None:
    done = await run_subprocess("demo")
    assert done.returncode == 0, done.stderr
    out = done.stdout.decode()
    assert f"reply  | {REPLY}" in out
    assert "GET /feed, Last-Event-ID: 3: resuming at id 4" in out
    assert "server | the client closed the connection" in out
    showed = out[out.index("What this showed:") :].splitlines()
    assert len(showed) == 5
    assert "resumed with Last-Event-ID: 3" in showed[2]
    assert b"Traceback" not in done.stderr


async def test_the_demo_into_a_closed_pipe_exits_141_without_a_traceback() -> None:
    # ``trio-sse demo | head -c 10``: the demo's server task prints too, so the closed pipe
    # may come out of a nursery inside an exception group; it must still be status 141.
    errors = bytearray()
    with trio.fail_after(GUARD):
        process = await trio.lowlevel.open_process(
            cli_command("demo"), stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=cli_env()
        )
        try:
            assert process.stdout is not None
            assert process.stderr is not None
            first = await process.stdout.receive_some(10)
            await process.stdout.aclose()  # the reader goes away after a few bytes
            await drain(process.stderr, errors)
            status = await process.wait()
        finally:
            if process.returncode is None:
                process.kill()
                with trio.CancelScope(shield=True):
                    await process.wait()
    assert first.startswith(b"trio-sse")
    assert status == 141, errors.decode()
    assert errors == b""  # no traceback, and no retry notice either


async def test_the_demo_stops_quietly_when_its_output_closes_under_the_server() -> None:
    # ``trio-sse demo | head -2``: the pipe may close just as the server prints. That must
    # stop the demo, not drop the client's connection: the client would take the drop for
    # a network failure and log a retry notice on standard error.
    class ClosesAtTheServer(io.StringIO):
        def write(self, text: str) -> int:
            if "server |" in text:
                raise BrokenPipeError
            return super().write(text)

    out, err = ClosesAtTheServer(), io.StringIO()
    with trio.fail_after(GUARD), pytest.raises(OutputClosedError):
        await run(parse_command(["demo"]), Printer(out, err))
    assert err.getvalue() == ""
    assert out.getvalue().startswith("trio-sse demo: a local server at http://127.0.0.1:")
