"""The models that own the editor's state, tested without the window: declared settings
and their widgets, the task runner's typed errors, the background pool, the edit document
(open, use a result, undo), and the jobs model's re-run from its own copies."""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication, QCheckBox, QSpinBox

from app.client import ClientConfig
from app.core.errors import ErrorKind
from app.core.providers import LOCAL_ID, builtin_providers
from app.core.request import EditRequest
from app.models.document import EditDocument
from app.models.jobs import JobsModel
from app.models.settings import FEATHER_PX, PASTE_BACK, SPLIT_STREAMS, Setting, Settings
from app.models.tasks import TaskRunner
from app.qt.background import Background
from app.ui.bind import bind
from tests.support import fault_server as fs
from tests.support import images
from tests.support.qtloop import next_signal


def settings_at(path: Path, schema) -> Settings:
    return Settings(QSettings(str(path), QSettings.Format.IniFormat), schema)


# --- declared settings ----------------------------------------------------------------------


def test_a_setting_is_declared_once_with_its_default_and_type(tmp_path, schema) -> None:
    settings = settings_at(tmp_path / "s.ini", schema)
    assert settings.get(SPLIT_STREAMS) is True and settings.get(FEATHER_PX) == 4
    changes = []
    settings.changed.connect(lambda key, value: changes.append((key, value)))
    settings.set(FEATHER_PX, 12)
    settings.set(FEATHER_PX, 12)  # the same value again: no second announcement
    settings.set(PASTE_BACK, False)
    assert changes == [("keep/feather_px", 12), ("keep/paste_back", False)]
    settings.sync()
    again = settings_at(tmp_path / "s.ini", schema)
    assert again.get(FEATHER_PX) == 12 and again.get(PASTE_BACK) is False


@pytest.mark.parametrize(
    ("stored", "expected"), [("abc", 4), ("900", 64), ("-3", 0), ("7", 7), (None, 4)]
)
def test_a_damaged_or_out_of_range_value_never_stops_the_editor(
    tmp_path, schema, stored, expected
) -> None:
    store = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    if stored is not None:
        store.setValue(FEATHER_PX.key, stored)
    assert Settings(store, schema).get(FEATHER_PX) == expected


@pytest.mark.parametrize(("stored", "expected"), [("true", True), ("false", False), ("1", True)])
def test_flags_read_from_an_ini_file_as_text(tmp_path, schema, stored, expected) -> None:
    store = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    store.setValue(SPLIT_STREAMS.key, stored)
    assert Settings(store, schema).get(SPLIT_STREAMS) is expected


def test_bind_ties_a_widget_and_its_setting_both_ways(qtbot, tmp_path, schema) -> None:
    settings = settings_at(tmp_path / "s.ini", schema)
    box, spin = QCheckBox(), QSpinBox()
    qtbot.addWidget(box)
    qtbot.addWidget(spin)
    settings.set(PASTE_BACK, False)
    bind(box, settings, PASTE_BACK)
    bind(spin, settings, FEATHER_PX)
    assert not box.isChecked() and spin.value() == 4
    assert (spin.minimum(), spin.maximum()) == (0, 64)  # the range is the setting's
    assert box.toolTip() == PASTE_BACK.doc
    box.click()
    spin.setValue(9)
    assert settings.get(PASTE_BACK) is True and settings.get(FEATHER_PX) == 9
    settings.set(FEATHER_PX, 20)  # changed elsewhere: the widget shows it
    assert spin.value() == 20


def test_a_setting_of_another_type_keeps_its_own(tmp_path, schema) -> None:
    name = Setting("test/name", "plain", "a text setting")
    settings = settings_at(tmp_path / "s.ini", schema)
    settings.set(name, "kept")
    assert settings.get(name) == "kept"


# --- one runner, typed errors ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("exc", "kind", "words"),
    [
        (OSError(28, "No space left on device", "/r/kept.png"), ErrorKind.DISK, "/r/kept.png"),
        (ValueError("kept.gif: choose a .png, .jpg or .webp name"), ErrorKind.INPUT, "kept.gif"),
        (RuntimeError("a bug"), ErrorKind.INTERNAL, "Unexpected error: RuntimeError: a bug"),
    ],
)
def test_every_failed_task_reaches_one_reporter_as_a_typed_error(qt_loop, exc, kind, words) -> None:
    runner = TaskRunner()
    problems = []
    runner.problem.connect(problems.append)

    async def fails() -> None:
        raise exc

    async def scenario() -> None:
        reported = next_signal(runner.problem)
        runner.start(fails())
        await reported

    qt_loop.run(scenario())
    (error,) = problems
    assert error.kind == kind and words in error.message
    assert not error.retryable  # Retry re-sends a job; a failed save is not one
    assert "Something went wrong" not in error.message


def test_a_cancelled_task_is_not_a_problem(qt_loop) -> None:
    runner = TaskRunner()
    problems = []
    runner.problem.connect(problems.append)

    async def scenario() -> None:
        task = runner.start(asyncio.sleep(10))
        await asyncio.sleep(0)
        await runner.shutdown()
        assert task.cancelled()

    qt_loop.run(scenario())
    assert problems == [] and not runner.tasks


