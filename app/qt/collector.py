"""Python's cyclic garbage collector, run on the UI thread only.

CPython starts a collection in whichever thread happens to allocate past the threshold:
often a worker decoding an image. When that collection frees the last reference to a Qt
object that Python owns (a dialog after ``exec()``, a widget never given a parent),
shiboken cannot delete it in that thread and queues the deletion for the UI thread, where
it runs at an arbitrary later moment, in the middle of whatever the UI thread was doing.
That is how "Settings ▸ Providers…, OK, then open a photo" crashed the editor (issue 10).

The editor therefore owns every Qt object explicitly (parents, ``deleteLater``), and on
top of that the automatic collector is off: a timer on the UI thread runs the same
generational collections CPython would, with CPython's own thresholds. Reference counting
still frees everything that is not in a cycle at once, in any thread; only cycles wait
for the next tick.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

TICK_MS = 200


class UiThreadCollector(QObject):
    """Runs the generational collections that are due, every ``TICK_MS`` on this thread."""

    def __init__(self, parent: QObject | None = None, *, interval_ms: int = TICK_MS) -> None:
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.collect_due)
        self.collections = [0, 0, 0]

    def start(self) -> None:
        gc.disable()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()
        gc.enable()

    def collect_due(self) -> int | None:
        """Collect the oldest generation whose threshold is passed (as CPython would);
        returns it, or None when nothing was due."""
        generation = due_generation(gc.get_count(), gc.get_threshold())
        if generation is not None:
            gc.collect(generation)
            self.collections[generation] += 1
        return generation


def due_generation(count: tuple[int, int, int], threshold: tuple[int, ...]) -> int | None:
    """CPython's rule: generation 0 when its allocations pass the first threshold, and an
    older one when enough collections of the younger one have run since its last."""
    if threshold[0] <= 0 or count[0] <= threshold[0]:
        return None
    if count[1] > threshold[1]:
        return 2 if count[2] > threshold[2] else 1
    return 0
