"""The direct body path: an unencoded HTTP/1.1 body read from httpcore's connection itself.

Between httpx's ``response.stream`` and the socket, an HTTP/1.1 body passes through five
async generators (httpx's bound stream and transport stream, httpcore's pool stream,
connection stream and body loop) and two exception-mapping context managers, once per
HTTP chunk; on a token stream, where each event is its own chunk, that is most of the
cost that is not parsing. Once the response head has been checked, :func:`h11_body`
reads the body from the connection's own h11 state machine and network stream instead,
as httpcore's ``_receive_response_body`` does, and hands out all the body data that one
socket read brought as one piece (up to :data:`MAX_PIECE_BYTES`), where httpcore hands
out each chunk on its own. h11 stays the parser.

It leans on private structure of httpx, httpcore and h11, so it is engaged only where it
is known to be right, and :func:`h11_body` returns ``None`` everywhere else (the caller
then reads ``response.stream`` as before):

- the versions it was tested with (:data:`TESTED_VERSIONS`);
- an ``httpx.AsyncClient`` response over httpcore's pool and its HTTP/1.1 connection
  (not HTTP/2, not httpx2, not a mock or any other transport), with no ``trace``
  extension and httpcore's debug logging off (both would miss the body's events);
- ``TRIO_SSE_DIRECT_BODY`` not set to ``0`` (or ``false``, ``no``, ``off``).

The caller has already checked that the body is unencoded and unread. The connection goes
back to the pool exactly as before: closing the response (the pump's ``async with
client.stream(...)`` does, in its own task) runs httpcore's own close, which keeps the
connection when h11 saw the whole body and closes it otherwise (after a cancellation,
say). Errors are httpx's, mapped by httpx's own function from httpcore's, as on the
usual path. ``docs/upstream/`` has the changes that would make this module unnecessary.
"""

# This module's purpose is httpx's and httpcore's private structure: pyright's report of
# private use would flag every line of it.
# pyright: reportPrivateUsage=false

from __future__ import annotations

import logging
import os
from typing import Final, cast

import h11
import httpcore
import httpx
import trio

# Private modules: trio_sse._http imports this one under ``except ImportError``, so
# their absence only turns the direct path off.
from h11._readers import ChunkedReader
from h11._receivebuffer import ReceiveBuffer
from httpcore._async.connection_pool import PoolByteStream
from httpcore._async.http11 import AsyncHTTP11Connection, HTTP11ConnectionByteStream
from httpcore._backends.base import AsyncNetworkStream
from httpcore._backends.trio import TrioStream
from httpx._client import BoundAsyncStream
from httpx._transports.default import AsyncResponseStream, map_httpcore_exceptions

from ._chunked import complete_chunks
from ._send_progress import is_send_progress

__all__ = ["DISABLE_VARIABLE", "MAX_PIECE_BYTES", "TESTED_VERSIONS", "H11Body", "h11_body"]

DISABLE_VARIABLE: Final = "TRIO_SSE_DIRECT_BODY"
"""Set to ``0`` (or ``false``, ``no``, ``off``) to read every body the usual way."""

TESTED_VERSIONS: Final = {
    "httpx": ("0.28.1",),
    "httpcore": ("1.0.9",),
    "h11": ("0.16.0",),
}
"""The versions whose private structure this module was tested against."""

MAX_PIECE_BYTES: Final = 2 * 1024
"""The most one piece joins: h11's data events are joined until this is reached (one
event is never split; h11 makes none larger than a read). It bounds what one decoder
feed can turn into events at once, so a backlog read in one go is not decoded far ahead
of a consumer that lags. In a burst of many streams every stream holds about one piece's
events (each ~230 bytes for a 100-character token event), so this is the burst's memory
against the two task switches a piece costs: 2 KiB measured 2 KiB less peak RSS a stream
than 4 KiB (1,000 streams at once) for 3% on a local server's stream and 12% on the
synthetic back-to-back pipeline; 1 KiB saved nothing more."""

_READER_STATE: Final = ("_bytes_in_chunk", "_bytes_to_discard", "_reading_trailer")
"""What :class:`H11Body` reads and writes of h11's ``ChunkedReader`` (h11 0.16.0)."""

