"""A JSON object assembled from the fragments a Chat Completions stream sends of it.

The rule, for each field of a fragment (the SDK's ``accumulate_delta``, with two fixes):

- a string under one of :data:`STREAMED` (``content``, ``arguments``, ``reasoning`` ...)
  is joined to what came before;
- any other scalar is set by the first fragment that gives it a non-empty value: servers
  repeat ids, types, names and roles in every fragment, and joining them would give
  ``"call_0call_0"`` (the SDK's mistake);
- ``null`` never wipes a value (a field first seen as ``null`` is kept as ``null``);
- objects merge field by field, by the same rule;
- an array whose entries are all objects with an integer ``index`` merges entry by entry,
  keyed by ``index`` (OpenRouter's ``reasoning_details``), in order of first appearance;
  any other array is extended.

Joining is linear: the parts are kept and joined only when :meth:`Fragments.value` takes
a snapshot.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeAlias, cast

from .._base import logger
from .._json import as_array

__all__ = ["STREAMED", "Fragments"]

STREAMED = frozenset(
    {
        "content",
        "refusal",
        "reasoning_content",
        "reasoning",
        "arguments",  # function.arguments, function_call.arguments
        "input",  # custom.input
        "text",  # reasoning_details[] of type reasoning.text
        "summary",  # reasoning_details[] of type reasoning.summary
        "data",  # reasoning_details[] of type reasoning.encrypted, audio.data
        "transcript",  # audio.transcript
        "thinking",  # LiteLLM's thinking_blocks[]
    }
)
"""The fields whose string values are streamed piece by piece, and joined."""


class _Parts:
    """A streamed string: its pieces, joined on demand."""

    __slots__ = ("parts",)

    def __init__(self, first: str) -> None:
        self.parts = [first]

    def value(self) -> str:
        if len(self.parts) > 1:
            self.parts = ["".join(self.parts)]
        return self.parts[0]


class _Indexed:
    """An array of objects merged by their ``index``."""

    __slots__ = ("entries",)

    def __init__(self) -> None:
        self.entries: dict[int, Fragments] = {}

    def merge(self, items: list[object]) -> None:
        for item in items:
            entry = cast("dict[str, Any]", item)
            self.entries.setdefault(entry["index"], Fragments()).merge(entry)

    def value(self) -> list[Any]:
        return [entry.value() for entry in self.entries.values()]


_State: TypeAlias = "_Parts | _Indexed | Fragments | list[Any] | str | int | float | bool | None"


def _indexed(items: list[Any]) -> bool:
    return bool(items) and all(_index(item) is not None for item in items)


def _index(item: object) -> int | None:
    if not isinstance(item, dict):
        return None
    index = cast("dict[str, Any]", item).get("index")
    return index if isinstance(index, int) and not isinstance(index, bool) else None


class Fragments:
    """One JSON object, merged from its fragments in the order they came."""

    __slots__ = ("_fields",)

    def __init__(self) -> None:
        self._fields: dict[str, _State] = {}

    def __bool__(self) -> bool:
        return bool(self._fields)

    def __contains__(self, key: str) -> bool:
        return key in self._fields

    def merge(self, fragment: Mapping[str, Any]) -> None:
        """Merge one fragment (a parsed JSON object; it is not kept, only its values)."""
        for key, value in fragment.items():
            self.merge_field(key, value)

    def merge_field(self, key: str, value: Any) -> None:
        """Merge one field of a fragment."""
        fields = self._fields
        current = fields.get(key)
        if value is None:
            fields.setdefault(key, None)
        elif isinstance(value, str) and key in STREAMED:
            if isinstance(current, _Parts):
                if value:
                    current.parts.append(value)
            elif current is None or current == "":
                fields[key] = _Parts(value)
            else:
                self._clash(key, current, value)
        elif isinstance(value, dict):
            value = cast("dict[str, Any]", value)
            if current is None:
                current = fields[key] = Fragments()
            if isinstance(current, Fragments):
                current.merge(value)
            else:
                self._clash(key, current, value)
        elif isinstance(value, list):
            items = as_array(cast("object", value))
            if current is None:
                current = fields[key] = _Indexed() if _indexed(items) else []
            if isinstance(current, _Indexed) and (not items or _indexed(items)):
                current.merge(items)
            elif isinstance(current, list):
                current.extend(items)
            else:
                self._clash(key, current, items)
        elif current is None or current == "":
            fields[key] = cast("str | int | float | bool", value)
        elif isinstance(current, _Parts | Fragments | _Indexed | list):
            self._clash(key, current, value)

    @staticmethod
    def _clash(key: str, current: object, value: object) -> None:
        logger.debug(
            "openai-chat: %s: a %s after a %s, ignored",
            key,
            type(value).__name__,
            type(current).__name__,
        )

    def get(self, key: str) -> Any:
        """The value of ``key`` so far (``None`` if absent), as :meth:`value` gives it."""
        return _plain(self._fields.get(key))

    def text(self, key: str) -> str:
        """The string at ``key`` so far; ``""`` if absent or not a string."""
        value = self.get(key)
        return value if isinstance(value, str) else ""

    def value(self) -> dict[str, Any]:
        """A snapshot: fresh plain JSON (dicts, lists, strings, numbers, bools, None)."""
        return {key: _plain(state) for key, state in self._fields.items()}


def _plain(state: _State) -> Any:
    if isinstance(state, _Parts | _Indexed | Fragments):
        return state.value()
    if isinstance(state, list):
        return list(state)
    return state
