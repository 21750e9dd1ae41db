"""Run coroutines on a real qasync loop (Qt and asyncio on one thread, as in the editor).

Tests stay synchronous: ``qt_loop.run(coro)`` drives the loop until the coroutine is done.
Inside a coroutine, wait for a Qt signal with ``next_signal`` (an asyncio future set from
the signal), never with qtbot.waitSignal, which would nest a Qt loop in a running task.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterator
from typing import Any, TypeVar

import pytest
import qasync
from PySide6.QtCore import SignalInstance

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


@pytest.fixture
def qt_loop(qapp) -> Iterator[QtLoop]:
    loop = qasync.QEventLoop(qapp, already_running=False)
    asyncio.set_event_loop(loop)
    try:
        yield QtLoop(loop)
    finally:
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_default_executor())
        loop.close()
        asyncio.set_event_loop(None)
