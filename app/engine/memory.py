"""Giving memory back after work, on glibc.

The fills run in worker threads, and glibc gives each thread its own malloc arena: the
megabytes an edit allocates there (uploads, decoded pixels, encoded images) stay mapped
after they are freed, so after a burst of edits the engine kept most of its peak resident
for good (bench_engine_load.py: 100 edits at once, 750 MiB kept of an 870 MiB peak).
``malloc_trim`` once the engine has no edit left gives it back (87 MiB kept). Serving
blocks of 1 MiB and more from mmap, as the editor does, gave back as much but made a burst
15-40 % slower (a page fault for every fresh buffer), so the engine does not. Elsewhere
(musl, macOS, Windows) this does nothing.
"""

from __future__ import annotations

import asyncio
import ctypes
import sys
from typing import Any

_TRIM_DELAY_S = 0.5  # edits often come in bursts: trim after the burst, not between edits


def _glibc() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.malloc_trim  # noqa: B018 (musl has no malloc_trim)
    except (OSError, AttributeError):
        return None
    return libc


def trim() -> None:
    """Give the free memory of every arena back to the system."""
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)


class IdleTrim:
    """``soon()`` when the engine's work has ended: trims once, a moment later, in a
    thread, unless more work started meanwhile (``busy()`` says so)."""

    def __init__(self, busy: Any) -> None:
        self._busy = busy
        self._pending: asyncio.TimerHandle | None = None
        self.count = 0

    def soon(self) -> None:
        if self._pending is not None:
            self._pending.cancel()
        loop = asyncio.get_running_loop()
        self._pending = loop.call_later(_TRIM_DELAY_S, self._run, loop)

    def _run(self, loop: asyncio.AbstractEventLoop) -> None:
        self._pending = None
        if not self._busy():
            self.count += 1
            loop.run_in_executor(None, trim)
