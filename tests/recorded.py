"""The recorded provider streams in ``../shared/fixtures`` (real traffic; provenance there).

One helper for every test that reads them: when the folder is not beside the checkout,
those tests skip and say why, instead of failing.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent.parent.parent / "shared" / "fixtures"


def recorded_streams() -> list[Path]:
    """Every recorded ``.sse`` file, sorted; empty when the folder is absent."""
    return sorted(FIXTURES.glob("*/*.sse"))


def recorded_params() -> list[object]:
    """``recorded_streams()`` as pytest parameters, or one that skips with the reason."""
    streams = recorded_streams()
    if not streams:
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"{FIXTURES} is absent"))]
    return [pytest.param(path, id=f"{path.parent.name}/{path.stem}") for path in streams]


def provenance_counts() -> dict[str, int]:
    """The event count ``PROVENANCE.md`` gives for each file."""
    text = (FIXTURES / "PROVENANCE.md").read_text(encoding="utf-8")
    return {
        name: int(count)
        for name, count in re.findall(r"^\| (\S+\.sse) \| \S+ \| (\d+) events \|$", text, re.M)
    }
