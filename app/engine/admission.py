"""Admission of edits: a few at once, the rest waiting in order, 429 past the queue.

An edit holds memory from its first byte (the upload) to its last (the answer): decoded
pixels, fills, encoded images. So edits take a turn before their body is read, and keep it
until their answer is sent: at most ``slots`` at once, and their declared sizes
(Content-Length) at most ``budget`` bytes together, except that one edit alone is always
let in. The others wait first come, first served (they hold a socket, not their upload);
past ``queue`` waiting, an edit is refused with 429 and a ``retry-after`` estimated from
recent edits' times.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Callable, Collection
from dataclasses import asdict, dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

from app.engine.errors import EngineError
from app.engine.upload import declared_length


@dataclass
class AdmissionStats:
    """Shown by GET /health under ``admission``."""

    active: int = 0
    queued: int = 0
    admitted: int = 0
    refused: int = 0
    inflight_bytes: int = 0

    def to_json(self) -> dict[str, int]:
        return asdict(self)


class Admission:
    def __init__(
        self, slots: int, queue: int, budget: int, on_idle: Callable[[], None] | None = None
    ) -> None:
        self.slots = max(1, slots)
        self.queue = max(0, queue)
        self.budget = budget
        self.stats = AdmissionStats()
        self._on_idle = on_idle
        self._waiting: deque[tuple[int, asyncio.Future[None]]] = deque()
        self._seconds = 1.0  # a running mean of how long an edit holds its turn

    async def enter(self, size: int) -> float:
        """Wait for a turn for an edit of ``size`` bytes; the time it started. Raises
        EngineError 429 when the queue is full."""
        if not self._waiting and self._fits(size):
            self._take(size)
            return time.monotonic()
        if len(self._waiting) >= self.queue:
            self.stats.refused += 1
            raise EngineError(
                429,
                f"The local engine is busy: {self.stats.active} edits are running and "
                f"{len(self._waiting)} are waiting. Send this one again in a moment.",
                type="rate_limit_error",
                code="engine_busy",
                retry_after=self.retry_after(),
            )
        turn = asyncio.get_running_loop().create_future()
        entry = (size, turn)
        self._waiting.append(entry)
        self.stats.queued = len(self._waiting)
        try:
            await turn
        except BaseException:
            if turn.done() and not turn.cancelled():
                self.leave(size, time.monotonic())  # given a turn, but no longer wanted
            elif entry in self._waiting:
                self._waiting.remove(entry)
                self._wake()  # the edits behind it may fit now
            raise
        return time.monotonic()

    def leave(self, size: int, started: float) -> None:
        self.stats.active -= 1
        self.stats.inflight_bytes -= size
        self._seconds = 0.8 * self._seconds + 0.2 * (time.monotonic() - started)
        self._wake()
        if not self.stats.active and not self._waiting and self._on_idle is not None:
            self._on_idle()

    def to_json(self) -> dict[str, int]:
        return {**self.stats.to_json(), "slots": self.slots, "queue_limit": self.queue}

    def retry_after(self) -> int:
        """Seconds until the queue has likely moved on by as many edits as wait now."""
        ahead = self.stats.active + len(self._waiting)
        return max(1, min(60, math.ceil(self._seconds * ahead / self.slots)))

    def _wake(self) -> None:
        while self._waiting and (self._waiting[0][1].done() or self._fits(self._waiting[0][0])):
            size, turn = self._waiting.popleft()
            if not turn.done():  # a waiter that was cancelled is just dropped
                self._take(size)
                turn.set_result(None)
        self.stats.queued = len(self._waiting)

    def _fits(self, size: int) -> bool:
        if self.stats.active >= self.slots:
            return False
        return self.stats.active == 0 or self.stats.inflight_bytes + size <= self.budget

    def _take(self, size: int) -> None:
        self.stats.active += 1
        self.stats.admitted += 1
        self.stats.inflight_bytes += size


class Admit:
    """ASGI middleware: an edit request (POST on ``paths``) runs only with a turn from
    ``admission``, reserved for its declared size (or ``largest`` when it declares none)
    and given back when its answer has been sent, whatever happened."""

    def __init__(
        self, app: ASGIApp, admission: Admission, paths: Collection[str], largest: int
    ) -> None:
        self.app = app
        self.admission = admission
        self.paths = frozenset(paths)
        self.largest = largest

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] not in self.paths:
            await self.app(scope, receive, send)
            return
        declared = declared_length(_header(scope, b"content-length"))
        size = min(self.largest, self.largest if declared is None else declared)
        try:
            started = await self.admission.enter(size)
        except EngineError as refused:
            await refused.response()(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self.admission.leave(size, started)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None
