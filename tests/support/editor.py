"""The whole editor for UI tests: built as `retouch` builds it (RETOUCH_HOME in a temporary
folder, the local engine as a child process), plus real mouse and keyboard helpers."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import shiboken6
from PySide6.QtCore import QEvent, QObject, QPointF, Qt, QTimer
from PySide6.QtGui import QAction
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QWidget

from app.core.providers import Provider
from app.gui import Editor, build_editor
from tests.support.pointer import drag

SECRET = "sk-editor-test-never-on-disk-7731"


def shown_editor(**options) -> Editor:
    """An editor built as `retouch` builds it (``options`` go to build_editor), shown at
    1280x820, answering yes to "replace the picture?"."""
    made = build_editor(**options)
    made.window.canvas.confirm_discard = lambda _text: True
    made.window.resize(1280, 820)
    made.window.show()
    return made


def close_editor(qt_loop, made: Editor) -> None:
    qt_loop.run(made.shutdown())
    made.window.close()
    made.window.deleteLater()


@pytest.fixture
def editor(qapp, qt_loop, tmp_path: Path, monkeypatch) -> Iterator[Editor]:
    monkeypatch.setenv("RETOUCH_HOME", str(tmp_path / "home"))
    before = set(QApplication.topLevelWidgets())
    made = shown_editor()
    yield made
    close_editor(qt_loop, made)
    del made
    assert_no_widgets_left(before)


def quit_editor(qt_loop, made: Editor) -> None:
    """What File ▸ Quit does: the window closes, then the editor shuts down in order."""
    made.window.close()
    qt_loop.run(made.shutdown())
    made.window.deleteLater()


@pytest.fixture
def start(qapp, qt_loop, tmp_path: Path, monkeypatch) -> Iterator[Callable[..., Editor]]:
    """``start(engine=False)``: an editor built as `retouch` builds it, on the same
    RETOUCH_HOME (``tmp_path / "home"``) as the ones before it, as the next start of the
    program, once its last session is restored; each is quit at the end if the test did
    not quit it."""
    monkeypatch.setenv("RETOUCH_HOME", str(tmp_path / "home"))
    before = set(QApplication.topLevelWidgets())
    built: list[Editor] = []

    def build(engine: bool = False) -> Editor:
        made = shown_editor(start_engine=engine)
        made.window.activateWindow()
        QTest.qWaitForWindowActive(made.window)
        built.append(made)
        qt_loop.run(until(lambda: not made.recovery.restoring, timeout=15))
        return made

    yield build
    for made in built:
        if shiboken6.isValid(made.window):  # not quit by the test already
            quit_editor(qt_loop, made)
    built.clear()
    assert_no_widgets_left(before)


def assert_no_widgets_left(before: set[QWidget]) -> None:
    """As napari's viewer fixture does: a test that leaves a window, dialog or menu of its
    own behind (a widget leak) fails here, not in some later test."""
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    QApplication.processEvents()
    left = [w for w in QApplication.topLevelWidgets() if w not in before]
    names = [f"{type(w).__name__} {w.objectName()!r}" for w in left]
    assert not left, f"widgets left behind: {names}"


async def until(predicate, timeout: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.02)


def paint(editor: Editor, points: list[tuple[float, float]]) -> None:
    canvas = editor.window.canvas
    drag(canvas.viewport(), [canvas.to_viewport(QPointF(x, y)).toPoint() for x, y in points])


async def open_sample_and_paint(editor: Editor) -> None:
    window = editor.window
    QTest.mouseClick(window.first_run.sample_button, Qt.MouseButton.LeftButton)
    await until(lambda: editor.session.inputs.first is not None and window.canvas.has_image())
    window.canvas.brush.set_size(40)
    paint(editor, [(340 + 5 * i, 270 + 4 * i) for i in range(10)])
    QTest.keyClicks(window.prompt, "remove the spoon")


def generate_sample(
    qt_loop, editor: Editor, *, n: int = 1, stream: bool = False, partials: int = 2
) -> str:
    """On the provider in use (the local engine unless the test chose another): open the
    sample, paint, type a prompt, set ``n`` (and streaming with ``partials`` partial
    images), click Generate and wait for the job to finish; its id."""
    from tests.support.qtloop import next_signal

    window, jobs = editor.window, editor.session.jobs

    async def scenario() -> str:
        if editor.session.provider.kind == "local":
            await until(lambda: editor.engine.url is not None)
        await open_sample_and_paint(editor)
        window.params.editors["n"].box.setValue(n)
        if stream:
            QTest.keyClick(window.params.editors["stream"].box, Qt.Key.Key_Space)
            editor.session.params.set_value("partial_images", partials)
        await until(lambda: window.generate_panel.generate_button.isEnabled())
        finished = next_signal(jobs.job_finished)
        QTest.mouseClick(window.generate_panel.generate_button, Qt.MouseButton.LeftButton)
        job_id, _usage = await finished
        return job_id

    return qt_loop.run(scenario(), timeout=90)


def use_provider(editor: Editor, base_url: str) -> None:
    provider = Provider("custom-1", "Test vendor", "custom", base_url=base_url,
                        models=("gpt-image-1",))  # fmt: skip
    editor.session.keys.set(provider.id, SECRET)
    editor.session.set_provider(provider)


def menu_action(editor: Editor, text: str) -> QAction:
    """The window's action whose menu text contains ``text`` (mnemonics ignored)."""
    for action in editor.window.findChildren(QAction):
        if text.lower() in action.text().replace("&", "").lower():
            return action
    raise LookupError(f"no action named like {text!r}")


