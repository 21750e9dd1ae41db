"""The compare widget: locked side-by-side panes, the wipe, flipping, the difference map and
the drift overlay, driven by real mouse and key events and checked on the pixels drawn.

Positions are logical pixels, as events and the widget's geometry count them; the pixels
drawn are device pixels (``Shot``), so the module passes at any device pixel ratio
(test_compare_hidpi runs it at 2)."""

from __future__ import annotations

import math
import os

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, QRect, Qt
from PySide6.QtGui import QImage
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget

from app.core.composite import difference_heat, heat_to_rgba
from app.ui.compare import CompareView, CompareWidget
from app.ui.compare.wipe import HANDLE_REACH
from tests.support.pointer import PaintSpy, drag, move, wheel

RED = (220, 30, 40)
BLUE = (30, 60, 220)
WIDTH, HEIGHT = 320, 240


def qimage(array: np.ndarray) -> QImage:
    rgb = np.ascontiguousarray(array, np.uint8)
    height, width = rgb.shape[:2]
    fmt = QImage.Format.Format_RGBA8888 if rgb.shape[2] == 4 else QImage.Format.Format_RGB888
    return QImage(rgb.data, width, height, width * rgb.shape[2], fmt).copy()


def solid(color: tuple[int, ...], width: int = WIDTH, height: int = HEIGHT) -> QImage:
    return qimage(np.broadcast_to(np.array(color, np.uint8), (height, width, len(color))))


def coordinates(width: int = WIDTH, height: int = HEIGHT, *, invert: bool = False) -> QImage:
    """A picture whose red and green channels encode x and y: a pixel tells where it is."""
    y, x = np.mgrid[0:height, 0:width]
    blue = np.full_like(x, 255 if invert else 0)
    return qimage(np.dstack([x * 255 // (width - 1), y * 255 // (height - 1), blue]))


class Shot:
    """A pane's viewport as it is on screen now, in device pixels: the window's backing
    store, so what the incremental repaints left there, not a fresh rendering. Read with
    logical viewport positions, as the widget's geometry counts them."""

    def __init__(self, view: CompareView) -> None:
        QApplication.processEvents()
        window = view.window()
        # Not QScreen.grabWindow: on the offscreen platform at a ratio of 2 it clips to the
        # window's logical size and returns only the top-left quarter of the window.
        store = window.backingStore().paintDevice()
        assert isinstance(store, QImage)
        self.ratio = store.devicePixelRatio()
        # A store of another size would be the wrapper of a buffer freed by a resize.
        assert store.size() == window.size() * self.ratio
        viewport = view.viewport()
        origin = viewport.mapTo(window, QPoint(0, 0))
        area = QRect(self.device(origin), viewport.size() * self.ratio)
        image = store.copy(area).convertToFormat(QImage.Format.Format_RGB888)
        rows = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), -1)
        # Copied: the bytes belong to ``image``, which goes away with this constructor.
        self.pixels = rows[:, : image.width() * 3].reshape(image.height(), image.width(), 3).copy()

    def device(self, point: QPoint | QPointF) -> QPoint:
        """The device pixel at the top left of a logical position."""
        # The slack keeps a mapped 99.99999 (meant as 100) on the pixel it names.
        return QPoint(math.floor(point.x() * self.ratio + 1e-6),
                      math.floor(point.y() * self.ratio + 1e-6))  # fmt: skip

    def at(self, point: QPoint | QPointF) -> np.ndarray:
        """The colour of the logical pixel at ``point`` (its top-left device pixel)."""
        spot = self.device(point)
        return self.pixels[spot.y(), spot.x()]

    def span(self, y: int, left: int, right: int) -> np.ndarray:
        """The device pixels of logical row ``y`` from column ``left`` up to ``right``."""
        start, end = self.device(QPoint(left, y)), self.device(QPoint(right, y))
        return self.pixels[start.y(), start.x() : end.x()]

    def region(self, rect: QRect) -> np.ndarray:
        """The device pixels of a logical rectangle."""
        top_left, end = self.device(rect.topLeft()), self.device(rect.bottomRight() + QPoint(1, 1))
        return self.pixels[top_left.y() : end.y(), top_left.x() : end.x()]

    def showing(self, view: CompareView, x: int, y: int) -> np.ndarray:
        """The device pixel showing the centre of image pixel (x, y)."""
        return self.at(view.to_viewport(QPointF(x + 0.5, y + 0.5)))


def fresh(view: CompareView) -> np.ndarray:
    """The viewport drawn from scratch, in device pixels, as a full repaint would leave it."""
    image = view.viewport().grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    rows = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), -1)
    return rows[:, : image.width() * 3].reshape(image.height(), image.width(), 3).copy()


