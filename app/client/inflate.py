"""An answer's body as it arrives, with every byte counted against the size cap.

httpx inflates a compressed body one network chunk at a time, whole: a 64 KB chunk of a
gzip bomb becomes 64 MB before anyone can count it, so 1 MB on the wire cost some 700 MB
of memory before a 512 MiB cap stopped it. Here the client reads the raw bytes and inflates
them itself, at most PIECE bytes per step, checking the running total after each step: the
memory a hostile answer can take is the cap plus one piece.

Only gzip and deflate are asked for (ACCEPT_ENCODING) and understood; zlib can stop after
a bounded output, which brotli and zstd decoders cannot all promise.
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import aclosing
from typing import Any

import httpx

from app.client.errors import ProtocolError

ACCEPT_ENCODING = "gzip, deflate"
PIECE = 1 << 18  # the most one inflate step produces
_MAX_LAYERS = 3  # "gzip, gzip, gzip" is already more than any server needs

Wait = Callable[[Awaitable[Any]], Awaitable[Any]]


class _Inflater:
    """One layer of gzip or deflate, producing at most PIECE bytes per step."""

    def __init__(self, name: str) -> None:
        self._name = name
        # deflate is meant to be zlib-wrapped, but some servers send it raw (as httpx, try
        # zlib first and fall back on the first chunk).
        wbits = zlib.MAX_WBITS | 16 if name != "deflate" else zlib.MAX_WBITS
        self._zlib = zlib.decompressobj(wbits)
        self._started = False

    def feed(self, data: bytes) -> Iterator[bytes]:
        try:
            piece = self._zlib.decompress(data, PIECE)
        except zlib.error as exc:
            if self._name != "deflate" or self._started:
                raise _broken(exc) from None
            self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
            piece = self._step(data)
        self._started = True
        yield piece
        # Input left over, or output still held back (a long match in progress): drain it.
        while self._zlib.unconsumed_tail or len(piece) == PIECE:
            piece = self._step(self._zlib.unconsumed_tail)
            yield piece

    def finish(self) -> Iterator[bytes]:
        if self._started:
            yield from self.feed(b"")

    def _step(self, data: bytes) -> bytes:
        try:
            return self._zlib.decompress(data, PIECE)
        except zlib.error as exc:
            raise _broken(exc) from None


def _broken(exc: zlib.error) -> ProtocolError:
    return ProtocolError(
        f"the answer's compressed body is broken ({exc}); a proxy may be at fault."
    )


class CappedInflater:
    """The layers a ``Content-Encoding`` names, undone in reverse order, with the total they
    produce held under ``limit``."""

    def __init__(self, content_encoding: str) -> None:
        names = [n.strip().lower() for n in content_encoding.split(",") if n.strip()]
        names = [n for n in names if n != "identity"]
        unknown = [n for n in names if n not in ("gzip", "x-gzip", "deflate")]
        if unknown:
            raise ProtocolError(
                f"the server compressed its answer as {unknown[0]!r}, which was not asked for "
                f"(Retouch Studio asks for {ACCEPT_ENCODING}); the server is not compatible."
            )
        if len(names) > _MAX_LAYERS:
            raise ProtocolError(
                f"the server compressed its answer {len(names)} times over; no server needs "
                "that, so it is broken or hostile."
            )
        self._layers = [_Inflater("deflate" if n == "deflate" else "gzip") for n in reversed(names)]

    def feed(self, chunk: bytes) -> Iterator[bytes]:
        yield from self._through(chunk, 0)

    def finish(self) -> Iterator[bytes]:
        for index, layer in enumerate(self._layers):
            for piece in layer.finish():
                yield from self._through(piece, index + 1)

    def _through(self, data: bytes, index: int) -> Iterator[bytes]:
        if index == len(self._layers):
            if data:
                yield data
            return
        for piece in self._layers[index].feed(data):
            if piece:
                yield from self._through(piece, index + 1)


async def body_pieces(
    response: httpx.Response,
    limit: int,
    *,
    truncate: bool = False,
    wait: Wait | None = None,
) -> AsyncIterator[bytes]:
    """The body's bytes, inflated, as they arrive. Past ``limit`` bytes (on the wire or
    inflated) it raises the too-large error, or with ``truncate`` ends at the limit.
    ``wait`` wraps each wait for the network (the client's deadlines)."""
    inflater = CappedInflater(response.headers.get("content-encoding", ""))
    wire = produced = 0
    async with aclosing(response.aiter_raw()) as raw:
        while True:
            step = anext(raw, None)
            chunk = await (wait(step) if wait is not None else step)
            last = chunk is None
            if not last:
                wire += len(chunk)
                if wire > limit and not truncate:
                    raise too_large(limit)
            for piece in inflater.finish() if last else inflater.feed(chunk):
                if produced + len(piece) > limit:
                    if not truncate:
                        raise too_large(limit)
                    yield piece[: limit - produced]
                    return
                produced += len(piece)
                yield piece
            if last or wire > limit:
                return


def too_large(limit: int) -> ProtocolError:
    size = f"{limit / 2**20:g} MiB" if limit >= 2**20 else f"{limit:,} bytes"
    return ProtocolError(
        f"the answer grew past the {size} limit (max_response_bytes) and was cut off; no "
        "image edit is that large, so the server is broken or hostile."
    )
