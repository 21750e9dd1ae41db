"""Painting on the mask canvas with real mouse, key and tablet events."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, Qt
from PySide6.QtTest import QTest

from app.core import mask as core
from app.ui.canvas import MaskCanvas, ToolKind
from tests.support.canvas import gradient_image, make_canvas, scene_point, viewport_point
from tests.support.pointer import drag, move, stylus, tablet

LEFT, RIGHT = Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton


@pytest.fixture
def canvas(qtbot) -> MaskCanvas:
    return make_canvas(qtbot)


def path_on_image(canvas: MaskCanvas) -> list[QPoint]:
    """A wavy stroke inside the picture, in viewport pixels."""
    start = viewport_point(canvas, 40, 60)
    return [start + QPoint(4 * i, round(25 * np.sin(i / 6))) for i in range(50)]


def replay(canvas: MaskCanvas, points: list[QPoint], *, erase: bool = False, base=None):
    expected = base.copy() if base is not None else core.new_mask(320, 240)
    stroke = core.Stroke(expected, canvas.brush.to_brush(), erase=erase)
    for point in points:
        stroke.add_point(*scene_point(canvas, point))
    return expected


def test_a_stroke_changes_exactly_the_pixels_of_its_dabs(canvas: MaskCanvas) -> None:
    canvas.brush.set_size(18)
    canvas.brush.set_hardness(0.5)
    canvas.brush.set_opacity(0.8)
    points = path_on_image(canvas)
    drag(canvas.viewport(), points)

    expected = replay(canvas, points)
    assert expected.any()
    assert np.array_equal(canvas.document.mask, expected)
    assert canvas.document.undo_stack.count() == 1


def test_undo_and_redo_with_the_standard_shortcuts_restore_exact_pixels(
    canvas: MaskCanvas, qtbot
) -> None:
    drag(canvas.viewport(), path_on_image(canvas))
    painted = canvas.document.mask.copy()
    qtbot.keyClick(canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert not canvas.document.mask.any()
    control_shift = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    qtbot.keyClick(canvas, Qt.Key.Key_Z, control_shift)
    assert np.array_equal(canvas.document.mask, painted)


def test_right_drag_with_the_brush_erases(canvas: MaskCanvas) -> None:
    canvas.document.fill()
    full = canvas.document.mask.copy()
    points = path_on_image(canvas)
    drag(canvas.viewport(), points, RIGHT)
    expected = replay(canvas, points, erase=True, base=full)
    assert np.array_equal(canvas.document.mask, expected)
    assert canvas.document.mask.min() == 0


def test_the_eraser_tool_erases_with_the_left_button(canvas: MaskCanvas, qtbot) -> None:
    canvas.document.fill()
    full = canvas.document.mask.copy()
    qtbot.keyClick(canvas, Qt.Key.Key_E)
    assert canvas.tool == ToolKind.ERASER
    points = path_on_image(canvas)
    drag(canvas.viewport(), points)
    assert np.array_equal(canvas.document.mask, replay(canvas, points, erase=True, base=full))


def test_escape_aborts_a_stroke_in_progress(canvas: MaskCanvas, qtbot) -> None:
    viewport = canvas.viewport()
    points = path_on_image(canvas)
    QTest.mousePress(viewport, LEFT, Qt.KeyboardModifier.NoModifier, points[0])
    for point in points[1:20]:
        move(viewport, point)
    assert canvas.document.mask.any()
    qtbot.keyClick(canvas, Qt.Key.Key_Escape)
    for point in points[20:]:
        move(viewport, point)
    QTest.mouseRelease(viewport, LEFT, Qt.KeyboardModifier.NoModifier, points[-1])
    assert not canvas.document.mask.any()
    assert canvas.document.undo_stack.count() == 0


def test_brush_size_keys_and_ctrl_drag(canvas: MaskCanvas, qtbot) -> None:
    brush = canvas.brush
    brush.set_size(60)
    qtbot.keyClick(canvas, Qt.Key.Key_BracketRight)
    assert brush.size == 69
    qtbot.keyClick(canvas, Qt.Key.Key_BracketLeft)
    qtbot.keyClick(canvas, Qt.Key.Key_BracketLeft)
    assert brush.size < 60
    brush.set_size(60)
    brush.set_hardness(0.5)
    start = viewport_point(canvas, 100, 100)
    control = Qt.KeyboardModifier.ControlModifier
    drag(canvas.viewport(), [start, start + QPoint(20, -30)], modifiers=control)
    assert brush.size == pytest.approx(60 + 2 * 20 / canvas.view_scale())
    assert brush.hardness == pytest.approx(0.7)
    assert not canvas.document.mask.any()  # resizing does not paint
    assert "Size" in canvas.hud_text


def test_alt_right_drag_resizes_too(canvas: MaskCanvas) -> None:
    canvas.brush.set_size(40)
    start = viewport_point(canvas, 100, 100)
    drag(canvas.viewport(), [start, start - QPoint(5, 0)], RIGHT, Qt.KeyboardModifier.AltModifier)
    assert canvas.brush.size == pytest.approx(40 - 2 * 5 / canvas.view_scale())
    assert not canvas.document.mask.any()


def test_tablet_pressure_sets_the_dab_size(canvas: MaskCanvas) -> None:
    canvas.brush.set_size(40)
    canvas.brush.set_hardness(1.0)
    viewport, pen = canvas.viewport(), stylus()
    at = viewport_point(canvas, 160, 120)
    assert tablet(viewport, QEvent.Type.TabletPress, at, 0.25, pen)
    tablet(viewport, QEvent.Type.TabletRelease, at, 0.0, pen)
    expected = core.new_mask(320, 240)
    core.Stroke(expected, canvas.brush.to_brush()).add_point(*scene_point(canvas, at), 0.25)
    assert np.array_equal(canvas.document.mask, expected)
    painted = np.count_nonzero(canvas.document.mask)
    assert painted == pytest.approx(np.pi * 5**2, rel=0.2)  # radius 20 x 0.25


def test_the_stylus_eraser_end_erases(canvas: MaskCanvas) -> None:
    canvas.document.fill()
    viewport, eraser = canvas.viewport(), stylus(eraser=True)
    at = viewport_point(canvas, 100, 100)
    tablet(viewport, QEvent.Type.TabletPress, at, 1.0, eraser)
    tablet(viewport, QEvent.Type.TabletRelease, at, 0.0, eraser)
    assert canvas.document.mask[100, 100] == 0
    assert canvas.document.mask[5, 5] == 255


def test_shift_click_draws_a_straight_line_from_the_last_stroke(canvas: MaskCanvas) -> None:
    canvas.brush.set_size(6)
    canvas.brush.set_hardness(1.0)
    a, b = viewport_point(canvas, 40, 50), viewport_point(canvas, 240, 50)
    QTest.mouseClick(canvas.viewport(), LEFT, Qt.KeyboardModifier.NoModifier, a)
    QTest.mouseClick(canvas.viewport(), LEFT, Qt.KeyboardModifier.ShiftModifier, b)
    row = canvas.document.mask[50, 40:240]
    assert row.min() == 255


def test_space_drag_pans_without_painting(canvas: MaskCanvas, qtbot) -> None:
    viewport = canvas.viewport()
    start = viewport_point(canvas, 100, 100)
    before = scene_point(canvas, start)
    QTest.keyPress(canvas, Qt.Key.Key_Space)
    drag(viewport, [start, start + QPoint(15, 5), start + QPoint(30, 20)])
    QTest.keyRelease(canvas, Qt.Key.Key_Space)
    after = scene_point(canvas, start)
    scale = canvas.view_scale()
    assert after == pytest.approx((before[0] - 30 / scale, before[1] - 20 / scale), abs=1 / scale)
    assert not canvas.document.mask.any()


def test_middle_button_pans(canvas: MaskCanvas) -> None:
    start = viewport_point(canvas, 100, 100)
    before = scene_point(canvas, start)
    drag(canvas.viewport(), [start, start + QPoint(-25, 12)], Qt.MouseButton.MiddleButton)
    scale = canvas.view_scale()
    expected = (before[0] + 25 / scale, before[1] - 12 / scale)
    assert scene_point(canvas, start) == pytest.approx(expected, abs=1 / scale)
    assert not canvas.document.mask.any()


def test_undo_memory_stays_bounded_with_real_strokes(qtbot) -> None:
    canvas = make_canvas(qtbot, gradient_image(2048, 2048))
    canvas.brush.set_size(24)
    rng = np.random.default_rng(5)
    for _ in range(50):
        start = viewport_point(canvas, *rng.uniform(100, 1900, 2))
        drag(canvas.viewport(), [start, start + QPoint(6, 3), start + QPoint(10, -2)])
    assert canvas.document.undo_stack.count() == 50
    full_masks = 50 * canvas.document.mask.nbytes
    assert canvas.document.undo_bytes < full_masks / 500
