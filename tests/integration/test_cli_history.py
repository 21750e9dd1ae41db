"""`retouch history` and the recording of `retouch edit`: real servers on 127.0.0.1, real
processes (SIGKILL mid-stream, two at once), the history in RETOUCH_HOME."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from app.cli import main
from app.cli_history import EditRecording
from app.cli_report import ResultWriter
from app.core.events import CompletedImage, PartialImage
from app.services.history import HistoryStore, default_path
from tests.support import fault_server as fs
from tests.support import images
from tests.support.engine import running_engine

PNG = images.png_bytes(32, 24)
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.setenv("RETOUCH_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("RETOUCH_BASE_URL", raising=False)
    return tmp_path / "home"


def edit(capsys, url: str, *args: str) -> tuple[int, list[dict]]:
    code = main(["edit", "--base-url", url, *args, "--json"])
    out = capsys.readouterr().out
    return code, [json.loads(line) for line in out.splitlines() if line.strip()]


def history(capsys, *args: str) -> tuple[int, object, str]:
    code = main(["history", *args])
    captured = capsys.readouterr()
    data = json.loads(captured.out) if "--json" in args and code == 0 else captured.out
    return code, data, captured.err


def edit_locally(capsys, photo: Path, mask: Path, out: Path, *more: str) -> list[dict]:
    with running_engine() as url:
        code, events = edit(
            capsys, url, "--image", str(photo), "--mask", str(mask), "--prompt",
            "remove the spoon", "--n", "2", "--stream", "--partial-images", "1",
            "--out", str(out), *more,
        )  # fmt: skip
    assert code == 0
    return events


def test_edit_records_the_job_with_stored_inputs_and_every_file(capsys, photo, mask, tmp_path):
    out = tmp_path / "out"
    events = edit_locally(capsys, photo, mask, out)
    written = [e["file"] for e in events if "file" in e]
    code, jobs, _ = history(capsys, "list", "--json")
    assert code == 0 and len(jobs) == 1
    job = jobs[0]
    assert job["status"] == "done" and job["prompt"] == "remove the spoon"
    assert job["model"] == "local-inpaint" and job["created"] and job["finished"]
    assert job["usage"]["input_tokens"] > 0
    # The stored copies: absolute, existing, the same bytes as the designer's files.
    assert [Path(p).read_bytes() for p in job["inputs"]] == [photo.read_bytes()]
    assert Path(job["mask"]).is_absolute() and Path(job["mask"]).read_bytes() == mask.read_bytes()
    assert str(default_path().parent) in job["mask"]
    finals = [e["file"] for e in events if e["event"] == "completed"]
    partials = [e["file"] for e in events if e["event"] == "partial"]
    assert sorted(job["results"]) == sorted(finals) and len(finals) == 2
    assert sorted(job["partials"]) == sorted(partials) and len(partials) == 2
    assert sorted(f["path"] for f in job["files"]) == sorted(written)
    assert all(Path(p).is_absolute() and Path(p).is_file() for p in job["results"])
    # show: one object with every parameter, found by a short prefix of the id.
    code, shown, _ = history(capsys, "show", job["id"][:6], "--json")
    assert code == 0 and shown["id"] == job["id"]
    assert shown["params"] == {"prompt": "remove the spoon", "model": "local-inpaint", "n": 2,
                               "stream": True, "partial_images": 1}  # fmt: skip
    assert shown["base_url"].startswith("http://127.0.0.1:") and shown["path"] == "/v1/images/edits"
    assert shown["input_names"] == ["photo.png"] and shown["folder"] == str(out.absolute())
    # For people: one line per job, and the job in full.
    code, text, _ = history(capsys, "list")
    assert code == 0 and job["id"][:12] in text and "remove the spoon" in text
    code, text, _ = history(capsys, "show", job["id"][:8])
    assert "prompt: remove the spoon" in text and "(was photo.png)" in text


def test_no_history_records_nothing(capsys, photo, mask, tmp_path) -> None:
    edit_locally(capsys, photo, mask, tmp_path / "out", "--no-history")
    assert history(capsys, "list", "--json")[1] == []


def test_rerun_sends_the_stored_inputs_again_and_records_a_new_job(
    capsys, photo, mask, tmp_path
) -> None:
    edit_locally(capsys, photo, mask, tmp_path / "out")
    (first,) = history(capsys, "list", "--json")[1]
    photo.write_bytes(images.png_bytes(10, 10))  # the original changed since: no matter
    mask.unlink()
    again = tmp_path / "again"
    with running_engine() as url:  # another port: the connection flag wins
        code = main(["history", "rerun", first["id"][:10], "--base-url", url,
                     "--out", str(again), "--json"])  # fmt: skip
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 0 and lines[-1]["event"] == "done" and lines[-1]["images"] == 2
    jobs = history(capsys, "list", "--json")[1]
    assert len(jobs) == 2
    new = next(j for j in jobs if j["id"] != first["id"])
    assert new["inputs"] == first["inputs"] and new["mask"] == first["mask"]
    assert new["params"] == first["params"] and new["status"] == "done"
    assert new["options"]["rerun_of"] == first["id"]
    assert new["input_names"] == ["photo.png"]
    assert all(Path(p).parent == again for p in new["results"])


def test_delete_forgets_the_job_and_says_what_it_freed(capsys, photo, mask, tmp_path) -> None:
    edit_locally(capsys, photo, mask, tmp_path / "out")
    (job,) = history(capsys, "list", "--json")[1]
    code, text, _ = history(capsys, "delete", job["id"])
    assert code == 0 and "freed" in text and "KB" in text
    assert not any(Path(p).exists() for p in job["results"] + job["partials"])
    assert history(capsys, "list", "--json")[1] == []
    code, _, err = history(capsys, "show", job["id"])
    assert code == 2 and "no job" in err


def test_a_missing_output_folder_shows_files_missing(capsys, photo, mask, tmp_path) -> None:
    out = tmp_path / "out"
    edit_locally(capsys, photo, mask, out)
    for path in out.iterdir():
        path.unlink()
    out.rmdir()
    (job,) = history(capsys, "list", "--json")[1]
    assert job["files_missing"] and all(f["missing"] for f in job["files"])
    assert "(files missing)" in history(capsys, "list")[1]


def _edit_process(url: str, photo: Path, out: Path, *more: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "app", "edit", "--base-url", url, "--image", str(photo),
         "--prompt", "kill me softly", "--out", str(out), "--json", *more],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True,
    )  # fmt: skip


def test_sigkill_mid_stream_leaves_an_interrupted_job_with_what_arrived(
    capsys, photo, tmp_path
) -> None:
    out = tmp_path / "out"
    stream = fs.sse([fs.partial(PNG, 0), fs.partial(PNG, 1), fs.completed(PNG)], pause=60)
    with fs.serve(stream) as server:
        proc = _edit_process(server.base_url, photo, out, "--stream", "--partial-images", "2")
        try:
            first = json.loads(proc.stdout.readline())
            assert first["event"] == "partial"
            proc.send_signal(signal.SIGKILL)
            assert proc.wait(timeout=20) == -signal.SIGKILL
        finally:
            proc.kill()
            proc.communicate()
    code, jobs, _ = history(capsys, "list", "--json")
    assert code == 0 and len(jobs) == 1
    job = jobs[0]
    assert job["status"] == "interrupted" and job["prompt"] == "kill me softly"
    assert job["partials"] == [first["file"]] and Path(first["file"]).is_file()
    assert job["results"] == []


def test_two_edits_at_once_are_both_recorded(capsys, photo, tmp_path) -> None:
    with running_engine() as url:
        procs = [_edit_process(url, photo, tmp_path / f"out{k}", "--n", "3") for k in range(2)]
        outputs = [p.communicate(timeout=120) for p in procs]
    for proc, (_out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
        assert "history" not in err  # no recording problem was reported
    jobs = history(capsys, "list", "--json")[1]
    assert len(jobs) == 2 and {j["status"] for j in jobs} == {"done"}
    assert all(len(j["results"]) == 3 for j in jobs)


def test_a_full_disk_while_recording_keeps_the_images_and_says_so_once(tmp_path) -> None:
    store = HistoryStore.open(tmp_path / "history.sqlite3")
    store.begin_job("j", program="cli", inputs=[images.write(tmp_path / "p.png", PNG)],
                    params={"prompt": "x"})  # fmt: skip
    pages = store._db.execute("PRAGMA page_count").fetchone()[0]
    store._db.execute(f"PRAGMA max_page_count = {pages}")  # SQLite's "disk is full"
    warnings: list[str] = []
    recording = EditRecording(store, "j", warnings.append)
    writer = ResultWriter(tmp_path / "out", on_saved=recording.saved)
    (tmp_path / "out").mkdir()
    long_name = "x" * 0  # the file names are short; fill the page with many records
    for index in range(300):
        writer.write(PartialImage(PNG, index, request_id=f"req-{long_name}{index}" * 20))
    writer.write(CompletedImage(PNG))
    assert len(writer.written) == 301 and all(p.is_file() for p in writer.written)
    assert len(warnings) == 1
    assert "disk is full" in warnings[0] and "images are saved" in warnings[0]


# --- the command line itself -----------------------------------------------------------------


def test_unknown_commands_are_errors_with_a_hint(capsys) -> None:
    assert main(["histroy"]) == 2
    err = capsys.readouterr().err
    assert "'histroy'" in err and "edit, serve, history" in err and "PHOTO" in err
    with pytest.raises(SystemExit) as exited:
        main(["history"])
    assert exited.value.code == 2
    assert "list,show,rerun,delete" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["history", "bogus"])
    assert "invalid choice: 'bogus'" in capsys.readouterr().err


def test_a_missing_photo_is_named_not_opened(capsys, photo, tmp_path) -> None:
    assert main([str(photo), str(tmp_path / "gone.png")]) == 2
    assert "gone.png" in capsys.readouterr().err


def test_an_id_that_matches_several_jobs_asks_for_more(capsys, tmp_path) -> None:
    with HistoryStore.open(default_path()) as store:
        for job_id in ("abc1", "abc2"):
            store.begin_job(job_id, program="cli", inputs=[], params={"prompt": job_id})
    code, _, err = history(capsys, "show", "abc")
    assert code == 2 and "several" in err
    assert history(capsys, "show", "abc2", "--json")[1]["prompt"] == "abc2"
