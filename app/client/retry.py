"""When to try a request again and how long to wait first: the official SDK's policy as
PROTOCOL.md describes it."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC
from email.utils import parsedate_to_datetime

RETRY_STATUSES = frozenset({408, 409, 429})
NEVER_RETRY_TYPES = frozenset({"image_generation_user_error"})


@dataclass(frozen=True)
class RetryNotice:
    """Told to ``on_retry`` before each wait: ``attempt`` counts retries from 1."""

    attempt: int
    delay: float
    reason: str  # e.g. "429 rate_limit_exceeded" or "connection refused"


@dataclass(frozen=True)
class Decision:
    retry: bool
    delay: float = 0.0
    why_not: str = ""  # said to the user when a retryable failure is not retried


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 2
    base_delay: float = 0.5
    max_delay: float = 8.0
    max_server_wait: float = 120.0
    # (0.75, 1]: spreads clients that failed together so they do not retry together.
    jitter: Callable[[], float] = field(default=lambda: 1.0 - 0.25 * random.random())
    clock: Callable[[], float] = time.time

    def for_network_error(self, retries_done: int) -> Decision:
        if retries_done >= self.max_retries:
            return Decision(False)
        return Decision(True, self.backoff(retries_done))

    def for_status(
        self,
        retries_done: int,
        status: int,
        headers: Mapping[str, str],
        error_type: str | None = None,
    ) -> Decision:
        if error_type in NEVER_RETRY_TYPES or not self._retryable(status, headers):
            return Decision(False)
        if retries_done >= self.max_retries:
            return Decision(False)
        wait = self.server_wait(headers)
        if wait is None:
            return Decision(True, self.backoff(retries_done))
        if wait > self.max_server_wait:
            return Decision(
                False,
                why_not=f"the server asks to wait {wait:.0f} s before trying again, longer "
                f"than the {self.max_server_wait:.0f} s Retouch Studio waits; try again later",
            )
        return Decision(True, wait)

    def backoff(self, retries_done: int) -> float:
        delay = min(self.base_delay * 2.0 ** min(retries_done, 64), self.max_delay)
        return delay * self.jitter()

    def server_wait(self, headers: Mapping[str, str]) -> float | None:
        """Seconds from ``retry-after-ms``, else ``retry-after`` (seconds or an HTTP date);
        None when absent, unreadable or negative."""
        millis = _number(headers.get("retry-after-ms"))
        if millis is not None and millis >= 0:
            return millis / 1000.0
        raw = headers.get("retry-after")
        if raw is None:
            return None
        seconds = _number(raw)
        if seconds is None:
            seconds = self._seconds_until(raw)
        return seconds if seconds is not None and seconds >= 0 else None

    def _retryable(self, status: int, headers: Mapping[str, str]) -> bool:
        hint = (headers.get("x-should-retry") or "").strip().lower()
        if hint in ("true", "false"):
            return hint == "true"
        return status in RETRY_STATUSES or status >= 500

    def _seconds_until(self, http_date: str) -> float | None:
        try:
            when = parsedate_to_datetime(http_date)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:  # "-0000" means UTC with no zone known
            when = when.replace(tzinfo=UTC)
        return when.timestamp() - self.clock()


def _number(raw: str | None) -> float | None:
    if raw is None:
        return None
    try:
        value = float(raw.strip())
    except ValueError:
        return None
    return value if value == value and value != float("inf") else None
