"""Release readiness: one version, a changelog that names it, CI that runs what nox runs."""

from __future__ import annotations

import re
from pathlib import Path

import trio_sse

ROOT = Path(__file__).resolve().parent.parent


def test_the_version_is_written_in_one_place() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert re.search(r'^dynamic = \["version"\]', pyproject, flags=re.M)
    assert not re.search(r"^version\s*=", pyproject, flags=re.M)
    assert 'path = "trio_sse/__init__.py"' in pyproject
    assert re.fullmatch(r"\d+\.\d+\.\d+", trio_sse.__version__)


def test_the_changelog_lists_this_version_as_its_latest_release() -> None:
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    releases = re.findall(r"^## \[(\d+\.\d+\.\d+)\] - \d{4}-\d{2}-\d{2}$", changelog, flags=re.M)
    assert releases[0] == trio_sse.__version__
    first = changelog.index(f"## [{releases[0]}]")
    assert changelog.index("### Added", first) < len(changelog)


def test_the_ci_workflow_runs_every_default_nox_session_on_every_python() -> None:
    noxfile = (ROOT / "noxfile.py").read_text(encoding="utf-8")
    listed = re.search(r"nox\.options\.sessions = \[(.*?)\]", noxfile, flags=re.S)
    assert listed is not None
    sessions = set(re.findall(r'"(\w+)"', listed.group(1)))
    pythons = re.search(r"^PYTHONS = \[(.*?)\]", noxfile, flags=re.M)
    assert pythons is not None
    workflow = (ROOT / ".github" / "workflows" / "ci.yml").read_text(encoding="utf-8")
    matrix = re.search(r"python: \[(.*?)\]", workflow)
    assert matrix is not None
    assert set(re.findall(r'"([\d.]+)"', matrix.group(1))) == set(
        re.findall(r'"([\d.]+)"', pythons.group(1))
    )
    assert "nox -s tests-${{ matrix.python }}" in workflow
    others = re.search(r"session: \[(.*?)\]", workflow)
    assert others is not None
    assert {"tests", *(s.strip() for s in others.group(1).split(","))} == sessions