def image_box(view: CompareView) -> QRect:
    """The viewport pixels that show the picture."""
    size = view.image_size
    top_left = view.to_viewport(QPointF(0, 0))
    bottom_right = view.to_viewport(QPointF(size.width(), size.height()))
    box = QRect(top_left.toPoint(), bottom_right.toPoint() - QPoint(1, 1))
    return box.intersected(view.viewport().rect())


def over(top: np.ndarray, under: np.ndarray) -> np.ndarray:
    """Straight-alpha RGBA ``top`` composited over RGB ``under``."""
    alpha = top[..., 3:4] / 255
    return top[..., :3] * alpha + under * (1 - alpha)


def dimmed(color: tuple[int, ...] | np.ndarray) -> np.ndarray:
    return np.asarray(color, float)[..., :3] * (1 - 153 / 255)  # the veil is black at 60 %


def near(pixel: np.ndarray, color: tuple[int, ...], tolerance: int = 3) -> bool:
    return bool(np.all(np.abs(pixel.astype(int) - np.array(color[:3])) <= tolerance))


def make_compare(qtbot, a: QImage, b: QImage, mode: str = "side", **kwargs) -> CompareWidget:
    widget = CompareWidget(**kwargs)
    qtbot.addWidget(widget)
    widget.resize(900, 520)
    widget.set_images(a, b, "first.png", "second.png")
    widget.set_mode(mode)
    widget.show()
    qtbot.waitExposed(widget)
    widget.activateWindow()
    widget.left_view.setFocus()
    qtbot.waitUntil(widget.left_view.hasFocus)
    QApplication.processEvents()
    return widget


@pytest.fixture
def side(qtbot) -> CompareWidget:
    return make_compare(qtbot, coordinates(), coordinates(invert=True), "side")


@pytest.fixture
def wipe(qtbot) -> CompareWidget:
    return make_compare(qtbot, solid(RED), solid(BLUE), "wipe")


def logical_zoom(widget: QWidget, zoom: float) -> float:
    """The zoom that shows an image pixel on ``zoom`` logical pixels. The mouse moves in
    logical pixels, so a test whose drags need room on the picture sets it the same size
    at any ratio (at 2, a fitted picture is capped at 100 %: half its logical size)."""
    return zoom * widget.devicePixelRatioF()


def assert_locked(widget: CompareWidget, point: QPoint) -> None:
    """Both panes show the same image point under this viewport position, within a pixel."""
    left, right = widget.left_view, widget.right_view
    shown = left.to_image(QPointF(point))
    landed = right.to_viewport(shown)
    assert abs(landed.x() - point.x()) <= 1 and abs(landed.y() - point.y()) <= 1
    assert right.zoom == pytest.approx(left.zoom)


# --- side by side --------------------------------------------------------------------------


@pytest.mark.parametrize(("pane", "notches"), [("left", 2), ("right", 3), ("right", -1)])
def test_wheel_zoom_in_either_pane_moves_both(side: CompareWidget, pane, notches) -> None:
    view = side.left_view if pane == "left" else side.right_view
    cursor = QPoint(140, 170)
    under_cursor = view.to_image(QPointF(cursor))
    zoom = side.zoom
    wheel(view.viewport(), cursor, notches)
    assert side.zoom == pytest.approx(zoom * 1.2**notches)
    # Zoomed to the cursor, as on the canvas...
    landed = view.to_viewport(under_cursor)
    assert abs(landed.x() - cursor.x()) <= 1 and abs(landed.y() - cursor.y()) <= 1
    # ... and the other pane shows the same image point there, and everywhere else.
    for point in (cursor, QPoint(10, 10), QPoint(400, 300)):
        assert_locked(side, point)


