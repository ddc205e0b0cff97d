"""The README is part of the product: its examples run and its API table is the truth."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from types import FunctionType, ModuleType

import pytest

import trio_sse
import trio_sse.providers
import trio_sse.testing

README = Path(__file__).parent.parent / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


def test_public_api_is_what_the_readme_lists() -> None:
    text = README.read_text(encoding="utf-8")
    table = text[text.index("The public names") :]
    table = table[: table.index("\n\n", table.index("|"))]
    documented = set(re.findall(r"^\| `(\w+)` \|", table, flags=re.M))
    assert documented == set(trio_sse.__all__)
    assert trio_sse.__all__ == sorted(trio_sse.__all__, key=lambda name: (not name.isupper(), name))


def test_providers_api_is_what_the_readme_lists() -> None:
    text = README.read_text(encoding="utf-8")
    table = text[text.index("The public names of `trio_sse.providers`") :]
    table = table[: table.index("\n\n", table.index("|"))]
    documented = set(re.findall(r"^\| `(\w+)` \|", table, flags=re.M))
    assert documented == set(trio_sse.providers.__all__)


@pytest.mark.parametrize("package", [trio_sse, trio_sse.providers, trio_sse.testing])
def test_every_public_name_of_ours_has_a_docstring(package: ModuleType) -> None:
    for name in package.__all__:
        obj = getattr(package, name)
        # Not httpx-sse's ServerSentEvent; type aliases have no docstring of their own.
        if isinstance(obj, type | FunctionType) and obj.__module__ == package.__name__:
            assert (obj.__doc__ or "").strip(), name


EXPECTED: dict[str, list[str]] = {
    # A string only that block holds, and what the block prints. Keyed by content, not by
    # position, so a block added anywhere in the README leaves the others' checks alone.
    'BODY = b"event: greeting': ["greeting '' hello", "message '2' world", "2 requests"],
    'path == "/busy"': [
        "429 2 'slow down'",
        "not a stream: application/json",
        "network: connection refused",
        "['ok'] then an event or line exceeded max_event_size=64 characters",
        "3 attempts; the last: NetworkError",
    ],
    '"retry-after-ms": "20"': ["['hi']", "2 1 StatusError"],
    "def delta(index: int": [
        "text: Looking ",
        "text: it up.",
        "call: search {'q': 'trio'}",
        "tool_use 9 21",
    ],
    "async def test_the_feed_survives_a_drop": ["resumed within 31 s"],
    "def llm_request(": [
        "Hi! (anthropic: end_turn)",
        "Hi! (openai-chat: stop)",
        "Hi! (gemini: STOP)",
        "['tick 1', 'tick 2', 'tick 3', 'tick 4'] resumed from 2",
        "first event: None",
        "slow consumer saw 50",
        "stopped after 3 events; body closed: True",
        "httpx2: tick 1",
        "httpx2: tick 2",
    ],
    "def agent(client": [
        f"{provider}: It is 21 °C in Paris. (3 entries in the last request)"
        for provider in ("anthropic", "openai-chat", "openai-responses", "gemini")
    ],
    "stream.fan_out(3)": [
        "ui: plan",
        "ui: act",
        "ui: check",
        "ui: (the connection broke)",
        "log: ['1 plan', '2 act', '3 check', 'NetworkError']",
        "steps: plan -> act -> check -> (partial)",
    ],
}


def run_block(block: str, tmp_path: Path, *, prelude: str = "") -> subprocess.CompletedProcess[str]:
    script = tmp_path / "example.py"
    script.write_text(block, encoding="utf-8")
    # ``prelude`` runs first in the same interpreter, then the block as ``__main__``.
    runner = f"{prelude}\nimport runpy\nrunpy.run_path({str(script)!r}, run_name='__main__')"
    return subprocess.run(
        [sys.executable, "-W", "error", "-c", runner],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_every_expected_output_belongs_to_exactly_one_block() -> None:
    for marker in EXPECTED:
        assert sum(marker in block for block in python_blocks()) == 1, marker


@pytest.mark.parametrize("index", range(len(python_blocks())))
def test_readme_example_runs_as_written(index: int, tmp_path: Path) -> None:
    block = python_blocks()[index]
    result = run_block(block, tmp_path)
    assert result.returncode == 0, result.stderr
    for marker, lines in EXPECTED.items():
        if marker in block:
            assert result.stdout.splitlines() == lines


def test_the_recipes_run_without_httpx2(tmp_path: Path) -> None:
    # httpx2 is optional: a user who copies the recipes without it still gets them all.
    [recipes] = [block for block in python_blocks() if "def llm_request(" in block]
    result = run_block(recipes, tmp_path, prelude="import sys; sys.modules['httpx2'] = None")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == EXPECTED["def llm_request("][:-2]
