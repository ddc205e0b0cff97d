"""What every provider module's request side does the same way.

The four modules' ``user_turn``, ``tool_results_turn`` and ``tool_declarations`` share
these rules, so that one agent loop behaves the same against each provider:

- a tool output is a ``str``, a Mapping or an :class:`Exception`; anything else (a
  ``KeyboardInterrupt``, a number) is a :class:`TypeError`;
- an exception is written ``"TypeName: message"`` (``"TypeName"`` when its message is
  empty);
- a :class:`~trio_sse.providers.ToolCall` whose ``raw`` is another provider's JSON is a
  :class:`ValueError`: its id means nothing to this provider;
- a tool with an empty schema declares ``{"type": "object", "properties": {}}``
  (Anthropic refuses ``{}``).

Synchronous, no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, cast

from ._vocabulary import ToolCall, ToolOutput

__all__ = ["EMPTY_SCHEMA", "checked_output", "error_text", "own_call", "plain", "schema"]

EMPTY_SCHEMA: Mapping[str, Any] = {"type": "object", "properties": {}}


def error_text(error: Exception) -> str:
    """``"TypeName: message"``, or ``"TypeName"`` when the message is empty."""
    detail = str(error)
    return f"{type(error).__name__}: {detail}" if detail else type(error).__name__


def checked_output(output: object) -> ToolOutput:
    """``output`` if it is a tool output (text, a Mapping, an Exception).

    Raises:
        TypeError: anything else, a ``BaseException`` that is not an ``Exception``
            (``KeyboardInterrupt``, ``trio.Cancelled``) included: those are not a tool's
            answer, and must not be sent as one.
    """
    if isinstance(output, str | Exception):
        return output
    if isinstance(output, Mapping):
        return cast("Mapping[str, Any]", output)
    raise TypeError(
        "a tool output is text, a mapping or an Exception,"
        f" not {type(output).__module__}.{type(output).__qualname__}"
    )


def own_call(call: ToolCall, provider: str, belongs: Callable[[ToolCall], bool]) -> None:
    """Refuse a call whose ``raw`` is another provider's JSON (an empty ``raw``, a call
    built by hand, is anyone's).

    Raises:
        ValueError: ``belongs(call)`` is false.
    """
    if call.raw and not belongs(call):
        keys = ", ".join(sorted(map(str, call.raw))[:6])
        raise ValueError(
            f"tool call {call.id!r} ({call.name}) is not a {provider} call: its raw JSON"
            f" ({{{keys}}}) is another provider's; answer it with that provider's module"
        )


def schema(parameters: Mapping[str, Any]) -> dict[str, Any]:
    """A tool's parameters as a fresh JSON Schema; an empty one as an object schema."""
    return cast("dict[str, Any]", plain(parameters or EMPTY_SCHEMA))


def plain(value: object) -> Any:
    """``value`` as fresh plain JSON values: every Mapping a dict, every sequence a list."""
    if isinstance(value, Mapping):
        mapping = cast("Mapping[object, object]", value)
        return {str(key): plain(item) for key, item in mapping.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in cast("Iterable[object]", value)]
    return value
