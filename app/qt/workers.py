"""The editor's worker threads: where parsing, saving and decoding run beside the UI thread.

The UI thread must win every contest for the GIL. While two 4K variants stream, each 25 MB
event is scanned, base64-decoded, written and decoded again for display, all in worker
threads, and these steps release the GIL for their long C calls but take it back between
them. Two settings decide how long the UI thread then waits for it:

- how many workers run at once. With more CPU-bound threads than cores, the thread holding
  the GIL is regularly descheduled in favour of another worker, and the UI thread waits
  for both. So the pool has one thread per core *beyond* the UI thread's (one on a
  two-core machine): work queues instead of fighting over the cores;
- the GIL switch interval: a thread that wants the GIL waits until the holder has run that
  long (5 ms by default), and can lose the handoff again and again. At 1 ms a waiting UI
  thread gets it within a millisecond or two.

Measured with ``tests/benchmarks/bench_editor.py`` on two cores (worst lateness of a 5 ms
timer while 2 variants stream 3 partials and a 3840x2160 final each): 30-45 ms with the
previous pool of 8 threads and a 5 ms interval, 16 ms with 2 workers, 24-27 ms with 1
worker and a 5 ms interval, 8-10 ms with both settings as here.
"""

from __future__ import annotations

import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

SWITCH_INTERVAL_S = 0.001
"""Python's GIL switch interval for the editor process (the default is 0.005)."""


def usable_cores() -> int:
    """The cores this process may run on (its affinity, where the system has one)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def worker_count(cores: int | None = None) -> int:
    """One worker per core beyond the UI thread's, at least one."""
    return max(1, (cores if cores is not None else usable_cores()) - 1)


class _Pool(ThreadPoolExecutor):
    """A ThreadPoolExecutor that knows whether it was shut down (an event loop shuts its
    default executor down when it closes)."""

    closed = False

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self.closed = True
        super().shutdown(wait, cancel_futures=cancel_futures)


_shared: _Pool | None = None
_lock = threading.Lock()


def worker_executor() -> ThreadPoolExecutor:
    """The one pool of the process: the event loop runs ``asyncio.to_thread`` work on it
    and app.qt.background runs the models' decoding on it, so every worker thread of the
    editor counts against the same small number. Made again if a closed loop shut it down."""
    global _shared
    with _lock:
        if _shared is None or _shared.closed:
            _shared = _Pool(max_workers=worker_count(), thread_name_prefix="retouch-worker")
        return _shared


def favour_ui_thread() -> None:
    """Process-wide: the short GIL switch interval (call once, from the composition root)."""
    sys.setswitchinterval(SWITCH_INTERVAL_S)
