"""README claims about starting the programs, each run as a process of its own: `python -m app`
opens the editor and takes its local engine with it when it ends, even killed; the first
window fits 1280x720, 1366x768 and a scale factor of 2 and is at most 1440x900; and the canvas
and the compare view open on their own (`python -m app.ui.canvas`, `python -m app.ui.compare`).
The processes run side by side, so the module costs about as much as its slowest one."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support import images

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="finds the engine's process in /proc"
)

ROOT = Path(__file__).resolve().parents[2]

# Builds the editor as `retouch` does (without the engine: nothing is sent) on the screen the
# platform plugin was given, and reports what the first start chose.
WINDOW_PROBE = """
import json, sys
from PySide6.QtWidgets import QApplication, QScrollArea
app = QApplication([sys.argv[0]])
from app.gui import build_editor
made = build_editor(start_engine=False)
window = made.window
window.show()
for _ in range(5):
    app.processEvents()
screen = window.screen()
free = screen.availableGeometry()
frame = window.frameGeometry()
scroll = next(s for s in window.findChildren(QScrollArea) if s.widget() is window.params)
print(json.dumps({
    "free": [free.x(), free.y(), free.width(), free.height()],
    "frame": [frame.x(), frame.y(), frame.width(), frame.height()],
    "size": [window.width(), window.height()],
    "ratio": screen.devicePixelRatio(),
    "params_scroll": scroll.verticalScrollBar().maximum(),
}))
"""

# `python -m app.ui.canvas photo.png`, then `python -m app.ui.compare A.png B.png`, each run
# as the module's __main__; a timer looks at the window, reports it and quits.
DEMOS_PROBE = """
import json, runpy, sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
app = QApplication([sys.argv[0]])
report = {}

def window_of(kind):
    return next((w for w in app.topLevelWidgets() if type(w).__name__ == kind and w.isVisible()),
                None)

def look_at_canvas(tries=250):
    window = window_of("CanvasWindow")
    if window is None or not window.canvas.has_image():
        if tries:
            QTimer.singleShot(20, lambda: look_at_canvas(tries - 1))
            return
    else:
        image = window.canvas.image()
        actions = [a.text().replace("&", "") for a in window.findChildren(type(window.save_action))]
        report["canvas"] = {"size": [image.width(), image.height()],
                            "save_mask": "Save mask…" in actions}
    app.quit()

def look_at_compare(tries=250):
    window = window_of("CompareWindow")
    if window is None:
        if tries:
            QTimer.singleShot(20, lambda: look_at_compare(tries - 1))
            return
    else:
        compare = window.compare
        report["compare"] = {"names": list(compare.names), "mode": compare.mode,
                             "size": [compare.images[0].width(), compare.images[0].height()]}
    app.quit()

for module, argv, look in (
    ("app.ui.canvas", sys.argv[1:2], look_at_canvas),
    ("app.ui.compare", sys.argv[2:4], look_at_compare),
):
    QTimer.singleShot(0, look)
    sys.argv = [module, *argv]
    try:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    except SystemExit as done:
        report[module] = done.code
