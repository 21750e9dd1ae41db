"""README claims about the editor that no other test checked, through the real window: built
as `retouch` builds it (RETOUCH_HOME in a temporary folder, the local engine as a child
process), driven with keys sent where the keyboard is and clicks on the controls the README
names, which must be on screen. Each test walks through several related claims in one
editor session; tests/README.md maps every README claim to its test."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QEvent, QModelIndex, QPoint, Qt, QThread, QTimer
from PySide6.QtGui import QCloseEvent, QContextMenuEvent, QGuiApplication, QKeySequence
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QDialogButtonBox,
    QFileDialog,
    QInputDialog,
    QMenu,
    QMessageBox,
    QToolButton,
    QWidget,
)

from app.core import mask as core
from app.gui import Editor, build_editor
from app.services.engine_process import LocalEngineProcess
from app.ui.canvas import ToolKind
from app.ui.settings_dialog import SettingsDialog
from tests.support import fault_server as fs
from tests.support import images
from tests.support.editor import assert_no_widgets_left, open_sample_and_paint, until, use_provider
from tests.support.pointer import drag
from tests.support.qtloop import next_signal
from tests.ui.test_canvas_files import drop, file_mime
from tests.ui.test_editor import images_qimage
from tests.ui.test_keep import redrawn_result

CONTROL, SHIFT = Qt.KeyboardModifier.ControlModifier, Qt.KeyboardModifier.ShiftModifier
ON_LINUX = sys.platform.startswith("linux")


def press(key: Qt.Key, modifiers: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
    """A key pressed where the keyboard is, as a user's would be."""
    focus = QApplication.focusWidget()
    assert focus is not None, "no widget has the keyboard"
    QTest.keyClick(focus, key, modifiers)


@pytest.fixture
def when_shown():
    """``when_shown(find, handle)``: call ``handle`` with what ``find`` returns once it is
    not None, looking every 20 ms (from a timer, so inside a nested event loop too) until
    the test ends: a dialog of a later test is never this test's."""
    ended: list[bool] = []

    def watch(find, handle) -> None:
        def look() -> None:
            if ended:
                return
            found = find()
            if found is not None:
                handle(found)
            else:
                QTimer.singleShot(20, look)

        QTimer.singleShot(0, look)

    yield watch
    ended.append(True)


def modal_message_box() -> QMessageBox | None:
    box = QApplication.activeModalWidget()
    return box if isinstance(box, QMessageBox) else None


def choose_from_menu(widget: QWidget, text: str, when_shown) -> list[str]:
    """Right-click ``widget`` and trigger the first menu item starting with ``text``;
    returns the texts chosen (one, or none if there was no such item)."""
    chosen: list[str] = []

    def choose(menu: QMenu) -> None:
        action = next(a for a in menu.actions() if a.text().startswith(text))
        chosen.append(action.text())
        action.trigger()
        menu.close()

    def popup() -> QMenu | None:
        menu = QApplication.activePopupWidget()
        return menu if isinstance(menu, QMenu) else None

    when_shown(popup, choose)
    centre = widget.rect().center()
    QApplication.sendEvent(
        widget,
        QContextMenuEvent(QContextMenuEvent.Reason.Mouse, centre, widget.mapToGlobal(centre)),
    )
    return chosen


def menu_item(window, menu_title: str, text: str):
    """The action ``text`` of the menu bar's menu ``menu_title`` (mnemonics ignored)."""
    for top in window.menuBar().actions():
        menu = top.menu()
        if menu is not None and menu.title().replace("&", "") == menu_title:
            for action in menu.actions():
                if action.text().replace("&", "").startswith(text):
                    return action
    raise LookupError(f"no {menu_title} ▸ {text}")


def shortcuts(action) -> set[str]:
    return {s.toString(QKeySequence.SequenceFormat.PortableText) for s in action.shortcuts()}


def retouch_home() -> Path:
    return Path(os.environ["RETOUCH_HOME"])  # set by the editor fixture


def process_gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1][0]
    except FileNotFoundError:
        return True
    return state == "Z"  # ended, not yet reaped


# --- first start: the controls, the engine, opening photos ---------------------------------


