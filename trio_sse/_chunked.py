"""Batched HTTP/1.1 chunk framing: the data of every complete chunk in a buffer, at once.

h11 reads a chunked body one chunk at a time: a ``Data`` event, its state machine and its
validation for each; on a token stream, where every event is a chunk of its own, that is
the largest cost left below the decoder. :func:`complete_chunks` takes the plainly framed,
complete chunks at the start of a buffer in one pass and joins their data, so the direct
body path (:mod:`trio_sse._h11_body`) hands h11 only what is left: a chunk that has not
all arrived, the last chunk and its trailer, anything unusual (a chunk extension,
whitespace after the size) and anything malformed, which h11 parses, or refuses, as always.

Strict by construction: it takes a chunk only in the one form h11 parses the same way
(``1*20HEXDIG CRLF``, then that many bytes, then ``CRLF``) and stops before anything else,
so it never accepts what h11 would refuse, and the bytes it hands out are the bytes h11
would have handed out (``tests/test_chunked.py`` checks both against h11 itself).
Synchronous and free of I/O.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["complete_chunks"]

_SIZE_LINE: Final = re.compile(rb"([0-9A-Fa-f]{1,20})\r\n")
"""A chunk's size line with nothing else on it: h11's ``chunk_header`` without the
extension and the trailing whitespace it also allows (those are left to h11)."""


def complete_chunks(buffer: bytes | bytearray, limit: int, start: int = 0) -> tuple[bytes, int]:
    """The data of the complete chunks in ``buffer`` from ``start``, joined, and where they end.

    Takes chunks while each is whole in ``buffer`` (size line, data and the ``CRLF``
    after it) and in the plain form, and until their data reaches ``limit`` bytes (a chunk
    is never split, so the data may pass ``limit`` by less than one chunk). Stops before
    the last chunk (size 0), which ends the body: that one and its trailer are h11's.

    Returns:
        ``(data, end)``: the chunks' data, joined (``b""`` when none was taken), and the
        offset in ``buffer`` just after the last chunk taken (``start`` when none was).
    """
    match = _SIZE_LINE.match
    available = len(buffer)
    spans: list[tuple[int, int]] = []
    taken = 0
    position = start
    while taken < limit:
        size_line = match(buffer, position)
        if size_line is None:
            break
        size = int(size_line[1], 16)
        data_start = size_line.end()
        data_end = data_start + size
        if not size or data_end + 2 > available or buffer[data_end : data_end + 2] != b"\r\n":
            break  # the last chunk, a chunk not all here yet, or a bad footer: h11's
        spans.append((data_start, data_end))
        taken += size
        position = data_end + 2
    if not spans:
        return b"", start
    if len(spans) == 1:
        data_start, data_end = spans[0]
        return bytes(buffer[data_start:data_end]), position
    with memoryview(buffer) as view:
        return b"".join([view[data_start:data_end] for data_start, data_end in spans]), position