print(json.dumps(report))
"""


def environment(home: Path, platform: str = "offscreen") -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if k not in {"QT_SCALE_FACTOR", "RETOUCH_HOME"}}
    return {**keep, "QT_QPA_PLATFORM": platform, "RETOUCH_HOME": str(home),
            "PYTHONUNBUFFERED": "1"}  # fmt: skip


def python(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, *args],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def finish(process: subprocess.Popen[str], timeout: float = 60) -> dict:
    out, err = process.communicate(timeout=timeout)
    assert process.returncode == 0, err[-3000:]
    return json.loads(out.strip().splitlines()[-1])


# --- the first window fits the screen ---------------------------------------------------------


SCREENS = {
    "1280x720": (1280, 720, 1),
    "1366x768": (1366, 768, 1),
    "2560x1440 at 200 %": (1280, 720, 2),  # the screen's logical size at a scale factor of 2
    "1920x1200": (1920, 1200, 1),
}


def test_readme_the_first_window_fits_the_screen_and_is_at_most_1440x900(tmp_path: Path) -> None:
    running = {}
    for name, (width, height, ratio) in SCREENS.items():
        folder = tmp_path / name.replace(" ", "_")
        folder.mkdir()
        config = folder / "screen.json"
        config.write_text(json.dumps({"screens": [{
            "name": name, "x": 0, "y": 0, "width": width, "height": height,
            "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": ratio,
        }]}))  # fmt: skip
        env = environment(folder / "home", f"offscreen:configfile={config}")
        running[name] = python("-c", WINDOW_PROBE, env=env)
    reports = {name: finish(process) for name, process in running.items()}
    for name, report in reports.items():
        x, y, width, height = report["free"]
        fx, fy, fwidth, fheight = report["frame"]
        assert (width, height) == SCREENS[name][:2], name
        assert report["ratio"] == SCREENS[name][2], name
        # The whole window, frame included, is on the screen's free area.
        assert x <= fx and y <= fy and fx + fwidth <= x + width and fy + fheight <= y + height
        assert report["size"][0] <= 1440 and report["size"][1] <= 900, name
    assert reports["1920x1200"]["size"] == [1440, 900]
    # Where the screen is short, the parameter panel scrolls.
    assert reports["1280x720"]["params_scroll"] > 0


# --- the canvas and the compare view on their own ----------------------------------------------


def test_readme_the_canvas_and_the_compare_view_open_on_their_own(tmp_path: Path) -> None:
    photo = images.write(tmp_path / "photo.png", images.png_bytes(200, 100))
    other = images.write(tmp_path / "other.png", images.png_bytes(100, 50))
    process = python("-c", DEMOS_PROBE, str(photo), str(photo), str(other),
                     env=environment(tmp_path / "home"))  # fmt: skip
    report = finish(process)
    assert report["app.ui.canvas"] == 0 and report["app.ui.compare"] == 0
    assert report["canvas"] == {"size": [200, 100], "save_mask": True}
    compare = report["compare"]
    assert compare["names"][0] == "photo.png" and compare["names"][1].startswith("other.png")
    assert compare["size"] == [200, 100]  # B of another size is scaled to A's


# --- the editor takes its engine with it ---------------------------------------------------------


def children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except FileNotFoundError:
        return []
    return [int(p) for p in text.split()]


def command_line(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
    except FileNotFoundError:
        return []


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1][0]
    except FileNotFoundError:
        return False
    return state != "Z"


def engine_of(editor: subprocess.Popen[str], timeout: float = 40) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert editor.poll() is None, editor.communicate()[1][-3000:]
        for child in children(editor.pid):
            if "serve" in command_line(child):
                return child
        time.sleep(0.05)
    raise AssertionError("the editor started no engine")


def wait_gone(pid: int, timeout: float = 20) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.05)
    return False


def test_readme_python_m_app_opens_the_editor_and_its_engine_goes_with_it(tmp_path: Path) -> None:
    quits = python("-m", "app", env=environment(tmp_path / "quits"))
    killed = python("-m", "app", env=environment(tmp_path / "killed"))
    engines: list[int] = []
    try:
        engines = [engine_of(quits), engine_of(killed)]
        assert command_line(engines[0])[1:7] == ["-m", "app", "serve", "--port", "0",
                                                 "--exit-with-stdin"]  # fmt: skip
        time.sleep(0.3)  # the editors are up, not on their way out
        assert quits.poll() is None and killed.poll() is None
        # Quit (a session's SIGTERM): the editor saves its layout and stops the engine.
        quits.send_signal(signal.SIGTERM)
        assert quits.wait(timeout=30) == 0, quits.communicate()[1][-3000:]
        assert wait_gone(engines[0], 5), "the engine outlived the editor"
        settings = (tmp_path / "quits" / "settings.ini").read_text()
        assert "geometry" in settings.lower()
        # Killed: nothing can stop the engine, so it stops itself.
        killed.send_signal(signal.SIGKILL)
        killed.wait(timeout=10)
        assert wait_gone(engines[1]), "the engine outlived the killed editor"
    finally:
        for process in (quits, killed):
            if process.poll() is None:
                process.kill()
            process.communicate()
        for engine in engines:
            if alive(engine):
                os.kill(engine, signal.SIGKILL)
