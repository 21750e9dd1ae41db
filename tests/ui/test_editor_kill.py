"""SIGKILL of the editor mid-stream (issue 13): the editor runs as `retouch` runs it, in a
process of its own (tests/support/crash_driver.py), against a server on 127.0.0.1 that
streams one partial image and then holds the stream open. It is killed once the partial
is on disk and recorded. What arrived stays on disk; the history keeps the job, which the
next start of either program (`retouch history`, or the editor itself) marks interrupted,
and the next editor brings back the photo, the mask and the prompt."""

from __future__ import annotations

import hashlib
import io
import json
import os
import queue
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from app.services.history import FILE_NAME, HistoryStore
from tests.support import fault_server as fs
from tests.support import images
from tests.support.crash_driver import MODEL, PROMPT
from tests.support.editor import until

ROOT = Path(__file__).resolve().parents[2]
PARTIAL = images.png_bytes(40, 24)
LINE_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class Killed:
    """What the killed editor had said and sent."""

    home: Path
    photo: Path
    job_id: str
    partial: Path
    mask_digest: str  # sha256 of the mask's coverage when it was killed
    sent: fs.RecordedRequest  # the request the server received


def read_line(stream, timeout: float) -> str:
    """The next line of ``stream``, or "" when none came within ``timeout`` seconds."""
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: lines.put(stream.readline()), daemon=True).start()
    try:
        return lines.get(timeout=timeout)
    except queue.Empty:
        return ""


def kill_mid_stream(tmp_path: Path) -> Killed:
    """Run the editor until its job is streaming (one partial on disk and in the history),
    SIGKILL it, and check it died of that while the server still held the stream."""
    photo = images.write(tmp_path / "kitchen.png", images.png_bytes(200, 120))
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if k != "QT_SCALE_FACTOR"}
    env.update(QT_QPA_PLATFORM="offscreen", RETOUCH_HOME=str(home), PYTHONUNBUFFERED="1")
    log = tmp_path / "editor-stderr.txt"
    with fs.serve(fs.sse([fs.partial(PARTIAL, 0)], hold=True)) as server:
        with open(log, "w", encoding="utf-8") as errors:
            editor = subprocess.Popen(
                [sys.executable, "-m", "tests.support.crash_driver", str(photo), server.base_url],
                cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=errors, text=True,
            )  # fmt: skip
        try:
            line = read_line(editor.stdout, LINE_TIMEOUT_S)
            said = line.split()
            assert said[:1] == ["STREAMING"], f"{line!r}\n{log.read_text()[-3000:]}"
            assert editor.poll() is None, "the editor is still running, mid-stream"
            editor.send_signal(signal.SIGKILL)
            assert editor.wait(timeout=10) == -signal.SIGKILL
        finally:
            if editor.poll() is None:
                editor.kill()
            editor.communicate(timeout=10)
        # The stream was still open when the editor died: the server saw it go.
        assert server.wait_disconnect(10)
        assert len(server.requests) == 1
    _, job_id, partial, digest = said
    return Killed(home, photo, job_id, Path(partial), digest, server.requests[0])


def read_job(home: Path, job_id: str):
    """The job as recorded, read without marking anything interrupted."""
    with HistoryStore.open(home / FILE_NAME) as store:
        return store.get_job(job_id)


def part(request: fs.RecordedRequest, name: str) -> bytes:
    (found,) = [p for p in request.files if p.name == name]
    return found.data


def test_editor_killed_mid_stream_leaves_its_partial_and_an_interrupted_job(
    tmp_path: Path,
) -> None:
    killed = kill_mid_stream(tmp_path)
    # What arrived is on disk, as it arrived.
    assert killed.partial.is_absolute() and killed.partial.is_file()
    assert killed.partial.read_bytes() == PARTIAL
    with Image.open(io.BytesIO(killed.partial.read_bytes())) as image:
        image.load()
        assert image.size == (40, 24)
    assert killed.partial.parent.parent == killed.home / "results"
    # Nobody has looked yet: the job is still "running", of a process that is gone.
    before = read_job(killed.home, killed.job_id)
    assert before is not None and before.status == "running" and before.program == "editor"
    # The next start of either program: open the store, mark the dead process's jobs.
    with HistoryStore.open(killed.home / FILE_NAME) as store:
        assert store.mark_interrupted() == [killed.job_id]
        record = store.get_job(killed.job_id)
    assert record is not None and record.status == "interrupted"
    assert record.program == "editor" and record.finished is None
    assert record.prompt == PROMPT and record.model == MODEL
    assert record.params["stream"] is True and record.params["prompt"] == PROMPT
    assert record.partials == (killed.partial,) and record.results == ()
    assert not record.files_missing
    # Its stored copies of the input and the mask are the bytes that were sent.
    sent = killed.sent
    assert sent.path == "/v1/images/edits" and sent.fields["prompt"] == PROMPT
    (stored,) = record.inputs
    assert stored.name == "kitchen.png" and stored.path.is_file()
    assert stored.path.is_relative_to(killed.home)
    assert stored.path.read_bytes() == part(sent, "image")
    assert stored.sha256 == hashlib.sha256(part(sent, "image")).hexdigest()
    assert record.mask is not None and record.mask.path.is_file()
    assert record.mask.path.read_bytes() == part(sent, "mask")
    # `retouch history list --json`, a process of its own on the same RETOUCH_HOME.
    env = {**os.environ, "RETOUCH_HOME": str(killed.home), "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "app", "history", "list", "--json"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    (listed,) = json.loads(done.stdout)
    assert listed["id"] == killed.job_id and listed["status"] == "interrupted"
    assert listed["program"] == "editor" and listed["prompt"] == PROMPT
    assert listed["model"] == MODEL
    assert listed["partials"] == [str(killed.partial)] and listed["results"] == []
    assert listed["inputs"] == [str(stored.path)] and listed["mask"] == str(record.mask.path)


# --- the next start of the editor -------------------------------------------------------


def test_the_editor_started_after_a_kill_marks_the_job_interrupted_and_restores_the_session(
    qt_loop, start, tmp_path: Path
) -> None:
    killed = kill_mid_stream(tmp_path)
    before = read_job(killed.home, killed.job_id)
    assert before is not None and before.status == "running", "nothing marked it yet"
    made = start()
    session = made.session
    # The editor opens the history in a background thread and marks the dead job.
    with HistoryStore.open(killed.home / FILE_NAME) as store:  # (the test's own reading)

        def marked() -> bool:
            record = store.get_job(killed.job_id)
            return record is not None and record.status == "interrupted"

        qt_loop.run(until(marked, timeout=15))
        record = store.get_job(killed.job_id)
    assert session.jobs.recorder is not None and session.jobs.recorder.store is not None
    assert record.prompt == PROMPT and record.partials == (killed.partial,)
    assert killed.partial.read_bytes() == PARTIAL
    # Session recovery brought back the photo, the mask and the prompt.
    picture = session.document.picture
    assert picture is not None and picture.original == killed.photo
    assert session.inputs.paths == [killed.photo]
    assert session.mask.has_painting()
    assert hashlib.sha256(session.mask.mask.tobytes()).hexdigest() == killed.mask_digest
    assert made.window.prompt.toPlainText() == PROMPT
