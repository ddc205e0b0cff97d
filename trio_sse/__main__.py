"""``python -m trio_sse``: the ``trio-sse`` command line."""

from ._cli import main

if __name__ == "__main__":
    raise SystemExit(main())