@pytest.mark.skipif(not ON_LINUX, reason="reads the engine's command line from /proc")
def test_readme_first_start_shows_its_controls_and_runs_the_local_engine(
    qt_loop, editor: Editor
) -> None:
    window, session, engine = editor.window, editor.session, editor.engine
    qt_loop.run(until(lambda: engine.url is not None))
    # No account: the provider is the local engine, in a child process with a random token
    # in its environment, never on its command line.
    assert session.provider.kind == "local"
    assert (
        window.statusBar().provider_label.isVisible()
        and "Local engine" in window.statusBar().provider_label.text()
    )
    pid = engine._process.processId()
    argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
    assert argv[1:7] == ["-m", "app", "serve", "--port", "0", "--exit-with-stdin"]
    environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    assert f"RETOUCH_ENGINE_TOKEN={engine.token}".encode() in environ
    assert not any(engine.token in part for part in argv)
    assert len(engine.token) >= 24 and engine.token != LocalEngineProcess().token

    # The welcome panel, and Generate disabled with the reason beside it.
    assert window.first_run.sample_button.isVisible()
    assert window.first_run.sample_button.text() == "Try the sample photo"
    assert window.first_run.open_button.isVisible()
    assert (
        window.generate_panel.generate_button.isVisible()
        and not window.generate_panel.generate_button.isEnabled()
    )
    assert (
        window.generate_panel.reason.isVisible()
        and window.generate_panel.reason.text() == "Open an image first."
    )
    assert (
        window.generate_panel.cancel_button.isVisible()
        and not window.generate_panel.cancel_button.isEnabled()
    )

    # The panels, the tools and the mask operations.
    for name, title in (("inputs", "Inputs"), ("prompt", "Prompt"), ("params", "Parameters")):
        assert window.docks[name].isVisible() and window.docks[name].windowTitle() == title
    assert window.prompt.isVisible() and window.inputs.list.isVisible()
    assert window.docks["results"] in window.tabifiedDockWidgets(window.docks["params"])
    palette, options = window.canvas_toolbars
    for text in ("Brush", "Eraser", "Rectangle", "Ellipse", "Lasso", "Polygon", "Hand"):
        action = next(a for a in palette.actions() if a.text() == text)
        assert palette.widgetForAction(action).isVisible(), text
    buttons = {b.text(): b for b in options.findChildren(QToolButton)}
    assert all(buttons[t].isVisible() for t in ("Grow", "Shrink", "Feather"))
    assert options.amount.isVisible() and options.amount.suffix() == " px"

    # Fields the local engine does not take are disabled, the reason beneath them.
    for name in ("quality", "moderation", "input_fidelity"):
        assert not window.params.editors[name].isEnabled(), name
        note = window.params.notes[name]
        assert note.isVisible() and "local engine" in note.text().lower(), name

    # The menus and their keys.
    assert window.menuBar().isVisible()
    titles = [a.text().replace("&", "") for a in window.menuBar().actions() if a.isVisible()]
    assert {"File", "View", "Generate", "Settings"} <= set(titles)
    assert shortcuts(menu_item(window, "File", "Open image")) == {"Ctrl+O"}
    assert shortcuts(menu_item(window, "File", "Add input images")) == {"Ctrl+Shift+O"}
    assert shortcuts(menu_item(window, "View", "Compare results")) == {"Ctrl+K"}
    assert {"Ctrl+Return", "Ctrl+Enter"} <= shortcuts(menu_item(window, "Generate", "Generate"))
    assert shortcuts(menu_item(window, "Generate", "Cancel")) == {"Esc"}
    assert shortcuts(menu_item(window, "Settings", "Providers")) == {"Ctrl+,"}
    for title in ("Inputs", "Prompt", "Parameters", "Results"):
        assert menu_item(window, "View", title).isCheckable()

    # Quitting stops the engine.
    qt_loop.run(editor.shutdown())
    assert not engine.running and process_gone(pid)


def test_readme_open_add_reorder_paste_and_drop_photos(
    qt_loop, editor: Editor, tmp_path: Path, monkeypatch
) -> None:
    window, session, canvas = editor.window, editor.session, editor.window.canvas
    photo = images.write(tmp_path / "photo.png", images.png_bytes(320, 240))
    extras = [images.write(tmp_path / f"extra{i:02d}.png", images.png_bytes(40 + i, 30))
              for i in range(16)]  # fmt: skip
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(photo), ""))
    monkeypatch.setattr(
        QFileDialog, "getOpenFileNames", lambda *a, **k: ([str(p) for p in extras], "")
    )
    canvas.setFocus()
    strip = window.inputs

    async def open_and_add() -> None:
        press(Qt.Key.Key_O, CONTROL)  # File ▸ Open
        await until(lambda: session.inputs.first == photo and canvas.has_image())
        press(Qt.Key.Key_O, CONTROL | SHIFT)  # File ▸ Add input images: one too many
        await until(lambda: len(session.inputs.paths) == 16 and window.error_bar.isVisible())

    qt_loop.run(open_and_add())
    assert not window.first_run.isVisible()
    assert "extra15.png" in window.error_bar.message.text()
    assert "at most 16" in window.error_bar.message.text()
    # The strip says the mask applies to the first image.
    assert strip.list.item(0).text() == "1. photo.png · mask"
    assert strip.hint.isVisible() and strip.hint.text().startswith("16 of 16.")
    assert "The mask applies to the first image" in strip.hint.text()

    # Drag to reorder: the strip's list moves the row (what its internal drag and drop does).
    assert strip.list.dragDropMode() == QAbstractItemView.DragDropMode.InternalMove
    assert strip.list.model().moveRows(QModelIndex(), 1, 1, QModelIndex(), 0)

    async def reordered() -> None:
        await until(lambda: session.inputs.first == extras[0] and canvas.image().width() == 40)

    qt_loop.run(reordered())
    assert strip.list.item(0).text() == "1. extra00.png · mask"
    assert session.mask.width == 40

    # Ctrl+V pastes a picture; a file dropped on the canvas opens it.
    QGuiApplication.clipboard().setImage(images_qimage(120, 90))
    canvas.setFocus()
    press(Qt.Key.Key_V, CONTROL)
    qt_loop.run(until(lambda: session.inputs.first.name.startswith("pasted-")))
    assert images.Image.open(session.inputs.first).size == (120, 90)
    dropped = images.write(tmp_path / "dropped.png", images.png_bytes(200, 150))
    drop(canvas, file_mime(dropped))
    qt_loop.run(until(lambda: session.inputs.first == dropped and canvas.image().width() == 200))


