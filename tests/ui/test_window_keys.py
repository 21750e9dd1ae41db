"""The editor window as a keyboard user meets it: canvas keys wherever the focus is (but
not in a text field), nothing typed into hidden widgets, one paid job per intent, the
paste-back switch on screen and remembered, and a question before a painted mask is lost."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QCloseEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QToolButton,
)

from app.gui import Editor, build_editor
from app.ui.canvas import ToolKind
from app.ui.theme import apply_dark_theme
from tests.support.editor import open_sample_and_paint, until
from tests.support.qtloop import next_signal


def test_canvas_keys_work_while_a_button_or_list_has_the_focus(qt_loop, editor: Editor) -> None:
    window = editor.window
    qt_loop.run(open_sample_and_paint(editor))
    QTest.mouseClick(window.generate_panel.generate_button, Qt.MouseButton.LeftButton)
    assert window.focusWidget() is not window.generate_panel.generate_button, (
        "a click leaves the focus"
    )
    button = window.generate_panel.cancel_button  # as if reached with Tab
    button.setFocus()
    QTest.keyClick(button, Qt.Key.Key_E)
    assert window.canvas.tool == ToolKind.ERASER
    size = window.canvas.brush.size
    QTest.keyClick(button, Qt.Key.Key_BracketLeft)
    assert window.canvas.brush.size < size


def test_typing_in_the_prompt_types_and_changes_no_tool(qt_loop, editor: Editor) -> None:
    window = editor.window
    qt_loop.run(open_sample_and_paint(editor))
    window.prompt.setFocus()
    QTest.keyClicks(window.prompt, " bem")
    assert window.prompt.toPlainText().endswith(" bem")
    assert window.canvas.tool == ToolKind.BRUSH


def test_a_key_for_a_hidden_field_goes_to_the_picture(qt_loop, editor: Editor) -> None:
    window = editor.window
    qt_loop.run(open_sample_and_paint(editor))
    user = window.params.editors["user"].box
    assert isinstance(user, QLineEdit)
    user.setFocus()
    window.docks["results"].raise_()  # the Parameters page goes behind its tab
    QApplication.processEvents()
    assert not user.isEnabled() and window.focusWidget() is not user
    QTest.keyClick(user, Qt.Key.Key_W)  # addressed to it all the same
    assert user.text() == "", "nothing is typed into a field nobody can see"


def test_keys_for_a_closed_dock_go_to_the_picture(qt_loop, editor: Editor) -> None:
    window = editor.window
    qt_loop.run(open_sample_and_paint(editor))
    window.prompt.setFocus()
    window.docks["prompt"].hide()  # View ▸ Prompt unticked while it had the focus
    QTest.keyClick(window.prompt, Qt.Key.Key_E)
    assert window.prompt.toPlainText() == "remove the spoon"
    assert window.focusWidget() is not window.prompt


def test_ctrl_enter_does_not_pay_twice_for_a_running_job(qt_loop, editor: Editor) -> None:
    window, session = editor.window, editor.session
    submitted: list[int] = []
    session.jobs.job_started.connect(lambda job_id, _n: submitted.append(job_id))

    async def scenario() -> None:
        await until(lambda: editor.engine.url is not None)
        await open_sample_and_paint(editor)
        await until(lambda: window.generate_panel.generate_button.isEnabled())
        started = next_signal(session.jobs.job_started)
        QTest.keyClick(window.prompt, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        await started
        assert window.generate_panel.generate_button.text() == "Generate again"
        QTest.keyClick(window.prompt, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        assert "already running" in window.statusBar().currentMessage()
        assert len(submitted) == 1
        again = next_signal(session.jobs.job_started)
        QTest.mouseClick(
            window.generate_panel.generate_button, Qt.MouseButton.LeftButton
        )  # explicit
        await again
        await until(lambda: not session.jobs.busy, timeout=60)

    qt_loop.run(scenario(), timeout=90)
    assert len(submitted) == 2
    assert window.generate_panel.generate_button.text() == "Generate"


def test_the_paste_back_switch_is_on_screen_and_remembered(qt_loop, qapp, tmp_path, monkeypatch):
    monkeypatch.setenv("RETOUCH_HOME", str(tmp_path / "home"))

    def build() -> Editor:
        made = build_editor(start_engine=False)
        made.window.show()
        made.window.docks["results"].raise_()
        QApplication.processEvents()
        return made

    first = build()
    switch = first.window.findChild(QCheckBox, "paste-back")
    feather = first.window.findChild(QSpinBox, "feather")
    assert switch.isVisible() and feather.isVisible()
    assert switch.isChecked() and first.window.keep.paste_back
    QTest.mouseClick(switch, Qt.MouseButton.LeftButton)
    assert not first.window.keep.paste_back and not feather.isEnabled()
    QTest.mouseClick(switch, Qt.MouseButton.LeftButton)
    feather.setValue(11)
    QTest.mouseClick(switch, Qt.MouseButton.LeftButton)
    qt_loop.run(first.shutdown())
    first.window.close()

    second = build()
    try:
        assert not second.window.findChild(QCheckBox, "paste-back").isChecked()
        assert second.window.findChild(QSpinBox, "feather").value() == 11
        assert second.window.keep.feather_px == 11 and not second.window.keep.paste_back
    finally:
        qt_loop.run(second.shutdown())
        second.window.close()


def test_quitting_with_an_unsent_mask_does_not_ask_the_session_keeps_it(
    qt_loop, editor: Editor
) -> None:
    window = editor.window
    asked: list[str] = []
    window.confirm_quit = lambda text: asked.append(text) or False
    qt_loop.run(open_sample_and_paint(editor))
    assert editor.session.mask_unsaved()
    event = QCloseEvent()
    window.closeEvent(event)
    # Nothing is lost by quitting: the recovery model writes the mask on the way out and
    # the next start brings it back (tests/ui/test_recovery.py).
    assert event.isAccepted() and asked == []


def test_the_welcome_card_hides_the_canvas_drop_text(qt_loop, editor: Editor) -> None:
    window = editor.window
    assert window.first_run.isVisible()
    assert not window.canvas._drop_text_visible
    qt_loop.run(open_sample_and_paint(editor))
    assert not window.first_run.isVisible() and window.canvas._drop_text_visible


def test_the_first_size_fits_the_screen(editor: Editor) -> None:
    free = editor.window.screen().availableGeometry()
    built = build_editor(start_engine=False)
    try:
        size = built.window.size()
        assert size.width() <= free.width() and size.height() <= free.height()
        assert built.window.minimumSizeHint().height() <= 690, "fits 1280x720 with a panel"
    finally:
        built.window.close()
        built.window.deleteLater()


def test_the_focused_button_is_drawn_differently(qt_loop, qapp, editor: Editor) -> None:
    apply_dark_theme(qapp)
    window = editor.window
    qt_loop.run(open_sample_and_paint(editor))
    qt_loop.run(until(lambda: window.generate_panel.generate_button.isEnabled()))
    plain_button = next(b for b in window.findChildren(QPushButton) if b.text() == "Add…")
    tool_button = window.findChildren(QToolButton)[3]
    for button in (window.generate_panel.generate_button, plain_button, tool_button):
        window.canvas.setFocus()
        QApplication.processEvents()
        plain = button.grab().toImage()
        button.setFocus(Qt.FocusReason.TabFocusReason)  # reached with Tab
        QApplication.processEvents()
        assert button.grab().toImage() != plain, f"{button.text()!r}: focus is not visible"


def test_tab_never_stops_in_a_page_behind_a_dock_tab(editor: Editor) -> None:
    window = editor.window
    window.docks["params"].raise_()
    QApplication.processEvents()
    window.canvas.setFocus()
    reached = []
    for _ in range(60):
        window.focusNextChild()
        reached.append(window.focusWidget())
        if reached[-1] is window.canvas:
            break
    assert window.results.paste_back not in reached and window.gallery not in reached
    assert window.prompt in reached and window.params.editors["user"].box in reached
    # Left to right as laid out: the inputs, the picture, the prompt, the parameters.
    start = reached.index(window.inputs.list)
    after_inputs = reached[start:] + reached[:start]
    order = [after_inputs.index(w) for w in (window.canvas, window.prompt)]
    assert order == sorted(order) and order[1] == order[0] + 1
    assert after_inputs.index(window.params.editors["user"].box) > order[1]


def test_the_pointer_over_the_picture_brings_the_keyboard_unless_typing(
    qt_loop, editor: Editor
) -> None:
    window = editor.window
    qt_loop.run(open_sample_and_paint(editor))
    presets = window.presets
    presets.setFocus()
    QApplication.sendEvent(window.canvas.viewport(), QEvent(QEvent.Type.Enter))
    assert window.focusWidget() is window.canvas, "Space and tool keys now reach the canvas"
    window.prompt.setFocus()
    QApplication.sendEvent(window.canvas.viewport(), QEvent(QEvent.Type.Enter))
    assert window.focusWidget() is window.prompt, "typing is never interrupted"
