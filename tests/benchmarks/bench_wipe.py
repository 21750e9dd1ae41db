"""Benchmark: dragging the compare wipe over two 3840x2160 pictures, offscreen.

Run on demand (pytest does not collect it):

    QT_QPA_PLATFORM=offscreen python tests/benchmarks/bench_wipe.py [--moves 500]

A CompareWidget of 1400x900 shows two noisy 3840x2160 pictures in wipe mode. A scripted drag
of the divider across the view (~500 mouse moves, left button held) is sent to the pane's
viewport as real mouse events; each move is timed from the event to the end of a
synchronous repaint:

- "repaint()": the event, then viewport().repaint(): the whole viewport is redrawn at once,
  from the pre-scaled levels (the worst case, and the measure the issue sets);
- "dirty strip": the event, then Qt's own repaint of what the widget marked dirty (the
  strip between the old and the new divider), flushed by QApplication.processEvents, which
  paints synchronously on the offscreen platform: what a drag costs in the editor;
- "naive baseline": a plain QWidget wipe that, per move, converts both full pictures to
  pixmaps and draws both whole pictures scaled into the view, clipped at the divider. It is
  run on the first moves only (it is much slower).

each at the fitted zoom, at 100 % and at 250 % (pixel-exact). Also times set_images (zoom
levels of both pictures) and the difference map of the pair in its worker thread. Prints a
table and writes JSON to tests/benchmarks/results/bench_wipe.json. Target: p99 < 16 ms.
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
from PySide6.QtCore import QEvent, QPoint, QRect, QRectF, Qt
from PySide6.QtGui import QImage, QMouseEvent, QPainter, QPaintEvent, QPixmap
from PySide6.QtWidgets import QApplication, QWidget

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from harness import PaintCounter, mouse, move_summary  # noqa: E402

from app.ui.compare import CompareWidget  # noqa: E402

SIZE = (3840, 2160)
WINDOW = (1400, 900)
TARGET_P99_MS = 16.0
RESULTS = ROOT / "tests" / "benchmarks" / "results"


def noisy_picture(seed: int) -> QImage:
    """A photo-like 3840x2160 picture: gradients under strong per-pixel noise (so neither
    scaling nor any cache can take shortcuts), RGBX as the editor's decoder makes them."""
    width, height = SIZE
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    base = np.dstack([255 * x / width, 255 * y / height, 127 + 60 * np.sin((x + y) / 90.0)])
    noise = rng.normal(0, 28, (height, width, 3)).astype(np.float32)
    rgbx = np.empty((height, width, 4), np.uint8)
    rgbx[..., :3] = np.clip(base + noise, 0, 255)
    rgbx[..., 3] = 255
    return QImage(rgbx.data, width, height, width * 4, QImage.Format.Format_RGBX8888).copy()


