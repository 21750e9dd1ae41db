"""Shape tools and mask operations on the canvas, driven by real events."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QToolButton

from app.core import mask as core
from app.ui.canvas import MaskCanvas, ToolKind, ToolOptionsBar
from tests.support.canvas import make_canvas, scene_point, viewport_point
from tests.support.pointer import drag, move

LEFT, RIGHT = Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton
NONE = Qt.KeyboardModifier.NoModifier


@pytest.fixture
def canvas(qtbot) -> MaskCanvas:
    return make_canvas(qtbot)


def blank() -> np.ndarray:
    return core.new_mask(320, 240)


def test_rectangle_drag_fills_the_snapped_rectangle(canvas: MaskCanvas, qtbot) -> None:
    qtbot.keyClick(canvas, Qt.Key.Key_M)
    assert canvas.tool == ToolKind.RECTANGLE
    a, b = viewport_point(canvas, 30, 40), viewport_point(canvas, 130, 90)
    drag(canvas.viewport(), [a, a + QPoint(50, 20), b])
    expected = blank()
    core.apply(
        expected, core.filled_rect(expected, *scene_point(canvas, a), *scene_point(canvas, b))
    )
    assert np.array_equal(canvas.document.mask, expected)
    assert canvas.preview.path.isEmpty()  # the marching-ants preview is gone

    # The right button subtracts.
    c, d = viewport_point(canvas, 60, 30), viewport_point(canvas, 80, 100)
    drag(canvas.viewport(), [c, d], RIGHT)
    core.apply(
        expected,
        core.filled_rect(expected, *scene_point(canvas, c), *scene_point(canvas, d), subtract=True),
    )
    assert np.array_equal(canvas.document.mask, expected)
    assert canvas.document.undo_stack.count() == 2


def test_ellipse_with_shift_is_a_circle(canvas: MaskCanvas) -> None:
    canvas.set_tool(ToolKind.ELLIPSE)
    a = viewport_point(canvas, 100, 60)
    b = viewport_point(canvas, 180, 90)  # Shift keeps the larger side: an 80 x 80 circle
    drag(canvas.viewport(), [a, b], modifiers=Qt.KeyboardModifier.ShiftModifier)
    (x0, y0), (x1, _) = scene_point(canvas, a), scene_point(canvas, b)
    side = x1 - x0
    expected = blank()
    core.apply(expected, core.filled_ellipse(expected, x0, y0, x0 + side, y0 + side))
    assert np.array_equal(canvas.document.mask, expected)
    box = core.nonzero_box(canvas.document.mask >= 128)
    assert box.width == box.height == round(side) == 80


def test_a_click_without_a_drag_makes_no_shape(canvas: MaskCanvas) -> None:
    canvas.set_tool(ToolKind.RECTANGLE)
    QTest.mouseClick(canvas.viewport(), LEFT, NONE, viewport_point(canvas, 50, 50))
    assert canvas.document.undo_stack.count() == 0


def test_lasso_fills_the_freehand_outline(canvas: MaskCanvas, qtbot) -> None:
    qtbot.keyClick(canvas, Qt.Key.Key_L)
    centre = viewport_point(canvas, 160, 120)
    angles = np.linspace(0, 2 * np.pi, 60)
    points = [centre + QPoint(round(70 * np.cos(t)), round(45 * np.sin(2 * t))) for t in angles]
    drag(canvas.viewport(), points)
    scene = [scene_point(canvas, p) for p in [*points, points[-1]]]
    expected = blank()
    core.apply(expected, core.filled_polygon(expected, scene))
    assert np.array_equal(canvas.document.mask, expected)
    assert canvas.document.undo_stack.undoText() == "Lasso"


def polygon_corners(canvas: MaskCanvas) -> list[QPoint]:
    return [
        viewport_point(canvas, 40, 40),
        viewport_point(canvas, 200, 60),
        viewport_point(canvas, 170, 200),
        viewport_point(canvas, 60, 150),
    ]


def expected_polygon(canvas: MaskCanvas, corners: list[QPoint]) -> np.ndarray:
    expected = blank()
    core.apply(expected, core.filled_polygon(expected, [scene_point(canvas, p) for p in corners]))
    return expected


def test_polygon_closes_with_enter(canvas: MaskCanvas, qtbot) -> None:
    qtbot.keyClick(canvas, Qt.Key.Key_P)
    corners = polygon_corners(canvas)
    for corner in corners:
        QTest.mouseClick(canvas.viewport(), LEFT, NONE, corner)
        move(canvas.viewport(), corner + QPoint(3, 3), Qt.MouseButton.NoButton)
    assert not canvas.document.mask.any()  # nothing until it closes
    assert not canvas.preview.path.isEmpty()
    qtbot.keyClick(canvas, Qt.Key.Key_Return)
    assert np.array_equal(canvas.document.mask, expected_polygon(canvas, corners))
    assert canvas.preview.path.isEmpty()


def test_polygon_closes_with_a_double_click(canvas: MaskCanvas) -> None:
    canvas.set_tool(ToolKind.POLYGON)
    corners = polygon_corners(canvas)
    for corner in corners[:-1]:
        QTest.mouseClick(canvas.viewport(), LEFT, NONE, corner)
    QTest.mouseDClick(canvas.viewport(), LEFT, NONE, corners[-1])
    assert np.array_equal(canvas.document.mask, expected_polygon(canvas, corners))
    assert canvas.document.undo_stack.count() == 1


def test_polygon_closes_on_its_first_corner_and_esc_cancels(canvas: MaskCanvas, qtbot) -> None:
    canvas.set_tool(ToolKind.POLYGON)
    corners = polygon_corners(canvas)
    for corner in corners:
        QTest.mouseClick(canvas.viewport(), LEFT, NONE, corner)
    QTest.mouseClick(canvas.viewport(), LEFT, NONE, corners[0] + QPoint(2, -1))
    assert np.array_equal(canvas.document.mask, expected_polygon(canvas, corners))

    canvas.document.clear()
    for corner in corners[:3]:
        QTest.mouseClick(canvas.viewport(), LEFT, NONE, corner)
    qtbot.keyClick(canvas, Qt.Key.Key_Backspace)  # takes back the last corner
    qtbot.keyClick(canvas, Qt.Key.Key_Escape)
    assert canvas.preview.path.isEmpty()
    qtbot.keyClick(canvas, Qt.Key.Key_Return)
    assert not canvas.document.mask.any()


def test_invert_shortcut_and_undo(canvas: MaskCanvas, qtbot) -> None:
    canvas.document.fill_rect(10, 10, 100, 80)
    before = canvas.document.mask.copy()
    control_shift = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    qtbot.keyClick(canvas, Qt.Key.Key_I, control_shift)
    assert np.array_equal(canvas.document.mask, 255 - before)
    qtbot.keyClick(canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert np.array_equal(canvas.document.mask, before)


@pytest.mark.parametrize(
    ("label", "operation"),
    [("Grow", core.grown), ("Shrink", core.shrunk), ("Feather", core.feathered)],
)
def test_grow_shrink_and_feather_buttons(qtbot, canvas: MaskCanvas, label, operation) -> None:
    bar = ToolOptionsBar(canvas)
    qtbot.addWidget(bar)
    bar.show()
    canvas.document.fill_ellipse(60, 40, 220, 180)
    before = canvas.document.mask.copy()
    bar.amount.setValue(7)
    button = next(b for b in bar.findChildren(QToolButton) if b.text() == label)
    QTest.mouseClick(button, LEFT)
    expected = before.copy()
    core.apply(expected, operation(before, 7))
    assert np.array_equal(canvas.document.mask, expected)
    assert not np.array_equal(expected, before)
    canvas.document.undo()
    assert np.array_equal(canvas.document.mask, before)


def test_clear_and_fill_shortcuts(canvas: MaskCanvas, qtbot) -> None:
    qtbot.keyClick(canvas, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    assert canvas.document.mask.min() == 255
    qtbot.keyClick(canvas, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    assert not canvas.document.mask.any()
    assert canvas.document.undo_stack.count() == 2


def test_tool_shortcuts_and_swap(canvas: MaskCanvas, qtbot) -> None:
    for key, kind in [
        (Qt.Key.Key_O, ToolKind.ELLIPSE),
        (Qt.Key.Key_H, ToolKind.PAN),
        (Qt.Key.Key_B, ToolKind.BRUSH),
    ]:
        qtbot.keyClick(canvas, key)
        assert canvas.tool == kind
        assert canvas.action(f"tool.{kind.value}").isChecked()
    qtbot.keyClick(canvas, Qt.Key.Key_X)
    assert canvas.tool == ToolKind.ERASER


def test_the_pan_tool_moves_the_view_and_never_paints(canvas: MaskCanvas) -> None:
    canvas.set_tool(ToolKind.PAN)
    start = viewport_point(canvas, 100, 100)
    before = scene_point(canvas, start)
    drag(canvas.viewport(), [start, start + QPoint(40, 0)])
    scale = canvas.view_scale()
    assert scene_point(canvas, start)[0] == pytest.approx(before[0] - 40 / scale, abs=1 / scale)
    assert not canvas.document.mask.any()
