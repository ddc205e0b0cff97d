"""The noxfile never downloads an interpreter, and a missing one fails the run.

A run that skipped a Python used to exit 0: nox skips a session whose interpreter it
cannot find unless told otherwise, so ``nox`` on a machine without python3.13 was green.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_a_missing_interpreter_fails_the_run_and_nothing_is_downloaded(tmp_path: Path) -> None:
    current = f"{sys.version_info[0]}.{sys.version_info[1]}"
    version = "3.13" if current != "3.13" else "3.12"  # nox would use its own interpreter
    empty = tmp_path / "bin"
    empty.mkdir()
    noxfile, envdir = str(ROOT / "noxfile.py"), str(tmp_path / "envs")
    result = subprocess.run(
        [sys.executable, "-m", "nox", "-f", noxfile, "--envdir", envdir, "-s", f"tests-{version}"],
        env={"PATH": str(empty), "UV_PYTHON_DOWNLOADS": "never", "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=ROOT,
    )
    assert result.returncode != 0, result.stderr
    assert f"Python interpreter {version} not found" in result.stderr
    assert "failed" in result.stderr
    assert "skipped" not in result.stderr