def test_readme_canvas_keys_from_anywhere_and_buttons_leave_the_keyboard_on_the_picture(
    qt_loop, editor: Editor
) -> None:
    window, canvas, session = editor.window, editor.window.canvas, editor.session
    qt_loop.run(open_sample_and_paint(editor))
    window.runner.report_text("a problem to dismiss")
    canvas.setFocus()
    QTest.mouseClick(window.error_bar.close_button, Qt.MouseButton.LeftButton)
    assert window.error_bar.isHidden()
    assert window.focusWidget() is canvas, "a click leaves the keyboard on the picture"

    # Undo and zoom work while a button has the keyboard (reached with Tab).
    window.inputs.remove.setFocus(Qt.FocusReason.TabFocusReason)
    press(Qt.Key.Key_1, CONTROL)
    assert canvas.zoom == pytest.approx(1.0)
    press(Qt.Key.Key_Z, CONTROL)
    assert not session.mask.has_painting()
    assert window.focusWidget() is window.inputs.remove

    # Space pans: the pointer over the picture brings the keyboard there.
    window.presets.setFocus()
    QApplication.sendEvent(canvas.viewport(), QEvent(QEvent.Type.Enter))
    assert window.focusWidget() is canvas
    start = canvas.viewport().rect().center()
    before = canvas.mapToScene(start)
    QTest.keyPress(canvas, Qt.Key.Key_Space)
    drag(canvas.viewport(), [start, start + QPoint(-30, -20), start + QPoint(-60, -40)])
    QTest.keyRelease(canvas, Qt.Key.Key_Space)
    after = canvas.mapToScene(start)
    scale = canvas.view_scale()
    assert after.x() == pytest.approx(before.x() + 60 / scale, abs=1 / scale)
    assert after.y() == pytest.approx(before.y() + 40 / scale, abs=1 / scale)
    assert not session.mask.has_painting(), "Space+drag pans, it does not paint"


# --- a job on the local engine ------------------------------------------------------------------


