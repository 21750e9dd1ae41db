"""Replies of a hostile server for the fault server (tests.support.fault_server): a stream
that chatters forever without an image, and a gzip-encoded body that can be a bomb.

    with fs.serve(hostile_replies.chatter([fs.partial(png)])) as server: ...
"""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tests.support.fault_server import Body, Conn, Event, Reply


@dataclass
class Chatter(Reply):
    """An event stream that sends ``events``, then ``filler`` (a ``:`` comment or any raw
    event text) every ``every`` seconds until the client leaves: busy, but never an image."""

    events: Sequence[Event] = ()
    filler: bytes = b": keep-alive\n\n"
    every: float = 0.02

    async def send(self, conn: Conn) -> None:
        await conn.head(200, {"Content-Type": "text/event-stream", "Connection": "close"})
        for event in self.events:
            await conn.write(event.encode("\n"))
        while not conn.closed_by_client.is_set():
            await conn.write(self.filler)
            await asyncio.sleep(self.every)


def chatter(events: Sequence[Event] = (), **options: Any) -> Chatter:
    return Chatter(list(events), **options)


def gzipped(body: bytes, content_type: str, *, inflated: int = 0, status: int = 200) -> Body:
    """``body`` gzip-encoded (``Content-Encoding: gzip``), followed by ``inflated`` bytes of
    "A" that compress about a thousandfold: a decompression bomb when large."""
    packer = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    packed = [packer.compress(body)]
    block = b"A" * (1 << 20)
    for start in range(0, inflated, len(block)):
        packed.append(packer.compress(block[: inflated - start]))
    packed.append(packer.flush())
    return Body(status, b"".join(packed), content_type, {"Content-Encoding": "gzip"})
