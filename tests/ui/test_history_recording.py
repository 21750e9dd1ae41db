"""The editor records its jobs in the history (JobsModel.use_history): through the real
editor and the local engine, every store call in a worker thread, and a history that
cannot be written reported once without failing the job."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from pathlib import Path

import pytest

from app.gui import Editor
from app.services.history import HistoryStore, default_path
from tests.support.editor import generate_sample as generate
from tests.support.editor import until

STORE_CALLS = ("open", "begin_job", "add_file", "finish_job", "mark_interrupted")


@pytest.fixture
def store_threads(monkeypatch) -> list[tuple[str, bool]]:
    """(store method, whether it ran on the UI thread) for every call of the store."""
    calls: list[tuple[str, bool]] = []
    for name in STORE_CALLS:
        original = getattr(HistoryStore, name)
        original = getattr(original, "__func__", original)  # open: the class method's function

        def spy(*args, _name=name, _original=original, **kwargs):
            calls.append((_name, threading.current_thread() is threading.main_thread()))
            return _original(*args, **kwargs)

        monkeypatch.setattr(HistoryStore, name, classmethod(spy) if name == "open" else spy)
    return calls


def test_a_job_in_the_editor_is_recorded_with_its_files_off_the_ui_thread(
    qt_loop, editor: Editor, store_threads
) -> None:
    jobs = editor.session.jobs
    jobs.close_history()  # the editor opened it before the spies were in place
    jobs.use_history(default_path())
    job_id = generate(qt_loop, editor, stream=True)
    job = jobs.jobs[job_id]
    # Every store call ran in a worker thread, none on the UI thread.
    names = {name for name, _ in store_threads}
    assert {"open", "mark_interrupted", "begin_job", "add_file", "finish_job"} <= names
    assert not [name for name, on_ui in store_threads if on_ui]
    assert "MainThread" not in jobs.recorder.threads
    with HistoryStore.open(default_path()) as store:  # (the test's own reading)
        record = store.get_job(job_id)
    assert record is not None and record.status == "done" and record.program == "editor"
    assert record.prompt == "remove the spoon" and record.model == job.request.values["model"]
    assert record.params == dict(job.request.values)
    assert record.folder == job.folder and record.owns_folder
    assert record.provider == job.provider.name
    assert [f.path for f in record.files] == job.files  # every image, in arrival order
    assert record.results == (job.results[0].final,)
    assert record.partials == tuple(job.results[0].partials) and len(record.partials) == 2
    assert record.usage["output_tokens"] == job.usage.output_tokens > 0
    # The stored copies are what was sent, named as the designer's files were.
    assert record.inputs[0].path.read_bytes() == job.request_again().images[0].read_bytes()
    assert record.inputs[0].name == "coffee.png"
    assert record.mask is not None and record.mask.path.is_file()
    jobs.close_history()


def test_a_broken_history_is_moved_aside_and_said_once(qt_loop, editor: Editor) -> None:
    path = default_path()
    editor.session.jobs.close_history()  # the editor's own, opened at start
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in path.parent.glob(path.name + "*"):
        stale.unlink()  # its WAL files too: a fresh, broken file
    path.write_bytes(b"not a database at all" * 50)
    jobs, problems = editor.session.jobs, []
    jobs.history_failed.connect(problems.append)
    jobs.use_history(path)
    job_id = generate(qt_loop, editor)
    qt_loop.run(until(lambda: problems))
    assert len(problems) == 1 and "moved to history.sqlite3.corrupt-" in problems[0].message
    assert not problems[0].retryable
    with HistoryStore.open(path) as store:
        assert store.get_job(job_id).status == "done"
    jobs.close_history()


def test_a_full_history_never_fails_the_job_and_is_reported_once(qt_loop, editor: Editor) -> None:
    jobs, problems = editor.session.jobs, []
    jobs.history_failed.connect(problems.append)
    jobs.use_history(default_path())
    recorder = jobs.recorder
    qt_loop.run(until(lambda: recorder.store is not None))
    fill_to_the_brim(recorder.store._db)
    failed = []
    jobs.job_failed.connect(lambda *args: failed.append(args))
    job_id = generate(qt_loop, editor, stream=True)
    qt_loop.run(until(lambda: problems))
    job = jobs.jobs[job_id]
    assert job.results[0].final.is_file() and not failed
    assert len(problems) == 1 and "disk is full" in problems[0].message
    assert "not affected" in problems[0].message
    jobs.close_history()


def fill_to_the_brim(db: sqlite3.Connection) -> None:
    """SQLite's own "database or disk is full" for any new row: the file capped at its
    size, every page filled."""
    db.execute("INSERT INTO jobs (id, created, status, program) VALUES ('fill', 0, 'done', '-')")
    db.execute(f"PRAGMA max_page_count = {db.execute('PRAGMA page_count').fetchone()[0]}")
    rows = {
        "jobs (id, created, status, program) VALUES (?, 0, 'done', '-')": "fill-{}",
        "job_inputs (job_id, role, position, blob, name) VALUES ('fill', 'image', ?, '', '')": 0,
        "job_files (job_id, variant, kind, path) VALUES ('fill', 0, 'final', ?)": "/f/{}",
    }
    for insert, key in rows.items():
        with contextlib.suppress(sqlite3.OperationalError):
            for number in range(100_000):
                value = key.format(number) if isinstance(key, str) else number
                db.execute(f"INSERT INTO {insert}", (value,))


def test_use_history_twice_with_the_same_path_keeps_one_store(editor: Editor) -> None:
    jobs = editor.session.jobs
    jobs.use_history(default_path())
    first = jobs.recorder
    jobs.use_history(Path(default_path()))
    assert jobs.recorder is first
    jobs.close_history()
    assert jobs.recorder is None