_OFF: Final = frozenset({"0", "false", "no", "off"})
_HTTPCORE_LOGGER: Final = logging.getLogger("httpcore.http11")


def _versions_tested() -> bool:
    found = {
        "httpx": httpx.__version__,
        "httpcore": httpcore.__version__,
        "h11": getattr(h11, "__version__", ""),  # not in h11's __all__
    }
    return all(found[name] in versions for name, versions in TESTED_VERSIONS.items())


_ENGAGEABLE: Final = _versions_tested()


def h11_body(response: object) -> H11Body | None:
    """The direct reader of ``response``'s body, or ``None`` where it does not apply.

    ``response`` must be unencoded, not yet read and not closed (the caller checks).
    Synchronous: no checkpoint.
    """
    if not _ENGAGEABLE or os.environ.get(DISABLE_VARIABLE, "").strip().lower() in _OFF:
        return None
    try:
        return _walk(getattr(response, "stream", None))
    except AttributeError:  # the structure is not what it was tested with
        return None


def _walk(bound: object) -> H11Body | None:
    """From httpx's bound stream down to the connection, each layer checked by type."""
    if type(bound) is not BoundAsyncStream:
        return None
    transport_stream = bound._stream
    if type(transport_stream) is not AsyncResponseStream:
        return None
    pool_stream = transport_stream._httpcore_stream
    if type(pool_stream) is not PoolByteStream:
        return None
    body = pool_stream._stream
    if type(body) is not HTTP11ConnectionByteStream or body._closed:
        return None
    connection, request = body._connection, body._request
    if type(connection) is not AsyncHTTP11Connection:
        return None
    trace = request.extensions.get("trace")
    if (trace is not None and not is_send_progress(trace)) or _HTTPCORE_LOGGER.isEnabledFor(
        logging.DEBUG
    ):
        return None  # httpcore would report the body's progress to someone: let it
    parser = connection._h11_state
    if type(parser) is not h11.Connection or parser.their_state is not h11.SEND_BODY:
        return None
    read_timeout: float | None = request.extensions.get("timeout", {}).get("read")
    return H11Body(parser, connection._network_stream, read_timeout, connection.READ_NUM_BYTES)