def test_readme_a_job_on_the_local_engine_its_results_and_compare(
    qt_loop, editor: Editor, tmp_path: Path, monkeypatch
) -> None:
    window, session = editor.window, editor.session
    home = retouch_home()

    async def generate() -> tuple[int, object]:
        await until(lambda: editor.engine.url is not None)
        await open_sample_and_paint(editor)
        await until(lambda: window.generate_panel.generate_button.isEnabled())
        window.prompt.setFocus()
        finished = next_signal(session.jobs.job_finished)
        measured = next_signal(window.compare.measured)
        press(Qt.Key.Key_Enter, CONTROL | Qt.KeyboardModifier.KeypadModifier)  # Ctrl+Enter
        job_id, usage = await finished
        await measured
        return job_id, usage

    job_id, usage = qt_loop.run(generate(), timeout=60)
    tile = window.gallery.sections[job_id].tiles[0]
    # The local engine respects the mask: no drift.
    assert tile.measure_label.isVisible()
    assert tile.measure_label.text() == "drift 0.0% outside the mask"
    # The status bar shows the job's token usage.
    assert window.statusBar().usage_label.isVisible()
    assert window.statusBar().usage_label.text() == (
        f"Job #{session.jobs.jobs[job_id].number}: {usage.input_tokens:,} tokens in, "
        f"{usage.output_tokens:,} out"
    )
    # One folder per job, with a job.json of its prompt and parameters, in RETOUCH_HOME.
    folder = session.jobs.jobs[job_id].folder
    assert folder.parent == home / "results"
    card = json.loads((folder / "job.json").read_text())
    assert card["values"]["prompt"] == "remove the spoon"
    assert card["values"]["model"] == "local-inpaint"
    assert Path(tile.path) == folder / "001-v0-final.png"
    assert list((home / "work").glob("mask-*.png")), "working files are in RETOUCH_HOME too"

    # The mask was sent in a job: quitting does not ask.
    asked: list[str] = []
    window.confirm_quit = lambda text: asked.append(text) or False
    event = QCloseEvent()
    window.closeEvent(event)
    assert event.isAccepted() and asked == []

    # Ctrl+Up brings the prompt back.
    window.prompt.setPlainText("")
    window.prompt.setFocus()
    press(Qt.Key.Key_Up, CONTROL)
    assert window.prompt.toPlainText() == "remove the spoon"

    # Save as WebP, by the extension chosen.
    target = tmp_path / "kept.webp"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    for key, text in (("save", "Save"), ("copy", "Copy"), ("use", "Use"), ("discard", "✕")):
        assert tile.buttons[key].isVisible() and tile.buttons[key].text() == text
    QTest.mouseClick(tile.buttons["save"], Qt.MouseButton.LeftButton)
    qt_loop.run(until(target.exists))
    data = target.read_bytes()
    assert data[:4] == b"RIFF" and data[8:12] == b"WEBP"

    # A double-click on a result opens the compare view.
    async def double_click() -> None:
        ready = next_signal(window.compare.pair_ready)
        QTest.mouseDClick(tile, Qt.MouseButton.LeftButton, pos=QPoint(10, 10))
        await ready

    qt_loop.run(double_click())
    panel = window.compare_panel
    assert window.stack.currentWidget() is panel
    assert panel.a.isVisible() and panel.b.isVisible() and panel.drift.isVisible()
    assert [panel.a.itemText(i) for i in range(panel.a.count())] == ["Original", "#1 variant 1"]
    assert (panel.a.currentText(), panel.b.currentText()) == ("Original", "#1 variant 1")
    modes = {m: panel.view.action(f"mode.{m}") for m in ("side", "wipe", "difference")}
    for action in (*modes.values(), panel.view.action("overlay")):
        assert panel.view.toolbar.widgetForAction(action).isVisible(), action.text()
    # Canvas keys are off; the compare keys are on.
    press(Qt.Key.Key_E)
    press(Qt.Key.Key_Z, CONTROL)
    assert window.canvas.tool == ToolKind.BRUSH and session.mask.has_painting()
    press(Qt.Key.Key_W)
    assert panel.view.mode == "wipe"
    QTest.mouseClick(panel.view.toolbar.widgetForAction(modes["difference"]),
                     Qt.MouseButton.LeftButton)  # fmt: skip
    assert panel.view.mode == "difference"
    press(Qt.Key.Key_K, CONTROL)
    assert window.stack.currentWidget() is window.canvas

    # ✕ takes the result out of the gallery; its file stays.
    QTest.mouseClick(tile.buttons["discard"], Qt.MouseButton.LeftButton)
    assert job_id not in window.gallery.sections
    assert (folder / "001-v0-final.png").is_file()

    qt_loop.run(editor.shutdown())
    assert (home / "settings.ini").is_file()


# --- a vendor: one request per variant, or one for all ---------------------------------------


