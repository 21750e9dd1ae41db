"""The history store (app.services.history): schema versions and migrations, broken files
moved aside, content-addressed inputs, delete, search, interrupted jobs, a full disk, and
two processes writing at once. Real files and real processes; no Qt."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from app.services.history import MIGRATIONS, HistoryError, HistoryStore, default_path

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "data" / "history.sqlite3"


@pytest.fixture
def store(db: Path):
    with HistoryStore.open(db) as opened:
        yield opened


def picture(path: Path, content: bytes = b"\x89PNG fake picture") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def begin(store: HistoryStore, job_id: str, tmp_path: Path, prompt: str = "remove the spoon",
          **extra) -> None:  # fmt: skip
    photo = extra.pop("photo", None) or picture(tmp_path / "in" / f"{job_id}.png", job_id.encode())
    store.begin_job(job_id, program="cli", inputs=[photo], params={"prompt": prompt,
                    "model": extra.pop("model", "gpt-image-1"), "n": 1}, **extra)  # fmt: skip


# --- versions and migrations -----------------------------------------------------------


def test_a_new_file_gets_the_current_schema_in_wal_mode(db: Path) -> None:
    assert not db.exists()
    with HistoryStore.open(db) as store:
        assert store.schema_version == len(MIGRATIONS) == 1
        assert store.notice is None
    raw = sqlite3.connect(db)
    assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {name for (name,) in raw.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"jobs", "job_inputs", "job_files"} <= tables
    raw.close()


def test_an_empty_file_is_migrated_from_version_0(db: Path) -> None:
    db.parent.mkdir(parents=True)
    db.touch()  # zero bytes: a valid, empty SQLite database
    with HistoryStore.open(db) as store:
        assert store.schema_version == 1 and store.notice is None and store.count() == 0


def test_a_version_1_history_is_upgraded_by_a_later_migration_keeping_its_jobs(
    db: Path, tmp_path: Path
) -> None:
    with HistoryStore.open(db) as store:
        begin(store, "a" * 32, tmp_path)

    def version_2(conn: sqlite3.Connection) -> None:
        conn.execute("ALTER TABLE jobs ADD COLUMN rating INTEGER NOT NULL DEFAULT 0")
        conn.execute("UPDATE jobs SET rating = 5")

    with HistoryStore.open(db, migrations=[*MIGRATIONS, version_2]) as store:
        assert store.schema_version == 2
        assert store.get_job("a" * 32).prompt == "remove the spoon"
    raw = sqlite3.connect(db)
    assert raw.execute("SELECT rating FROM jobs").fetchall() == [(5,)]
    raw.close()
    # Opening it again with the same list migrates nothing (the step would fail twice).
    with HistoryStore.open(db, migrations=[*MIGRATIONS, version_2]) as store:
        assert store.schema_version == 2


def test_a_failing_migration_leaves_the_old_version(db: Path, tmp_path: Path) -> None:
    with HistoryStore.open(db) as store:
        begin(store, "b" * 32, tmp_path)

    def broken(conn: sqlite3.Connection) -> None:
        conn.execute("ALTER TABLE jobs ADD COLUMN half INTEGER")
        conn.execute("THIS IS NOT SQL")

    with pytest.raises(HistoryError, match=r"history\.sqlite3"):
        HistoryStore.open(db, migrations=[*MIGRATIONS, broken])
    with HistoryStore.open(db) as store:
        assert store.schema_version == 1 and store.count() == 1
    assert "half" not in _columns(db)


def test_a_newer_history_is_moved_aside_and_a_new_one_started(db: Path, tmp_path: Path) -> None:
    with HistoryStore.open(db) as store:
        begin(store, "c" * 32, tmp_path)
    raw = sqlite3.connect(db)
    raw.execute("PRAGMA user_version = 7")
    raw.close()
    with HistoryStore.open(db) as store:
        assert "newer" in store.notice and "schema version 7" in store.notice
        assert store.count() == 0 and store.schema_version == 1
        moved = [p for p in db.parent.iterdir() if p.name.startswith("history.sqlite3.newer-")]
        assert [p.name for p in moved if not p.name.endswith(("-wal", "-shm"))]
        assert moved[0].name in store.notice
    kept = sqlite3.connect(moved[0])
    assert kept.execute("PRAGMA user_version").fetchone()[0] == 7
    assert kept.execute("SELECT count(*) FROM jobs").fetchone()[0] == 1  # nothing lost
    kept.close()


def test_a_corrupt_file_is_moved_aside_never_a_crash(db: Path) -> None:
    picture(db, b"this is not a database, it is a shopping list\n" * 100)
    with HistoryStore.open(db) as store:
        assert "could not be read" in store.notice and str(db) in store.notice
        assert store.count() == 0
    moved = [p for p in db.parent.iterdir() if p.name.startswith("history.sqlite3.corrupt-")]
    assert len(moved) == 1 and moved[0].read_bytes().startswith(b"this is not a database")


def test_a_folder_that_cannot_be_written_is_a_history_error(tmp_path: Path) -> None:
    blocker = picture(tmp_path / "file-not-folder")
    with pytest.raises(HistoryError, match="file-not-folder"):
        HistoryStore.open(blocker / "history.sqlite3")


def test_the_history_lives_in_retouch_home(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("RETOUCH_HOME", str(tmp_path))
    assert default_path() == tmp_path / "history.sqlite3"


# --- inputs, files, delete ---------------------------------------------------------------


def test_inputs_are_stored_once_by_content_and_survive_the_original(store, tmp_path) -> None:
    photo = picture(tmp_path / "desk" / "coffee.png", b"the same bytes")
    twin = picture(tmp_path / "elsewhere" / "copy of coffee.png", b"the same bytes")
    mask = picture(tmp_path / "desk" / "mask.png", b"mask bytes")
    store.begin_job("j1", program="cli", inputs=[photo], mask=mask, params={"prompt": "x"})
    store.begin_job("j2", program="cli", inputs=[twin], params={"prompt": "y"})
    one, two = store.get_job("j1"), store.get_job("j2")
    assert one.inputs[0].path == two.inputs[0].path  # identical inputs stored once
    assert one.inputs[0].name == "coffee.png" and two.inputs[0].name == "copy of coffee.png"
    blob = one.inputs[0].path
    assert blob.parent.parent.name == "blobs" and blob.parent.name == blob.name[:2]
    assert blob.is_absolute() and blob.suffix == ".png"
    assert one.mask.name == "mask.png" and one.mask.path.read_bytes() == b"mask bytes"
    twin.write_bytes(b"edited in place")  # the same file, rewritten: the copy is its own
    assert two.inputs[0].path.read_bytes() == b"the same bytes"
    # The designer edits the photo (a save writes a new file) and moves it away.
    replacement = picture(tmp_path / "desk" / "new.png", b"edited later")
    os.replace(replacement, photo)
    photo.rename(tmp_path / "moved.png")
    again = store.get_job("j1")
    assert again.inputs[0].path.read_bytes() == b"the same bytes"
    assert not again.files_missing


def test_files_are_recorded_in_arrival_order_and_flagged_when_missing(store, tmp_path) -> None:
    folder = tmp_path / "results" / "job"
    begin(store, "j1", tmp_path, folder=folder, owns_folder=True)
    partial = picture(folder / "p0.png", b"partial")
    final = picture(folder / "final.png", b"final")
    store.add_file("j1", 0, "partial", partial, partial_index=0)
    store.add_file("j1", 0, "final", final)
    store.add_file("j1", 0, "final", final)  # the same file twice is one record
    store.set_drift("j1", 0, 0.0125)
    store.finish_job("j1", "done", {"input_tokens": 5}, ["req_1", "req_1", None, "req_2"])
    record = store.get_job("j1")
    assert record.status == "done" and record.finished >= record.created
    assert record.partials == (partial,) and record.results == (final,)
    assert [f.kind for f in record.files] == ["partial", "final"]
    assert record.files[1].drift == pytest.approx(0.0125)
    assert record.request_ids == ("req_1", "req_2") and record.usage == {"input_tokens": 5}
    final.unlink()
    after = store.get_job("j1")
    assert after.files_missing and after.files[1].missing and not after.files[0].missing
    for path in folder.iterdir():
        path.unlink()
    folder.rmdir()
    assert store.get_job("j1").folder_missing


def test_delete_removes_the_jobs_files_and_blobs_no_other_job_uses(store, tmp_path) -> None:
    shared = picture(tmp_path / "shared.png", b"S" * 1000)
    own = picture(tmp_path / "own.png", b"O" * 3000)
    store.begin_job("keep", program="cli", inputs=[shared], params={"prompt": "a"})
    folder = tmp_path / "results" / "job-folder"
    store.begin_job("gone", program="editor", inputs=[shared, own], params={"prompt": "b"},
                    folder=folder, owns_folder=True)  # fmt: skip
    final = picture(folder / "final.png", b"F" * 5000)
    picture(folder / "job.json", b"{}" * 10)
    store.add_file("gone", 0, "final", final)
    blobs = [i.path for i in store.get_job("gone").inputs]
    assert store.space_of("gone") == 5000 + 20 + 3000  # said before, in the confirmation
    freed = store.delete_job("gone")
    assert freed == 5000 + 20 + 3000  # the result, the job's card, the input only it used
    assert store.get_job("gone") is None and not folder.exists()
    assert blobs[0].is_file() and not blobs[1].exists()
    assert store.get_job("keep").inputs[0].path.read_bytes() == b"S" * 1000
    with pytest.raises(HistoryError, match="No job"):
        store.delete_job("gone")


def test_delete_leaves_a_shared_output_folder(store, tmp_path) -> None:
    out = tmp_path / "out"
    neighbour = picture(out / "someone-elses.png")
    begin(store, "cli-job", tmp_path, folder=out)
    store.add_file("cli-job", 0, "final", picture(out / "r.png", b"R" * 10))
    assert store.space_of("cli-job") == 10 + len(b"cli-job")
    assert store.delete_job("cli-job") == 10 + len(b"cli-job")  # the result, its input copy
    assert neighbour.is_file()


# --- search and listing ------------------------------------------------------------------


def test_search_by_prompt_filters_and_newest_first(store, tmp_path) -> None:
    prompts = ["Remove the SPOON", "add a cup", "100% coffee_beans", "remove the cup"]
    for number, prompt in enumerate(prompts):
        begin(store, f"job{number}", tmp_path, prompt, model="m2" if number % 2 else "m1")
        time.sleep(0.002)
    store.finish_job("job3", "failed")
    assert [r.id for r in store.list_jobs()] == ["job3", "job2", "job1", "job0"]
    assert [r.id for r in store.list_jobs(search="spoon")] == ["job0"]  # any case
    assert [r.id for r in store.list_jobs(search="cup")] == ["job3", "job1"]
    assert [r.id for r in store.list_jobs(search="100%")] == ["job2"]  # % and _ are literal
    assert store.list_jobs(search="o_f") == [] and store.list_jobs(search="%") != []
    assert [r.id for r in store.list_jobs(status="failed")] == ["job3"]
    assert [r.id for r in store.list_jobs(model="m1")] == ["job2", "job0"]
    assert store.models() == ["m1", "m2"]  # the History panel's model filter
    assert [r.id for r in store.list_jobs(limit=2)] == ["job3", "job2"]
    since = store.get_job("job2").created
    assert [r.id for r in store.list_jobs(since=since)] == ["job3", "job2"]
    assert store.match_ids("job") == ["job3", "job2", "job1", "job0"]
    assert store.match_ids("job_") == []  # an underscore is a character, not a wildcard


def test_the_record_in_json_has_what_scripts_need(store, tmp_path) -> None:
    begin(store, "j1", tmp_path, provider="Local engine", base_url="http://127.0.0.1:9",
          api_path="/v1/images/edits", region=(1, 2, 30, 40),
          paste_back={"feather": 8})  # fmt: skip
    data = store.get_job("j1").to_json()
    keys = ("id", "created", "status", "prompt", "model", "inputs", "mask", "results",
            "partials", "usage", "params", "region", "paste_back", "base_url", "path")  # fmt: skip
    for key in keys:
        assert key in data
    assert data["status"] == "running" and data["region"] == [1, 2, 30, 40]
    assert data["params"] == {"prompt": "remove the spoon", "model": "gpt-image-1", "n": 1}
    assert data["mask"] is None and Path(data["inputs"][0]).is_file()


# --- processes, faults --------------------------------------------------------------------


def _python(code: str, *args: str, **kwargs) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code), *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs)  # fmt: skip


WRITER = """
    import sys
    from pathlib import Path
    from app.services.history import HistoryStore
    db, tag, count = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    photo = db.parent / f"{tag}.png"
    photo.write_bytes(tag.encode())
    with HistoryStore.open(db) as store:
        for k in range(count):
            job = f"{tag}-{k}"
            store.begin_job(job, program="cli", inputs=[photo], params={"prompt": job})
            for p in range(3):
                store.add_file(job, 0, "partial", db.parent / f"{job}-{p}.png", partial_index=p)
            store.add_file(job, 0, "final", db.parent / f"{job}.png")
            if tag == "exits":
                continue  # left running: this process ends without finishing its jobs
            store.finish_job(job, "done", {"output_tokens": 1}, [f"req-{job}"])
    print("ok")
