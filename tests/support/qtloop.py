"""Run coroutines on a real qasync loop (Qt and asyncio on one thread, as in the editor).

Tests stay synchronous: ``qt_loop.run(coro)`` drives the loop until the coroutine is done.
Inside a coroutine, wait for a Qt signal with ``next_signal`` (an asyncio future set from
the signal), never with qtbot.waitSignal, which would nest a Qt loop in a running task.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Coroutine, Iterator
from typing import Any, TypeVar

import pytest
import qasync
from PySide6.QtCore import SignalInstance

from app.qt.asyncgens import install_asyncgen_hooks
from app.qt.workers import worker_executor

T = TypeVar("T")


class QtLoop:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        return self.loop.run_until_complete(asyncio.wait_for(coro, timeout))


def next_signal(signal: SignalInstance) -> asyncio.Future[tuple[Any, ...]]:
    future: asyncio.Future[tuple[Any, ...]] = asyncio.get_running_loop().create_future()

    def fire(*args: Any) -> None:
        if not future.done():
            future.set_result(args)
        signal.disconnect(fire)

    signal.connect(fire)
    return future


@pytest.fixture(scope="session")
def _session_qt_loop(qapp) -> Iterator[asyncio.AbstractEventLoop]:
    # One loop for the whole session, never closed. qasync's timer object keeps its Qt
    # timers registered after close() (stop() only sets a flag), and a timer that fires
    # after the loop was garbage-collected crashes the process in QTimerInfoList. The
    # editor has the same shape: one loop that lives until the process ends.
    loop = qasync.QEventLoop(qapp, already_running=False)
    # The editor's own pool for asyncio.to_thread (app.gui.configure_workers), so that
    # the tests run with as few workers as the editor has (one on two cores). Plain
    # threads: qasync's QThread pool aborts the process if its threads are still alive
    # when the interpreter exits.
    executor = worker_executor()
    loop.set_default_executor(executor)
    old_hooks = install_asyncgen_hooks(loop)  # as the editor does (app.gui.configure_workers)
    yield loop
    loop.run_until_complete(loop.shutdown_asyncgens())
    sys.set_asyncgen_hooks(*old_hooks)
    executor.shutdown(wait=True, cancel_futures=True)
    loop.close()  # while Qt is still alive, so the loop's signals can be disconnected


@pytest.fixture
def qt_loop(_session_qt_loop: asyncio.AbstractEventLoop) -> Iterator[QtLoop]:
    loop = _session_qt_loop
    asyncio.set_event_loop(loop)
    try:
        yield QtLoop(loop)
    finally:
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        asyncio.set_event_loop(None)
