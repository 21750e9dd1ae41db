"""The editor, run as `retouch` runs it (``app.gui.run``), driven to the middle of a streamed
job so that a test can SIGKILL it there (tests/ui/test_editor_kill.py)::

    RETOUCH_HOME=... QT_QPA_PLATFORM=offscreen python -m tests.support.crash_driver PHOTO URL

It opens PHOTO, paints a mask, types PROMPT, points the session at a custom provider at URL
(a server that streams one partial image and then holds the stream open), turns streaming
on and clicks Generate. Once the partial image is on disk, the history store (read through
a connection of its own) lists the job as running with that file, and session recovery has
saved the prompt and the mask, it prints one line and sleeps::

    STREAMING <job id> <partial path> <sha256 of the mask's coverage>

Anything else ends with ``FAILED <what>`` and exit status 3. As the driver of
tests/ui/test_recovery.py does, it replaces ``app.gui.build_editor`` (without the local
engine: nothing is sent to it) and leaves the rest of ``gui.run`` as it is.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

import app.gui as gui
from app.core.providers import Provider
from app.services.history import HistoryStore, default_path

PROMPT = "put a lemon on the plate"
MODEL = "gpt-image-1"
SECRET = "sk-crash-driver-never-on-disk-4410"
DEADLINE_S = 25.0
_tasks: list[asyncio.Task] = []


async def _until(what: str, predicate: Callable[[], object], deadline: float) -> None:
    loop = asyncio.get_running_loop()
    while not predicate():
        if loop.time() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


def _saved_session() -> dict:
    path = Path(os.environ["RETOUCH_HOME"]) / "session" / "session.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _recorded_running(job_id: str, partial: Path) -> bool:
    """The job as another process would read it: running, with the partial file."""
    with HistoryStore.open(default_path()) as store:
        record = store.get_job(job_id)
    return record is not None and record.status == "running" and partial in record.partials


async def _drive(made: gui.Editor, photo: Path, url: str) -> None:
    window, session = made.window, made.session
    deadline = asyncio.get_running_loop().time() + DEADLINE_S
    window.canvas.confirm_discard = lambda _text: True
    window.canvas.open_file(photo)
    await _until(
        "the photo to open",
        lambda: (
            session.inputs.first is not None
            and session.document.picture is not None
            and session.document.picture.original == photo
        ),
        deadline,
    )
    session.mask.fill_ellipse(40, 30, 160, 90)
    window.prompt.setPlainText(PROMPT)
    provider = Provider("custom-1", "Test vendor", "custom", base_url=url, models=(MODEL,))
    session.keys.set(provider.id, SECRET)
    session.set_provider(provider)
    session.params.set_value("stream", True)
    session.params.set_value("partial_images", 1)
    button = window.generate_panel.generate_button
    await _until("Generate to be enabled", button.isEnabled, deadline)
    QTest.mouseClick(button, Qt.MouseButton.LeftButton)
    jobs = session.jobs
    await _until("a job", lambda: jobs.jobs, deadline)
    (job,) = jobs.jobs.values()

    def partial_on_disk() -> bool:
        partials = job.result(0).partials
        return bool(partials) and partials[0].is_file()

    await _until("the partial image on disk", partial_on_disk, deadline)
    partial = job.result(0).partials[0]
    loop = asyncio.get_running_loop()
    while not await asyncio.to_thread(_recorded_running, job.id, partial):
        if loop.time() > deadline:
            raise TimeoutError("timed out waiting for the history to list the partial")
        await asyncio.sleep(0.05)
    await _until(
        "session recovery to save the prompt and the mask",
        lambda: _saved_session().get("prompt") == PROMPT and _saved_session().get("mask"),
        deadline,
    )
    digest = hashlib.sha256(session.mask.mask.tobytes()).hexdigest()
    print("STREAMING", job.id, partial, digest, flush=True)
    await asyncio.sleep(3600)


async def _guarded(made: gui.Editor, photo: Path, url: str) -> None:
    try:
        await _drive(made, photo, url)
    except BaseException as exc:
        if isinstance(exc, asyncio.CancelledError):
            raise
        traceback.print_exc()
        print("FAILED", f"{type(exc).__name__}: {exc}", flush=True)
        sys.stderr.flush()
        os._exit(3)


def main(argv: list[str]) -> int:
    photo, url = Path(argv[0]), argv[1]
    real_build = gui.build_editor

    def build(*_args: object, **_kwargs: object) -> gui.Editor:
        made = real_build(start_engine=False)
        _tasks.append(asyncio.ensure_future(_guarded(made, photo, url)))
        return made

    gui.build_editor = build
    return gui.run([])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