def test_panning_either_pane_moves_both(side: CompareWidget) -> None:
    side.set_zoom(3.0)
    left, right = side.left_view, side.right_view
    # The mouse moves in logical pixels; at 300 % an image pixel is 3 / ratio of them.
    scale = left.view_scale()
    before = left.to_image(QPointF(200, 200))
    drag(right.viewport(), [(300, 300), (260, 280), (220, 250)])  # left button pans here
    after = left.to_image(QPointF(200, 200))
    assert after.x() == pytest.approx(before.x() + 80 / scale, abs=0.5)
    assert after.y() == pytest.approx(before.y() + 50 / scale, abs=0.5)
    assert_locked(side, QPoint(200, 200))
    drag(left.viewport(), [(100, 100), (160, 130)], Qt.MouseButton.MiddleButton)
    assert left.to_image(QPointF(200, 200)).x() == pytest.approx(after.x() - 60 / scale, abs=0.5)
    assert_locked(side, QPoint(50, 400))


def test_locked_panes_draw_the_same_image_point(side: CompareWidget) -> None:
    wheel(side.right_view.viewport(), QPoint(250, 220), 4)
    drag(side.left_view.viewport(), [(200, 200), (150, 170)])
    left, right = Shot(side.left_view), Shot(side.right_view)
    box = image_box(side.left_view)
    assert box.width() > 100 and box.height() > 100
    for point in (
        QPoint(box.left() + 30, box.top() + 40),
        box.center(),
        QPoint(box.right() - 20, box.bottom() - 9),
    ):
        # Red and green encode the image point; blue tells A (0) from B (255).
        assert left.at(point)[:2] == pytest.approx(right.at(point)[:2], abs=2)
        assert left.at(point)[2] == 0 and right.at(point)[2] == 255


def test_zoom_keys_fit_and_actual_pixels(side: CompareWidget, qtbot) -> None:
    control = Qt.KeyboardModifier.ControlModifier
    qtbot.keyClick(side.left_view, Qt.Key.Key_1, control)
    assert side.zoom == pytest.approx(1.0) and side.right_view.zoom == pytest.approx(1.0)
    qtbot.keyClick(side.right_view, Qt.Key.Key_Plus, control)
    assert side.zoom == pytest.approx(1.5)
    side.set_zoom(6.0)
    qtbot.keyClick(side.right_view, Qt.Key.Key_0, control)
    for view in (side.left_view, side.right_view):
        assert view.zoom <= 1.0
        assert view.viewport().rect().contains(image_box(view))
    assert_locked(side, QPoint(120, 120))


def test_side_panes_stay_locked_across_resizes_and_modes(side: CompareWidget, qtbot) -> None:
    side.set_zoom(2.0, QPointF(100, 100))
    side.set_mode("wipe")
    side.resize(1000, 560)
    side.set_mode("side")
    QApplication.processEvents()
    qtbot.waitUntil(lambda: side.right_view.isVisible())
    assert side.zoom == pytest.approx(2.0)
    assert_locked(side, QPoint(100, 100))
    assert_locked(side, QPoint(420, 380))


# --- wipe --------------------------------------------------------------------------------


def assert_split_at(widget: CompareWidget, column: int, a: tuple, b: tuple) -> None:
    """Rows of the picture on screen are A left of the column and B right of it, with two
    pixels either side for the divider line, and the knob's width on its row: no trace of
    an earlier position of the handle is left anywhere."""
    shot = Shot(widget.left_view)
    box = image_box(widget.left_view)
    knob = box.top() + box.height() // 2
    top = max(box.top(), 48)  # below the name labels
    rows = [(y, 3) for y in range(top + 2, box.bottom() - 1, 7)]
    # Next to the knob, its width is left out.
    rows = [(y, HANDLE_REACH + 1 if abs(y - knob) <= HANDLE_REACH else m) for y, m in rows]
    rows.append((knob, HANDLE_REACH + 1))
    for y, margin in rows:
        a_side = shot.span(y, box.left(), column - margin)
        b_side = shot.span(y, column + margin, box.right() + 1)
        assert len(a_side) and len(b_side), f"row {y}: nothing to check"
        assert all(near(p, a) for p in a_side), f"row {y}: A side"
        assert all(near(p, b) for p in b_side), f"row {y}: B side"


