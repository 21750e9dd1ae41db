"""Session recovery and File ▸ Open Recent through the real window (issue 13): what the
designer set up is on disk within two seconds of a change, written off the UI thread, and
comes back at the next start after a quit or a `kill -9`; Start fresh forgets it; a missing
photo, a damaged file or a photo of another size is said, never a crash."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QFileDialog

from app.core.resources import resource_path
from app.gui import Editor
from app.models.session_file import SessionFolder
from tests.support import images
from tests.support.editor import (
    paint,
    quit_editor,
    until,
)
from tests.ui.test_readme_editor import menu_item

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = resource_path("samples", "coffee.png")
TITLE = "Retouch Studio"


def session_folder() -> Path:
    return Path(os.environ["RETOUCH_HOME"]) / "session"


def saved_json() -> dict:
    try:
        return json.loads((session_folder() / "session.json").read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def record_writes(monkeypatch) -> list[bool]:
    """Every session write from now on: True when it ran on the UI (main) thread."""
    on_main: list[bool] = []
    real = SessionFolder.write

    def write(self, saved, coverage) -> None:
        on_main.append(threading.current_thread() is threading.main_thread())
        real(self, saved, coverage)

    monkeypatch.setattr(SessionFolder, "write", write)
    return on_main


def open_photo(qt_loop, made: Editor, path: Path) -> None:
    made.window.canvas.open_file(path)
    qt_loop.run(until(lambda: made.session.inputs.first is not None
                      and made.session.document.picture is not None
                      and made.session.document.picture.original == path))  # fmt: skip


def paint_soft(made: Editor) -> None:
    brush = made.window.canvas.brush
    brush.set_size(60)
    brush.set_hardness(0.1)
    paint(made, [(300 + 6 * i, 250 + 3 * i) for i in range(12)])


def choose(made: Editor, field: str, value: str) -> None:
    box = made.window.params.editors[field].box
    box.setCurrentIndex(box.findData(value))


def add_input(qt_loop, made: Editor, path: Path, monkeypatch) -> None:
    count = len(made.session.inputs.paths)
    monkeypatch.setattr(QFileDialog, "getOpenFileNames", lambda *a, **k: ([str(path)], ""))
    menu_item(made.window, "File", "Add input images").trigger()
    qt_loop.run(until(lambda: len(made.session.inputs.paths) == count + 1))


def soft_values(coverage: np.ndarray) -> int:
    return int(np.count_nonzero((coverage > 0) & (coverage < 255)))


# --- saved off the UI thread, back after a quit ------------------------------------------------


def test_the_session_is_saved_within_two_seconds_off_the_ui_thread_and_comes_back(
    qt_loop, start, tmp_path: Path, monkeypatch
) -> None:
    writes = record_writes(monkeypatch)
    cup = images.write(tmp_path / "cup.png", images.png_bytes(120, 90))
    first = start()
    window, session = first.window, first.session
    assert window.windowTitle() == TITLE
    menu_item(window, "File", "Open the sample photo").trigger()
    qt_loop.run(until(lambda: session.inputs.first is not None))
    assert window.windowTitle() == f"coffee.png — {TITLE}"
    paint_soft(first)
    QTest.keyClicks(window.prompt, "remove the spoon")
    choose(first, "quality", "high")
    add_input(qt_loop, first, cup, monkeypatch)
    changed = time.monotonic()
    coverage = session.mask.mask.copy()
    assert soft_values(coverage) > 100, "a soft brush leaves soft edges"

    def on_disk() -> bool:
        raw = saved_json()
        return (
            raw.get("prompt") == "remove the spoon"
            and raw["params"].get("quality") == "high"
            and len(raw["inputs"]) == 2
            and raw["mask"] is not None
            and (session_folder() / raw["mask"]["file"]).exists()
        )

    qt_loop.run(until(on_disk, timeout=2.5))
    assert time.monotonic() - changed < 2.5
    assert writes and not any(writes), "the session is written in a worker thread"
    raw = saved_json()
    assert raw["photo"]["original"] == str(SAMPLE) and raw["photo"]["name"] == "coffee.png"
    assert [i["name"] for i in raw["inputs"]] == ["coffee.png", "cup.png"]
    assert raw["mask"]["width"] == 600 and raw["mask"]["height"] == 400
    inputs = list(session.inputs.paths)
    quit_editor(qt_loop, first)

    count = len(writes)
    second = start()
    window, session = second.window, second.session
    picture = session.document.picture
    assert picture is not None and picture.original == SAMPLE
    assert window.windowTitle() == f"coffee.png — {TITLE}"
    assert np.array_equal(session.mask.mask, coverage), "the exact coverage, soft edges too"
    assert window.canvas.mask_item.isVisible()
    assert window.prompt.toPlainText() == "remove the spoon"
    assert session.params.value("prompt") == "remove the spoon"
    assert session.params.value("quality") == "high"
    assert window.params.editors["quality"].value() == "high"
    assert session.inputs.paths == inputs
    assert [session.inputs.name(p) for p in inputs] == ["coffee.png", "cup.png"]
    assert not window.first_run.isVisible()
    assert QApplication.focusWidget() is window.canvas, "the keyboard is on the picture"
    assert "Restored the last session: coffee.png" in window.statusBar().currentMessage()
    # Restoring is no change: nothing is written again, and quitting asks nothing.
    assert not session.mask_unsaved()
    qt_loop.run(asyncio.sleep(1.6))
    assert len(writes) == count, "restoring wrote the session again"
    asked: list[str] = []
    window.confirm_quit = lambda text: asked.append(text) or True
    window.close()
    assert asked == [], "a restored mask is not unsaved painting"
    # A stroke after the restore is a change: saved again.
    window.show()
    paint(second, [(100, 100), (140, 120)])
    assert session.mask_unsaved()
    qt_loop.run(until(lambda: len(writes) > count, timeout=2.5))


# --- back after kill -9 ------------------------------------------------------------------------

# The editor as `python -m app` runs it (app.gui.run: QApplication, the qasync loop), without
# the engine; a driver opens the photo, paints a soft mask, types a prompt and picks a
# quality, waits until the session on disk has them, says so with the mask's digest and waits
# to be killed.
CRASH_DRIVER = """
import asyncio, hashlib, json, os, sys
from pathlib import Path
import app.gui as gui

