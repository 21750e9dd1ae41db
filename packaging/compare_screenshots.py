"""Take the compare screenshots for the README and the AppStream metadata, offscreen.

    QT_QPA_PLATFORM=offscreen python packaging/compare_screenshots.py

Writes packaging/screenshots/compare-wipe.png (the sample photo against a retouched variant,
split by the wipe) and packaging/screenshots/compare-side.png (the two side by side, zoomed
on the cup, with the variant's drift map), using the demo window (app.ui.compare.demo) on
resources/samples/coffee.png. The variant is made here the way an image model answers
"replace the espresso with a flat white": the cup is refilled inside the mask, and, as GPT
image models redraw the whole picture, the spoon outside the mask came back slightly
different. The wipe is dragged and the view zoomed with real mouse events.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import cv2
import numpy as np
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QImage, QMouseEvent, QWheelEvent
from PySide6.QtWidgets import QApplication, QToolButton, QWidget

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.core.composite import drift_map, heat_to_rgba  # noqa: E402
from app.ui.compare.demo import CompareWindow, read_picture  # noqa: E402
from app.ui.theme import apply_dark_theme  # noqa: E402

OUT = ROOT / "packaging" / "screenshots"
SAMPLE = ROOT / "resources" / "samples" / "coffee.png"
WINDOW = (1180, 720)
CUP = (288, 146)  # the crema's centre in the sample photo
CREMA_RADII = (80, 46)


def qimage(array: np.ndarray) -> QImage:
    rgb = np.ascontiguousarray(array, np.uint8)
    height, width, channels = rgb.shape
    fmt = QImage.Format.Format_RGBA8888 if channels == 4 else QImage.Format.Format_RGB888
    return QImage(rgb.data, width, height, width * channels, fmt).copy()


def crema_mask(height: int, width: int) -> np.ndarray:
    """The edit area the designer painted: the crema, as coverage (255 = edit)."""
    coverage = np.zeros((height, width), np.uint8)
    cv2.ellipse(coverage, CUP, CREMA_RADII, 0, 0, 360, 255, -1)
    return coverage


def flat_white(original: np.ndarray, coverage: np.ndarray) -> np.ndarray:
    """The variant: milk with a brown heart in the cup (keeping the photo's shading), and a
    spoon that the model redrew a little warmer and softer than it was."""
    height, width = original.shape[:2]
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    u, v = (x - CUP[0]) / CREMA_RADII[0], (y - CUP[1]) / CREMA_RADII[1]
    shade = original.astype(np.float32).mean(axis=2, keepdims=True)
    shade = 0.8 + 0.2 * shade / max(1.0, float(shade[coverage > 0].mean()))
    milk = np.array([236, 220, 196], np.float32)
    coffee = np.array([168, 110, 62], np.float32)
    # A latte-art heart: two lobes and a point, in crema brown.
    lobes = np.minimum(
        (u + 0.22) ** 2 + (v + 0.15) ** 2 * 1.3, (u - 0.22) ** 2 + (v + 0.15) ** 2 * 1.3
    )
    heart = (lobes < 0.09) | ((v > -0.1) & (np.abs(u) < 0.42 - 0.6 * (v + 0.1)) & (v < 0.55))
    rim = np.sqrt(u**2 + v**2) > 0.86
    fill = np.where((heart | rim)[..., None], coffee, milk) * shade
    fill = cv2.GaussianBlur(fill, (0, 0), 1.6)
    inside = cv2.GaussianBlur(coverage.astype(np.float32) / 255, (0, 0), 2.5)[..., None]
    variant = original.astype(np.float32) * (1 - inside) + fill * inside
    # Outside the mask: the spoon came back warmer and softer.
    spoon = np.zeros((height, width), np.uint8)
    cv2.ellipse(spoon, (366, 283), (40, 44), 0, 0, 360, 255, -1)
    cv2.line(spoon, (411, 76), (376, 240), 255, 22)
    soft = cv2.GaussianBlur(spoon.astype(np.float32) / 255, (0, 0), 6)[..., None]
    redrawn = cv2.GaussianBlur(variant, (0, 0), 2.2) * np.array([1.12, 1.0, 0.86], np.float32)
    variant = variant * (1 - soft) + redrawn * soft
    return np.clip(variant + 0.5, 0, 255).astype(np.uint8)


def send_mouse(widget: QWidget, kind: QEvent.Type, point: QPoint) -> None:
    left = Qt.MouseButton.LeftButton
    held = Qt.MouseButton.NoButton if kind == QEvent.Type.MouseButtonRelease else left
    event = QMouseEvent(
        kind,
        QPointF(point),
        QPointF(widget.mapToGlobal(point)),
        Qt.MouseButton.NoButton if kind == QEvent.Type.MouseMove else left,
        held,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(widget, event)


def drag(widget: QWidget, start: QPoint, end: QPoint, steps: int = 20) -> None:
    send_mouse(widget, QEvent.Type.MouseButtonPress, start)
    for i in range(1, steps + 1):
        point = start + (end - start) * (i / steps)
        send_mouse(widget, QEvent.Type.MouseMove, point)
    send_mouse(widget, QEvent.Type.MouseButtonRelease, end)


def wheel(widget: QWidget, point: QPoint, notches: int) -> None:
    event = QWheelEvent(
        QPointF(point),
        QPointF(widget.mapToGlobal(point)),
        QPoint(0, 0),
        QPoint(0, 120 * notches),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(widget, event)


def settle(app: QApplication) -> None:
    for _ in range(5):
        app.processEvents()


def main() -> int:
    app = QApplication.instance() or QApplication([sys.argv[0]])
    apply_dark_theme(app)  # type: ignore[arg-type]
    original = np.asarray(read_picture(SAMPLE).convert("RGB"))
    coverage = crema_mask(*original.shape[:2])
    variant = flat_white(original, coverage)
    drift = heat_to_rgba(drift_map(original, variant, coverage).heat)

    window = CompareWindow()
    window.resize(*WINDOW)
    compare = window.compare
    compare.set_images(qimage(original), qimage(variant), "coffee.png", "variant 2 · flat white")
    compare.set_mode("wipe")
    window.show()
    settle(app)
    compare.setFocus()
    view = compare.left_view
    viewport = view.viewport()
    # The offscreen pointer starts over the first toolbar button, which would look hovered.
    for button in compare.toolbar.findChildren(QToolButton):
        button.setAttribute(Qt.WidgetAttribute.WA_UnderMouse, False)
    wheel(viewport, view.to_viewport(QPointF(300, 215)).toPoint(), 2)
    # Drag the divider onto the cup, so half the cup shows each picture.
    start = QPoint(view.divider_column(), viewport.height() // 2 + 60)
    end = view.to_viewport(QPointF(CUP[0] + 6, CUP[1])).toPoint()
    drag(viewport, start, QPoint(end.x(), start.y()))
    settle(app)
    OUT.mkdir(parents=True, exist_ok=True)
    wipe = OUT / "compare-wipe.png"
    window.grab().save(str(wipe))

    compare.set_mode("side")
    compare.set_overlay(qimage(drift))
    settle(app)
    left = compare.left_view
    cup = left.to_viewport(QPointF(CUP[0] + 50, CUP[1] + 70)).toPoint()
    wheel(left.viewport(), cup, 4)
    settle(app)
    side = OUT / "compare-side.png"
    window.grab().save(str(side))
    window.close()
    for path in (wipe, side):
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