def drag_path(count: int, left: int, right: int, y: int) -> list[QPoint]:
    """Across the view and back, a couple of pixels per move, as a hand drags."""
    there = np.linspace(left, right, count // 2)
    xs = np.concatenate([there, there[::-1]])
    return [QPoint(round(x), y + (i % 3) - 1) for i, x in enumerate(xs)]


def run_drag(
    viewport: QWidget, points: list[QPoint], after_move: Callable[[], None]
) -> tuple[list[float], PaintCounter]:
    app = QApplication.instance()
    QApplication.sendEvent(viewport, mouse(QEvent.Type.MouseButtonPress, points[0]))
    app.processEvents()
    counter = PaintCounter()
    viewport.installEventFilter(counter)
    times = []
    for point in points[1:]:
        start = time.perf_counter()
        QApplication.sendEvent(viewport, mouse(QEvent.Type.MouseMove, point))
        after_move()
        times.append(time.perf_counter() - start)
    viewport.removeEventFilter(counter)
    QApplication.sendEvent(viewport, mouse(QEvent.Type.MouseButtonRelease, points[-1]))
    app.processEvents()
    return times, counter


class NaiveWipe(QWidget):
    """A wipe without levels, caches or dirty strips: every paint converts both pictures
    and draws both whole, scaled to the view, clipped at the divider."""

    def __init__(self, a: QImage, b: QImage, zoom: float) -> None:
        super().__init__()
        self._a, self._b = a, b
        self._zoom = zoom
        self._divider = a.width() / 2
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)

    def _target(self) -> QRectF:
        width, height = self._a.width() * self._zoom, self._a.height() * self._zoom
        return QRectF((self.width() - width) / 2, (self.height() - height) / 2, width, height)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        target = self._target()
        x = (event.position().x() - target.left()) / self._zoom
        self._divider = min(float(self._a.width()), max(0.0, x))
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), Qt.GlobalColor.darkGray)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, self._zoom < 2)
        target = self._target()
        edge = round(target.left() + self._divider * self._zoom)
        a, b = QPixmap.fromImage(self._a), QPixmap.fromImage(self._b)
        painter.setClipRect(QRect(0, 0, edge, self.height()))
        painter.drawPixmap(target, a, QRectF(a.rect()))
        painter.setClipRect(QRect(edge, 0, self.width() - edge, self.height()))
        painter.drawPixmap(target, b, QRectF(b.rect()))
        painter.end()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moves", type=int, default=500)
    parser.add_argument("--baseline-moves", type=int, default=60)
    args = parser.parse_args()

    app = QApplication.instance() or QApplication([sys.argv[0]])
    a, b = noisy_picture(1), noisy_picture(2)

    widget = CompareWidget()
    widget.resize(*WINDOW)
    widget.show()
    app.processEvents()
    start = time.perf_counter()
    widget.set_images(a, b, "a.png", "b.png")
    set_images_ms = (time.perf_counter() - start) * 1000
    widget.set_mode("wipe")
    app.processEvents()
    view = widget.left_view
    viewport = view.viewport()

    rows = []
    zooms: list[tuple[str, Callable[[], None]]] = [
        ("fit", widget.fit),
        ("100%", lambda: widget.set_zoom(1.0)),
        ("250%", lambda: widget.set_zoom(2.5)),
    ]
    for zoom_name, set_zoom in zooms:
        set_zoom()
        app.processEvents()
        frame = view.mapFromScene(QRectF(0, 0, *SIZE)).boundingRect()
        left = max(frame.left(), 0) + 4
        right = min(frame.right(), viewport.width() - 1) - 4
        points = drag_path(args.moves + 1, left, right, viewport.height() // 2 + 37)
        for name, after in (
            ("repaint()", viewport.repaint),
            ("dirty strip", app.processEvents),
        ):
            times, counter = run_drag(viewport, points, after)
            rows.append(move_summary(name, times, counter, zoom=zoom_name))
        naive = NaiveWipe(a, b, view.zoom)
        naive.resize(viewport.size())
        naive.show()
        app.processEvents()
        times, counter = run_drag(naive, points[: args.baseline_moves + 1], naive.repaint)
        rows.append(move_summary("naive baseline", times, counter, zoom=zoom_name))
        naive.close()
        naive.deleteLater()
        app.processEvents()

    widget.fit()
    start = time.perf_counter()
    widget.set_mode("difference")
    widget.wait_for_difference()
    app.processEvents()
    difference_ms = (time.perf_counter() - start) * 1000

    ours = [r for r in rows if r["scenario"] == "repaint()"]
    worst = max(r["p99_ms"] for r in ours)
    speedups = {}
    for zoom_name, _ in zooms:
        mine = next(r for r in ours if r["zoom"] == zoom_name)
        base = next(r for r in rows if r["scenario"] == "naive baseline" and r["zoom"] == zoom_name)
        speedups[zoom_name] = {
            "p50": base["p50_ms"] / mine["p50_ms"],
            "p99": base["p99_ms"] / mine["p99_ms"],
        }
    report = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "pyside6": PySide6.__version__,
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "pictures": f"{SIZE[0]}x{SIZE[1]} noisy RGBX",
        "widget": f"{WINDOW[0]}x{WINDOW[1]}",
        "viewport": f"{viewport.width()}x{viewport.height()}",
        "target_p99_ms": TARGET_P99_MS,
        "scenarios": rows,
        "repaint_speedup_vs_baseline": speedups,
        "worst_repaint_p99_ms": worst,
        "meets_target": worst < TARGET_P99_MS,
        "set_images_ms": set_images_ms,
        "difference_map_ms": difference_ms,
    }

    print(
        f"\nWipe drag benchmark: {SIZE[0]}x{SIZE[1]} pictures, widget {WINDOW[0]}x{WINDOW[1]}"
        f" (viewport {viewport.width()}x{viewport.height()})"
    )
    header = (
        f"{'scenario':16} {'zoom':>5} {'moves':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}"
        f" {'max ms':>8} {'paints':>7} {'px/paint':>10}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        print(
            f"{row['scenario']:16} {row['zoom']:>5} {row['moves']:>6} {row['p50_ms']:>8.2f}"
            f" {row['p95_ms']:>8.2f} {row['p99_ms']:>8.2f} {row['max_ms']:>8.2f}"
            f" {row['paints']:>7} {row['mean_painted_px']:>10.0f}"
        )
    print(
        "\nrepaint() vs naive baseline: "
        + ", ".join(
            f"{zoom} p50 {s['p50']:.0f}x, p99 {s['p99']:.0f}x faster"
            for zoom, s in speedups.items()
        )
    )
    print(
        f"target p99 < {TARGET_P99_MS:.0f} ms per move: worst {worst:.2f} ms, "
        f"{'met' if report['meets_target'] else 'MISSED'}"
    )
    print(
        f"set_images (levels of both pictures): {set_images_ms:.0f} ms; "
        f"difference map in the worker: {difference_ms:.0f} ms"
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / "bench_wipe.json"
    path.write_text(json.dumps(report, indent=2), encoding="utf-8")
    print(f"\nwrote {path.relative_to(ROOT)}")
    widget.close()
    return 0 if report["meets_target"] else 1


if __name__ == "__main__":
    sys.exit(main())