@pytest.mark.parametrize("zoom", [None, 2.5])
def test_the_wipe_follows_the_mouse(wipe: CompareWidget, zoom) -> None:
    view = wipe.left_view
    if zoom:
        wipe.set_zoom(zoom)
    moved: list[float] = []
    wipe.wipe_moved.connect(moved.append)
    box = image_box(view)
    start = view.divider_column()
    targets = [start - 40, box.left() + 37, box.right() - 51]
    y = box.top() + 20
    for target in targets:
        # Pressed anywhere, the divider jumps there and follows the drag.
        path = [(target + 90, y), (target + 40, y + 5), (target + 3, y - 4), (target, y)]
        drag(view.viewport(), path)
        divider = view.to_viewport(QPointF(wipe.wipe_position * WIDTH, 0)).x()
        assert abs(divider - target) <= 1
        assert abs(view.divider_column() - target) <= 1
        assert_split_at(wipe, view.divider_column(), RED, BLUE)
    assert len(moved) >= 3 * 4 and moved[-1] == wipe.wipe_position


def test_dragging_the_wipe_repaints_strips_not_the_view(wipe: CompareWidget) -> None:
    wipe.set_zoom(logical_zoom(wipe, 1.0))  # 72 pixels of drag, and the knob, left of centre
    viewport = wipe.left_view.viewport()
    spy = PaintSpy()
    x, y = wipe.left_view.divider_column(), 200
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     QPoint(x, y))  # fmt: skip
    QApplication.processEvents()
    viewport.installEventFilter(spy)
    for step in range(1, 25):
        move(viewport, QPoint(x - 3 * step, y))
        QApplication.processEvents()
    viewport.removeEventFilter(spy)
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                       QPoint(x - 72, y))  # fmt: skip
    assert len(spy.rects) >= 20
    # A 3 px move repaints the pixels that changed picture and the handle: a narrow strip.
    assert max(rect.width() for rect in spy.rects) <= 3 + 2 * 18 + 1
    assert_split_at(wipe, wipe.left_view.divider_column(), RED, BLUE)


def test_space_drag_pans_instead_of_moving_the_wipe(wipe: CompareWidget, qtbot) -> None:
    view = wipe.left_view
    wipe.set_zoom(2.0)
    position = wipe.wipe_position
    before = view.to_image(QPointF(300, 200))
    QTest.keyPress(view, Qt.Key.Key_Space)
    drag(view.viewport(), [(300, 200), (340, 200)])
    QTest.keyRelease(view, Qt.Key.Key_Space)
    assert wipe.wipe_position == position
    moved = 40 / view.view_scale()  # 40 logical pixels, in image pixels
    assert view.to_image(QPointF(300, 200)).x() == pytest.approx(before.x() - moved, abs=0.5)


def test_arrow_keys_nudge_the_wipe(wipe: CompareWidget, qtbot) -> None:
    column = wipe.left_view.divider_column()
    qtbot.keyClick(wipe.left_view, Qt.Key.Key_Right)
    assert wipe.left_view.divider_column() == column + 1
    qtbot.keyClick(wipe.left_view, Qt.Key.Key_Left, Qt.KeyboardModifier.ShiftModifier)
    assert wipe.left_view.divider_column() == column - 9


def test_pixels_are_exact_squares_at_high_zoom_in_the_wipe(qtbot) -> None:
    checker = (np.indices((HEIGHT, WIDTH)).sum(axis=0) % 2 * 255).astype(np.uint8)
    picture = qimage(np.dstack([checker] * 3))
    widget = make_compare(qtbot, picture, picture, "wipe")
    view = widget.left_view
    widget.set_zoom(8.0, view.to_viewport(QPointF(WIDTH / 2, HEIGHT / 2)))
    shot = Shot(view)
    corner = view.to_image(QPointF(100, 100))
    origin = shot.device(view.to_viewport(QPointF(math.ceil(corner.x()), math.ceil(corner.y()))))
    # At 800 % an image pixel is 8 x 8 device pixels, whatever the ratio.
    block = shot.pixels[origin.y() : origin.y() + 64, origin.x() : origin.x() + 64, 0]
    assert block.shape == (64, 64)
    assert set(np.unique(block)) == {0, 255}  # no smoothing: only black and white
    assert np.all(block[:8, :8] == block[0, 0]) and block[0, 8] != block[0, 0]
    assert block[8, 0] != block[0, 0]


# --- flip ----------------------------------------------------------------------------------


