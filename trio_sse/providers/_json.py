"""Reading an event's JSON: the typed readers every interpreter uses.

Two kinds of reader:

- strict ones (``get_*``, :func:`need`, :func:`objects`), for what the format promises: a
  value of the wrong JSON type raises :class:`Malformed`, which the interpreter's ``feed``
  turns into a :class:`~trio_sse.providers.MalformedEventError` naming the event;
- lenient ones (``as_*``), for what may be absent or of another shape: a value of the
  wrong type reads as empty (``{}``, ``[]``, ``""``, ``None``).

Neither counts a JSON ``true`` as an integer.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, TypeVar, cast

__all__ = [
    "Malformed",
    "as_array",
    "as_int",
    "as_object",
    "as_string",
    "compact",
    "get_int",
    "get_list",
    "get_object",
    "get_str",
    "load_object",
    "need",
    "objects",
    "parse_arguments",
]

_T = TypeVar("_T")


class Malformed(Exception):
    """An event broke its format (its JSON or its grammar); ``feed`` makes it a
    MalformedEventError whose ``reason`` is this exception's message."""


def load_object(data: str) -> dict[str, Any]:
    """An event's data parsed as a JSON object.

    Raises:
        Malformed: the data is not JSON, or not an object.
    """
    try:
        value = json.loads(data)
    except (ValueError, RecursionError) as exc:  # RecursionError: nesting too deep to parse
        raise Malformed(f"{type(exc).__name__}: {exc}") from exc
    if not isinstance(value, dict):
        raise Malformed(f"expected a JSON object, got {type(value).__name__}")
    return cast("dict[str, Any]", value)


# --- strict ---------------------------------------------------------------------------


def _field(obj: Mapping[str, Any], key: str, kind: type[object], where: str) -> Any:
    value = obj.get(key)
    if value is None or (isinstance(value, kind) and not isinstance(value, bool)):
        return value
    raise Malformed(f"{where}.{key} is {type(value).__name__}, expected {kind.__name__}")


def get_str(obj: Mapping[str, Any], key: str, where: str) -> str | None:
    """``obj[key]``, a string or absent (``None``); ``where`` names ``obj`` in the error."""
    return cast("str | None", _field(obj, key, str, where))


def get_int(obj: Mapping[str, Any], key: str, where: str) -> int | None:
    """``obj[key]``, an integer or absent (``None``)."""
    return cast("int | None", _field(obj, key, int, where))


def get_object(obj: Mapping[str, Any], key: str, where: str) -> dict[str, Any] | None:
    """``obj[key]``, a JSON object or absent (``None``)."""
    return cast("dict[str, Any] | None", _field(obj, key, dict, where))


def get_list(obj: Mapping[str, Any], key: str, where: str) -> list[Any]:
    """``obj[key]``, a JSON array; ``[]`` if absent."""
    return cast("list[Any] | None", _field(obj, key, list, where)) or []


def need(value: _T | None, what: str) -> _T:
    """``value``, which the format requires: ``None`` raises ``Malformed("{what} is missing")``."""
    if value is None:
        raise Malformed(f"{what} is missing")
    return value


def objects(values: Iterable[Any], item: str) -> Iterator[dict[str, Any]]:
    """``values``, each one checked, as it comes, to be a JSON object (``item`` names one)."""
    for value in values:
        if not isinstance(value, dict):
            raise Malformed(f"a {item} is {type(value).__name__}, expected dict")
        yield cast("dict[str, Any]", value)


# --- lenient --------------------------------------------------------------------------


def as_object(value: object) -> dict[str, Any]:
    """``value`` if it is a JSON object, else ``{}``."""
    return cast("dict[str, Any]", value) if isinstance(value, dict) else {}


def as_array(value: object) -> list[object]:
    """``value`` if it is a JSON array, else ``[]``."""
    return cast("list[object]", value) if isinstance(value, list) else []


def as_string(value: object) -> str:
    """``value`` if it is a string, else ``""``."""
    return value if isinstance(value, str) else ""


def as_int(value: object) -> int | None:
    """``value`` if it is an integer, else ``None``."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


# --- tool arguments -------------------------------------------------------------------


def parse_arguments(raw: str) -> dict[str, Any]:
    """Tool arguments from their raw text: ``{}`` when it is empty, cut off, free-form or
    any JSON but an object (the caller keeps ``raw`` as ``raw_arguments``)."""
    try:
        return as_object(json.loads(raw)) if raw.strip() else {}
    except (ValueError, RecursionError):
        return {}


def compact(value: object) -> str:
    """``value`` as compact JSON text, non-ASCII kept (how arguments given whole are written)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
