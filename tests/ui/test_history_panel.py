"""The History panel through the real editor: recorded jobs listed newest first with lazy
thumbnails, searched and filtered; reopen (one undo step), re-run exactly, compare,
reveal and delete; the gallery brought back from the history at the next start; the
drift measured in the editor kept in the history."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtTest import QTest

from app.gui import Editor
from app.models.history import MetaRole, RecordRole, when
from app.services.history import HistoryStore, default_path
from tests.support import images
from tests.support.editor import generate_sample as generate
from tests.support.editor import (
    quit_editor,
    until,
)
from tests.support.qtloop import next_signal


def show_history(qt_loop, made: Editor):
    """Ctrl+Shift+H, as the designer presses it; the panel once its rows are read."""
    panel = made.window.history._panel

    async def press_keys() -> None:
        loaded = next_signal(panel.model.loaded)
        keys = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
        QTest.keyClick(made.window, Qt.Key.Key_H, keys)
        await loaded

    qt_loop.run(press_keys(), timeout=10)
    assert panel.isVisible() and panel.search.hasFocus()
    return panel


def prompts(panel) -> list[str]:
    model = panel.model
    return [model.index(row).data(RecordRole).prompt for row in range(model.rowCount())]


def click_row(panel, row: int, *, double: bool = False) -> None:
    rect = panel.list.visualRect(panel.model.index(row))
    click = QTest.mouseDClick if double else QTest.mouseClick
    QTest.mouseClick(panel.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    if double:
        click(panel.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def press(panel, action: str) -> None:
    button = panel.buttons[action]
    assert button.isVisible() and button.isEnabled(), action
    QTest.mouseClick(button, Qt.MouseButton.LeftButton)


def press_then(qt_loop, panel, action: str, signal, timeout: float = 60):
    """Press an action's button; the arguments of ``signal``'s next emission."""

    async def scenario():
        emitted = next_signal(signal)
        press(panel, action)
        return await emitted

    return qt_loop.run(scenario(), timeout=timeout)


def solid(width: int, height: int, color: tuple[int, int, int]) -> bytes:
    return images.encode(Image.new("RGB", (width, height), color))


def record_job(store: HistoryStore, folder: Path, prompt: str, *, model: str, status: str,
               color: tuple[int, int, int], results: int = 2) -> str:  # fmt: skip
    """A job as ``retouch edit`` records it: a photo, a mask, ``results`` finals."""
    job_id = hashlib.sha256(prompt.encode()).hexdigest()[:32]
    folder.mkdir(parents=True, exist_ok=True)
    photo = images.write(folder / f"{job_id}-in.png", solid(64, 48, color))
    mask = images.write(folder / f"{job_id}-mask.png", images.mask_bytes(64, 48, (10, 10, 20, 20)))
    store.begin_job(job_id, program="cli", inputs=[photo], mask=mask,
                    params={"prompt": prompt, "model": model, "n": results},
                    provider="Somewhere", base_url="http://127.0.0.1:9")  # fmt: skip
    for variant in range(results):
        out = images.write(folder / f"{job_id}-{variant}.png", solid(96, 72, color))
        store.add_file(job_id, variant, "final", out)
    if status != "running":
        store.finish_job(job_id, status, {"total_tokens": 10})
    return job_id


# --- listing, thumbnails, search and filters -----------------------------------------------


def test_the_panel_lists_jobs_newest_first_loads_thumbnails_and_searches_and_filters(
    qt_loop, start, tmp_path: Path
) -> None:
    home = Path(os.environ["RETOUCH_HOME"])
    out = tmp_path / "out"
    with HistoryStore.open(default_path()) as store:
        old = record_job(store, out, "remove the old bicycle", model="gpt-image-1",
                         status="done", color=(200, 40, 40))  # fmt: skip
        time.sleep(0.01)
        record_job(store, out, "replace the sky with a sunset", model="gpt-image-2",
                   status="failed", color=(40, 200, 40), results=1)  # fmt: skip
        time.sleep(0.01)
        gone = record_job(store, out, "remove the bicycle bell", model="gpt-image-2",
                          status="done", color=(40, 40, 200))  # fmt: skip
    (out / f"{gone}-1.png").unlink()  # one of its results was deleted by hand
    with sqlite3.connect(home / "history.sqlite3") as db:  # ten days ago
        db.execute("UPDATE jobs SET created = ? WHERE id = ?", (time.time() - 10 * 86400, old))
    made = start()
    panel = show_history(qt_loop, made)
    assert prompts(panel) == [
        "remove the bicycle bell", "replace the sky with a sunset", "remove the old bicycle"
    ]  # fmt: skip
    model = panel.model
    assert "files missing" in model.index(0).data(MetaRole)
    assert model.index(1).data(MetaRole).startswith("failed · gpt-image-2 · 1 result · today ")
    # Thumbnails come lazily, decoded in workers: the first final of each job.
    qt_loop.run(until(lambda: all(isinstance(model.index(r).data(Qt.ItemDataRole.DecorationRole),
                                             QImage) for r in range(3))), timeout=10)  # fmt: skip
    thumb = model.index(2).data(Qt.ItemDataRole.DecorationRole)
    assert (thumb.width(), thumb.height()) == (96, 72)
    assert thumb.pixelColor(10, 10).red() > 150 and thumb.pixelColor(10, 10).blue() < 100
    # Typing in the search field.
    QTest.keyClicks(panel.search, "BICYCLE")
    qt_loop.run(until(lambda: len(prompts(panel)) == 2), timeout=10)
    assert prompts(panel) == ["remove the bicycle bell", "remove the old bicycle"]
    # Status and model filters, and "Last 7 days".
    panel.status.setCurrentIndex(panel.status.findData("done"))
    panel.model_filter.setCurrentIndex(panel.model_filter.findData("gpt-image-1"))
    qt_loop.run(until(lambda: prompts(panel) == ["remove the old bicycle"]), timeout=10)
    panel.period.setCurrentIndex(panel.period.findData(7))
    qt_loop.run(until(lambda: prompts(panel) == []), timeout=10)
    assert panel.empty.isVisible() and "No job matches" in panel.empty.text()
    assert not panel.list.isVisible()
    panel.search.clear()
    for combo in (panel.status, panel.model_filter, panel.period):
        combo.setCurrentIndex(0)
    qt_loop.run(until(lambda: len(prompts(panel)) == 3), timeout=10)
    models = [panel.model_filter.itemText(i) for i in range(panel.model_filter.count())]
    assert models == ["Any model", "gpt-image-1", "gpt-image-2"]


def test_an_empty_history_says_what_will_be_kept(qt_loop, start) -> None:
    panel = show_history(qt_loop, start())
    assert panel.model.rowCount() == 0
    assert panel.empty.isVisible() and "Every Generate is kept here" in panel.empty.text()
    assert not any(button.isEnabled() for button in panel.buttons.values())


def test_when_a_job_ran_reads_as_people_say_it() -> None:
    from datetime import datetime

    now = datetime(2026, 11, 28, 18, 0)
    assert when(datetime(2026, 11, 28, 9, 5), now) == "today 09:05"
    assert when(datetime(2026, 3, 2, 14, 1), now) == "2 Mar 14:01"
    assert when(datetime(2025, 12, 31, 23, 0), now) == "31 Dec 2025"


# --- reopen, re-run, compare --------------------------------------------------------------


def test_reopen_brings_back_photo_mask_prompt_and_parameters_as_one_undo_step(
    qt_loop, start, tmp_path: Path
) -> None:
    made = start(engine=True)
    session, window = made.session, made.window
    job_id = generate(qt_loop, made, n=2)
    job = session.jobs.jobs[job_id]
    painted = session.mask.mask.copy()
    # The designer moves on: another photo, another prompt, one variant.
    other = images.write(tmp_path / "street.png", solid(120, 80, (10, 90, 160)))
    window.canvas.open_file(str(other))
    qt_loop.run(until(lambda: session.document.picture.name == "street.png"), timeout=20)
    window.prompt.setPlainText("something else")
    window.params.editors["n"].box.setValue(1)
    panel = show_history(qt_loop, made)
    assert prompts(panel) == ["remove the spoon"]
    click_row(panel, 0, double=True)  # double-click reopens
    qt_loop.run(until(lambda: session.document.picture.name == "coffee.png"), timeout=20)
    assert window.windowTitle().startswith("coffee.png — ")
    assert session.document.picture.original == job.source.original
    np.testing.assert_array_equal(session.mask.mask, painted)  # soft edges too
    assert np.count_nonzero((painted > 0) & (painted < 255)) > 0
    assert window.prompt.toPlainText() == "remove the spoon"
    assert window.params.editors["n"].box.value() == 2
    assert "Reopened coffee.png" in window.statusBar().currentMessage()
    # One Undo: the street photo, its empty mask, its prompt and parameters, together.
    window.canvas.action("undo").trigger()
    assert session.document.picture.name == "street.png"
    assert not session.mask.has_painting()
    assert window.prompt.toPlainText() == "something else"
    assert window.params.editors["n"].box.value() == 1
    window.canvas.action("redo").trigger()
    assert session.document.picture.name == "coffee.png"
    assert window.prompt.toPlainText() == "remove the spoon"


def test_rerun_sends_the_same_inputs_mask_and_parameters_again(qt_loop, start) -> None:
    made = start(engine=True)
    jobs = made.session.jobs
    first = generate(qt_loop, made, n=2)
    made.session.params.set_value("n", 1)  # changed since: the re-run keeps the job's
    panel = show_history(qt_loop, made)
    click_row(panel, 0)
    again, _usage = press_then(qt_loop, panel, "rerun", jobs.job_finished)
    assert again != first
    assert "billed again" in made.window.statusBar().currentMessage()
    with HistoryStore.open(default_path()) as store:
        a, b = store.get_job(first), store.get_job(again)
    assert b.status == "done" and b.params == a.params and b.params["n"] == 2
    assert [i.sha256 for i in b.inputs] == [i.sha256 for i in a.inputs]
    assert b.mask.sha256 == a.mask.sha256
    assert len(b.results) == 2
    qt_loop.run(until(lambda: prompts(panel) == ["remove the spoon"] * 2), timeout=10)


def test_the_gallery_comes_back_at_the_next_start_and_compare_works_from_history(
    qt_loop, start
) -> None:
    first = start(engine=True)
    job_id = generate(qt_loop, first, n=2)
    first.session.jobs.discard(job_id, 1)  # the designer threw one variant away
    finals = [first.session.jobs.jobs[job_id].results[v].final for v in (0, 1)]
    qt_loop.run(until(lambda: first.recovery.snapshot() == first.recovery._on_disk), timeout=5)
    quit_editor(qt_loop, first)
    second = start()
    gallery = second.window.gallery
    qt_loop.run(until(lambda: job_id in gallery.sections), timeout=20)
    section = gallery.sections[job_id]
    assert sorted(section.tiles) == [0], "the discarded variant stays discarded"
    qt_loop.run(until(lambda: section.tiles[0].is_final), timeout=20)
    assert Path(section.tiles[0].path) == finals[0]
    # Compare from the History panel.
    panel = show_history(qt_loop, second)
    click_row(panel, 0)
    press(panel, "compare")
    window = second.window
    qt_loop.run(until(lambda: window.stack.currentWidget() is window.compare_panel), timeout=20)
    assert window.compare_panel.b.currentText().endswith("variant 1")


# --- reveal and delete --------------------------------------------------------------------


def test_delete_asks_with_the_space_it_frees_then_removes_the_job_and_its_files(
    qt_loop, start
) -> None:
    made = start(engine=True)
    job_id = generate(qt_loop, made, n=2)
    folder = made.session.jobs.jobs[job_id].folder
    commands = made.window.history
    panel = show_history(qt_loop, made)
    asked: list[str] = []
    commands.confirm = lambda text: asked.append(text) or False
    click_row(panel, 0)
    QTest.keyClick(panel.list, Qt.Key.Key_Delete)  # the Delete key asks too
    qt_loop.run(until(lambda: bool(asked)), timeout=10)
    assert "remove the spoon" in asked[0] and "frees" in asked[0]
    assert any(unit in asked[0] for unit in (" KB", " MB"))
    assert folder.is_dir() and panel.model.rowCount() == 1  # answered No
    commands.confirm = lambda text: asked.append(text) or True
    _job, freed = press_then(qt_loop, panel, "delete", panel.model.deleted)
    assert freed > 0 and not folder.exists()
    assert panel.model.rowCount() == 0
    assert job_id not in made.window.gallery.sections  # its tiles are gone too
    assert "freed" in made.window.statusBar().currentMessage()
    with HistoryStore.open(default_path()) as store:
        assert store.get_job(job_id) is None


def test_reveal_opens_the_jobs_folder_and_says_when_it_is_missing(
    qt_loop, start, tmp_path: Path
) -> None:
    with HistoryStore.open(default_path()) as store:
        job_id = record_job(store, tmp_path / "out", "add a hat", model="gpt-image-1",
                            status="done", color=(90, 90, 90))  # fmt: skip
    made = start()
    commands = made.window.history
    opened: list[Path] = []
    commands.reveal = opened.append
    panel = show_history(qt_loop, made)
    click_row(panel, 0)
    press(panel, "reveal")
    assert opened == [tmp_path / "out"]
    for path in (tmp_path / "out").iterdir():
        path.unlink()
    (tmp_path / "out").rmdir()
    press(panel, "reveal")
    assert opened == [tmp_path / "out"] and "missing" in made.window.statusBar().currentMessage()
    assert job_id


def test_the_drift_measured_in_the_editor_is_kept_in_the_history(qt_loop, start) -> None:
    made = start(engine=True)
    job_id = generate(qt_loop, made)

    def drift() -> float | None:
        with HistoryStore.open(default_path()) as store:
            return store.get_job(job_id).files[-1].drift

    qt_loop.run(until(lambda: drift() is not None), timeout=20)
    measured = made.session.jobs.jobs[job_id].results[0].drift
    assert measured is not None and drift() == pytest.approx(measured.share)


def test_a_reopened_job_with_a_missing_folder_uses_the_stored_copies(
    qt_loop, start, tmp_path: Path
) -> None:
    made = start(engine=True)
    job_id = generate(qt_loop, made)
    job = made.session.jobs.jobs[job_id]
    for path in sorted(job.folder.iterdir()):
        path.unlink()
    job.folder.rmdir()
    panel = show_history(qt_loop, made)
    assert "files missing" in panel.model.index(0).data(MetaRole)
    made.window.canvas.action("mask.clear").trigger()
    click_row(panel, 0)
    QTest.keyClick(panel.list, Qt.Key.Key_Return)  # Return reopens, as a double-click does
    document = made.session.document
    qt_loop.run(until(lambda: made.session.mask.has_painting()), timeout=20)
    assert document.picture.name == "coffee.png"
    message = made.window.statusBar().currentMessage()
    assert "is missing" in message and "copies the history kept" in message
