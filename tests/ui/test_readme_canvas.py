"""README claims about painting the mask and the compare view that no other test checked,
driven by real key, mouse, touchpad and pinch events on the canvas and the compare widget,
plus the standalone canvas window (``python -m app.ui.canvas``) and its menus."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, QSettings, Qt, QTimer
from PySide6.QtGui import QImage, QKeySequence, QNativeGestureEvent, QPointingDevice
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox

from app.core import mask as core
from app.models.mask_document import MaskDocument
from app.models.settings import Settings
from app.qt.collector import UiThreadCollector
from app.ui.canvas import MaskCanvas, ToolKind
from app.ui.canvas.demo import CanvasWindow
from app.ui.compare import CompareWidget
from tests.support.canvas import make_canvas, qimage, scene_point, viewport_point
from tests.support.images import png_bytes, write
from tests.support.pointer import drag, move, touchpad_scroll
from tests.ui.test_compare import coordinates, image_box, make_compare

LEFT, RIGHT = Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton
NONE, SHIFT = Qt.KeyboardModifier.NoModifier, Qt.KeyboardModifier.ShiftModifier
ALT, CONTROL = Qt.KeyboardModifier.AltModifier, Qt.KeyboardModifier.ControlModifier


@pytest.fixture
def canvas(qtbot) -> MaskCanvas:
    return make_canvas(qtbot)


def rectangle(canvas: MaskCanvas, a: QPoint, b: QPoint, *, subtract: bool = False) -> np.ndarray:
    expected = canvas.document.mask.copy()
    box = core.filled_rect(expected, *scene_point(canvas, a), *scene_point(canvas, b),
                           subtract=subtract)  # fmt: skip
    core.apply(expected, box)
    return expected


# --- shapes ----------------------------------------------------------------------------------


def test_readme_alt_makes_a_shape_subtract(canvas: MaskCanvas, qtbot) -> None:
    canvas.document.fill()
    qtbot.keyClick(canvas, Qt.Key.Key_M)
    a, b = viewport_point(canvas, 40, 40), viewport_point(canvas, 140, 120)
    expected = rectangle(canvas, a, b, subtract=True)
    drag(canvas.viewport(), [a, a + QPoint(30, 30), b], modifiers=ALT)
    assert np.array_equal(canvas.document.mask, expected)
    assert canvas.document.mask[80, 90] == 0 and canvas.document.mask[200, 300] == 255


def test_readme_shift_makes_a_square(canvas: MaskCanvas, qtbot) -> None:
    qtbot.keyClick(canvas, Qt.Key.Key_M)
    a, b = viewport_point(canvas, 40, 40), viewport_point(canvas, 160, 90)
    drag(canvas.viewport(), [a, b], modifiers=SHIFT)
    box = core.nonzero_box(canvas.document.mask >= 128)
    assert box.width == box.height == 120


def test_readme_esc_aborts_a_shape_being_dragged(canvas: MaskCanvas, qtbot) -> None:
    qtbot.keyClick(canvas, Qt.Key.Key_M)
    viewport = canvas.viewport()
    a = viewport_point(canvas, 40, 40)
    QTest.mousePress(viewport, LEFT, NONE, a)
    move(viewport, a + QPoint(60, 50))
    assert not canvas.preview.path.isEmpty()
    qtbot.keyClick(canvas, Qt.Key.Key_Escape)
    QTest.mouseRelease(viewport, LEFT, NONE, a + QPoint(80, 60))
    assert not canvas.document.mask.any() and canvas.document.undo_stack.count() == 0
    assert canvas.preview.path.isEmpty()


# --- brush keys and gestures -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("softer", "harder"),
    [
        ((Qt.Key.Key_BraceLeft, NONE), (Qt.Key.Key_BraceRight, NONE)),
        ((Qt.Key.Key_BracketLeft, SHIFT), (Qt.Key.Key_BracketRight, SHIFT)),
    ],
    ids=["braces", "shift-brackets"],
)
def test_readme_braces_set_the_hardness(canvas: MaskCanvas, qtbot, softer, harder) -> None:
    canvas.brush.set_hardness(0.5)
    size = canvas.brush.size
    qtbot.keyClick(canvas, *softer)
    assert canvas.brush.hardness == pytest.approx(0.25)
    qtbot.keyClick(canvas, *harder)
    qtbot.keyClick(canvas, *harder)
    assert canvas.brush.hardness == pytest.approx(0.75)
    assert canvas.brush.size == size


def test_readme_alt_right_drag_up_and_down_sets_the_hardness(canvas: MaskCanvas) -> None:
    canvas.brush.set_size(40)
    canvas.brush.set_hardness(0.5)
    start = viewport_point(canvas, 160, 120)
    drag(canvas.viewport(), [start, start + QPoint(0, -20)], RIGHT, ALT)
    up = canvas.brush.hardness
    drag(canvas.viewport(), [start, start + QPoint(0, 40)], RIGHT, ALT)
    assert up > 0.5 > canvas.brush.hardness
    assert not canvas.document.mask.any()


def test_readme_redo_takes_the_platforms_keys(canvas: MaskCanvas, qtbot) -> None:
    platform = QKeySequence.keyBindings(QKeySequence.StandardKey.Redo)
    assert canvas.action("redo").shortcuts() == platform
    canvas.document.fill_rect(10, 10, 60, 60)
    painted = canvas.document.mask.copy()
    for sequence in platform:  # Ctrl+Shift+Z everywhere, Ctrl+Y where the platform has it
        combination = sequence[0]
        qtbot.keyClick(canvas, Qt.Key.Key_Z, CONTROL)
        assert not canvas.document.mask.any()
        qtbot.keyClick(canvas, combination.key(), combination.keyboardModifiers())
        assert np.array_equal(canvas.document.mask, painted), sequence.toString()


def test_readme_q_switches_between_overlay_and_outline(canvas: MaskCanvas, qtbot) -> None:
    assert not canvas.outline_mode
    qtbot.keyClick(canvas, Qt.Key.Key_Q)
    assert canvas.outline_mode and canvas.action("view.outline").isChecked()
    qtbot.keyClick(canvas, Qt.Key.Key_Q)
    assert not canvas.outline_mode


def pinch(widget, point: QPoint, value: float) -> None:
    device = QPointingDevice.primaryPointingDevice()
    position = QPointF(point)
    event = QNativeGestureEvent(
        Qt.NativeGestureType.ZoomNativeGesture, device, 2, position, position,
        QPointF(widget.mapToGlobal(position)), value, QPointF(0, 0),
    )  # fmt: skip
    QApplication.sendEvent(widget, event)


def test_readme_a_touchpad_pinch_zooms_at_the_pointer(canvas: MaskCanvas) -> None:
    cursor = QPoint(150, 110)
    under = scene_point(canvas, cursor)
    zoom = canvas.zoom
    pinch(canvas.viewport(), cursor, 0.5)
    assert canvas.zoom == pytest.approx(zoom * 1.5)
    landed = canvas.viewportTransform().map(QPointF(*under))
    assert abs(landed.x() - cursor.x()) <= 1 and abs(landed.y() - cursor.y()) <= 1


def grab(widget) -> tuple[np.ndarray, float]:
    """The widget as drawn, in device pixels, and its device pixel ratio."""
    QApplication.processEvents()
    image = widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    rows = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), -1)
    pixels = rows[:, : image.width() * 3].reshape(image.height(), image.width(), 3).copy()
    return pixels, image.devicePixelRatio()


def test_readme_pixels_are_crisp_squares_from_200_percent(qtbot) -> None:
    checker = (np.indices((40, 40)).sum(axis=0) % 2 * 255).astype(np.uint8)
    canvas = make_canvas(qtbot, qimage(np.dstack([checker] * 3)))
    canvas.set_tool(ToolKind.PAN)
    canvas.set_zoom(2.0, QPointF(canvas.viewport().rect().center()))
    pixels, ratio = grab(canvas.viewport())
    origin = canvas.viewportTransform().map(QPointF(10, 10)) * ratio
    top, left = round(origin.y()), round(origin.x())
    block = pixels[top : top + 16, left : left + 16, 0]
    assert set(np.unique(block)) == {0, 255}  # no smoothing between pixels
    assert np.all(block[:2, :2] == block[0, 0]) and block[0, 2] != block[0, 0]


def test_readme_the_brush_cursor_draws_its_hardness_inside_its_size(qtbot) -> None:
    canvas = make_canvas(qtbot, qimage(np.full((240, 320, 3), 60, np.uint8)))
    canvas.set_zoom(1.0 / canvas.devicePixelRatioF())  # an image pixel per logical pixel
    canvas.brush.set_size(120)
    centre = viewport_point(canvas, 160, 120)
    QApplication.sendEvent(canvas.viewport(), QEvent(QEvent.Type.Enter))
    move(canvas.viewport(), centre, Qt.MouseButton.NoButton)

    def light_rings() -> set[int]:
        """Radii (logical px) at which the cursor's light lines cross rays from its centre."""
        pixels, ratio = grab(canvas.viewport())
        found: set[int] = set()
        for angle in np.linspace(0, 2 * math.pi, 48, endpoint=False):
            for r in range(8, 70):
                x = round((centre.x() + r * math.cos(angle)) * ratio)
                y = round((centre.y() + r * math.sin(angle)) * ratio)
                if pixels[y, x].min() > 150:
                    found.add(r)
        return found

    canvas.brush.set_hardness(0.5)
    rings = light_rings()
    assert any(58 <= r <= 62 for r in rings), rings  # the outer circle: radius 60
    assert any(28 <= r <= 32 for r in rings), rings  # the dashed inner one: 60 x 0.5
    canvas.brush.set_hardness(1.0)
    assert not any(20 <= r <= 40 for r in light_rings())