def test_the_flip_key_swaps_pictures_and_names_in_place(wipe: CompareWidget, qtbot) -> None:
    view = wipe.left_view
    wipe.set_zoom(logical_zoom(wipe, 1.5))  # about the centre: the picture fills the middle
    drag(view.viewport(), [(330, 200), (360, 210)])
    position, zoom = wipe.wipe_position, wipe.zoom
    top_left = view.to_image(QPointF(0, 0))
    column = view.divider_column()
    assert_split_at(wipe, column, RED, BLUE)
    with qtbot.waitSignal(wipe.flipped, timeout=1000):
        qtbot.keyClick(view, Qt.Key.Key_X)
    assert wipe.names == ("second.png", "first.png")
    assert view.labels == ("A: second.png", "B: first.png")
    assert wipe.wipe_position == position and wipe.zoom == zoom
    assert view.to_image(QPointF(0, 0)) == top_left
    assert_split_at(wipe, column, BLUE, RED)
    wipe.action("flip").trigger()  # the toolbar button
    assert wipe.names == ("first.png", "second.png")
    assert_split_at(wipe, column, RED, BLUE)


def test_flipping_side_by_side_swaps_the_panes(qtbot) -> None:
    widget = make_compare(qtbot, solid(RED), solid(BLUE), "side")
    point = image_box(widget.left_view).center()
    assert near(Shot(widget.left_view).at(point), RED)
    assert near(Shot(widget.right_view).at(point), BLUE)
    qtbot.keyClick(widget.right_view, Qt.Key.Key_X)
    assert near(Shot(widget.left_view).at(point), BLUE)
    assert near(Shot(widget.right_view).at(point), RED)
    assert widget.right_view.labels[0] == "B: first.png"


# --- difference ----------------------------------------------------------------------------


def test_difference_of_identical_pictures_is_only_the_dimmed_picture(qtbot) -> None:
    widget = make_compare(qtbot, solid(RED), solid(RED), "difference")
    box = image_box(widget.left_view)
    inside = Shot(widget.left_view).region(box.adjusted(5, 40, -5, -5))
    assert inside.size > 0
    assert np.abs(inside.reshape(-1, 3) - dimmed(RED)).max() <= 2


def test_difference_shows_heat_in_the_changed_square(qtbot) -> None:
    rng = np.random.default_rng(6)
    base = rng.integers(60, 200, (HEIGHT, WIDTH, 3), dtype=np.uint8)
    changed = base.copy()
    changed[100:160, 200:260] = 255 - changed[100:160, 200:260]
    widget = make_compare(qtbot, qimage(base), qimage(changed), "difference")
    widget.actual_size()  # one image pixel on one device pixel
    view = widget.left_view
    shot = Shot(view)
    expected_heat = heat_to_rgba(difference_heat(base, changed))
    for x, y in ((230, 130), (200, 100), (259, 159)):  # inside the square
        assert expected_heat[y, x, 3] > 128
        assert shot.showing(view, x, y).astype(int) == pytest.approx(
            over(expected_heat[y, x], dimmed(base[y, x])), abs=3
        )
    for x, y in ((50, 50), (199, 130), (260, 130), (230, 99), (230, 160)):  # outside it
        assert shot.showing(view, x, y).astype(int) == pytest.approx(dimmed(base[y, x]), abs=2)


def test_a_large_difference_is_computed_off_the_ui_thread(qtbot) -> None:
    widget = make_compare(qtbot, solid(RED), solid(BLUE), "side", inline_pixels=0)
    with qtbot.waitSignal(widget.difference_computed, timeout=10_000):
        widget.set_mode("difference")
        assert widget.left_view.notice == "Computing the difference…"
    assert widget.left_view.notice == ""
    point = image_box(widget.left_view).center()
    heat = heat_to_rgba(difference_heat(np.array([[RED]], np.uint8), np.array([[BLUE]], np.uint8)))
    expected = over(heat[0, 0], dimmed(RED))
    assert near(Shot(widget.left_view).at(point), tuple(expected.round()))
    # Cached for the pair, in either order: no second computation.
    widget.flip()
    assert widget.left_view.notice == ""


# --- what is pinned to the viewport ----------------------------------------------------------


LIGHT = (235, 235, 235)
CREAM = (235, 225, 140)
_LABEL_BAND = 80  # logical rows from the top: the name labels and a pan's reach below them


