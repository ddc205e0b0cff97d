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


@pytest.mark.parametrize("index", range(len(python_blocks())))
def test_readme_example_runs_as_written(index: int, tmp_path: Path) -> None:
    script = tmp_path / f"example_{index}.py"
    script.write_text(python_blocks()[index], encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-W", "error", str(script)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    expected = {
        0: ["greeting '' hello", "message '2' world", "2 requests"],
        2: [
            "429 2 'slow down'",
            "not a stream: application/json",
            "network: connection refused",
            "['ok'] then an event or line exceeded max_event_size=64 characters",
            "3 attempts; the last: NetworkError",
        ],
        3: ["['hi']", "2 1 StatusError"],
        4: ["text: Looking ", "text: it up.", "call: search {'q': 'trio'}", "tool_use 9 21"],
        5: ["resumed within 31 s"],
        6: [
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
    }
    if index in expected:
        assert result.stdout.splitlines() == expected[index]
