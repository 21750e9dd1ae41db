"""The editor's threads yield to the UI thread (app.qt.workers), and the start-up heap
is frozen (app.gui.freeze_startup_objects)."""

from __future__ import annotations

import asyncio
import gc
import sys
import threading
import time

import pytest

from app.gui import configure_workers, freeze_startup_objects
from app.qt.workers import SWITCH_INTERVAL_S, usable_cores, worker_count


@pytest.mark.parametrize(("cores", "workers"), [(1, 1), (2, 1), (4, 3), (16, 15)])
def test_one_worker_per_core_beyond_the_ui_threads(cores: int, workers: int) -> None:
    assert worker_count(cores) == workers
    assert worker_count() == max(1, usable_cores() - 1)


def test_the_editor_loop_runs_to_thread_work_on_its_own_few_workers() -> None:
    before = sys.getswitchinterval()
    loop = asyncio.new_event_loop()
    try:
        configure_workers(loop)
        assert sys.getswitchinterval() == pytest.approx(SWITCH_INTERVAL_S)

        active, most, lock = [0], [0], threading.Lock()

        def work() -> str:
            with lock:
                active[0] += 1
                most[0] = max(most[0], active[0])
            time.sleep(0.02)
            with lock:
                active[0] -= 1
            return threading.current_thread().name

        async def run_all() -> set[str]:
            return set(await asyncio.gather(*(asyncio.to_thread(work) for _ in range(8))))

        seen = loop.run_until_complete(run_all())
        assert most[0] == len(seen) == worker_count()
        assert all(name.startswith("retouch-worker") for name in seen)
    finally:
        loop.run_until_complete(loop.shutdown_default_executor())
        loop.close()
        sys.setswitchinterval(before)


def test_start_up_objects_are_frozen_out_of_full_collections() -> None:
    class Cycle:
        def __init__(self) -> None:
            self.me = self

    gc.unfreeze()
    Cycle()  # garbage in a cycle: collected first, never frozen
    try:
        freeze_startup_objects()
        assert gc.get_freeze_count() > 1000
    finally:
        gc.unfreeze()  # the frozen objects go back to the collector's oldest generation
    assert not any(isinstance(o, Cycle) for o in gc.get_objects())