"""


def test_two_processes_writing_at_once_both_succeed(db: Path) -> None:
    HistoryStore.open(db).close()
    writers = [_python(WRITER, str(db), tag, "150") for tag in ("left", "right")]
    results = [w.communicate(timeout=120) for w in writers]
    for writer, (out, err) in zip(writers, results, strict=True):
        assert writer.returncode == 0, err.decode()
        assert out.decode().strip() == "ok"
    with HistoryStore.open(db) as store:
        assert store.count() == 300
        jobs = store.list_jobs(limit=300)
        assert {r.status for r in jobs} == {"done"}
        assert all(len(r.files) == 4 and len(r.partials) == 3 for r in jobs)


def test_jobs_of_a_process_that_died_become_interrupted(db: Path, tmp_path: Path) -> None:
    db.parent.mkdir(parents=True)
    writer = _python(WRITER, str(db), "exits", "2")
    _, err = writer.communicate(timeout=60)
    assert writer.returncode == 0, err.decode()
    with HistoryStore.open(db) as store:
        begin(store, "mine", tmp_path)  # this process is alive: its job stays running
        assert sorted(store.mark_interrupted()) == ["exits-0", "exits-1"]
        assert store.get_job("exits-0").status == "interrupted"
        assert len(store.get_job("exits-0").partials) == 3  # what arrived is kept
        assert store.get_job("mine").status == "running"
        assert store.mark_interrupted() == []


def test_a_full_disk_is_a_clear_history_error_and_the_store_goes_on(store, tmp_path) -> None:
    begin(store, "j1", tmp_path)
    # SQLite's own "database or disk is full", by capping the file at its current size.
    pages = store._db.execute("PRAGMA page_count").fetchone()[0]
    store._db.execute(f"PRAGMA max_page_count = {pages}")
    with pytest.raises(HistoryError) as caught:
        for number in range(5000):
            store.add_file("j1", 0, "partial", tmp_path / f"{'x' * 200}-{number}.png", number)
    message = str(caught.value)
    assert "disk is full" in message and str(store.path) in message
    assert "images themselves are saved" in message
    store._db.execute("PRAGMA max_page_count = 1073741823")
    store.finish_job("j1", "done")  # room again: recording goes on
    assert store.get_job("j1").status == "done"


def _columns(db: Path) -> set[str]:
    raw = sqlite3.connect(db)
    try:
        return {row[1] for row in raw.execute("PRAGMA table_info(jobs)")}
    finally:
        raw.close()


OPENER = """
    import sys, time
    from pathlib import Path
    from app.services.history import HistoryStore
    start = float(sys.argv[2])
    while time.time() < start:
        pass
    with HistoryStore.open(Path(sys.argv[1])) as store:
        store.mark_interrupted()
    print("ok")
"""


def test_processes_creating_the_history_at_the_same_instant_all_succeed(db: Path) -> None:
    """The loser of the race to switch a new file to WAL is told "locked" at once."""
    db.parent.mkdir(parents=True)
    for _round in range(3):
        for path in db.parent.iterdir():
            path.unlink()
        start = str(time.time() + 1.0)
        openers = [_python(OPENER, str(db), start) for _ in range(6)]
        for opener in openers:
            out, err = opener.communicate(timeout=60)
            assert out.decode().strip() == "ok", err.decode()
