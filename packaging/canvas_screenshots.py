"""Take the mask canvas screenshots for the README and the AppStream metadata, offscreen.

    QT_QPA_PLATFORM=offscreen python packaging/canvas_screenshots.py

Writes packaging/screenshots/canvas-overlay.png (a painted mask shown as a colour overlay)
and packaging/screenshots/canvas-outline.png (the same mask as marching ants), using the
demo window (app.ui.canvas.demo) on resources/samples/coffee.png. The mask is painted with
real mouse events, as a designer would: brush strokes over the crema, then the spoon.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.ui.canvas import ToolKind  # noqa: E402
from app.ui.canvas.demo import CanvasWindow  # noqa: E402
from app.ui.canvas.view import MaskCanvas  # noqa: E402
from app.ui.theme import apply_dark_theme  # noqa: E402

OUT = ROOT / "packaging" / "screenshots"
SAMPLE = ROOT / "resources" / "samples" / "coffee.png"
WINDOW = (1180, 720)


def send(canvas: MaskCanvas, kind: QEvent.Type, x: float, y: float, button=None) -> None:
    """A real mouse event at image point (x, y)."""
    position = canvas.to_viewport(QPointF(x, y))
    left = Qt.MouseButton.LeftButton if button is None else button
    held = Qt.MouseButton.NoButton if kind == QEvent.Type.MouseButtonRelease else left
    if kind == QEvent.Type.MouseMove and button is Qt.MouseButton.NoButton:
        held = Qt.MouseButton.NoButton
    event = QMouseEvent(
        kind,
        position,
        QPointF(canvas.viewport().mapToGlobal(position)),
        Qt.MouseButton.NoButton if kind == QEvent.Type.MouseMove else left,
        held,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(canvas.viewport(), event)


def stroke(canvas: MaskCanvas, points: list[tuple[float, float]]) -> None:
    send(canvas, QEvent.Type.MouseButtonPress, *points[0])
    for point in points[1:]:
        send(canvas, QEvent.Type.MouseMove, *point)
    send(canvas, QEvent.Type.MouseButtonRelease, *points[-1])


def ellipse_path(cx: float, cy: float, rx: float, ry: float, turns: float = 1.0) -> list:
    angles = np.linspace(0, 2 * np.pi * turns, int(90 * turns))
    return [(cx + rx * np.cos(a), cy + ry * np.sin(a)) for a in angles]


def paint_mask(canvas: MaskCanvas) -> None:
    """The crema in the cup and the spoon: 'replace the espresso with a flat white'."""
    brush = canvas.brush
    canvas.set_tool(ToolKind.BRUSH)
    brush.set_hardness(0.85)
    brush.set_size(46)
    # Fill the crema with a spiral of strokes, staying inside the cup's rim.
    for rx, ry in ((52, 30), (30, 16), (10, 5)):
        stroke(canvas, ellipse_path(288, 146, rx, ry, turns=1.05))
    # The spoon, with a smaller, softer brush.
    brush.set_size(30)
    brush.set_hardness(0.6)
    handle = [(411 - 35 * t, 76 + 164 * t) for t in np.linspace(0, 1, 40)]
    stroke(canvas, handle)
    stroke(canvas, ellipse_path(366, 283, 24, 28, turns=1.1))
    stroke(canvas, ellipse_path(366, 283, 8, 10, turns=1.1))
    brush.set_size(36)
    brush.set_hardness(0.7)


def show_brush_cursor(canvas: MaskCanvas, x: float, y: float) -> None:
    QApplication.sendEvent(canvas.viewport(), QEvent(QEvent.Type.Enter))
    send(canvas, QEvent.Type.MouseMove, x, y, Qt.MouseButton.NoButton)


def settle(app: QApplication) -> None:
    for _ in range(5):
        app.processEvents()


def main() -> int:
    app = QApplication.instance() or QApplication([sys.argv[0]])
    apply_dark_theme(app)  # type: ignore[arg-type]
    window = CanvasWindow()
    window.resize(*WINDOW)
    window.show()
    canvas = window.canvas
    canvas.open_file(SAMPLE)
    canvas.wait_for_loads(10_000)
    settle(app)
    canvas.setFocus()
    paint_mask(canvas)
    canvas.fit()
    show_brush_cursor(canvas, 430, 262)
    settle(app)
    OUT.mkdir(parents=True, exist_ok=True)
    overlay = OUT / "canvas-overlay.png"
    window.grab().save(str(overlay))

    canvas.set_outline_mode(True)
    canvas.set_tool(ToolKind.ELLIPSE)
    send(canvas, QEvent.Type.MouseMove, 120, 300, Qt.MouseButton.NoButton)
    settle(app)
    outline = OUT / "canvas-outline.png"
    window.grab().save(str(outline))
    window.close()
    for path in (overlay, outline):
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