def test_readme_variants_split_or_single_then_compare_and_right_click(
    qt_loop, editor: Editor, when_shown
) -> None:
    window, session = editor.window, editor.session
    wide, _ = redrawn_result(size=(1536, 1024))  # as fixed-size models return

    def reply(request: fs.RecordedRequest, _index: int) -> fs.Reply:
        if request.fields.get("n") == "1":
            return fs.sse([fs.partial(images.png_bytes(48, 32), 0), fs.completed(wide)])
        return fs.sse([fs.completed(wide), fs.completed(wide)])

    async def run_job() -> int:
        await until(lambda: window.generate_panel.generate_button.isEnabled())
        finished = next_signal(session.jobs.job_finished)
        QTest.mouseClick(window.generate_panel.generate_button, Qt.MouseButton.LeftButton)
        job_id, _usage = await finished
        return job_id

    partials: list[tuple[int, int]] = []
    session.jobs.partial_received.connect(lambda job, variant, *_: partials.append((job, variant)))
    with fs.serve(reply) as server:
        use_provider(editor, server.base_url)
        qt_loop.run(open_sample_and_paint(editor))
        panel = window.params.editors
        panel["n"].box.setValue(2)
        QTest.keyClick(panel["stream"].box, Qt.Key.Key_Space)
        assert window.generate_panel.split.isVisible() and window.generate_panel.split.isChecked()
        assert window.generate_panel.split_note.isVisible()
        assert "bills its input tokens again" in window.generate_panel.split_note.text()
        split_job = qt_loop.run(run_job(), timeout=60)
        split = list(server.requests)
        # One tick switches to a single request.
        QTest.mouseClick(window.generate_panel.split, Qt.MouseButton.LeftButton)
        assert (
            not window.generate_panel.split.isChecked()
            and not window.generate_panel.split_note.isVisible()
        )
        single_job = qt_loop.run(run_job(), timeout=60)
        single = server.requests[len(split) :]
    assert len(split) == 2 and [r.fields["n"] for r in split] == ["1", "1"]
    assert sorted(partials) == [(split_job, 0), (split_job, 1)], "each tile its own partial"
    assert len(single) == 1 and single[0].fields["n"] == "2"
    for job_id in (split_job, single_job):
        assert sorted(window.gallery.sections[job_id].tiles) == [0, 1]

    # Compare (Ctrl+K): the newest job; a result of another size is scaled to the original's.
    async def open_compare():
        ready = next_signal(window.compare.pair_ready)
        window.canvas.setFocus()
        press(Qt.Key.Key_K, CONTROL)
        return await ready

    a, b, a_label, b_label, _ = qt_loop.run(open_compare())
    number = session.jobs.jobs[single_job].number
    assert (a_label, b_label) == ("Original", f"#{number} variant 1")
    assert (b.image.width(), b.image.height()) == (a.image.width(), a.image.height()) == (600, 400)
    press(Qt.Key.Key_K, CONTROL)

    # Right-click a result for the other way: Use as received, no paste-back.
    tile = window.gallery.sections[single_job].tiles[1]
    chosen = choose_from_menu(tile, "Use as input as", when_shown)
    assert chosen == ["Use as input as received (no paste-back)"]
    qt_loop.run(until(lambda: session.inputs.first == Path(tile.path)))
    assert images.Image.open(session.inputs.first).size == (1536, 1024)
    assert "another size" in window.canvas.hud_text


# --- a refused key ---------------------------------------------------------------------------


def test_readme_a_refused_key_offers_settings_and_nothing_entered_is_lost(
    qt_loop, editor: Editor
) -> None:
    window, session = editor.window, editor.session
    refused = fs.error(401, "Incorrect API key provided.", code="invalid_api_key",
                       headers={"x-request-id": "req_key"})  # fmt: skip
    with fs.serve(refused) as server:
        use_provider(editor, server.base_url)

        async def fail() -> tuple[list[Path], dict]:
            await open_sample_and_paint(editor)
            session.params.set_value("quality", "high")
            await until(lambda: window.generate_panel.generate_button.isEnabled())
            entered = list(session.inputs.paths), session.params.request_values()
            failed = next_signal(session.jobs.job_failed)
            QTest.mouseClick(window.generate_panel.generate_button, Qt.MouseButton.LeftButton)
            await failed
            return entered

        inputs, values = qt_loop.run(fail(), timeout=60)
    bar = window.error_bar
    # In a bar above the canvas, never a modal.
    assert bar.isVisible() and QApplication.activeModalWidget() is None
    assert bar.mapTo(window, QPoint(0, 0)).y() < window.canvas.mapTo(window, QPoint(0, 0)).y()
    text = bar.message.text()
    assert "Incorrect API key" in text and "invalid_api_key" in text and "req_key" in text
    assert bar.retry.isHidden() and bar.settings.isVisible()
    assert bar.settings.text() == "Settings…"

    def providers_dialog() -> SettingsDialog:
        (dialog,) = window.findChildren(SettingsDialog)
        return dialog

    # Settings… opens the Providers, window-modal, without blocking (no nested event loop).
    QTest.mouseClick(bar.settings, Qt.MouseButton.LeftButton)
    dialog = providers_dialog()
    assert dialog.isVisible() and dialog.windowModality() == Qt.WindowModality.WindowModal
    assert [dialog.list.item(i).text() for i in range(dialog.list.count())][:2] == [
        "Local engine (offline)",
        "OpenAI",
    ]
    cancel = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Cancel)
    QTest.mouseClick(cancel, Qt.MouseButton.LeftButton)
    qt_loop.run(until(lambda: window.findChildren(SettingsDialog) == []))
    assert window.focusWidget() is window.canvas

    # Settings ▸ Providers is Ctrl+, too (once the window system has the window active again).
    window.activateWindow()
    qt_loop.run(until(lambda: QApplication.focusWidget() is window.canvas))
    press(Qt.Key.Key_Comma, CONTROL)
    dialog = providers_dialog()
    assert dialog.isVisible()
    dialog.reject()
    qt_loop.run(until(lambda: window.findChildren(SettingsDialog) == []))

    # Nothing entered is lost.
    assert window.prompt.toPlainText() == "remove the spoon"
    assert session.mask.has_painting() and session.inputs.paths == inputs
    assert session.params.request_values() == values and values["quality"] == "high"


