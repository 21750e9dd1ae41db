"""The compare widget: locked side-by-side panes, the wipe, flipping, the difference map and
the drift overlay, driven by real mouse and key events and checked on the pixels drawn."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, QRect, Qt
from PySide6.QtGui import QImage
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget

from app.core.composite import difference_heat, heat_to_rgba
from app.models.qt_workarounds import guard_pyside_refcounts
from app.ui.compare import CompareView, CompareWidget
from app.ui.compare.wipe import HANDLE_REACH
from tests.support.pointer import PaintSpy, drag, move, wheel

guard_pyside_refcounts()

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


def screen(view: CompareView) -> np.ndarray:
    """The pane's viewport as it is on screen now: the window's backing store, so what the
    incremental repaints left there, not a fresh rendering."""
    QApplication.processEvents()
    viewport = view.viewport()
    window = view.window()
    origin = viewport.mapTo(window, QPoint(0, 0))
    shot = window.screen().grabWindow(
        window.winId(), origin.x(), origin.y(), viewport.width(), viewport.height()
    )
    image = shot.toImage().convertToFormat(QImage.Format.Format_RGB888)
    assert image.devicePixelRatio() == 1.0
    rows = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), -1)
    return rows[:, : image.width() * 3].reshape(image.height(), image.width(), 3).copy()


def image_box(view: CompareView) -> QRect:
    """The viewport pixels that show the picture."""
    size = view.image_size
    top_left = view.to_viewport(QPointF(0, 0))
    bottom_right = view.to_viewport(QPointF(size.width(), size.height()))
    box = QRect(top_left.toPoint(), bottom_right.toPoint() - QPoint(1, 1))
    return box.intersected(view.viewport().rect())


def pixel_of(view: CompareView, x: int, y: int) -> QPoint:
    """The viewport pixel showing the centre of image pixel (x, y)."""
    centre = view.to_viewport(QPointF(x + 0.5, y + 0.5))
    return QPoint(math.floor(centre.x()), math.floor(centre.y()))


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
    before = left.to_image(QPointF(200, 200))
    drag(right.viewport(), [(300, 300), (260, 280), (220, 250)])  # left button pans here
    after = left.to_image(QPointF(200, 200))
    assert after.x() == pytest.approx(before.x() + 80 / 3, abs=0.5)
    assert after.y() == pytest.approx(before.y() + 50 / 3, abs=0.5)
    assert_locked(side, QPoint(200, 200))
    drag(left.viewport(), [(100, 100), (160, 130)], Qt.MouseButton.MiddleButton)
    assert left.to_image(QPointF(200, 200)).x() == pytest.approx(after.x() - 60 / 3, abs=0.5)
    assert_locked(side, QPoint(50, 400))


def test_locked_panes_draw_the_same_image_point(side: CompareWidget) -> None:
    wheel(side.right_view.viewport(), QPoint(250, 220), 4)
    drag(side.left_view.viewport(), [(200, 200), (150, 170)])
    left, right = screen(side.left_view), screen(side.right_view)
    box = image_box(side.left_view)
    assert box.width() > 100 and box.height() > 100
    for x, y in (
        (box.left() + 30, box.top() + 40),
        box.center().toTuple(),
        (box.right() - 20, box.bottom() - 9),
    ):
        # Red and green encode the image point; blue tells A (0) from B (255).
        assert left[y, x, :2] == pytest.approx(right[y, x, :2], abs=2)
        assert left[y, x, 2] == 0 and right[y, x, 2] == 255


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
    pixels = screen(widget.left_view)
    box = image_box(widget.left_view)
    knob = box.top() + box.height() // 2
    top = max(box.top(), 48)  # below the name labels
    rows = [(y, 3) for y in range(top + 2, box.bottom() - 1, 7)]
    # Next to the knob, its width is left out.
    rows = [(y, HANDLE_REACH + 1 if abs(y - knob) <= HANDLE_REACH else m) for y, m in rows]
    rows.append((knob, HANDLE_REACH + 1))
    for y, margin in rows:
        row = pixels[y]
        assert all(near(p, a) for p in row[box.left() : column - margin]), f"row {y}: A side"
        assert all(near(p, b) for p in row[column + margin : box.right() + 1]), f"row {y}: B"


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
    assert view.to_image(QPointF(300, 200)).x() == pytest.approx(before.x() - 20, abs=0.5)


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
    pixels = screen(view)
    corner = view.to_image(QPointF(100, 100))
    origin = view.to_viewport(QPointF(math.ceil(corner.x()), math.ceil(corner.y()))).toPoint()
    block = pixels[origin.y() : origin.y() + 64, origin.x() : origin.x() + 64, 0]
    assert set(np.unique(block)) == {0, 255}  # no smoothing: only black and white
    assert np.all(block[:8, :8] == block[0, 0]) and block[0, 8] != block[0, 0]


# --- flip ----------------------------------------------------------------------------------


def test_the_flip_key_swaps_pictures_and_names_in_place(wipe: CompareWidget, qtbot) -> None:
    view = wipe.left_view
    wipe.set_zoom(1.5, QPointF(250, 200))
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
    assert near(screen(widget.left_view)[point.y(), point.x()], RED)
    assert near(screen(widget.right_view)[point.y(), point.x()], BLUE)
    qtbot.keyClick(widget.right_view, Qt.Key.Key_X)
    assert near(screen(widget.left_view)[point.y(), point.x()], BLUE)
    assert near(screen(widget.right_view)[point.y(), point.x()], RED)
    assert widget.right_view.labels[0] == "B: first.png"


# --- difference ----------------------------------------------------------------------------


def test_difference_of_identical_pictures_is_only_the_dimmed_picture(qtbot) -> None:
    widget = make_compare(qtbot, solid(RED), solid(RED), "difference")
    pixels = screen(widget.left_view)
    box = image_box(widget.left_view)
    inside = pixels[box.top() + 40 : box.bottom() - 5, box.left() + 5 : box.right() - 5]
    assert np.abs(inside.reshape(-1, 3) - dimmed(RED)).max() <= 2


def test_difference_shows_heat_in_the_changed_square(qtbot) -> None:
    rng = np.random.default_rng(6)
    base = rng.integers(60, 200, (HEIGHT, WIDTH, 3), dtype=np.uint8)
    changed = base.copy()
    changed[100:160, 200:260] = 255 - changed[100:160, 200:260]
    widget = make_compare(qtbot, qimage(base), qimage(changed), "difference")
    widget.actual_size()
    pixels = screen(widget.left_view).astype(int)
    view = widget.left_view
    expected_heat = heat_to_rgba(difference_heat(base, changed))
    for x, y in ((230, 130), (200, 100), (259, 159)):  # inside the square
        p = pixel_of(view, x, y)
        assert expected_heat[y, x, 3] > 128
        assert pixels[p.y(), p.x()] == pytest.approx(
            over(expected_heat[y, x], dimmed(base[y, x])), abs=3
        )
    for x, y in ((50, 50), (199, 130), (260, 130), (230, 99), (230, 160)):  # outside it
        p = pixel_of(view, x, y)
        assert pixels[p.y(), p.x()] == pytest.approx(dimmed(base[y, x]), abs=2)


def test_a_large_difference_is_computed_off_the_ui_thread(qtbot) -> None:
    widget = make_compare(qtbot, solid(RED), solid(BLUE), "side", inline_pixels=0)
    with qtbot.waitSignal(widget.difference_computed, timeout=10_000):
        widget.set_mode("difference")
        assert widget.left_view.notice == "Computing the difference…"
    assert widget.left_view.notice == ""
    point = image_box(widget.left_view).center()
    heat = heat_to_rgba(difference_heat(np.array([[RED]], np.uint8), np.array([[BLUE]], np.uint8)))
    expected = over(heat[0, 0], dimmed(RED))
    assert near(screen(widget.left_view)[point.y(), point.x()], tuple(expected.round()))
    # Cached for the pair, in either order: no second computation.
    widget.flip()
    assert widget.left_view.notice == ""


# --- overlay and modes ---------------------------------------------------------------------


def test_the_drift_overlay_shows_over_b_and_toggles(wipe: CompareWidget, qtbot) -> None:
    view = wipe.left_view
    box = image_box(view)
    a_point = QPoint(box.left() + 20, box.top() + 20)
    b_point = QPoint(box.right() - 20, box.top() + 20)
    overlay = solid((0, 255, 0, 128))
    wipe.set_overlay(overlay)
    assert wipe.overlay_visible and wipe.action("overlay").isChecked()
    pixels = screen(view)
    assert near(pixels[a_point.y(), a_point.x()], RED)  # A is left alone
    green_over_blue = tuple(over(np.array([0, 255, 0, 128]), np.array(BLUE)).round())
    assert near(pixels[b_point.y(), b_point.x()], green_over_blue, 4)
    qtbot.keyClick(view, Qt.Key.Key_O)
    assert not wipe.overlay_visible
    assert near(screen(view)[b_point.y(), b_point.x()], BLUE)
    wipe.action("overlay").trigger()  # the toolbar button
    assert near(screen(view)[b_point.y(), b_point.x()], green_over_blue, 4)
    # The drift map belongs to its picture: flipped, it moves to the left with it.
    wipe.flip()
    pixels = screen(view)
    assert near(pixels[a_point.y(), a_point.x()], green_over_blue, 4)
    assert near(pixels[b_point.y(), b_point.x()], RED)
    wipe.set_overlay(None)
    assert not wipe.action("overlay").isEnabled()
    assert near(screen(view)[a_point.y(), a_point.x()], BLUE)


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
    right = screen(shown.right_view)[image_box(shown.right_view).center().y()]
    middle = right[right.shape[0] // 2]
    assert near(middle, tuple(np.rint(over(np.array([0, 200, 0, 128]), np.array(BLUE)))), 4)
