"""The History panel's model (app.models.history) against a real store: live updates read
one job, not the list; a refresh keeps the pages read below; a hidden panel reads nothing
until it is shown."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from app.models.history import PAGE, HistoryList
from app.services.history import HistoryStore
from tests.support import images


@pytest.fixture
def store(tmp_path: Path):
    with HistoryStore.open(tmp_path / "history.sqlite3") as opened:
        yield opened


def record(store: HistoryStore, tmp_path: Path, number: int) -> str:
    job_id = f"job{number:04d}"
    photo = images.write(tmp_path / f"{job_id}.png", images.png_bytes(16, 12))
    store.begin_job(job_id, program="cli", inputs=[photo],
                    params={"prompt": f"prompt {number}", "model": "m"})  # fmt: skip
    return job_id


class Counting:
    """The store as the model opens it, counting the list queries."""

    def __init__(self, store: HistoryStore) -> None:
        self.store, self.lists = store, 0
        original = store.list_jobs

        def list_jobs(*args, **kwargs):
            self.lists += 1
            return original(*args, **kwargs)

        store.list_jobs = list_jobs  # type: ignore[method-assign]

    def __call__(self) -> HistoryStore:
        return self.store


def test_a_refresh_keeps_the_pages_read_below_and_the_rows_in_place(qtbot, store, tmp_path):
    for number in range(PAGE * 2 + 20):
        record(store, tmp_path, number)
    model = HistoryList(Counting(store))
    resets: list[int] = []
    model.modelReset.connect(lambda: resets.append(1))
    model.refresh()
    qtbot.waitUntil(lambda: model.rowCount() == PAGE)
    model.fetchMore()
    qtbot.waitUntil(lambda: model.rowCount() == 2 * PAGE)
    resets.clear()
    with qtbot.waitSignal(model.loaded):
        model.refresh()
    assert model.rowCount() == 2 * PAGE and not resets, "scrolled rows must not be dropped"
    # A new job on top is a new list: read again from the first page.
    time.sleep(0.01)
    newest = record(store, tmp_path, 9999)
    with qtbot.waitSignal(model.loaded):
        model.refresh()
    assert model.record(0).id == newest and resets


def test_an_arriving_image_reads_only_its_job(qtbot, store, tmp_path):
    ids = [record(store, tmp_path, number) for number in range(5)]
    counting = Counting(store)
    model = HistoryList(counting)
    model.refresh()
    qtbot.waitUntil(lambda: model.rowCount() == 5)
    lists = counting.lists
    changed: list[int] = []

    def note(first, last, *_):
        changed.extend(range(first.row(), last.row() + 1))

    model.dataChanged.connect(note)
    final = images.write(tmp_path / "final.png", images.png_bytes(16, 12))
    store.add_file(ids[2], 0, "final", final)
    model.refresh_job(ids[2])
    row = model.row_of(ids[2])
    qtbot.waitUntil(lambda: model.record(row).results == (final,))
    assert counting.lists == lists, "no list query for an arriving image"
    assert set(changed) == {row}


def test_a_hidden_panel_reads_nothing_until_it_is_shown(qtbot, store, tmp_path):
    record(store, tmp_path, 1)
    counting = Counting(store)
    model = HistoryList(counting)
    model.set_visible(False)
    model.refresh_soon()
    model.refresh_job("job0001")
    qtbot.wait(400)  # longer than the refresh delay
    assert counting.lists == 0 and model.rowCount() == 0
    with qtbot.waitSignal(model.loaded):
        model.set_visible(True)
    assert model.rowCount() == 1 and counting.lists == 1
