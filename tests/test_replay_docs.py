"""docs/record-and-replay.md runs as written, its tool loop against a real ``trio-sse serve``.

The page follows the documentation's convention: the paragraph after a ```python block
says what it prints ("prints `a`, `b`, then `c`"). The tool loop is marked not run, since it
needs the server the page starts in a shell: here that server is started for it, as a
subprocess (``python -m trio_sse serve --example anthropic-tool-loop --port 0``), and the
block's URL is pointed at the port it chose.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

PAGE = Path(__file__).parent.parent / "docs" / "record-and-replay.md"
ROOT = PAGE.parent.parent
_SPAN = r"`([^`]*)`"
_PRINTS = re.compile(rf"^prints\s+{_SPAN}(?:(?:,\s+then\s+|,\s+and\s+|,\s+){_SPAN})*")
_BLOCK = re.compile(
    r"(<!-- not run: [^\n]* -->\n)?```python\n(.*?)```\n\n([^\n].*?)(?:\n\n|\Z)", re.S
)


def blocks() -> list[tuple[bool, str, list[str]]]:
    """(runs as is, code, the lines the page says it prints) for each python block."""
    found: list[tuple[bool, str, list[str]]] = []
    for not_run, code, paragraph in _BLOCK.findall(PAGE.read_text(encoding="utf-8")):
        match = _PRINTS.match(paragraph)
        prints = [] if match is None else re.findall(_SPAN, match.group(0))
        found.append((not not_run, code, [line.replace("\n", " ") for line in prints]))
    return found


def run_script(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    script = cwd / "example.py"
    script.write_text(code, encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-W", "error", str(script)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env={**os.environ, "PYTHONIOENCODING": "utf-8", "PYTHONPATH": str(ROOT)},
        cwd=cwd,
        timeout=60,
        check=False,
    )


@pytest.fixture
def example_server() -> Iterator[str]:
    """``trio-sse serve --example anthropic-tool-loop --port 0`` as a user starts it; its URL."""
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "trio_sse",
            "serve",
            "--example",
            "anthropic-tool-loop",
            "--port",
            "0",
        ],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert server.stderr is not None
        first = server.stderr.readline()  # EOF at once if the server could not start
        found = re.search(r"serving on (http://127\.0\.0\.1:\d+)", first)
        assert found, first + server.stderr.read()
        yield found.group(1)
    finally:
        server.terminate()
        server.wait(timeout=10)
        if server.stderr is not None:
            server.stderr.close()


def test_the_page_has_its_blocks() -> None:
    assert [(runs, bool(prints)) for runs, _, prints in blocks()] == [(False, True), (True, True)]


def test_the_tool_loop_runs_against_trio_sse_serve(example_server: str, tmp_path: Path) -> None:
    [(_, code, prints)] = [block for block in blocks() if not block[0]]
    assert '"http://127.0.0.1:8000/v1/messages"' in code
    code = code.replace("http://127.0.0.1:8000", example_server)
    result = run_script(code, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == prints


@pytest.mark.parametrize("index", [i for i, block in enumerate(blocks()) if block[0]])
def test_the_page_example_prints_what_it_says(index: int, tmp_path: Path) -> None:
    _, code, prints = blocks()[index]
    result = run_script(code, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == prints