# --- the engine that keeps dying ---------------------------------------------------------------


def test_readme_the_engine_is_restarted_at_most_three_times_a_minute(
    qt_loop, qapp, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("RETOUCH_HOME", str(tmp_path / "home"))
    dying = (sys.executable, ("-c", "raise SystemExit(3)"))
    monkeypatch.setattr("app.gui.LocalEngineProcess", lambda: LocalEngineProcess(*dying))
    made = build_editor()
    restarts: list[str] = []
    made.engine.restarting.connect(restarts.append)
    try:
        made.window.show()

        async def until_given_up() -> str:
            (message,) = await next_signal(made.engine.failed)
            return message

        message = qt_loop.run(until_given_up(), timeout=30)
        assert len(restarts) == 3 and "exit code 3" in restarts[0]
        assert "stopped 4 times within a minute" in message and "not restarted" in message
        assert made.window.error_bar.isVisible()
        assert "stopped 4 times" in made.window.error_bar.message.text()
        assert made.window.statusBar().engine_label.text() == "Local engine stopped"
        qt_loop.run(asyncio.sleep(0.6))
        assert len(restarts) == 3 and not made.engine.running
    finally:
        qt_loop.run(made.shutdown())
        made.window.close()
        made.window.deleteLater()


# --- what the editor remembers --------------------------------------------------------------------


@pytest.fixture
def offline(qapp, qt_loop, tmp_path: Path, monkeypatch):
    """Editors without the engine (nothing here sends a request), built one after another on
    the same RETOUCH_HOME, as restarts of the program."""
    monkeypatch.setenv("RETOUCH_HOME", str(tmp_path / "home"))
    before = set(QApplication.topLevelWidgets())
    built: list[Editor] = []

    def build() -> Editor:
        made = build_editor(start_engine=False)
        made.window.canvas.confirm_discard = lambda _text: True
        made.window.confirm_quit = lambda _text: True
        made.window.show()
        made.window.activateWindow()
        QTest.qWaitForWindowActive(made.window)
        built.append(made)
        return made

    yield build
    for made in built:
        qt_loop.run(made.shutdown())
        made.window.close()
        made.window.deleteLater()
    built.clear()
    assert_no_widgets_left(before)


def open_sample(qt_loop, made: Editor) -> None:
    menu_item(made.window, "File", "Open the sample photo").trigger()
    qt_loop.run(until(lambda: made.session.inputs.first is not None))


def test_readme_prompts_presets_and_closed_docks_come_back(qt_loop, offline, monkeypatch) -> None:
    first = offline()
    window = first.window
    for i in range(35):  # as Generate remembers each prompt it sends
        first.settings.remember_prompt(f"prompt {i}")
    # Presets: everything but the prompt.
    first.session.params.set_value("model", "gpt-image-1")
    first.session.params.set_value("quality", "high")
    first.session.params.set_value("n", 3)
    window.prompt.setPlainText("not in the preset")
    save = next(
        b
        for b in window.findChildren(type(window.generate_panel.generate_button))
        if b.text() == "Save…"
    )
    assert save.isVisible() and window.presets.isVisible()
    QTest.mouseClick(save, Qt.MouseButton.LeftButton)
    named = QApplication.activeModalWidget()  # window-modal, open() returned at once
    assert isinstance(named, QInputDialog)
    named.setTextValue("fine")
    named.accept()
    # Closed from the View menu, the Inputs dock stays closed.
    menu_item(window, "View", "Inputs").trigger()
    assert not window.docks["inputs"].isVisible()
    window.save_layout()
    qt_loop.run(first.shutdown())
    window.close()

    second = offline()
    window = second.window
    assert not window.docks["inputs"].isVisible() and window.docks["prompt"].isVisible()
    assert len(second.settings.prompt_history()) == 30
    window.prompt.setFocus()
    for _ in range(40):
        press(Qt.Key.Key_Up, CONTROL)
    assert window.prompt.toPlainText() == "prompt 5", "the 30th most recent is the oldest kept"
    window.prompt.setPlainText("my prompt")
    # The last session's parameters came back (issue 13); the preset must set them again.
    assert second.session.params.value("quality") == "high"
    for name, value in (("model", "gpt-image-2"), ("quality", "auto"), ("n", 1)):
        second.session.params.set_value(name, value)
    window.presets.setFocus()
    press(Qt.Key.Key_Down)  # chosen in the list
    assert [window.presets.itemText(i) for i in range(window.presets.count())] == ["fine"]
    params = second.session.params
    assert (params.value("model"), params.value("quality"), params.value("n")) == (
        "gpt-image-1",
        "high",
        3,
    )
    assert window.prompt.toPlainText() == "my prompt" and params.value("prompt") == "my prompt"


def test_readme_a_black_and_white_mask_marks_white_as_the_edit(
    qt_loop, offline, tmp_path: Path, monkeypatch
) -> None:
    made = offline()
    open_sample(qt_loop, made)
    picture = np.zeros((400, 600, 3), np.uint8)
    picture[100:200, 300:450] = 255
    path = tmp_path / "bw.png"
    Image.fromarray(picture).save(path)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))
    menu_item(made.window, "File", "Load mask").trigger()
    qt_loop.run(until(lambda: made.session.mask.has_painting()))
    mask = made.session.mask.mask
    assert mask[150, 350] == 255 and mask[50, 50] == 0


