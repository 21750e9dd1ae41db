"""Pieces the benchmarks share: percentiles, paint counting, synthetic mouse events, the
per-move summary row, and a fault server in a forked process (so it shares neither the
GIL nor the memory of what is measured).

The benchmarks are scripts (``python tests/benchmarks/bench_x.py``): their folder is first
on ``sys.path``, so they import this module as ``harness``, after putting the repository
root on the path for ``app`` and ``tests``."""

from __future__ import annotations

import multiprocessing
import statistics
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from PySide6.QtCore import QEvent, QObject, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent, QPaintEvent

from tests.support import fault_server as fs


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


class PaintCounter(QObject):
    """An event filter counting paint events and the pixels they cover."""

    def __init__(self) -> None:
        super().__init__()
        self.paints = 0
        self.area = 0

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if isinstance(event, QPaintEvent):
            self.paints += 1
            self.area += event.rect().width() * event.rect().height()
        return False


def mouse(
    kind: QEvent.Type, point: QPoint, button: Qt.MouseButton = Qt.MouseButton.LeftButton
) -> QMouseEvent:
    """A press, move or release with ``button`` held, as a dragging hand sends them."""
    held = Qt.MouseButton.NoButton if kind == QEvent.Type.MouseButtonRelease else button
    return QMouseEvent(
        kind,
        QPointF(point),
        QPointF(point),
        Qt.MouseButton.NoButton if kind == QEvent.Type.MouseMove else button,
        held,
        Qt.KeyboardModifier.NoModifier,
    )


def move_summary(
    name: str, times: list[float], counter: PaintCounter, **extra: Any
) -> dict[str, Any]:
    """One table row of per-move times (seconds in, milliseconds out)."""
    ms = [t * 1000 for t in times]
    return {
        "scenario": name,
        **extra,
        "moves": len(ms),
        "p50_ms": percentile(ms, 0.50),
        "p95_ms": percentile(ms, 0.95),
        "p99_ms": percentile(ms, 0.99),
        "max_ms": max(ms),
        "mean_ms": statistics.fmean(ms),
        "paints": counter.paints,
        "mean_painted_px": counter.area / max(1, counter.paints),
    }


def _serve_forever(scenario: fs.Reply, pipe: Any) -> None:
    with fs.serve(scenario, keep_bodies=False) as server:
        pipe.send(server.base_url)
        pipe.recv()


@contextmanager
def server_process(scenario: fs.Reply) -> Iterator[str]:
    """A fault server in a child process; yields its base URL."""
    context = multiprocessing.get_context("fork")
    ours, theirs = context.Pipe()
    process = context.Process(target=_serve_forever, args=(scenario, theirs), daemon=True)
    process.start()
    try:
        yield ours.recv()
    finally:
        ours.send("stop")
        process.join(10)
