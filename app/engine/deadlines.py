"""The body deadline: a request's body must keep arriving (ASGI middleware).

The head of a request has its own deadline in the connection (``connections.py``). Once the
engine reads a body, only the time it spends waiting for the client counts (an edit that
waits for its turn has not started reading): the body may take ``body_timeout`` seconds
plus one second per ``body_min_rate`` bytes received, and fall silent for at most
``body_idle_timeout`` seconds at a time. A client that trickles (one byte a second) or
stalls is answered 408 and disconnected, as Apache's mod_reqtimeout does.
"""

from __future__ import annotations

import asyncio
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.engine.errors import EngineError
from app.engine.guards import Guards


class BodyDeadline:
    def __init__(self, app: ASGIApp, guards: Guards) -> None:
        self.app = app
        self.guards = guards

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.app(scope, _TimedReceive(receive, self.guards), send)


class _TimedReceive:
    def __init__(self, receive: Receive, guards: Guards) -> None:
        self.receive = receive
        self.guards = guards
        self.done = False  # the whole body is in: later calls only wait for a disconnect
        self.received = 0
        self.waited = 0.0

    async def __call__(self) -> Message:
        if self.done:
            return await self.receive()
        guards = self.guards
        allowed = guards.body_timeout + self.received / guards.body_min_rate - self.waited
        limit = min(allowed, guards.body_idle_timeout)
        started = time.monotonic()
        try:
            async with asyncio.timeout(max(0.0, limit)):
                message = await self.receive()
        except TimeoutError:
            raise EngineError(
                408,
                f"The request body arrived too slowly (it stopped, or came at less than "
                f"{guards.body_min_rate // 1024} KiB/s); the engine stopped waiting. Send "
                "the request again.",
                code="request_timeout",
            ) from None
        finally:
            self.waited += time.monotonic() - started
        self.received += len(message.get("body", b""))
        if message["type"] != "http.request" or not message.get("more_body", False):
            self.done = True
        return message