# --- README claims the editor does not honour (see tests/README.md) ---------------------------


def test_readme_the_editor_has_tools_pen_pressure(offline) -> None:
    window = offline().window
    action = menu_item(window, "Tools", "Pen pressure")
    brush = window.canvas.brush
    before = brush.pressure_size
    action.trigger()
    assert brush.pressure_size is not before


def test_readme_the_editor_offers_to_scale_a_mask_of_another_size(
    qt_loop, offline, tmp_path: Path, monkeypatch, when_shown
) -> None:
    made = offline()
    open_sample(qt_loop, made)
    small = core.new_mask(300, 200)
    small[:, :150] = 255
    path = images.write(tmp_path / "small.png", core.to_api_png(small))
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))
    answered: list[str] = []

    def accept_scaling(box: QMessageBox) -> None:
        answered.append(box.text())
        box.button(QMessageBox.StandardButton.Yes).click()

    when_shown(modal_message_box, accept_scaling)
    menu_item(made.window, "File", "Load mask").trigger()
    offered = made.window.error_bar
    qt_loop.run(until(lambda: made.session.mask.has_painting() or offered.isVisible()))
    qt_loop.run(asyncio.sleep(0.3))
    assert made.session.mask.has_painting(), offered.message.text()
    assert made.session.mask.mask[200, 100] == 255 and made.session.mask.mask[200, 500] == 0


def test_readme_the_editor_loads_a_mask_with_black_as_the_edit_on_request(
    qt_loop, offline, tmp_path: Path, monkeypatch
) -> None:
    made = offline()
    open_sample(qt_loop, made)
    picture = np.full((400, 600, 3), 255, np.uint8)
    picture[100:200, 300:450] = 0  # black marks what to edit
    path = tmp_path / "black.png"
    Image.fromarray(picture).save(path)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))
    menu_item(made.window, "File", "Load black-and-white mask").trigger()
    qt_loop.run(until(lambda: made.session.mask.has_painting()))
    mask = made.session.mask.mask
    assert mask[150, 350] == 255 and mask[50, 50] == 0


def test_readme_the_preset_name_dialog_runs_no_nested_event_loop(offline, when_shown) -> None:
    window = offline().window
    save = next(
        b
        for b in window.findChildren(type(window.generate_panel.generate_button))
        if b.text() == "Save…"
    )
    base = QThread.currentThread().loopLevel()
    seen: list[int] = []

    def cancel(dialog) -> None:
        seen.append(QThread.currentThread().loopLevel())
        dialog.reject()

    when_shown(QApplication.activeModalWidget, cancel)
    # With open() the click returns at once and the timer finds the dialog at this level;
    # with exec() the click returns only after the timer has closed it in a nested loop.
    QTest.mouseClick(save, Qt.MouseButton.LeftButton)
    for _ in range(100):
        if seen:
            break
        QTest.qWait(20)
    assert seen == [base]


# --- the job's folder, run again, one error bar ----------------------------------------------