photo = Path(sys.argv[1])
folder = Path(os.environ["RETOUCH_HOME"]) / "session"
real_build = gui.build_editor
tasks = []

def saved():
    try:
        raw = json.loads((folder / "session.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return raw

async def drive(made):
    session = made.session
    session.document.open(photo)
    while session.inputs.first is None:
        await asyncio.sleep(0.02)
    session.mask.fill_ellipse(40, 30, 160, 90)
    session.mask.feather(10)
    made.window.prompt.setPlainText("put a lemon on the plate")
    session.params.set_value("quality", "medium")
    while True:
        raw = saved()
        if raw.get("prompt") == "put a lemon on the plate" and raw.get("mask"):
            break
        await asyncio.sleep(0.05)
    digest = hashlib.sha256(session.mask.mask.tobytes()).hexdigest()
    print("SAVED", digest, flush=True)
    await asyncio.sleep(3600)

def build(*args, **kwargs):
    made = real_build(start_engine=False)
    tasks.append(asyncio.ensure_future(drive(made)))
    return made

gui.build_editor = build
gui.run([])
"""


def test_after_kill_9_the_next_start_finds_the_photo_mask_prompt_and_parameters(
    qt_loop, start, tmp_path: Path, monkeypatch
) -> None:
    photo = images.write(tmp_path / "kitchen.png", images.png_bytes(200, 120))
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if k != "QT_SCALE_FACTOR"}
    env.update(QT_QPA_PLATFORM="offscreen", RETOUCH_HOME=str(home), PYTHONUNBUFFERED="1")
    editor = subprocess.Popen(
        [sys.executable, "-c", CRASH_DRIVER, str(photo)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        line = editor.stdout.readline()  # blocks until the driver has seen the save
        assert line.startswith("SAVED "), editor.communicate(timeout=10)[1][-3000:]
        digest = line.split()[1]
        editor.send_signal(signal.SIGKILL)
        assert editor.wait(timeout=10) == -signal.SIGKILL
    finally:
        if editor.poll() is None:
            editor.kill()
        editor.communicate()
    made = start()
    session = made.session
    picture = session.document.picture
    assert picture is not None and picture.original == photo
    assert made.window.windowTitle() == f"kitchen.png — {TITLE}"
    assert hashlib.sha256(session.mask.mask.tobytes()).hexdigest() == digest
    assert soft_values(session.mask.mask) > 100
    assert made.window.prompt.toPlainText() == "put a lemon on the plate"
    assert session.params.value("quality") == "medium"
    assert session.inputs.paths == [photo]


# --- Start fresh ------------------------------------------------------------------------------


def test_start_fresh_asks_about_painting_empties_the_editor_and_forgets_the_session(
    qt_loop, start
) -> None:
    first = start()
    window, session = first.window, first.session
    open_photo(qt_loop, first, SAMPLE)
    paint_soft(first)
    QTest.keyClicks(window.prompt, "remove the spoon")
    choose(first, "quality", "low")
    qt_loop.run(until(lambda: bool(saved_json().get("mask")), timeout=2.5))
    asked: list[str] = []
    window.canvas.confirm_discard = lambda text: asked.append(text) or False
    menu_item(window, "File", "Start fresh").trigger()
    assert len(asked) == 1 and "mask will be lost" in asked[0]
    assert session.document.picture is not None, "answered No: nothing changed"
    window.canvas.confirm_discard = lambda text: asked.append(text) or True
    menu_item(window, "File", "Start fresh").trigger()
    assert len(asked) == 2
    assert session.document.picture is None and not session.inputs.paths
    assert not session.mask.has_painting() and not window.canvas.has_image()
    assert window.prompt.toPlainText() == "" and session.params.value("quality") == "auto"
    assert window.windowTitle() == TITLE and window.first_run.isVisible()
    qt_loop.run(until(lambda: not (session_folder() / "session.json").exists(), timeout=2.5))
    assert not list(session_folder().glob("mask-*.png"))
    # Nothing painted: Start fresh asks nothing.
    menu_item(window, "File", "Start fresh").trigger()
    assert len(asked) == 2
    quit_editor(qt_loop, first)

    second = start()
    assert second.session.document.picture is None and not second.session.inputs.paths
    assert second.window.prompt.toPlainText() == ""
    assert second.window.first_run.isVisible() and second.window.windowTitle() == TITLE


# --- what cannot come back is said ---------------------------------------------------------------


def test_a_missing_photo_is_named_and_the_prompt_and_parameters_come_back(
    qt_loop, start, tmp_path: Path
) -> None:
    photo = images.write(tmp_path / "holiday.png", images.png_bytes(200, 120))
    first = start()
    open_photo(qt_loop, first, photo)
    first.session.mask.fill_rect(10, 10, 80, 60)
    QTest.keyClicks(first.window.prompt, "a blue sky")
    choose(first, "quality", "high")
    quit_editor(qt_loop, first)
    photo.unlink()

    second = start()
    window, session = second.window, second.session
    assert session.document.picture is None and window.windowTitle() == TITLE
    assert window.error_bar.isVisible()
    message = window.error_bar.message.text()
    assert "not found" in message and str(photo) in message
    assert window.prompt.toPlainText() == "a blue sky"
    assert session.params.value("quality") == "high"


def test_a_damaged_session_file_is_moved_aside_with_a_message(qt_loop, start) -> None:
    folder = session_folder()
    folder.mkdir(parents=True)
    (folder / "session.json").write_text('{"format": "retouch-studio-session", "vers')
    made = start()
    window = made.window
    assert window.error_bar.isVisible()
    message = window.error_bar.message.text()
    assert "cannot be used" in message and "not valid JSON" in message
    assert str(folder / "session.json") in message and "moved to" in message
    (aside,) = folder.glob("session-unreadable-*.json")
    assert str(aside) in message
    assert made.session.document.picture is None and window.first_run.isVisible()


def test_a_photo_now_of_another_size_opens_without_the_mask_and_says_why(
    qt_loop, start, tmp_path: Path
) -> None:
    photo = images.write(tmp_path / "street.png", images.png_bytes(200, 120))
    first = start()
    open_photo(qt_loop, first, photo)
    first.session.mask.fill_rect(10, 10, 80, 60)
    quit_editor(qt_loop, first)
    images.write(photo, images.png_bytes(300, 180))

    second = start()
    session, bar = second.session, second.window.error_bar
    assert session.document.picture is not None and session.document.picture.size == (300, 180)
    assert not session.mask.has_painting()
    assert bar.isVisible() and "200x120" in bar.message.text()
    assert "300x180" in bar.message.text() and "street.png" in bar.message.text()


# --- File ▸ Open Recent ----------------------------------------------------------------------


def recent_texts(made: Editor) -> list[str]:
    return [a.text() for a in made.window.files.recent_menu.actions() if not a.isSeparator()]


def test_open_recent_lists_the_last_photos_opens_them_and_handles_a_missing_one(
    qt_loop, start, tmp_path: Path
) -> None:
    photos = [
        images.write(tmp_path / f"photo{i}.png", images.png_bytes(80 + i, 60)) for i in range(12)
    ]
    made = start()
    menu = made.window.files.recent_menu
    file_menu = next(a.menu() for a in made.window.menuBar().actions() if a.text() == "&File")
    assert menu.menuAction() in file_menu.actions() and menu.title() == "Open &Recent"
    assert recent_texts(made) == ["No photos opened yet", "&Clear list"]
    for photo in photos:
        open_photo(qt_loop, made, photo)
    texts = recent_texts(made)
    assert len(texts) == 11, "ten photos and Clear list"
    assert texts[0].startswith("&1 photo11.png") and texts[9].startswith("&0 photo2.png")
    assert str(tmp_path) in texts[0] or "…" in texts[0]
    # Choosing one opens it, and it goes to the top.
    older = next(a for a in menu.actions() if a.text().startswith("&3 photo9.png"))
    older.trigger()
    qt_loop.run(until(lambda: made.session.document.picture.original == photos[9]))
    assert made.window.windowTitle() == f"photo9.png — {TITLE}"
    assert recent_texts(made)[0].startswith("&1 photo9.png")
    # A photo that is gone: taken off the list, and said.
    photos[5].unlink()
    gone = next(a for a in menu.actions() if a.data() == str(photos[5]))
    gone.trigger()
    bar = made.window.error_bar
    assert bar.isVisible() and "photo5.png" in bar.message.text()
    assert "no longer" in bar.message.text() and str(tmp_path) in bar.message.text()
    assert made.session.document.picture.original == photos[9], "nothing else was opened"
    assert all(a.data() != str(photos[5]) for a in menu.actions())
    assert len(recent_texts(made)) == 10
    quit_editor(qt_loop, made)

    again = start()  # kept across restarts
    assert recent_texts(again)[0].startswith("&1 photo9.png")
    clear = next(a for a in again.window.files.recent_menu.actions() if a.text() == "&Clear list")
    clear.trigger()
    assert recent_texts(again) == ["No photos opened yet", "&Clear list"]
