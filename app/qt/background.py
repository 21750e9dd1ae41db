"""Work on the editor's worker pool, with the answer delivered on the UI thread.

For models that are not coroutines (opening a picture, a difference map): ``run(work,
done, failed)`` runs ``work()`` on the one pool of app.qt.workers and then calls ``done``
with its result, or ``failed`` with the exception, on the thread this object lives in (a
queued signal). Nothing is delivered after the object is deleted, and ``wait`` lets tests,
benchmarks and shutdown wait for what is running.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import wait as wait_futures
from typing import Any

from PySide6.QtCore import QObject, Signal

from app.qt.workers import worker_executor


class Background(QObject):
    _finished = Signal(object, object)  # the callback, its argument

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._finished.connect(self._deliver)
        self._running: set[Future[Any]] = set()
        self._lock = threading.Lock()

    def run(
        self,
        work: Callable[[], Any],
        done: Callable[[Any], None],
        failed: Callable[[BaseException], None],
    ) -> Future[Any]:
        def job() -> None:
            try:
                result: Any = work()
            except Exception as exc:  # reported on the UI thread, never lost in a worker
                self._send(failed, exc)
            else:
                self._send(done, result)

        future = worker_executor().submit(job)
        with self._lock:
            self._running.add(future)
        future.add_done_callback(self._forget)
        return future

    def wait(self, timeout_s: float | None = None) -> bool:
        """Block until what is running now has ended; False on timeout. Its answers are
        delivered by the event loop afterwards (``QCoreApplication.processEvents``)."""
        with self._lock:
            running = set(self._running)
        return not wait_futures(running, timeout=timeout_s).not_done

    def _send(self, callback: Callable[[Any], None], value: object) -> None:
        # RuntimeError: this object was deleted while the work ran; nobody is waiting.
        with contextlib.suppress(RuntimeError):
            self._finished.emit(callback, value)

    def _forget(self, future: Future[Any]) -> None:
        with self._lock:
            self._running.discard(future)

    def _deliver(self, callback: Callable[[Any], None], value: object) -> None:
        callback(value)
