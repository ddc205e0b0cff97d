"""Every check trio-sse runs, locally and in CI: ``nox`` runs the default sessions.

The four Pythons must be on PATH as python3.10 ... python3.13: nox never downloads one
(there may be no network), and a session whose Python is missing fails the run, locally
as in CI: a run that skipped a Python is not a green run.
"""

from __future__ import annotations

import os
import shutil

import nox

nox.needs_version = ">=2025.2.9"
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_venv = "yes"
nox.options.sessions = [
    "tests",
    "tests_slow_path",
    "differential",
    "lint",
    "typecheck",
    "package",
    "docs",
]
nox.options.download_python = "never"
nox.options.error_on_missing_interpreters = True

PYTHONS = ["3.10", "3.11", "3.12", "3.13"]
PYPROJECT = nox.project.load_toml("pyproject.toml")


def install(session: nox.Session, *groups: str) -> None:
    """The package itself, plus the named PEP 735 dependency groups."""
    requirements = [
        req for group in groups for req in nox.project.dependency_groups(PYPROJECT, group)
    ]
    session.install("-e", ".", *requirements)


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """The test suite (pytest, pytest-trio, hypothesis, a real server on 127.0.0.1).

    The differential tests against the official SDKs have a session of their own.
    """
    install(session, "test")
    session.run("pytest", "--ignore=tests/differential", *session.posargs)


@nox.session(python="3.12")
def tests_slow_path(session: nox.Session) -> None:
    """The test suite with the direct body path forced off (``TRIO_SSE_DIRECT_BODY=0``):
    every body through httpx's own iterators, as on a client the direct path does not know."""
    install(session, "test")
    session.run(
        "pytest", "--ignore=tests/differential", *session.posargs, env={"TRIO_SSE_DIRECT_BODY": "0"}
    )


@nox.session(python="3.12")
def differential(session: nox.Session) -> None:
    """The provider interpreters against the official anthropic and openai SDKs, offline."""
    install(session, "test", "differential")
    session.run("pytest", "tests/differential", *session.posargs)


@nox.session(python="3.12")
def lint(session: nox.Session) -> None:
    """ruff: formatting, then lint rules including ASYNC."""
    session.install(*nox.project.dependency_groups(PYPROJECT, "lint"))
    session.run("ruff", "format", "--check", ".")
    session.run("ruff", "check", ".")


@nox.session(python="3.12")
def typecheck(session: nox.Session) -> None:
    """mypy --strict and pyright (strict) against trio's own inline types.

    trio-typing is refused: its stubs shadow trio's inline hints (``trio.TaskStatus`` is
    "not defined" under them) and its mypy plugin crashes current mypy. See the README.
    """
    install(session, "typecheck", "test", "differential")
    found = session.run(
        "python",
        "-c",
        "import importlib.util as u; print(bool(u.find_spec('trio_typing')))",
        silent=True,
    )
    if found is None or found.strip() != "False":
        session.error("trio-typing is installed: it breaks mypy --strict (see README, Typing)")
    session.run("mypy", "--strict")
    session.run("pyright", "--pythonpath", os.path.join(session.virtualenv.bin, "python"))


@nox.session(python="3.12")
def package(session: nox.Session) -> None:
    """Build the sdist and wheel, check them with twine, install the wheel alone, run the demo."""
    session.install(*nox.project.dependency_groups(PYPROJECT, "package"))
    tmp = os.path.abspath(session.create_tmp())  # kept between runs: emptied here
    dist, venv = os.path.join(tmp, "dist"), os.path.join(tmp, "venv")
    for leftover in (dist, venv):  # the last run's distributions and venv
        shutil.rmtree(leftover, ignore_errors=True)
    session.run("python", "-m", "build", "--outdir", dist)
    built = sorted(os.path.join(dist, name) for name in os.listdir(dist))
    session.run("twine", "check", "--strict", *built)
    wheel = next(path for path in built if path.endswith(".whl"))
    session.run("python", "-m", "venv", venv)
    python = os.path.join(venv, "bin", "python")
    session.run(python, "-m", "pip", "install", "--quiet", wheel, external=True)
    # Imported from outside the checkout, so the wheel is what gets tested.
    session.chdir(tmp)
    check = "import trio_sse, trio_sse.providers, trio_sse.testing; print(trio_sse.__version__)"
    session.run(python, "-c", check, external=True)
    session.run(os.path.join(venv, "bin", "trio-sse"), "demo", external=True)