# --- the worker pool ---------------------------------------------------------------------------


def test_background_work_answers_on_the_ui_thread(qtbot) -> None:
    background = Background()
    answers = []

    def record(kind):
        return lambda value: answers.append((kind, value, threading.current_thread()))

    background.run(lambda: threading.current_thread().name, record("done"), record("failed"))
    background.run(lambda: 1 / 0, record("done"), record("failed"))
    assert background.wait(5)
    qtbot.waitUntil(lambda: len(answers) == 2)
    (done,) = [a for a in answers if a[0] == "done"]
    (failed,) = [a for a in answers if a[0] == "failed"]
    assert done[1].startswith("retouch-worker")  # the editor's one pool
    assert isinstance(failed[1], ZeroDivisionError)
    assert {a[2] for a in answers} == {threading.main_thread()}


def test_nothing_is_delivered_to_a_deleted_background(qtbot) -> None:
    background = Background()
    answers = []
    release = threading.Event()
    background.run(lambda: release.wait(5), answers.append, answers.append)
    background.deleteLater()
    QApplication.processEvents()
    QApplication.sendPostedEvents(None, 0)
    release.set()
    qtbot.wait(100)
    assert answers == []


# --- the edit document -------------------------------------------------------------------------


def test_the_document_opens_a_file_and_a_result_is_one_undo_step(qtbot, tmp_path) -> None:
    document = EditDocument()
    photo = images.write(tmp_path / "photo.png", images.png_bytes(64, 48))
    result = images.write(tmp_path / "result.png", images.png_bytes(64, 48))
    other = images.write(tmp_path / "other.png", images.png_bytes(30, 20))
    with qtbot.waitSignal(document.opened, timeout=5000) as opened:
        document.open(photo)
    assert opened.args == [str(photo)] and document.path == photo
    assert document.picture.size == (64, 48) and document.mask.mask.shape == (48, 64)
    document.mask.fill_rect(5, 5, 20, 20)
    painted = document.mask.mask.copy()
    with qtbot.waitSignal(document.opened, timeout=5000):
        document.use_result(result)
    assert document.path == result and np.array_equal(document.mask.mask, painted)
    with qtbot.waitSignal(document.notice, timeout=5000) as notice:
        document.use_result(other)  # another size: the mask starts empty
    assert "another size" in notice.args[0]
    assert document.mask.mask.shape == (20, 30) and not document.mask.has_painting()
    document.mask.undo_stack.undo()
    assert document.path == result and np.array_equal(document.mask.mask, painted)
    document.mask.undo_stack.undo()
    assert document.path == photo and np.array_equal(document.mask.mask, painted)
    document.mask.undo_stack.undo()  # the stroke before
    assert not document.mask.has_painting()


def test_the_newest_open_wins_and_a_broken_file_is_named(qtbot, tmp_path) -> None:
    document = EditDocument()
    first = images.write(tmp_path / "first.png", images.png_bytes(300, 200))
    second = images.write(tmp_path / "second.png", images.png_bytes(30, 20))
    broken = images.write(tmp_path / "broken.png", b"\x89PNG\r\n\x1a\n" + b"x" * 40)
    opened = []
    document.opened.connect(opened.append)
    document.open(first)
    document.open(second)
    document.wait(5)
    qtbot.waitUntil(lambda: bool(opened))
    qtbot.wait(20)
    assert opened == [str(second)]
    with qtbot.waitSignal(document.open_failed, timeout=5000) as failed:
        document.open(broken)
    assert "broken.png" in failed.args[0] and document.path == second


# --- jobs: unique ids, re-run from the job's own copies ---------------------------------------


def test_a_job_runs_again_from_its_own_copies(qt_loop, schema, tmp_path) -> None:
    photo = images.write(tmp_path / "photo.png", images.png_bytes(40, 30))
    reference = images.write(tmp_path / "style.png", images.png_bytes(20, 20))
    local = next(p for p in builtin_providers(schema) if p.id == LOCAL_ID)
    png = images.png_bytes(40, 30)
    with fs.serve(fs.json_images([png])) as server:
        jobs = JobsModel(schema, tmp_path / "results", lambda _p: ClientConfig(server.base_url))

        async def scenario() -> tuple[str, str]:
            finished = next_signal(jobs.job_finished)
            first = jobs.submit(
                EditRequest((photo, reference), {"prompt": "x", "model": "m"}), local
            )
            await finished
            photo.unlink()  # moved away since: the job kept its own copies
            reference.unlink()
            finished = next_signal(jobs.job_finished)
            again = jobs.rerun(first)
            await finished
            return first, again

        first, again = qt_loop.run(scenario())
        sent = [r.files for r in server.requests]
    assert first != again and jobs.jobs[again].number == 2
    assert len(sent) == 2 and len(sent[1]) == len(sent[0])
    rerun = jobs.jobs[again]
    assert rerun.status == "done" and rerun.results[0].final.is_file()
    card = json.loads((rerun.folder / "job.json").read_text())
    assert card["source"]["references"] == ["input-2.png"]
    assert (rerun.folder / "input-2.png").read_bytes() == (
        jobs.jobs[first].folder / "input-2.png"
    ).read_bytes()
