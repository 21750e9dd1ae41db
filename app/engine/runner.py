"""CPU-bound work off the event loop: a bounded pool of worker threads, and a way to drive a
generator of work one step per thread call, with a keep-alive tick while a step runs.

Stopping is cooperative: when the consumer stops iterating (a client went away), no further
step is started; the step already running in a thread finishes and its result is dropped.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any, TypeVar

T = TypeVar("T")
_END = object()
log = logging.getLogger(__name__)


@dataclass
class WorkStats:
    """Counters shown by GET /health (and used by tests to see that work stopped)."""

    running: int = 0
    finished: int = 0
    cancelled: int = 0
    failed: int = 0
    steps: int = 0

    def to_json(self) -> dict[str, int]:
        return asdict(self)


class WorkRunner:
    def __init__(self, threads: int | None = None, keepalive: float = 1.0) -> None:
        self.keepalive = keepalive
        self.stats = WorkStats()
        self.threads = threads or max(2, os.cpu_count() or 2)
        self._executor = ThreadPoolExecutor(
            max_workers=self.threads, thread_name_prefix="engine-work"
        )

    async def call(self, function: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(function, *args))

    async def iterate(
        self, sequences: Sequence[Iterator[T]], ahead: int = 1
    ) -> AsyncIterator[T | None]:
        """Yield every item of the first sequence, then of the second, and so on, each item
        computed in a worker thread; up to ``ahead`` sequences are worked on at the same time
        (their items wait, in order, until it is their turn). Yields None whenever
        ``keepalive`` seconds pass with nothing to deliver."""
        loop = asyncio.get_running_loop()
        ready: list[deque[T]] = [deque() for _ in sequences]
        done = [False] * len(sequences)
        pending: dict[asyncio.Future[Any], int] = {}
        current = 0
        self.stats.running += 1
        outcome = "cancelled"
        try:
            while current < len(sequences):
                for index in range(current, min(current + max(1, ahead), len(sequences))):
                    if not done[index] and index not in pending.values():
                        step = loop.run_in_executor(self._executor, next, sequences[index], _END)
                        pending[step] = index
                if ready[current]:
                    yield ready[current].popleft()
                    continue
                if done[current]:
                    current += 1
                    continue
                # wait() never cancels a step; a cancelled consumer abandons it.
                finished, _ = await asyncio.wait(
                    pending, timeout=self.keepalive, return_when=asyncio.FIRST_COMPLETED
                )
                if not finished:
                    yield None
                for step in finished:
                    index = pending.pop(step)
                    item = step.result()
                    if item is _END:
                        done[index] = True
                    else:
                        self.stats.steps += 1
                        ready[index].append(item)
            outcome = "finished"
        except Exception:
            outcome = "failed"
            raise
        finally:
            self.stats.running -= 1
            setattr(self.stats, outcome, getattr(self.stats, outcome) + 1)
            for step in pending:
                step.add_done_callback(_drop_result)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


def _drop_result(future: asyncio.Future[Any]) -> None:
    if not future.cancelled() and future.exception() is not None:
        log.warning("abandoned engine work failed: %s", future.exception())
