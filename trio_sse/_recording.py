"""A recorded HTTP response: the versioned file ``trio-sse record`` writes.

A recording is a text head, then the body exactly as it was received::

    TRIO-SSE-RECORDING 1
    {"request": {...}, "response": {...}, "chunks": [[0.0, 139], [0.061, 98], ...]}
    <the body's bytes>

The first line names the format and its version (this module reads version 1). The
second is one line of JSON:

- ``request``: ``method`` and ``url``, the URL without secrets (no user or password, and
  the values of query parameters that carry keys, such as Gemini's ``key``, replaced by
  ``REDACTED``); no request header is kept, since they carry the keys;
- ``response``: ``status`` and ``headers`` (name-value pairs, in order), without the
  headers that may carry credentials (cookies, ``authorization``, and any whose name
  says ``api-key``, ``secret``, ``auth`` or ends in ``token``) and without the framing ones
  (``content-length``, ``transfer-encoding``, ``connection``), which a replay sets anew;
- ``chunks``: one ``[seconds, length]`` pair per chunk as it arrived: seconds after the
  response head, and its length in bytes. The body is the chunks, in order, back to back.

Everything after the JSON line's LF is the body; its length must be the chunks' sum. A
compressed body stays compressed, with its ``content-encoding`` header.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, cast
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = ["FORMAT_LINE", "Recording", "RecordingError", "scrub_headers", "scrub_url"]

FORMAT_LINE: Final = b"TRIO-SSE-RECORDING 1\n"
_SECRET_QUERY: Final = re.compile(r"key|token|secret|password|sig|auth|code", re.I)
"""Query parameters whose values are replaced: broad, since the name stays."""
_SECRET_HEADER: Final = re.compile(
    r"^(set-cookie|cookie|authorization|proxy-authorization)$|api-?key|secret|(^|-)token$"
    r"|(^|-)auth(-|$)",
    re.I,
)
"""Response headers dropped: narrow, so ``anthropic-ratelimit-tokens-remaining`` stays."""
_FRAMING: Final = frozenset({"content-length", "transfer-encoding", "connection", "keep-alive"})


class RecordingError(ValueError):
    """A file that is not a recording this version can read, with the reason."""


@dataclass(frozen=True, slots=True)
class Recording:
    """One response as it arrived: what was asked, the head, and the timed body.

    Attributes:
        method: the request's method.
        url: the request's URL, secrets removed (see :func:`scrub_url`).
        status: the response status.
        headers: the response headers, credentials and framing removed, in order.
        chunks: ``(seconds, data)`` for each chunk of the body: when it arrived, counted
            from the response head, and its bytes.
    """

    method: str
    url: str
    status: int
    headers: tuple[tuple[str, str], ...]
    chunks: tuple[tuple[float, bytes], ...]

    @property
    def body(self) -> bytes:
        """The whole body, as received."""
        return b"".join(data for _, data in self.chunks)

    @property
    def duration(self) -> float:
        """Seconds from the response head to the last chunk."""
        return self.chunks[-1][0] if self.chunks else 0.0

    def to_bytes(self) -> bytes:
        """The recording in its file format."""
        head = {
            "request": {"method": self.method, "url": self.url},
            "response": {"status": self.status, "headers": [list(p) for p in self.headers]},
            "chunks": [[round(at, 6), len(data)] for at, data in self.chunks],
        }
        line = json.dumps(head, ensure_ascii=True, separators=(",", ":")).encode()
        return FORMAT_LINE + line + b"\n" + self.body

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the recording to ``path`` (replaced whole: written aside, then renamed)."""
        aside = f"{os.fspath(path)}.partial"
        with open(aside, "wb") as file:
            file.write(self.to_bytes())
        os.replace(aside, path)

    @classmethod
    def from_bytes(cls, data: bytes) -> Recording:
        """Read a recording from its file format.

        Raises:
            RecordingError: not a recording, another version, or inconsistent.
        """
        if not data.startswith(b"TRIO-SSE-RECORDING "):
            raise RecordingError("not a trio-sse recording (no TRIO-SSE-RECORDING line)")
        if not data.startswith(FORMAT_LINE):
            found = data.split(b"\n", 1)[0].decode("ascii", "replace")
            raise RecordingError(f"{found!r}: this version reads version 1 only")
        end = data.find(b"\n", len(FORMAT_LINE))
        if end < 0:
            raise RecordingError("the head line is not terminated")
        try:
            head = cast("dict[str, Any]", json.loads(data[len(FORMAT_LINE) : end]))
            request, response = head["request"], head["response"]
            headers = tuple((str(k), str(v)) for k, v in response["headers"])
            sizes = [(float(at), int(size)) for at, size in head["chunks"]]
            method, url, status = str(request["method"]), str(request["url"]), response["status"]
        except (ValueError, KeyError, TypeError) as exc:
            raise RecordingError(f"the head is not what version 1 writes: {exc!r}") from exc
        if not isinstance(status, int):
            raise RecordingError(f"the status is not a number: {status!r}")
        if not all(0 <= at < math.inf and size >= 0 for at, size in sizes):
            raise RecordingError("a chunk's time or size is negative or not a finite number")
        body = data[end + 1 :]
        if sum(size for _, size in sizes) != len(body):
            raise RecordingError(
                f"the chunks add up to {sum(s for _, s in sizes)} bytes, the body has {len(body)}"
            )
        chunks: list[tuple[float, bytes]] = []
        offset = 0
        for at, size in sizes:
            chunks.append((at, body[offset : offset + size]))
            offset += size
        return cls(method, url, status, headers, tuple(chunks))

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Recording:
        """Read the recording at ``path``.

        Raises:
            OSError: the file cannot be read.
            RecordingError: it is not a recording this version reads.
        """
        with open(path, "rb") as file:
            return cls.from_bytes(file.read())


def scrub_url(url: str) -> str:
    """``url`` without secrets: no user or password; key-like query values ``REDACTED``."""
    parts = urlsplit(url)
    netloc = parts.netloc.rpartition("@")[2]
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    if any(_SECRET_QUERY.search(name) for name, _ in pairs):
        query = urlencode(
            [(name, "REDACTED" if _SECRET_QUERY.search(name) else value) for name, value in pairs]
        )
    else:
        query = parts.query
    return urlunsplit(parts._replace(netloc=netloc, query=query))


def scrub_headers(
    headers: Mapping[str, str] | Iterable[tuple[str, str]],
) -> tuple[tuple[str, str], ...]:
    """Response headers fit to keep: credentials and framing removed, order kept."""
    pairs: Sequence[tuple[str, str]] = (
        list(cast("Mapping[str, str]", headers).items())
        if isinstance(headers, Mapping)
        else list(headers)
    )
    return tuple(
        (name.lower(), value)
        for name, value in pairs
        if name.lower() not in _FRAMING and not _SECRET_HEADER.search(name)
    )
