"""Zoom, panning and what the canvas draws: overlay, outline, crisp pixels, dirty rects."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QImage
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from app.ui.canvas import MaskCanvas, ToolKind, ToolOptionsBar
from tests.support.canvas import make_canvas, qimage, scene_point, viewport_point
from tests.support.pointer import PaintSpy, move, touchpad_scroll, wheel


@pytest.fixture
def canvas(qtbot) -> MaskCanvas:
    return make_canvas(qtbot)


class Grab:
    """The viewport as drawn, in device pixels, indexed by logical viewport points."""

    def __init__(self, canvas: MaskCanvas) -> None:
        QApplication.processEvents()
        image = canvas.viewport().grab().toImage()
        self.ratio = image.devicePixelRatio()
        image = image.convertToFormat(QImage.Format.Format_RGB888)
        rows = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), -1)
        # Copied: the QImage, owner of the bytes, goes away with this function.
        self.pixels = rows[:, : image.width() * 3].reshape(image.height(), image.width(), 3).copy()

    def at(self, point: QPoint) -> list[int]:
        return self.pixels[round(point.y() * self.ratio), round(point.x() * self.ratio)].tolist()


@pytest.mark.parametrize("notches", [1, 3, -2])
def test_wheel_zoom_keeps_the_point_under_the_cursor(canvas: MaskCanvas, notches) -> None:
    cursor = QPoint(130, 95)
    before = scene_point(canvas, cursor)
    zoom = canvas.zoom
    wheel(canvas.viewport(), cursor, notches)
    assert canvas.zoom == pytest.approx(zoom * 1.2**notches)
    landed = canvas.viewportTransform().map(QPointF(*before))
    assert abs(landed.x() - cursor.x()) <= 1 and abs(landed.y() - cursor.y()) <= 1


def test_touchpad_scrolling_pans_instead_of_zooming(canvas: MaskCanvas) -> None:
    zoom = canvas.zoom
    point = QPoint(200, 150)
    before = scene_point(canvas, point)
    touchpad_scroll(canvas.viewport(), point, 12, -8)
    scale = canvas.view_scale()
    assert canvas.zoom == zoom
    assert scene_point(canvas, point) == pytest.approx(
        (before[0] - 12 / scale, before[1] + 8 / scale), abs=1 / scale
    )


def test_zoom_shortcuts(canvas: MaskCanvas, qtbot) -> None:
    control = Qt.KeyboardModifier.ControlModifier
    qtbot.keyClick(canvas, Qt.Key.Key_1, control)
    assert canvas.zoom == pytest.approx(1.0)
    qtbot.keyClick(canvas, Qt.Key.Key_Plus, control)
    assert canvas.zoom == pytest.approx(1.5)
    qtbot.keyClick(canvas, Qt.Key.Key_Minus, control)
    qtbot.keyClick(canvas, Qt.Key.Key_Minus, control)
    assert canvas.zoom == pytest.approx(2 / 3)
    canvas.set_zoom(5.0)
    qtbot.keyClick(canvas, Qt.Key.Key_0, control)
    # Fit: the whole picture shows, never enlarged beyond 100 %.
    assert canvas.zoom <= 1.0
    image_rect = canvas.mapFromScene(canvas.photo.boundingRect()).boundingRect()
    assert canvas.viewport().rect().contains(image_rect)


def test_fit_follows_the_window_until_the_user_zooms(canvas: MaskCanvas, qtbot) -> None:
    canvas.set_image(qimage(np.zeros((1000, 1600, 3), np.uint8)), "big")
    zoom = canvas.zoom
    canvas.resize(800, 600)
    qtbot.waitUntil(lambda: canvas.zoom > zoom)
    canvas.set_zoom(2.0)
    canvas.resize(600, 400)
    QApplication.processEvents()
    assert canvas.zoom == pytest.approx(2.0)


def test_pixels_are_exact_squares_at_high_zoom(qtbot) -> None:
    checker = (np.indices((32, 32)).sum(axis=0) % 2 * 255).astype(np.uint8)
    canvas = make_canvas(qtbot, qimage(np.dstack([checker] * 3)))
    canvas.set_tool(ToolKind.PAN)  # no brush cursor over the pixels
    canvas.set_zoom(8.0, QPointF(canvas.viewport().rect().center()))
    grabbed = Grab(canvas)
    origin = canvas.viewportTransform().map(QPointF(10, 10)) * grabbed.ratio
    top, left = round(origin.y()), round(origin.x())
    block = grabbed.pixels[top : top + 64, left : left + 64, 0]
    assert set(np.unique(block)) == {0, 255}  # no blur: only black and white
    assert np.all(block[:8, :8] == block[0, 0])  # one image pixel = 8x8 device pixels
    assert block[0, 8] != block[0, 0]


def test_overlay_colour_and_opacity(qtbot) -> None:
    grey = np.full((120, 160, 3), 100, np.uint8)
    canvas = make_canvas(qtbot, qimage(grey))
    canvas.set_tool(ToolKind.PAN)
    canvas.set_overlay_color(QColor(255, 0, 0))
    canvas.set_overlay_opacity(0.5)
    canvas.document.fill_rect(20, 20, 100, 80)
    grabbed = Grab(canvas)
    inside = viewport_point(canvas, 60, 50)
    outside = viewport_point(canvas, 140, 100)
    assert grabbed.at(inside) == pytest.approx([178, 50, 50], abs=2)
    assert grabbed.at(outside) == [100, 100, 100]

    canvas.set_outline_mode(True)
    grabbed = Grab(canvas)
    assert grabbed.at(inside) == [100, 100, 100]  # no fill
    edge = viewport_point(canvas, 20, 50)
    band = [grabbed.at(edge + QPoint(dx, 0))[0] for dx in range(-2, 3)]
    assert any(abs(v - 100) > 60 for v in band)  # the ants are drawn


def test_a_stroke_repaints_only_small_dirty_rectangles(canvas: MaskCanvas) -> None:
    spy = PaintSpy()
    canvas.viewport().installEventFilter(spy)
    canvas.brush.set_size(10)
    viewport = canvas.viewport()
    start = viewport_point(canvas, 60, 60)
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    QApplication.processEvents()
    spy.rects.clear()
    for step in range(1, 30):
        move(viewport, start + QPoint(3 * step, step))
        QApplication.processEvents()
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    assert canvas.document.mask.any()
    assert len(spy.rects) >= 20, "every move repaints"
    viewport_area = viewport.width() * viewport.height()
    assert max(r.width() * r.height() for r in spy.rects) < viewport_area / 20


def test_toolbar_and_brush_stay_in_step(qtbot, canvas: MaskCanvas) -> None:
    bar = ToolOptionsBar(canvas)
    qtbot.addWidget(bar)
    canvas.brush.set_size(100)
    assert bar.size_slider.value() == pytest.approx(100, rel=0.01)
    bar.hardness_slider.slider.setValue(250)
    assert canvas.brush.hardness == pytest.approx(0.25)
    bar.overlay_slider.slider.setValue(1000)
    assert canvas.overlay_opacity == pytest.approx(1.0)
    canvas.action("view.outline").trigger()
    assert canvas.outline_mode


def test_brush_cursor_shows_size_and_follows_the_pointer(canvas: MaskCanvas) -> None:
    canvas.brush.set_size(50)
    canvas.brush.set_hardness(0.4)
    at = viewport_point(canvas, 150, 100)
    QApplication.sendEvent(canvas.viewport(), QEvent(QEvent.Type.Enter))
    move(canvas.viewport(), at, Qt.MouseButton.NoButton)
    cursor = canvas.brush_cursor
    assert cursor.isVisible()
    assert (cursor.pos().x(), cursor.pos().y()) == pytest.approx(scene_point(canvas, at))
    assert cursor.boundingRect().width() >= 50
    assert canvas.viewport().cursor().shape() == Qt.CursorShape.BlankCursor
    canvas.set_tool(ToolKind.RECTANGLE)
    assert not cursor.isVisible()


def test_actual_pixels_means_one_image_pixel_per_device_pixel(qtbot) -> None:
    checker = (np.indices((32, 32)).sum(axis=0) % 2 * 255).astype(np.uint8)
    canvas = make_canvas(qtbot, qimage(np.dstack([checker] * 3)))
    canvas.set_tool(ToolKind.PAN)
    canvas.actual_size()
    grabbed = Grab(canvas)
    assert canvas.zoom == pytest.approx(1.0)
    assert canvas.view_scale() == pytest.approx(1.0 / grabbed.ratio)
    origin = canvas.viewportTransform().map(QPointF(4, 4)) * grabbed.ratio
    top, left = round(origin.y()), round(origin.x())
    row = grabbed.pixels[top, left : left + 8, 0].tolist()
    assert row in ([0, 255] * 4, [255, 0] * 4)


@pytest.mark.skipif(
    os.environ.get("QT_SCALE_FACTOR") is not None, reason="already on a scaled screen"
)
def test_the_view_tests_pass_on_a_high_dpi_screen() -> None:
    """A QApplication's device pixel ratio is fixed when it starts: run this module again
    in a process whose screen has a ratio of 2."""
    environment = {**os.environ, "QT_SCALE_FACTOR": "2", "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", __file__],
        env=environment,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "passed" in result.stdout