@nox.session(python="3.12")
def docs(session: nox.Session) -> None:
    """The documentation site, built with ``mkdocs build --strict`` (a broken link, a missing
    anchor or a reference that does not resolve fails), then checked: every public name has
    its entry in the built API reference, and every example in the pages prints what it says.
    """
    install(session, "docs", "test")
    site = os.path.join(os.path.abspath(session.create_tmp()), "site")
    env = {"NO_MKDOCS_2_WARNING": "1"}  # material's notice about its own future, not ours
    session.run("mkdocs", "build", "--strict", "--site-dir", site, env=env)
    session.run("pytest", "tests/test_docs_site.py", env={"TRIO_SSE_DOCS_SITE": site})


@nox.session(python="3.12")
def fuzz(session: nox.Session) -> None:
    """The property tests and hostile-server tests with 100x the examples, freshly random.

    Not in the default run (CI runs the same tests seeded, in bounded time):
    ``nox -s fuzz``, or ``nox -s fuzz -- -k decoder`` for part of it.
    """
    install(session, "test")
    session.run(
        "pytest",
        "tests/test_decoder.py",
        "tests/test_inflate.py",
        "tests/test_retry.py",
        "tests/test_retry_wait.py",
        *session.posargs,
        env={"HYPOTHESIS_PROFILE": "fuzz"},
    )


@nox.session(python="3.12")
def bench(session: nox.Session) -> None:
    """The benchmarks: the workloads users have (a local inference server, TLS, 1,000 paced
    streams plain and TLS, idle streams), then the synthetic ones (decoder, loopback pipeline
    and its profile, chunk framing, many streams, backpressure, cancellation), then the
    README's plot from their results."""
    install(session, "bench")
    results = "bench/results"
    session.run("python", "bench/local_inference.py", "--json", f"{results}/local_inference.json")
    session.run("python", "bench/tls.py", "--json", f"{results}/tls.json")
    session.run("python", "bench/paced.py", "--json", f"{results}/paced.json")
    session.run("python", "bench/paced.py", "--tls", "--json", f"{results}/paced_tls.json")
    # 1,000 streams can saturate a small machine's client core (paced.py flags it, and every
    # client converges on the same CPU per event): the same at loads such a machine carries.
    session.run("python", "bench/paced.py", "--streams", "500",
                "--json", f"{results}/paced_500.json")  # fmt: skip
    session.run("python", "bench/paced.py", "--tls", "--streams", "300",
                "--json", f"{results}/paced_tls_300.json")  # fmt: skip
    session.run("python", "bench/idle.py", "--json", f"{results}/idle.json")
    session.run("python", "bench/decoder.py", *session.posargs)
    session.run("python", "bench/pipeline.py", "--json", f"{results}/pipeline.json")
    session.run("python", "bench/profile.py")
    session.run("python", "bench/chunk_framing.py")
    session.run("python", "bench/scale.py", "--json", f"{results}/scale.json")
    session.run("python", "bench/backpressure.py", "--json", f"{results}/backpressure.json")
    session.run("python", "bench/cancel_latency.py")
    session.run("python", "bench/plot.py", results, "docs/performance.png")


@nox.session(python="3.12")
def soak(session: nox.Session) -> None:
    """Reconnection soak, a server dropping connections: ``nox -s soak -- --minutes 10``."""
    install(session)
    session.run("python", "bench/soak.py", *session.posargs)
