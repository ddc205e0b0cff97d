"""A compressed body inflated in bounded pieces, however high its compression ratio.

httpx inflates each network read whole: 703 bytes of gzip inside gzip are 256 MiB in one
chunk, and the decoder would take it whole. Here each ``Content-Encoding`` layer is a
``zlib`` decompressor asked for at most :data:`PIECE` bytes at a time (``max_length``),
layers chained lazily, so the body in memory is a network read plus one piece per layer,
whatever the ratio. gzip (members in a row, as ``gzip`` writes them) and deflate (zlib
wrapped or raw, as httpx takes it) are decoded here; ``identity`` is nothing to decode.
Another coding (``br``, ``zstd``) is left to the HTTP client's own decoders if the request
asked for it, and refused otherwise (httpx would hand it on undecoded, as event text, if it
has no decoder for it).

trio-sse asks for ``Accept-Encoding: identity`` by default; this is for a server that
compresses anyway, and for a caller who asks for gzip.
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator, Iterator
from typing import Final

import trio

from ._errors import NetworkError

__all__ = ["PIECE", "inflated_body"]

PIECE: Final = 64 * 1024
"""The most bytes one layer hands on at a time (a network read is at most this too)."""

_GZIP: Final = zlib.MAX_WBITS | 16
_ZLIB: Final = zlib.MAX_WBITS
_RAW_DEFLATE: Final = -zlib.MAX_WBITS


class _Layer:
    """One ``Content-Encoding`` layer: compressed bytes in, pieces of at most PIECE out."""

    __slots__ = ("_coding", "_done", "_gzip", "_head", "_zlib")

    def __init__(self, coding: str) -> None:
        self._coding = coding
        self._gzip = coding in ("gzip", "x-gzip")
        self._zlib = zlib.decompressobj(_GZIP if self._gzip else _ZLIB)
        # The first bytes of a stream (deflate) or of a member after the first (gzip), up
        # to two, until they tell what follows: a zlib wrapper or raw deflate; another
        # gzip member or trailing bytes, ignored as httpx ignores them.
        self._head: bytes | None = None if self._gzip else b""
        self._done = False  # the stream has ended: what follows is ignored, not kept

    def feed(self, data: bytes) -> Iterator[bytes]:
        """The pieces ``data`` inflates to, produced one at a time as they are taken."""
        while not self._done:
            if self._head is not None:
                data = self._head + data
                if len(data) < 2:
                    self._head = data
                    return
                self._head = None
                if self._gzip:
                    if data[:2] != b"\x1f\x8b":
                        self._done = True
                        return
                    self._zlib = zlib.decompressobj(_GZIP)  # the next member
                elif not _zlib_header(data):  # deflate as many servers send it: raw
                    self._zlib = zlib.decompressobj(_RAW_DEFLATE)
            try:
                piece = self._zlib.decompress(data, PIECE)
            except zlib.error as exc:
                raise _undecodable(self._coding, exc) from exc
            if piece:
                yield piece
            if self._zlib.eof:
                self._done = not self._gzip
                self._head = b""  # gzip: another member may follow
                data = self._zlib.unused_data
                if not data:
                    return
                continue
            data = self._zlib.unconsumed_tail
            # A full piece may leave output inside zlib with no input left: ask again.
            if not data and len(piece) < PIECE:
                return


def _zlib_header(data: bytes) -> bool:
    """Whether ``data`` starts with a zlib header (RFC 1950: deflate, checksum)."""
    return data[0] & 0x0F == 8 and (data[0] << 8 | data[1]) % 31 == 0


def _undecodable(coding: str, exc: zlib.error) -> NetworkError:
    # Named as httpx names it, so that the message reads the same whichever inflated it.
    return NetworkError(
        f"DecodingError: a {coding} body that does not decode: {exc}", transient=False
    )


_DECODED_HERE: Final = ("gzip", "x-gzip", "deflate")


def _codings(header: str) -> list[str]:
    """The layers to undo, outermost first (``identity`` is none)."""
    codings = [value.strip().lower() for value in header.split(",")]
    return [coding for coding in codings if coding not in ("identity", "")][::-1]


def _acceptable(coding: str, accept_encoding: str) -> bool:
    """Whether an ``Accept-Encoding`` value accepts ``coding`` (by name or ``*``; ``q=0``
    refuses)."""
    named: bool | None = None
    star = False
    for item in accept_encoding.split(","):
        name, _, parameters = item.partition(";")
        weight = parameters.strip().lower().removeprefix("q=").strip() or "1"
        accepts = weight.rstrip("0.") != ""  # "0", "0.0", "0.000" refuse
        name = name.strip().lower()
        if name == coding:
            named = accepts
        elif name == "*":
            star = accepts
    return star if named is None else named


def _unasked(response: object, foreign: list[str]) -> str | None:
    """The first of the ``foreign`` codings (not decoded here) that the request did not
    accept, if any.

    A server may use only a coding the request accepted: anything else is not the body
    the client asked for, and httpx would pass it on undecoded (as event text) when it
    has no decoder for it, or inflate each read whole when it has one. A response whose
    request is not known is left to the client.
    """
    try:
        request = getattr(response, "request", None)
    except RuntimeError:  # httpx's, for a response made without a request
        return None
    if request is None:
        return None
    accept_encoding = request.headers.get("accept-encoding", "identity")
    return next((c for c in foreign if not _acceptable(c, accept_encoding)), None)


class _InflatedBody:
    """The body's raw chunks through each layer, a piece at a time.

    A class, not an async generator, so that leaving it half-way needs no finaliser:
    :meth:`aclose` closes the raw iterator underneath. Each step is a checkpoint, also
    when it reads nothing (a bomb inflates one read to thousands of pieces), so the rest
    of the program runs and a cancellation lands between pieces; a step cancelled at its
    checkpoint has taken no piece, so none is lost. A step that needs a read awaits the
    raw iterator, which the client's read errors come out of.
    """

    def __init__(self, raw: AsyncIterator[bytes], codings: list[str]) -> None:
        self._raw = raw
        self._layers = [_Layer(coding) for coding in codings]
        self._pieces: Iterator[bytes] = iter(())

    def __aiter__(self) -> _InflatedBody:
        return self

    async def __anext__(self) -> bytes:
        await trio.lowlevel.checkpoint()  # one piece per step, however much one read holds
        while True:
            piece = next(self._pieces, None)
            if piece is not None:
                return piece
            chunk = await self._raw.__anext__()  # StopAsyncIteration ends the body
            self._pieces = self._through(chunk)

    def _through(self, chunk: bytes) -> Iterator[bytes]:
        pieces: Iterator[bytes] = iter((chunk,))
        for layer in self._layers:
            pieces = _chained(layer, pieces)
        return pieces

    async def aclose(self) -> None:
        aclose = getattr(self._raw, "aclose", None)
        if aclose is not None:
            await aclose()


def _chained(layer: _Layer, pieces: Iterator[bytes]) -> Iterator[bytes]:
    for piece in pieces:
        yield from layer.feed(piece)


def inflated_body(response: object, content_encoding: str) -> AsyncIterator[bytes] | None:
    """The body inflated in pieces of at most :data:`PIECE` bytes, or ``None``.

    ``None`` when there is nothing to inflate, when a coding is one this module leaves to
    the client (``br``, ``zstd``) and the request asked for it, when the response has no
    ``aiter_raw``, or when its body was read already (a response hook's ``aread``: httpx
    holds it inflated).

    Raises (from iterating):
        NetworkError: the body does not decode, or is in a coding the request did not
            accept (not transient: trying again will not help).
    """
    codings = _codings(content_encoding)
    foreign = [coding for coding in codings if coding not in _DECODED_HERE]
    if foreign:  # the client's to decode, if the request asked for them
        unasked = _unasked(response, foreign)
        return None if unasked is None else _Refused(unasked)
    aiter_raw = getattr(response, "aiter_raw", None)
    if not codings or aiter_raw is None or getattr(response, "is_stream_consumed", False):
        return None
    raw: AsyncIterator[bytes] = aiter_raw()
    return _InflatedBody(raw, codings)


class _Refused:
    """The body of a response in a coding the request did not ask for: it raises."""

    __slots__ = ("_coding",)

    def __init__(self, coding: str) -> None:
        self._coding = coding

    def __aiter__(self) -> _Refused:
        return self

    async def __anext__(self) -> bytes:
        await trio.lowlevel.checkpoint()
        raise NetworkError(
            f"DecodingError: a {self._coding} body, which the request did not accept "
            f"(trio-sse inflates gzip and deflate itself; ask for {self._coding} in "
            "Accept-Encoding to have the HTTP client decode it)",
            transient=False,
        )
