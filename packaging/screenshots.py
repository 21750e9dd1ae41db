"""Drive the real editor offscreen and save the README's screenshots.

    QT_QPA_PLATFORM=offscreen python packaging/screenshots.py [OUT_DIR]

Uses a throwaway RETOUCH_HOME, the sample photo and the built-in local engine, exactly as a
new user would on first start: nothing here is staged by hand but the mouse.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("RETOUCH_HOME", tempfile.mkdtemp(prefix="retouch-shots-"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.support.pointer


import qasync
from PySide6.QtCore import QPointF, Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from app.gui import Editor, build_editor
from app.ui.settings_dialog import SettingsDialog
from app.ui.theme import apply_dark_theme
from tests.support.pointer import drag

OUT = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent / "screenshots"


async def until(predicate, timeout: float = 30.0, step: float = 0.05) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise TimeoutError("the editor did not get there in time")
        await asyncio.sleep(step)


def stroke(editor: Editor, points: list[tuple[float, float]]) -> None:
    """A real brush stroke: mouse events on the canvas's viewport, in image coordinates."""
    canvas = editor.window.canvas
    drag(canvas.viewport(), [canvas.to_viewport(QPointF(x, y)).toPoint() for x, y in points])


def save(editor: Editor, name: str) -> Path:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / name
    editor.window.grab().save(str(path))
    print(path)
    return path


async def tour(app: QApplication) -> None:
    editor = build_editor()
    window, session = editor.window, editor.session
    window.resize(1440, 900)
    window.show()
    await until(lambda: editor.engine is not None and editor.engine.url is not None)
    await asyncio.sleep(0.2)
    save(editor, "editor-first-run.png")

    QTest.mouseClick(window.first_run.sample_button, Qt.MouseButton.LeftButton)
    await until(lambda: session.inputs.first is not None and window.canvas.has_image())
    await asyncio.sleep(0.3)
    # The coffee sample (600x400): paint over the spoon, its head then its handle.
    window.canvas.brush.set_size(64)
    stroke(editor, [(335 + i * 4, 262 + i * 4) for i in range(14)])
    window.canvas.brush.set_size(30)
    stroke(editor, [(412 - i * 4, 70 + i * 12) for i in range(17)])
    window.prompt.setPlainText("remove the spoon, continue the saucer")
    session.params.set_value("n", 2)
    session.params.set_value("stream", True)
    session.params.set_value("partial_images", 3)
    await until(lambda: session.readiness() == "")
    await asyncio.sleep(0.2)
    save(editor, "editor-mask.png")

    shot_taken = asyncio.get_running_loop().create_future()
    seen: set[int] = set()

    def on_partial(_job: int, variant: int, _index: int, *_rest) -> None:
        seen.add(variant)
        if len(seen) == 2 and not shot_taken.done():
            save(editor, "editor-streaming.png")  # synchronously, while finals are pending
            shot_taken.set_result(True)

    session.jobs.partial_received.connect(on_partial)
    QTest.mouseClick(window.generate_panel.generate_button, Qt.MouseButton.LeftButton)
    await asyncio.wait_for(shot_taken, 60)
    finished = asyncio.get_running_loop().create_future()
    session.jobs.job_finished.connect(lambda *_: finished.done() or finished.set_result(True))
    session.jobs.job_failed.connect(lambda _j, e: finished.done() or finished.set_exception(
        RuntimeError(e.message)))  # fmt: skip
    await asyncio.wait_for(finished, 60)
    await asyncio.sleep(0.3)
    save(editor, "editor-results.png")

    # Compare: the original against variant 2 with the wipe, then with B's drift map.
    pair = asyncio.get_running_loop().create_future()
    window.compare.pair_ready.connect(lambda *args: pair.done() or pair.set_result(args))
    QTest.keyClick(window, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    await asyncio.wait_for(pair, 30)
    panel = window.compare_panel
    panel.b.setCurrentIndex(2)
    panel.view.set_mode("wipe")
    panel.view.set_wipe_position(0.55)
    await asyncio.sleep(0.5)
    save(editor, "compare-wipe-editor.png")
    # Variant 1 against variant 2: where the two fills differ.
    other = asyncio.get_running_loop().create_future()
    window.compare.pair_ready.connect(lambda *args: other.done() or other.set_result(args))
    panel.a.setCurrentIndex(1)
    await asyncio.wait_for(other, 30)
    panel.view.set_mode("difference")
    panel.view.wait_for_difference(10_000)
    await asyncio.sleep(0.5)
    save(editor, "compare-difference-editor.png")
    QTest.keyClick(window, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)

    dialog = SettingsDialog(editor.settings.providers(), session.provider.id, session.keys, window)
    dialog.list.setCurrentRow(1)
    dialog.show()
    await asyncio.sleep(0.2)
    OUT.mkdir(parents=True, exist_ok=True)
    dialog.grab().save(str(OUT / "settings.png"))
    print(OUT / "settings.png")
    dialog.reject()
    await editor.shutdown()


def main() -> int:
    app = QApplication.instance() or QApplication([])
    apply_dark_theme(app)
    QTimer.singleShot(0, lambda: None)
    with asyncio.Runner(loop_factory=lambda: qasync.QEventLoop(app)) as runner:
        runner.run(tour(app))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
