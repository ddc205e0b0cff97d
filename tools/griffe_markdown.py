"""A griffe extension: the docstrings' reST markup, read as Markdown by mkdocstrings.

trio-sse's docstrings use a little reST, because it reads well in ``help()`` and editors:
roles (``:class:`~trio_sse.StatusError```), literal blocks after ``::``, and doctests.
Markdown would show the roles verbatim, and read a doctest's ``x["a"][0]`` as a link.
:func:`to_markdown` rewrites each docstring before griffe parses it:

- a role becomes inline code of its target (``~`` keeps the last name only);
- ``text::`` becomes ``text:`` (a lone ``::`` goes), and the indented block after it a
  fenced block;
- a run of doctest lines (``>>>``, ``...`` and the output, up to a blank line) is fenced
  as ``pycon``;
- a sentence closing an ``Args:`` section ("Everything else is as ... takes it") that is
  no ``name: description`` item becomes a paragraph after the section.

``mkdocs.yml`` loads it (``extensions: [tools/griffe_markdown.py:ReSTToMarkdown]``); the
code is not touched. ``tests/test_docs_site.py`` tests :func:`to_markdown`, without griffe.
"""

from __future__ import annotations

import re
from typing import Any

_ROLE = re.compile(r":(?:py:)?(?:func|class|meth|attr|mod|exc|data|obj|const):`(~?)([^`]+)`")
_ARGS = re.compile(r"^( *)(?:Args|Arguments|Parameters|Keyword Args):$")
_ARG_ITEM = re.compile(r"^\*{0,2}\w+(?: \([^)]*\))?:")


def _role(match: re.Match[str]) -> str:
    target = match.group(2)
    return f"`{target.rsplit('.', 1)[-1] if match.group(1) else target}`"


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _doctest(lines: list[str], i: int, out: list[str]) -> int:
    """Fence the doctest starting at ``lines[i]``; return the index after it."""
    pad = " " * _indent(lines[i])
    out.append(f"{pad}```pycon")
    while i < len(lines) and lines[i].strip():
        out.append(lines[i])
        i += 1
    out.append(f"{pad}```")
    return i


def _literal_block(lines: list[str], i: int, out: list[str]) -> int:
    """``lines[i]`` ends with ``::``: keep its text, fence the indented block after it."""
    base = _indent(lines[i])
    head = lines[i].rstrip()[:-2].rstrip()
    if head.strip():
        out.append(head + ":")
    i += 1
    block: list[str] = []
    while i < len(lines) and (not lines[i].strip() or _indent(lines[i]) > base):
        block.append(lines[i])
        i += 1
    while block and not block[-1].strip():
        block.pop()
    while block and not block[0].strip():
        block.pop(0)
    if block:
        cut = min(_indent(line) for line in block if line.strip())
        pad = " " * base
        out.extend(["", f"{pad}```"])
        out.extend(pad + line[cut:] if line.strip() else "" for line in block)
        out.extend([f"{pad}```", ""])
    return i


def _closing_sentence(lines: list[str], i: int, out: list[str]) -> int:
    """``lines[i]`` is an item line of an Args section that names no parameter: move it,
    and the lines that continue it, out of the section, as a paragraph."""
    indent = _indent(lines[i])
    out.extend(["", lines[i][4:]])
    i += 1
    while i < len(lines) and lines[i].strip() and _indent(lines[i]) > indent:
        out.append(lines[i][4:])
        i += 1
    return i


def to_markdown(text: str) -> str:
    """``text`` (a docstring, already dedented) with its reST markup as Markdown."""
    lines = _ROLE.sub(_role, text).split("\n")
    out: list[str] = []
    args_indent: int | None = None  # inside an Args section: the indent of its items
    i = 0
    while i < len(lines):
        line, stripped = lines[i], lines[i].strip()
        if args_indent is not None and stripped and _indent(line) < args_indent:
            args_indent = None
        if (match := _ARGS.match(line.rstrip())) is not None:
            args_indent = len(match.group(1)) + 4
        elif (
            args_indent is not None
            and stripped
            and _indent(line) == args_indent
            and not _ARG_ITEM.match(stripped)
        ):
            args_indent = None
            i = _closing_sentence(lines, i, out)
            continue
        if stripped.startswith(">>>"):
            i = _doctest(lines, i, out)
        elif stripped.endswith("::") and not stripped.startswith(".."):
            i = _literal_block(lines, i, out)
        else:
            out.append(line)
            i += 1
    return "\n".join(out)


try:
    import griffe
except ImportError:  # the tests use to_markdown without the documentation's tools
    pass
else:

    class ReSTToMarkdown(griffe.Extension):
        """Rewrites every docstring with :func:`to_markdown` as griffe loads it."""

        def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
            if obj.docstring is not None:
                obj.docstring.value = to_markdown(obj.docstring.value)