# --- the mask's history --------------------------------------------------------------------------


def test_readme_the_history_keeps_200_steps_and_256_mb(qapp) -> None:
    document = MaskDocument(32, 32)
    assert document.undo_budget == 256 * 1024 * 1024
    for i in range(210):
        document.fill_rect(i % 32, 0, i % 32 + 1, 32, subtract=bool(i // 32 % 2))
    assert document.undo_stack.count() == 200


# --- the compare view -----------------------------------------------------------------------


def test_readme_compare_touchpad_scrolls_and_ctrl_minus_zooms_out(qtbot) -> None:
    widget = make_compare(qtbot, coordinates(), coordinates(invert=True), "side")
    widget.set_zoom(3.0)
    view = widget.left_view
    zoom = widget.zoom
    before = view.to_image(QPointF(200, 200))
    touchpad_scroll(view.viewport(), QPoint(200, 200), 30, -12)
    after = view.to_image(QPointF(200, 200))
    assert widget.zoom == zoom
    scale = view.view_scale()
    assert (after.x(), after.y()) == pytest.approx(
        (before.x() - 30 / scale, before.y() + 12 / scale), abs=0.5
    )
    qtbot.keyClick(view, Qt.Key.Key_Minus, CONTROL)
    assert widget.zoom == pytest.approx(zoom / 1.5)
    assert widget.right_view.zoom == pytest.approx(widget.zoom)


def test_readme_the_left_button_pans_the_difference_view(qtbot) -> None:
    widget = make_compare(qtbot, coordinates(), coordinates(invert=True), "difference")
    widget.set_zoom(3.0)
    view = widget.left_view
    before = view.to_image(QPointF(250, 250))
    drag(view.viewport(), [(300, 300), (280, 290), (260, 270)])
    after = view.to_image(QPointF(250, 250))
    scale = view.view_scale()
    assert after.x() == pytest.approx(before.x() + 40 / scale, abs=0.5)
    assert after.y() == pytest.approx(before.y() + 30 / scale, abs=0.5)
    assert widget.mode == "difference"


def test_readme_compare_pixels_are_crisp_squares_from_200_percent(qtbot) -> None:
    checker = (np.indices((240, 320)).sum(axis=0) % 2 * 255).astype(np.uint8)
    picture = qimage(np.dstack([checker] * 3))
    widget: CompareWidget = make_compare(qtbot, picture, picture, "wipe")
    view = widget.left_view
    widget.set_zoom(2.0, view.to_viewport(QPointF(160, 120)))
    pixels, ratio = grab(view.viewport())
    box = image_box(view)
    corner = view.to_image(QPointF(box.left() + 60, box.top() + 60))
    origin = view.to_viewport(QPointF(math.ceil(corner.x()), math.ceil(corner.y()))) * ratio
    top, left = round(origin.y()), round(origin.x())
    block = pixels[top : top + 16, left : left + 16, 0]
    assert set(np.unique(block)) == {0, 255}
    assert np.all(block[:2, :2] == block[0, 0]) and block[0, 2] != block[0, 0]


# --- defaults kept in Qt objects ------------------------------------------------------------------


def test_readme_results_go_to_the_pictures_folder(tmp_path: Path, schema) -> None:
    from platformdirs import user_pictures_dir

    store = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    assert Settings(store, schema).results_dir() == Path(user_pictures_dir()) / "Retouch Studio"


def test_readme_the_collector_runs_every_200_ms(qapp) -> None:
    collector = UiThreadCollector()
    assert collector._timer.interval() == 200


# --- the canvas on its own -----------------------------------------------------------------------


@pytest.fixture
def answer_when_shown():
    """``answer_when_shown(answers, button)``: press ``button`` on the next modal message box
    (from a timer, so inside the nested loop that runs it), looking until the test ends."""
    ended: list[bool] = []

    def watch(answers: list[str], button) -> None:
        def look() -> None:
            box = QApplication.activeModalWidget()
            if ended:
                return
            if isinstance(box, QMessageBox):
                answers.append(box.text())
                box.button(button).click()
            else:
                QTimer.singleShot(20, look)

        QTimer.singleShot(0, look)

    yield watch
    ended.append(True)


@pytest.fixture
def canvas_window(qtbot, tmp_path: Path) -> CanvasWindow:
    window = CanvasWindow()
    qtbot.addWidget(window)
    window.show()
    photo = write(tmp_path / "photo.png", png_bytes(200, 100))
    with qtbot.waitSignal(window.canvas.image_opened, timeout=5000):
        window.canvas.open_file(photo)
    return window


def menu_action(window, menu_title: str, text: str):
    """The action called ``text`` in the menu bar's menu ``menu_title`` (mnemonics ignored)."""
    for top in window.menuBar().actions():
        menu = top.menu()
        if menu is not None and menu.title().replace("&", "") == menu_title:
            for action in menu.actions():
                if text in action.text().replace("&", ""):
                    return action
    raise LookupError(f"no {menu_title} ▸ {text}")


def test_readme_the_canvas_window_has_pen_pressure_save_mask_and_black_masks(
    canvas_window: CanvasWindow, qtbot, monkeypatch, tmp_path: Path
) -> None:
    pressure = menu_action(canvas_window, "Tools", "Pen pressure")
    before = canvas_window.canvas.brush.pressure_size
    pressure.trigger()
    assert canvas_window.canvas.brush.pressure_size is not before
    assert menu_action(canvas_window, "File", "black = edit")

    target = tmp_path / "mask.png"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    canvas_window.canvas.document.fill_rect(10, 10, 50, 40)
    menu_action(canvas_window, "File", "Save mask").trigger()
    qtbot.waitUntil(target.exists, timeout=5000)
    saved = core.read_mask(target.read_bytes(), (200, 100), max_pixels=10**6)
    assert saved[20, 20] == 255 and saved[80, 150] == 0


def test_readme_the_canvas_window_offers_to_scale_a_mask_of_another_size(
    canvas_window: CanvasWindow, qtbot, monkeypatch, tmp_path: Path, answer_when_shown
) -> None:
    small = core.new_mask(100, 50)
    small[:, :50] = 255
    path = write(tmp_path / "small.png", core.to_api_png(small))
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))
    answers: list[str] = []
    answer_when_shown(answers, QMessageBox.StandardButton.Yes)
    load = menu_action(canvas_window, "File", "Load mask…")
    with qtbot.waitSignal(canvas_window.canvas.mask_loaded, timeout=10_000):
        load.trigger()
    assert answers and "100x50" in answers[0] and "200x100" in answers[0]
    assert "Scale" in answers[0]
    mask = canvas_window.canvas.document.mask
    assert mask.shape == (100, 200) and mask[50, 20] == 255 and mask[50, 180] == 0
