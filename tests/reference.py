"""The WHATWG event-stream interpretation, transcribed line by line with no optimisation.

An oracle for the property tests: slow, obvious, and written from the specification's
steps, not from trio-sse's decoder.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass, field


@dataclass
class ReferenceDecoder:
    events: list[tuple[str, str, str, int | None]] = field(default_factory=list)
    last_event_id: str = ""
    retry: int | None = None

    def decode(self, body: bytes) -> ReferenceDecoder:
        """Interpret a whole body (the end of the stream discards an unfinished event)."""
        text = body.decode("utf-8", "replace")
        if text.startswith("\ufeff"):
            text = text[1:]
        lines: list[str] = []
        line = ""
        i = 0
        while i < len(text):
            char = text[i]
            if char == "\r":
                lines.append(line)
                line = ""
                if text[i + 1 : i + 2] == "\n":
                    i += 1
            elif char == "\n":
                lines.append(line)
                line = ""
            else:
                line += char
            i += 1
        # ``line`` now holds an unterminated last line: discarded with its event.
        data = ""
        event_type = ""
        id_buffer = ""
        event_retry: int | None = None
        for line in lines:
            if line == "":
                self.last_event_id = id_buffer
                if data == "":
                    event_type = ""
                    event_retry = None
                    continue
                if data.endswith("\n"):
                    data = data[:-1]
                self.events.append((event_type or "message", data, id_buffer, event_retry))
                data = event_type = ""
                event_retry = None
                continue
            if line.startswith(":"):
                continue
            if ":" in line:
                name, value = line.split(":", 1)
                if value.startswith(" "):
                    value = value[1:]
            else:
                name, value = line, ""
            if name == "event":
                event_type = value
            elif name == "data":
                data += value + "\n"
            elif name == "id":
                if "\0" not in value:
                    id_buffer = value
            elif name == "retry" and value and all(c in "0123456789" for c in value):
                with suppress(ValueError):  # beyond int()'s digit limit: no usable time
                    self.retry = event_retry = int(value)
        return self
