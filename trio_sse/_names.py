"""Public names shown as their package's own, as trio does."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import FunctionType

__all__ = ["claim_public_names"]


def claim_public_names(namespace: Mapping[str, object], names: Iterable[str]) -> None:
    """Set ``__module__`` of the classes and functions ``names`` that live in a private
    module of the package ``namespace`` belongs to, to the package: reprs, tracebacks
    and docs then show ``trio_sse.EventStream``, not ``trio_sse._event_stream.EventStream``.
    """
    package = str(namespace["__name__"])
    for name in names:
        obj = namespace[name]
        if isinstance(obj, type | FunctionType) and obj.__module__.startswith(package + "._"):
            obj.__module__ = package
