"""How long one edit may take: the idle deadline (the longest wait for the next image once
the answer has begun) and the job deadline (the whole edit, retries included).

httpx's read timeout only measures silence: a ``: keep-alive`` comment every few seconds
resets it, so a server sending nothing else could hold a job forever. The idle deadline is
reset by images alone; comments, unknown events and ignored extra images leave it running.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable
from typing import TypeVar

from app.client.attempts import AttemptFailed, Progress
from app.client.config import ClientConfig
from app.client.errors import NetworkError

T = TypeVar("T")
IDLE = "idle_timeout"
JOB = "job_timeout"


class TimedOut(NetworkError):
    """A deadline of the client passed. ``code`` names it: "idle_timeout" (no image came
    for ``idle_timeout`` seconds) or "job_timeout" (the edit took ``job_timeout`` seconds in
    all); it is the error's code in ``retouch edit --json``."""

    def __init__(self, message: str, code: str) -> None:
        self.code = code
        super().__init__(message)


class Deadlines:
    """The deadlines of one edit (made when it starts); ``wait`` applies them to each wait
    for the network."""

    def __init__(self, config: ClientConfig) -> None:
        self._now = asyncio.get_running_loop().time
        self._idle = config.idle_timeout
        self._job = config.job_timeout
        self._job_at = self._now() + self._job
        self._idle_at = math.inf  # before the answer begins, the read timeout applies
        self._progress = Progress()
        self._heard = False  # bytes arrived since the last image

    def answer_began(self, progress: Progress) -> None:
        """An attempt's answer has begun: the idle deadline runs from now."""
        self._progress = progress
        self.image_arrived()

    def image_arrived(self) -> None:
        self._idle_at = self._now() + self._idle
        self._heard = False

    def attempt_ended(self) -> None:
        self._idle_at = math.inf

    def leaves_time_for(self, delay: float) -> bool:
        """Whether a wait of ``delay`` seconds ends before the job deadline."""
        return self._now() + delay < self._job_at

    async def wait(self, awaitable: Awaitable[T]) -> T:
        """``await awaitable``, or the deadline's error once the nearer one passes: the job
        deadline's TimedOut, or for the idle deadline an AttemptFailed carrying one (the
        retry policy decides, as for a read timeout)."""
        at = min(self._idle_at, self._job_at)
        timeout = asyncio.timeout_at(at if math.isfinite(at) else None)
        try:
            async with timeout:
                result = await awaitable
        except TimeoutError:
            if not timeout.expired():
                raise
            if self._now() >= self._job_at:
                raise self.job_error() from None
            raise AttemptFailed(self._idle_error(), "idle timeout") from None
        self._heard = self._heard or result is not None
        return result

    def job_error(self) -> TimedOut:
        after = f" after {self._progress.describe()}" if self._progress.delivered else ""
        return TimedOut(
            f"the edit took longer than the job timeout of {self._job:g} s (job_timeout) and "
            f"was stopped{after}; try again, or raise the job timeout if the server is "
            "that slow (retouch edit --job-timeout).",
            JOB,
        )

    def _idle_error(self) -> TimedOut:
        after = f" after {self._progress.describe()}" if self._progress.delivered else ""
        sent = "only keep-alives or other events" if self._heard else "nothing"
        return TimedOut(
            f"no image came for {self._idle:g} s{after}, the idle timeout (idle_timeout): the "
            f"server sent {sent}; it may be stuck. Try again, or raise the idle timeout if it "
            "is only slow (retouch edit --idle-timeout).",
            IDLE,
        )
