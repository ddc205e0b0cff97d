"""The documentation site is part of the product: its examples run, and its API reference
holds every public name.

Every ```python block in ``docs/**/*.md`` runs as a script. What it must print is what the
page says, in the README's convention: the paragraph right after the block starts with
"prints `line one`, `line two`, then `line three`", one code span per line of output, in
order. A block followed by no such paragraph must print nothing. A block not meant to run
says so on the line before its fence, with the reason: ``<!-- not run: reason -->``.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest

import trio_sse
import trio_sse.providers
import trio_sse.testing

ROOT = Path(__file__).parent.parent
DOCS = ROOT / "docs"
PROVIDER_MODULES = ["anthropic", "openai_chat", "openai_responses", "gemini"]

_FENCE = re.compile(r"^```(\S*)(.*)$")
_NOT_RUN = re.compile(r"^<!-- not run: \S.* -->$")
_SPAN = r"`([^`]*)`"
_SEPARATOR = r"(?:,\s+then\s+|,\s+and\s+|,\s+|\s+then\s+|\s+and\s+)"
_PRINTS = re.compile(rf"^prints\s+{_SPAN}(?:{_SEPARATOR}{_SPAN})*")


@dataclass(frozen=True)
class Block:
    """One ```python block of a page: its code, and what the page says it prints."""

    page: str
    index: int
    code: str
    prints: list[str]
    run: bool


def stated_output(paragraph: str) -> list[str]:
    """The lines a "prints `a`, `b`, then `c`" paragraph states; [] for any other paragraph.

    A code span that wraps across lines in the source is one line of output, its line
    break a space (as Markdown renders it).
    """
    match = _PRINTS.match(paragraph)
    if match is None:
        return []
    return [span.replace("\n", " ") for span in re.findall(_SPAN, match.group(0))]


def page_blocks(path: Path, root: Path = DOCS) -> list[Block]:
    """The ```python blocks of one page (``root`` the docs folder), in order."""
    lines = path.read_text(encoding="utf-8").split("\n")
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        fence = _FENCE.match(lines[i])
        if fence is None:
            i += 1
            continue
        start = i
        i += 1
        while lines[i] != "```":
            i += 1
        if fence.group(1) == "python":
            before = next((line for line in reversed(lines[:start]) if line.strip()), "")
            after = i + 1
            while after < len(lines) and not lines[after].strip():
                after += 1
            end = after
            while end < len(lines) and lines[end].strip():
                end += 1
            blocks.append(
                Block(
                    page=str(path.relative_to(root)),
                    index=len(blocks),
                    code="\n".join(lines[start + 1 : i]) + "\n",
                    prints=stated_output("\n".join(lines[after:end])),
                    run=_NOT_RUN.match(before.strip()) is None,
                )
            )
        i += 1
    return blocks


def all_blocks() -> list[Block]:
    return [block for path in sorted(DOCS.rglob("*.md")) for block in page_blocks(path)]


def test_the_convention_reads_what_a_page_states() -> None:
    assert stated_output("prints `a b`, `'c'`, then `d`. Then more: `e`.") == ["a b", "'c'", "d"]
    assert stated_output("prints `x: 1` and `y`: the rest") == ["x: 1", "y"]
    assert stated_output("prints `['tick 1',\n'tick 2']` at once") == ["['tick 1', 'tick 2']"]
    assert stated_output("Then it prints `x`.") == []


def test_a_page_marks_what_it_does_not_run(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "```python\nprint(1)\n```\n\nprints `1`.\n\n"
        "<!-- not run: needs a key -->\n```python\nimport nothing\n```\n\n"
        "```console\n$ trio-sse demo\n```\n\n```python\npass\n```\n\nIt prints nothing.\n",
        encoding="utf-8",
    )
    blocks = page_blocks(page, root=tmp_path)
    assert [(b.code, b.prints, b.run) for b in blocks] == [
        ("print(1)\n", ["1"], True),
        ("import nothing\n", [], False),
        ("pass\n", [], True),
    ]


def test_every_page_with_code_is_found() -> None:
    pages = {block.page for block in all_blocks()}
    assert {"index.md", "streams.md", "errors.md", "reliability.md", "testing.md"} <= pages
    assert {"recipes.md", "providers/index.md"} <= pages
    assert sum(not block.run for block in all_blocks()) <= 3, "a block not run must be rare"


@pytest.mark.parametrize(
    "block", [pytest.param(b, id=f"{b.page}:{b.index}") for b in all_blocks() if b.run]
)
def test_docs_example_prints_what_the_page_says(block: Block, tmp_path: Path) -> None:
    script = tmp_path / "example.py"
    script.write_text(block.code, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-W", "error", str(script)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == block.prints


def reference_names(page: str) -> set[str]:
    """The names in the first column of a reference page's table of public names."""
    text = (DOCS / "reference" / page).read_text(encoding="utf-8")
    return set(re.findall(r"^\| \[`(\w+)`\]", text, flags=re.M))