def label_pixels(shot: Shot, view: CompareView) -> np.ndarray:
    """Where the top of the pane is as dark as a label: the pictures are light and the
    labels' pills nearly black, so this is exactly the labels' pixels."""
    band = shot.region(QRect(0, 0, view.viewport().width(), _LABEL_BAND))
    return band.max(axis=2) < 80


def stale(shot: Shot, view: CompareView) -> list[tuple[int, int]]:
    """The corners of the device pixels on screen that a full repaint would draw otherwise."""
    wrong = np.argwhere(np.abs(shot.pixels.astype(int) - fresh(view)).max(axis=2) > 2)
    if not len(wrong):
        return []
    (top, left), (bottom, right) = wrong.min(axis=0), wrong.max(axis=0)
    return [(int(left), int(top)), (int(right), int(bottom))]


@pytest.mark.parametrize("mode", ["side", "wipe", "difference"])
def test_panning_leaves_no_copy_of_the_labels_behind(qtbot, mode) -> None:
    a, b = solid(LIGHT, 2400, 1600), solid(CREAM, 2400, 1600)
    widget = make_compare(qtbot, a, b, mode, inline_pixels=10**8)
    widget.set_zoom(1.0)  # the pictures cover the panes, before and after the pan
    views = [widget.left_view, widget.right_view] if mode == "side" else [widget.left_view]
    before = [label_pixels(Shot(view), view) for view in views]
    assert all(pixels.sum() > 100 for pixels in before)
    # A pan scrolls the viewport's pixels, and the labels drawn on them, by (37, 23).
    path = [(400, 300), (410, 305), (425, 315), (437, 323)]
    drag(widget.left_view.viewport(), path, Qt.MouseButton.MiddleButton)
    for view, labels in zip(views, before, strict=True):
        shot = Shot(view)
        # The labels' pixels, and only those, where they were: no copy 37 px right and
        # 23 px down, none half painted over.
        after = label_pixels(shot, view)
        assert after.sum() == labels.sum(), f"{view.labels}: {after.sum()} label pixels"
        assert np.array_equal(after, labels), f"{view.labels}: labels moved"
        # Nor a knob or anything else left behind: what is on screen is what a full
        # repaint draws.
        assert stale(shot, view) == [], "device pixels (x, y) left from before the pan"


def test_shots_are_in_device_pixels(side: CompareWidget) -> None:
    view = side.left_view
    shot = Shot(view)
    ratio = view.devicePixelRatioF()
    assert shot.ratio == ratio
    assert shot.pixels.shape[:2] == (view.viewport().height() * ratio,
                                     view.viewport().width() * ratio)  # fmt: skip
    # Run with QT_SCALE_FACTOR (test_compare_hidpi), the screen has that ratio: the
    # module's expectations are then checked in its units.
    assert ratio == float(os.environ.get("QT_SCALE_FACTOR", ratio))


# --- overlay and modes ---------------------------------------------------------------------


def test_the_drift_overlay_shows_over_b_and_toggles(wipe: CompareWidget, qtbot) -> None:
    view = wipe.left_view
    box = image_box(view)
    a_point = QPoint(box.left() + 20, box.top() + 20)
    b_point = QPoint(box.right() - 20, box.top() + 20)
    overlay = solid((0, 255, 0, 128))
    wipe.set_overlay(overlay)
    assert wipe.overlay_visible and wipe.action("overlay").isChecked()
    shot = Shot(view)
    assert near(shot.at(a_point), RED)  # A is left alone
    green_over_blue = tuple(over(np.array([0, 255, 0, 128]), np.array(BLUE)).round())
    assert near(shot.at(b_point), green_over_blue, 4)
    qtbot.keyClick(view, Qt.Key.Key_O)
    assert not wipe.overlay_visible
    assert near(Shot(view).at(b_point), BLUE)
    wipe.action("overlay").trigger()  # the toolbar button
    assert near(Shot(view).at(b_point), green_over_blue, 4)
    # The drift map belongs to its picture: flipped, it moves to the left with it.
    wipe.flip()
    shot = Shot(view)
    assert near(shot.at(a_point), green_over_blue, 4)
    assert near(shot.at(b_point), RED)
    wipe.set_overlay(None)
    assert not wipe.action("overlay").isEnabled()
    assert near(Shot(view).at(a_point), BLUE)


