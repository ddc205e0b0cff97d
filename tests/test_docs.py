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

from .test_docs_site import page_blocks

README = Path(__file__).parent.parent / "README.md"
RECIPES = README.parent / "docs" / "recipes.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


def test_the_readme_fits_on_a_few_screens() -> None:
    assert len(README.read_text(encoding="utf-8").splitlines()) <= 250


def test_the_public_names_are_ordered() -> None:
    assert trio_sse.__all__ == sorted(trio_sse.__all__, key=lambda name: (not name.isupper(), name))


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
    # The other pages' blocks run, with their outputs checked, in tests/test_docs_site.py.
    'BODY = b"event: greeting': ["greeting '' hello", "message '2' world", "2 requests"],
    "def agent(client": [
        f"{provider}: It is 21 °C in Paris. (3 entries in the last request)"
        for provider in ("anthropic", "openai-chat", "openai-responses", "gemini")
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
    [recipes] = [block for block in page_blocks(RECIPES) if "def llm_request(" in block.code]
    result = run_block(recipes.code, tmp_path, prelude="import sys; sys.modules['httpx2'] = None")
    assert result.returncode == 0, result.stderr
    assert recipes.prints[-2:] == ["httpx2: tick 1", "httpx2: tick 2"]
    assert result.stdout.splitlines() == recipes.prints[:-2]


def test_every_link_of_the_readme_into_the_checkout_resolves() -> None:
    text = README.read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text)
    local = [target for target in targets if "://" not in target]
    assert local  # the README links into the documentation
    missing = [target for target in local if not (README.parent / target).exists()]
    assert missing == []
    assert "](#" not in text  # the README's own sections are few: no anchors to rot