def python_owned_children(root: QObject) -> list[str]:
    """Objects that Qt's tree owns but Python would delete too: a double delete waiting
    for the garbage collector."""
    return [
        f"{type(o).__name__} {o.objectName()!r} in {type(o.parent()).__name__}"
        for o in root.findChildren(QObject)
        if shiboken6.ownedByPython(o)
    ]


def press_when_shown(
    button: QDialogButtonBox.StandardButton,
    pressed: list[str],
    check: Callable[[list[str]], object] = lambda _owned: None,
) -> None:
    """Click ``button`` of the next modal dialog, from a timer: works whether the dialog
    runs a nested event loop (``exec``) or not (``open``). ``pressed`` gets the dialog's
    name, never the dialog itself, so no reference outlives it; ``check`` first gets the
    dialog's Python-owned children."""
    dialog = QApplication.activeModalWidget()
    if dialog is None:
        QTimer.singleShot(20, lambda: press_when_shown(button, pressed, check))
        return
    check(python_owned_children(dialog))
    QTest.mouseClick(dialog.findChild(QDialogButtonBox).button(button), Qt.MouseButton.LeftButton)
    pressed.append(dialog.objectName())


def cancel_after_one_partial(qt_loop, editor: Editor, partial: bytes | None = None) -> int:
    """Generate against a server that streams one partial image and then holds the stream;
    press Esc once it arrived. Returns the job's id; the server saw the client leave."""
    from tests.support import fault_server as fs
    from tests.support import images
    from tests.support.qtloop import next_signal

    window, session = editor.window, editor.session
    data = partial or images.png_bytes(48, 32)
    with fs.serve(fs.sse([fs.partial(data, 0)], hold=True)) as server:
        use_provider(editor, server.base_url)

        async def scenario() -> int:
            await open_sample_and_paint(editor)
            QTest.keyClick(window.params.editors["stream"].box, Qt.Key.Key_Space)
            await until(lambda: window.generate_panel.generate_button.isEnabled())
            first = next_signal(session.jobs.partial_received)
            cancelled = next_signal(session.jobs.job_cancelled)
            QTest.mouseClick(window.generate_panel.generate_button, Qt.MouseButton.LeftButton)
            job_id, *_ = await first
            assert window.cancel_action.isEnabled()
            QTest.keyClick(window, Qt.Key.Key_Escape)
            await cancelled
            return job_id

        job_id = qt_loop.run(scenario(), timeout=60)
        assert server.wait_disconnect(5)
    return job_id