def test_on_request_the_drift_switch_works_before_there_is_a_map(qtbot) -> None:
    widget = make_compare(qtbot, solid(RED), solid(BLUE), "wipe", overlay_on_request=True)
    view = widget.left_view
    b_point = image_box(view).center() + QPoint(image_box(view).width() // 4, 0)
    widget.set_overlay_visible(False)
    switched: list[bool] = []
    widget.overlay_toggled.connect(switched.append)
    qtbot.keyClick(view, Qt.Key.Key_O)
    # On, with no map yet: the owner hears it and lays one.
    assert switched == [True] and widget.overlay_wanted and not widget.overlay_visible
    assert widget.action("overlay").isChecked()
    widget.set_overlay(solid((0, 255, 0, 128)))
    green_over_blue = tuple(over(np.array([0, 255, 0, 128]), np.array(BLUE)).round())
    assert near(Shot(view).at(b_point), green_over_blue, 4)
    qtbot.keyClick(view, Qt.Key.Key_O)
    assert switched == [True, False] and near(Shot(view).at(b_point), BLUE)
    # A map laid while the switch is off waits, hidden, until it is switched on.
    widget.set_overlay(solid((0, 255, 0, 128)))
    assert not widget.overlay_visible and near(Shot(view).at(b_point), BLUE)
    assert view.labels[1] == "B: second.png"
    widget.action("overlay").trigger()
    assert switched == [True, False, True] and view.labels[1] == "B: second.png · drift map"


def test_modes_by_key_and_signal(side: CompareWidget, qtbot) -> None:
    seen: list[str] = []
    side.mode_changed.connect(seen.append)
    qtbot.keyClick(side.left_view, Qt.Key.Key_W)
    assert side.mode == "wipe" and not side.right_view.isVisible()
    qtbot.keyClick(side.left_view, Qt.Key.Key_D)
    qtbot.keyClick(side.left_view, Qt.Key.Key_S)
    assert seen == ["wipe", "difference", "side"] and side.right_view.isVisible()
    assert side.action("mode.side").isChecked()
    with pytest.raises(ValueError, match="mode must be one of"):
        side.set_mode("blink")


def test_another_pair_of_the_same_size_keeps_the_view(side: CompareWidget) -> None:
    side.set_zoom(3.0, QPointF(120, 90))
    side.set_wipe_position(0.25)
    top_left = side.left_view.to_image(QPointF(0, 0))
    side.set_images(solid(RED), solid(BLUE), "red", "blue")
    assert side.zoom == pytest.approx(3.0) and side.wipe_position == 0.25
    assert side.left_view.to_image(QPointF(0, 0)) == top_left
    side.set_images(solid(RED, 64, 48), solid(BLUE, 64, 48), "small", "small too")
    assert side.left_view.fit_mode  # a new size is fitted
    with pytest.raises(ValueError, match="same size"):
        side.set_images(solid(RED), solid(BLUE, 64, 48), "a", "b")


def test_no_widget_is_left_behind(qtbot) -> None:
    widget = CompareWidget()
    qtbot.addWidget(widget)
    widget.show()
    assert widget.left_view.has_image() is False
    widget.set_overlay(None)
    widget.flip()  # nothing to flip: no error, no signal
    assert isinstance(widget.left_view.viewport(), QWidget)


def test_pictures_that_bring_their_levels_are_shown_without_building_any(
    qtbot, monkeypatch
) -> None:
    """The editor's compare pictures come from a worker with their zoom levels built
    (a 4K picture's take 50-80 ms): the widget shows those and builds nothing itself."""
    from app.models.levels import Leveled
    from app.ui.compare import widget as widget_module

    a, b = Leveled.of(solid(RED, 1200, 700)), Leveled.of(solid(BLUE, 1200, 700))
    heat = Leveled.of(solid((0, 200, 0, 128), 1200, 700))

    def refuse(_image: QImage) -> list[QImage]:
        raise AssertionError("levels built on the UI thread")

    monkeypatch.setattr(widget_module, "build_levels", refuse)
    shown = make_compare(qtbot, a, b, "side")
    shown.set_overlay(heat)
    assert shown.images == (a.image, b.image)
    assert shown.has_overlay()
    middle = Shot(shown.right_view).at(image_box(shown.right_view).center())
    assert near(middle, tuple(np.rint(over(np.array([0, 200, 0, 128]), np.array(BLUE)))), 4)