def test_readme_a_job_keeps_its_own_copies_and_runs_again_from_them(
    qt_loop, editor: Editor, when_shown, tmp_path: Path
) -> None:
    window, session = editor.window, editor.session
    photo = images.write(tmp_path / "photo.png", images.png_bytes(600, 400))
    with fs.serve(fs.json_images([images.png_bytes(600, 400)])) as server:
        use_provider(editor, server.base_url)

        async def first_job() -> str:
            window.canvas.open_file(photo)
            await until(lambda: session.inputs.first == photo)
            window.canvas.document.fill_rect(10, 10, 60, 60)
            QTest.keyClicks(window.prompt, "remove the cup")
            await until(lambda: window.generate_panel.generate_button.isEnabled())
            finished = next_signal(session.jobs.job_finished)
            QTest.mouseClick(window.generate_panel.generate_button, Qt.MouseButton.LeftButton)
            job_id, _usage = await finished
            return job_id

        first = qt_loop.run(first_job(), timeout=60)
        job = session.jobs.jobs[first]
        # Its folder: the time and the job's UUID; its own copies; a card of every variant.
        assert job.folder.name.endswith(first[:8]) and len(first) == 32
        assert sorted(p.name for p in job.folder.iterdir()) == [
            "001-v0-final.png", "job.json", "mask.png", "original.png", "painted.png"
        ]  # fmt: skip
        card = json.loads((job.folder / "job.json").read_text())
        assert card["id"] == first and card["results"]["0"]["final"] == "001-v0-final.png"
        photo.rename(tmp_path / "moved.png")  # the record does not need it any more

        # Right-click a result: Run this job again, from the job's own copies. The menu
        # runs its own event loop: opened from the test, never inside a task.
        started: list[str] = []
        session.jobs.job_started.connect(lambda job_id, _n: started.append(job_id))
        tile = window.gallery.sections[first].tiles[0]
        chosen = choose_from_menu(tile, "Run this job again", when_shown)

        async def run_again() -> str:
            await until(lambda: bool(started))
            await until(lambda: not session.jobs.jobs[started[0]].running)
            return started[0]

        again = qt_loop.run(run_again(), timeout=60)
        sent = list(server.requests)
    assert chosen == ["Run this job again (billed again)"] and again != first
    assert len(sent) == 2 and sent[1].fields["prompt"] == "remove the cup"
    assert [p.data for p in sent[1].files] == [p.data for p in sent[0].files]
    assert window.gallery.sections[again].header.text().startswith("<b>#2</b>")


def test_readme_a_failed_save_reaches_the_error_bar_naming_the_file(
    qt_loop, editor: Editor, tmp_path: Path, monkeypatch
) -> None:
    window, session = editor.window, editor.session
    blocker = images.write(tmp_path / "not-a-folder", b"a file where a folder should be")
    target = blocker / "kept.png"  # cannot be written, even by root
    monkeypatch.setattr(
        "app.ui.results_panel.QFileDialog.getSaveFileName", lambda *a, **k: (str(target), "")
    )
    with fs.serve(fs.json_images([images.png_bytes(600, 400)])) as server:
        use_provider(editor, server.base_url)

        async def scenario() -> None:
            await open_sample_and_paint(editor)
            await until(lambda: window.generate_panel.generate_button.isEnabled())
            finished = next_signal(session.jobs.job_finished)
            QTest.mouseClick(window.generate_panel.generate_button, Qt.MouseButton.LeftButton)
            job_id, _usage = await finished
            problem = next_signal(session.runner.problem)
            window.gallery.sections[job_id].tiles[0].buttons["save"].click()
            return (await problem)[0]

        error = qt_loop.run(scenario(), timeout=60)
    assert error.kind == "disk" and not error.retryable
    assert window.error_bar.isVisible() and str(target) in window.error_bar.message.text()
    assert window.error_bar.retry.isHidden()  # Retry sends a job again; a save is not one
    assert session.mask.has_painting() and window.prompt.toPlainText() == "remove the spoon"


# --- real photos: upright, sRGB, TIFF ----------------------------------------------------------


def test_readme_a_phone_photo_opens_upright_and_a_tiff_is_added(
    qt_loop, editor: Editor, tmp_path: Path
) -> None:
    window, session = editor.window, editor.session
    exif = Image.Exif()
    exif[0x0112] = 6  # "turn 90° clockwise to view", as phones write portrait shots
    phone = tmp_path / "IMG_0001.jpg"
    Image.new("RGB", (600, 400), (40, 90, 160)).save(phone, "JPEG", exif=exif)
    scan = tmp_path / "scan.tif"
    Image.new("RGB", (300, 200), (200, 180, 20)).save(scan, "TIFF")

    async def scenario() -> list[str]:
        window.canvas.open_file(phone)
        await until(lambda: session.inputs.first is not None and window.canvas.has_image())
        return await session.inputs.add([scan])

    problems = qt_loop.run(scenario(), timeout=30)
    assert problems == []
    image = window.canvas.image()
    assert (image.width(), image.height()) == (400, 600)  # upright: portrait
    assert session.mask.mask.shape == (600, 400)
    first, second = session.inputs.paths
    assert first.parent == session.work_dir and first.suffix == ".png"  # what is sent
    with Image.open(first) as sent:
        assert sent.size == (400, 600) and sent.getexif().get(0x0112, 1) == 1
    assert second.suffix == ".png" and second.name.startswith("scan-working-")
    assert session.document.picture.original == phone
    # The strip names the files the designer chose, not their working copies.
    labels = [window.inputs.list.item(i).text() for i in range(window.inputs.list.count())]
    assert labels == ["1. IMG_0001.jpg · mask", "2. scan.tif"]
