"""Benchmark: painting a 4096x4096 mask on the canvas, offscreen.

Run on demand (pytest does not collect it):

    QT_QPA_PLATFORM=offscreen python tests/benchmarks/bench_canvas.py [--points 2000]

A scripted 2,000-point brush stroke is sent to the canvas as real mouse-move events; each
move is timed from the event to the end of the viewport's repaint:

- "dirty rects": the event, then Qt's own coalesced repaint of what changed
  (QApplication.processEvents, which paints synchronously on the offscreen platform);
- "full repaint": the event, then viewport().repaint() of the whole viewport, the worst
  case (what a pan or a zoom costs);
- "naive baseline": the same stroke, but every move converts the whole mask to a coloured
  QImage with numpy and repaints the whole viewport, as a canvas without dirty rectangles
  would. It is run on the first points only (it is about 100x slower).

It also reports the bytes held by the undo history after 200 strokes of radius 40 against
one full mask, and how fast QPainter draws the overlay in the candidate QImage formats.
Prints a table and writes JSON to tests/benchmarks/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import PySide6
from PySide6.QtCore import QEvent, QPoint, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QApplication

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from harness import PaintCounter, mouse, move_summary  # noqa: E402

from app.core.mask import Brush  # noqa: E402
from app.models.mask_document import MaskDocument  # noqa: E402
from app.ui.canvas import MaskCanvas  # noqa: E402
from app.ui.canvas.overlay import coverage_lut  # noqa: E402

SIDE = 4096
VIEWPORT = (1400, 900)
TARGET_P99_MS = 8.0
RESULTS = ROOT / "tests" / "benchmarks" / "results"


def photo(side: int) -> QImage:
    y, x = np.mgrid[0:side, 0:side].astype(np.float32)
    rgb = np.dstack([255 * x / side, 255 * y / side, 127 + 60 * np.sin((x + y) / 40.0)]).astype(
        np.uint8
    )
    return QImage(rgb.data, side, side, side * 3, QImage.Format.Format_RGB888).copy()


def stroke_path(count: int, width: int, height: int) -> list[QPoint]:
    """A long wavy stroke over the viewport, about 3 px between mouse events."""
    t = np.linspace(0.0, 1.0, count)
    x = 120 + (width - 240) * (0.5 + 0.45 * np.sin(2 * np.pi * 1.5 * t))
    y = 120 + (height - 240) * t + 60 * np.sin(2 * np.pi * 9 * t)
    return [QPoint(round(a), round(b)) for a, b in zip(x, y, strict=True)]


def run_stroke(
    canvas: MaskCanvas,
    points: list[QPoint],
    after_move: Callable[[], None],
    name: str,
) -> dict[str, float | str]:
    app = QApplication.instance()
    viewport = canvas.viewport()
    left = Qt.MouseButton.LeftButton
    canvas.document.clear()
    canvas.document.undo_stack.clear()
    app.processEvents()
    counter = PaintCounter()
    QApplication.sendEvent(viewport, mouse(QEvent.Type.MouseButtonPress, points[0], left))
    app.processEvents()
    viewport.installEventFilter(counter)
    times = []
    for point in points[1:]:
        start = time.perf_counter()
        QApplication.sendEvent(viewport, mouse(QEvent.Type.MouseMove, point, left))
        after_move()
        times.append(time.perf_counter() - start)
    viewport.removeEventFilter(counter)
    QApplication.sendEvent(viewport, mouse(QEvent.Type.MouseButtonRelease, points[-1], left))
    app.processEvents()
    return move_summary(name, times, counter)


def naive_redraw(canvas: MaskCanvas) -> Callable[[], None]:
    """A canvas without dirty rectangles: recolour the whole mask, repaint everything."""
    lut = coverage_lut(canvas.overlay_color, canvas.overlay_opacity)
    mask = canvas.document.mask

    def redraw() -> None:
        argb = lut[mask]
        image = QImage(argb.data, SIDE, SIDE, SIDE * 4, QImage.Format.Format_ARGB32_Premultiplied)
        # The canvas draws its own overlay (the same pixels, the same format), so this
        # costs what a naive canvas pays: a full conversion and a full repaint.
        canvas.viewport().repaint()
        del image

    return redraw


def undo_memory(strokes: int = 200, radius: float = 40.0) -> dict[str, float]:
    document = MaskDocument(SIDE, SIDE)
    rng = np.random.default_rng(2024)
    brush = Brush(radius=radius, hardness=0.7)
    for _ in range(strokes):
        x, y = rng.uniform(radius, SIDE - radius, 2)
        document.begin_stroke(x, y, brush)
        for _ in range(40):
            x += rng.normal(0, 12)
            y += rng.normal(0, 12)
            document.extend_stroke(x, y)
        document.commit_stroke()
    full = document.mask.nbytes
    return {
        "strokes": strokes,
        "radius": radius,
        "undo_steps": document.undo_stack.count(),
        "undo_bytes": document.undo_bytes,
        "full_mask_bytes": full,
        "undo_over_one_mask": document.undo_bytes / full,
        "naive_copies_bytes": strokes * full,
    }


def overlay_formats() -> dict[str, float]:
    """Milliseconds to draw a 1400x900 viewport of a 4096x4096 overlay at 30 %, smooth."""
    mask = np.zeros((SIDE, SIDE), np.uint8)
    mask[1000:3000, 1000:3000] = 255
    lut = coverage_lut(QColor(64, 128, 255), 0.5)
    indexed = QImage(mask.data, SIDE, SIDE, SIDE, QImage.Format.Format_Indexed8)
    indexed.setColorTable([int(v) for v in lut])
    argb = indexed.convertToFormat(QImage.Format.Format_ARGB32_Premultiplied)
    target = QImage(*VIEWPORT, QImage.Format.Format_ARGB32_Premultiplied)
    results = {}
    for name, image in (("indexed8_colour_table", indexed), ("argb32_premultiplied", argb)):
        painter = QPainter(target)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        painter.scale(0.3, 0.3)
        source = QRectF(0, 0, VIEWPORT[0] / 0.3, VIEWPORT[1] / 0.3)
        start = time.perf_counter()
        for _ in range(20):
            painter.drawImage(source, image, source)
        painter.end()
        results[name] = (time.perf_counter() - start) / 20 * 1000
    start = time.perf_counter()
    lut[mask]
    results["full_mask_recolour_numpy"] = (time.perf_counter() - start) * 1000
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=2000)
    parser.add_argument("--baseline-points", type=int, default=150)
    args = parser.parse_args()

    app = QApplication.instance() or QApplication([sys.argv[0]])
    canvas = MaskCanvas(confirm_discard=lambda text: True)
    canvas.resize(*VIEWPORT)
    canvas.set_image(photo(SIDE), "bench")
    canvas.show()
    canvas.brush.set_size(80)
    canvas.brush.set_hardness(0.7)
    app.processEvents()
    viewport = canvas.viewport()
    points = stroke_path(args.points, viewport.width(), viewport.height())

    rows = []
    for zoom_name, set_zoom in (("100%", lambda: canvas.set_zoom(1.0)), ("fit", canvas.fit)):
        set_zoom()
        app.processEvents()
        rows.append(run_stroke(canvas, points, app.processEvents, f"dirty rects, {zoom_name}"))
    canvas.set_zoom(1.0)
    canvas.set_outline_mode(True)
    rows.append(run_stroke(canvas, points, app.processEvents, "dirty rects, 100%, outline"))
    canvas.set_outline_mode(False)
    rows.append(run_stroke(canvas, points, viewport.repaint, "full repaint, 100%"))
    baseline_points = points[: args.baseline_points]
    baseline = run_stroke(canvas, baseline_points, naive_redraw(canvas), "naive baseline, 100%")
    rows.append(baseline)

    ours = rows[0]
    memory = undo_memory()
    formats = overlay_formats()
    report = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "pyside6": PySide6.__version__,
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "image": f"{SIDE}x{SIDE}",
        "viewport": f"{VIEWPORT[0]}x{VIEWPORT[1]}",
        "brush": {"size": 80, "hardness": 0.7},
        "target_p99_ms": TARGET_P99_MS,
        "scenarios": rows,
        "speedup_p50_vs_baseline": baseline["p50_ms"] / ours["p50_ms"],
        "speedup_p99_vs_baseline": baseline["p99_ms"] / ours["p99_ms"],
        "meets_target": ours["p99_ms"] <= TARGET_P99_MS,
        "undo_memory": memory,
        "overlay_draw_ms": formats,
    }

    print(f"\nCanvas stroke benchmark: {SIDE}x{SIDE} image, {VIEWPORT[0]}x{VIEWPORT[1]} viewport")
    header = f"{'scenario':32} {'moves':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8}"
    print(header + f" {'paints':>7} {'px/paint':>10}")
    print("-" * (len(header) + 19))
    for row in rows:
        print(
            f"{row['scenario']:32} {row['moves']:>6} {row['p50_ms']:>8.2f} {row['p95_ms']:>8.2f}"
            f" {row['p99_ms']:>8.2f} {row['max_ms']:>8.2f} {row['paints']:>7}"
            f" {row['mean_painted_px']:>10.0f}"
        )
    print(
        f"\nvs naive baseline: p50 {report['speedup_p50_vs_baseline']:.0f}x faster, "
        f"p99 {report['speedup_p99_vs_baseline']:.0f}x faster; "
        f"target p99 <= {TARGET_P99_MS} ms: {'met' if report['meets_target'] else 'MISSED'}"
    )
    print(
        f"undo after {memory['strokes']} strokes of radius {memory['radius']:.0f}: "
        f"{memory['undo_bytes'] / 1e6:.2f} MB = {memory['undo_over_one_mask']:.1%} of one "
        f"{memory['full_mask_bytes'] / 1e6:.1f} MB mask "
        f"(naive copies: {memory['naive_copies_bytes'] / 1e9:.1f} GB)"
    )
    print(
        "overlay draw, 1400x900 at 30 %: "
        + ", ".join(f"{name} {value:.1f} ms" for name, value in formats.items())
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = RESULTS / f"bench_canvas-{stamp}.json"
    path.write_text(json.dumps(report, indent=2), encoding="utf-8")
    print(f"\nwrote {path.relative_to(ROOT)}")
    canvas.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