class H11Body:
    """The body's pieces: each, the body data (chunk contents) of one socket read, joined.

    An async iterator, like the stream it replaces, but with nothing to close: the
    response's own close releases the connection. ``__anext__`` is a checkpoint for
    every piece: it reads the socket, or yields before handing out more of a read already
    made. Cancelled mid-read, it leaves the connection mid-body, so closing the response
    closes the connection.

    A chunked body's plainly framed, complete chunks are taken from h11's buffer in one
    pass (:func:`trio_sse._chunked.complete_chunks`), at a chunk boundary of h11's
    reader, which is left as h11 would have left it after them; everything else (a chunk
    still arriving, the last chunk and its trailer, an extension, an error) goes through
    h11's ``next_event`` as before.

    Raises (from ``__anext__``): ``httpx.ReadError`` when the socket breaks,
    ``httpx.ReadTimeout`` past a read timeout the request set, and
    ``httpx.RemoteProtocolError`` when the server breaks HTTP/1.1 (a body cut short
    included), each chained as httpx chains it.
    """

    __slots__ = (
        "_buffer",
        "_chunks",
        "_done",
        "_error",
        "_max_bytes",
        "_network",
        "_parser",
        "_receive",
        "_timeout",
    )

    def __init__(
        self,
        parser: h11.Connection,
        network: AsyncNetworkStream,
        timeout: float | None,
        max_bytes: int,
    ) -> None:
        self._parser = parser
        self._network = network
        self._timeout = timeout
        self._max_bytes = max_bytes
        self._done = False
        self._error: httpx.RemoteProtocolError | None = None
        # Trio's stream itself when nothing else is asked of a read: httpcore's read adds
        # an exception map and a cancel scope per call; errors are mapped below instead.
        self._receive = (
            network._stream.receive_some
            if type(network) is TrioStream and timeout is None
            else None
        )
        # Batched framing needs h11's chunked reader and buffer as they were tested.
        reader, buffer = parser._reader, parser._receive_buffer
        framed = (
            type(reader) is ChunkedReader
            and type(buffer) is ReceiveBuffer
            and type(getattr(buffer, "_data", None)) is bytearray
            and all(hasattr(reader, name) for name in _READER_STATE)
        )
        self._chunks = cast("ChunkedReader", reader) if framed else None
        self._buffer = buffer

    def __aiter__(self) -> H11Body:
        return self

    async def __anext__(self) -> bytes:
        if self._done:
            if self._error is not None:
                error, self._error = self._error, None
                raise error
            raise StopAsyncIteration
        parser = self._parser
        if self._buffer:
            # More of a read already made: a schedule point all the same, as a socket read
            # is, so the previous piece's consumer runs before more of a backlog is
            # decoded (in a burst of many streams, each holds a piece's events, not its
            # whole channel's worth). Before anything is taken: cancelled here, it loses
            # nothing.
            await trio.lowlevel.checkpoint()
        parts: list[bytes] = []
        size = 0
        try:
            while True:
                if self._chunks is not None:
                    data = self._complete_chunks(MAX_PIECE_BYTES - size)
                    if data:
                        parts.append(data)
                        size += len(data)
                        if size >= MAX_PIECE_BYTES:
                            break
                event = parser.next_event()
                if isinstance(event, h11.Data):
                    data = bytes(event.data)  # (bytes already: no copy)
                    parts.append(data)
                    size += len(data)
                    if size >= MAX_PIECE_BYTES:
                        break
                elif event is h11.NEED_DATA:
                    if parts:
                        break  # everything this read brought
                    parser.receive_data(await self._read())
                elif type(event) is h11.EndOfMessage or event is h11.PAUSED:
                    self._done = True
                    if parts:
                        break
                    raise StopAsyncIteration
        except h11.RemoteProtocolError as exc:
            try:
                with map_httpcore_exceptions():
                    raise httpcore.RemoteProtocolError(exc) from exc
            except httpx.RemoteProtocolError as mapped:
                if not parts:
                    raise
                # The data before the fault first (the usual path yields it chunk by
                # chunk before it meets the fault), the error on the next call.
                self._done, self._error = True, mapped
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def _complete_chunks(self, limit: int) -> bytes:
        """Take the complete chunks at the head of h11's buffer, if h11's reader is at a
        chunk boundary (or only owes the ``CRLF`` that is there); ``b""`` otherwise.

        Leaves the reader and the buffer as h11's ``next_event`` would have left them
        after handing out those chunks and discarding the last one's ``CRLF``: h11 takes
        over from there, and never learns it did not see them."""
        reader, buffer = self._chunks, self._buffer
        assert reader is not None
        data = buffer._data
        if not data or reader._bytes_in_chunk or reader._reading_trailer:
            return b""
        start = 0
        if reader._bytes_to_discard:  # h11 handed out a chunk, and still owes its CRLF
            if reader._bytes_to_discard != b"\r\n" or not data.startswith(b"\r\n"):
                return b""  # half of it, or not a CRLF: h11's to take or to refuse
            start = 2
        piece, end = complete_chunks(data, limit, start)
        if end:
            del data[:end]
            buffer._next_line_search = buffer._multiple_lines_search = 0
            reader._bytes_to_discard = b""
        return piece

    async def _read(self) -> bytes:
        receive = self._receive
        if receive is None:
            try:
                return await self._network.read(self._max_bytes, timeout=self._timeout)
            except Exception:
                with map_httpcore_exceptions():  # httpcore's errors, as on the usual path
                    raise
        try:
            # bytes from Trio's own streams (typed to allow a bytearray, which h11 takes too)
            return cast("bytes", await receive(self._max_bytes))
        except (trio.BrokenResourceError, trio.ClosedResourceError) as exc:
            with map_httpcore_exceptions():  # as httpcore's TrioStream.read maps them
                raise httpcore.ReadError(exc) from exc