@pytest.mark.parametrize(
    ("page", "package"),
    [
        ("trio_sse.md", trio_sse),
        ("providers.md", trio_sse.providers),
        ("testing.md", trio_sse.testing),
    ],
)
def test_the_reference_lists_every_public_name(page: str, package: ModuleType) -> None:
    assert reference_names(page) == set(package.__all__)
    text = (DOCS / "reference" / page).read_text(encoding="utf-8")
    assert f"::: {package.__name__}\n" in text


@pytest.mark.parametrize("module", PROVIDER_MODULES)
def test_each_provider_module_has_a_reference_page(module: str) -> None:
    text = (DOCS / "reference" / f"{module}.md").read_text(encoding="utf-8")
    assert f"::: trio_sse.providers.{module}\n" in text
    assert importlib.import_module(f"trio_sse.providers.{module}").__all__


def reference_pages() -> dict[str, str]:
    """Each reference page of the built site, and the module it documents."""
    pages = {"trio_sse": "trio_sse", "providers": "trio_sse.providers"}
    pages["testing"] = "trio_sse.testing"
    pages.update({module: f"trio_sse.providers.{module}" for module in PROVIDER_MODULES})
    return pages


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The built site: ``TRIO_SSE_DOCS_SITE`` (``nox -s docs`` sets it), else built here."""
    built = os.environ.get("TRIO_SSE_DOCS_SITE")
    if built:
        return Path(built)
    if importlib.util.find_spec("mkdocs") is None:
        pytest.skip("mkdocs is not installed: `nox -s docs` builds the site and runs this")
    out = tmp_path_factory.mktemp("site")
    subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "-d", str(out)],
        cwd=ROOT,
        check=True,
        timeout=300,
    )
    return out


@pytest.mark.parametrize(("page", "module"), list(reference_pages().items()))
def test_the_built_reference_documents_the_public_names_only(
    site: Path, page: str, module: str
) -> None:
    html = (site / "reference" / page / "index.html").read_text(encoding="utf-8")
    public = {f"{module}.{name}" for name in importlib.import_module(module).__all__}
    missing = sorted(name for name in public if f'id="{name}"' not in html)
    assert missing == []
    # The entries mkdocstrings made for the module's own members: __all__ and no more.
    entries = re.findall(rf'id="({re.escape(module)}\.\w+)" class="doc doc-heading"', html)
    assert set(entries) <= public


def load_griffe_markdown() -> ModuleType:
    """tools/griffe_markdown.py, the extension mkdocs.yml loads by path."""
    spec = importlib.util.spec_from_file_location(
        "griffe_markdown", ROOT / "tools" / "griffe_markdown.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_docstring_roles_become_code() -> None:
    to_markdown = load_griffe_markdown().to_markdown
    text = "Raises :class:`~trio_sse.StatusError` like :func:`trio_sse.pump_events`."
    assert to_markdown(text) == "Raises `StatusError` like `trio_sse.pump_events`."


def test_docstring_literal_blocks_and_doctests_are_fenced() -> None:
    to_markdown = load_griffe_markdown().to_markdown
    text = 'Use it so::\n\n    stream = await f()\n      indented\n\nThen:\n\n>>> x["a"][0]\n1\n'
    assert to_markdown(text).split("\n") == [
        "Use it so:",
        "",
        "```",
        "stream = await f()",
        "  indented",
        "```",
        "",
        "Then:",
        "",
        "```pycon",
        '>>> x["a"][0]',
        "1",
        "```",
        "",
    ]
    assert to_markdown("::\n\n    a\n\nb") == "\n```\na\n```\n\nb"


def test_docstring_args_section_ends_at_a_sentence() -> None:
    to_markdown = load_griffe_markdown().to_markdown
    text = "Args:\n    x: one,\n        more.\n    Everything else is as\n        before.\n"
    assert to_markdown(text) == (
        "Args:\n    x: one,\n        more.\n\nEverything else is as\n    before.\n"
    )
