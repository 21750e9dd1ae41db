"""Connections the engine holds: a cap below the open-file limit, and a deadline for the
head of every request.

uvicorn gives neither: its keep-alive timer starts only after a first answer and any byte
cancels it, and ``limit_concurrency`` answers 503 to requests but still accepts and keeps
every connection. So a client that never finishes its request head (one byte a second), or
a thousand that connect and say nothing, hold their sockets for ever, and past the
open-file limit the engine cannot accept at all (``Errno 24``). ``GuardedH11Protocol`` is
uvicorn's h11 protocol with both:

- a head deadline, armed when the connection opens and again after each answer: if no
  request is being worked on when it passes (the head is incomplete, the client is idle,
  or it still trickles the body of a request already answered), the connection is closed;
- a cap on open connections: when it is reached, the oldest connection with no request at
  work is closed to make room, so a flood of idle sockets cannot lock out ``/health`` or
  the editor; only when every connection is at work is the newcomer refused with 503.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

from app.core.events import ErrorInfo


class ConnectionGuard:
    """The open connections of one server, oldest first, and what was done to them."""

    def __init__(self, header_timeout: float) -> None:
        self.header_timeout = header_timeout
        self.cap = 0  # set when the server starts (it depends on the open-file limit)
        self.evicted = 0
        self.timed_out = 0
        self.refused = 0
        self._open: dict[GuardedH11Protocol, None] = {}

    def admit(self, connection: GuardedH11Protocol) -> bool:
        while self.cap and len(self._open) >= self.cap:
            idle = next((c for c in self._open if c.idle), None)
            if idle is None:
                self.refused += 1
                return False
            self.evicted += 1
            self.forget(idle)
            idle.transport.close()
        self._open[connection] = None
        return True

    def forget(self, connection: GuardedH11Protocol) -> None:
        self._open.pop(connection, None)

    def to_json(self) -> dict[str, int]:
        return {
            "open": len(self._open),
            "cap": self.cap,
            "evicted": self.evicted,
            "timed_out": self.timed_out,
            "refused": self.refused,
        }


def _busy_answer() -> bytes:
    body = json.dumps(
        ErrorInfo(
            "The local engine has no room for another connection: every one is at work. "
            "Try again in a moment.",
            "server_error",
            None,
            "too_many_connections",
        ).to_json()
    ).encode()
    head = (
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n"
        f"retry-after: 1\r\nconnection: close\r\ncontent-length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, with the head deadline and the connection cap of ``guard``
    (give it to ``uvicorn.Config(http=...)`` through ``functools.partial``)."""

    def __init__(self, *args: Any, guard: ConnectionGuard, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.guard = guard
        self._head_timer: asyncio.TimerHandle | None = None

    @property
    def idle(self) -> bool:
        """No request of this connection is at work (none yet, or its answer is sent)."""
        return self.cycle is None or self.cycle.response_complete

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if not self.guard.admit(self):
            transport.write(_busy_answer())
            transport.close()
            return
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self.guard.forget(self)
        self._disarm()
        super().connection_lost(exc)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm()

    def _arm(self) -> None:
        self._disarm()
        self._head_timer = self.loop.call_later(self.guard.header_timeout, self._expire)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _expire(self) -> None:
        self._head_timer = None
        if self.idle and not self.transport.is_closing():
            self.guard.timed_out += 1
            self.transport.close()
