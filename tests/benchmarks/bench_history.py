"""Benchmark of the history: the store and the History panel (run on demand, offscreen by
itself: ``python tests/benchmarks/bench_history.py``).

With 1,000 recorded jobs of 4 final results each (issue 13's size). The results are real
PNGs: 40 distinct photo-like images (smooth colour fields, a wave and grain; 1024x1024 of
about 1.8 MB and 1536x1024 of about 2.7 MB, as the image APIs return them), each job's
files hard links to them: 4,000 distinct paths, so every thumbnail is a decode of its own
(the files are in the page cache, as the images of a session are).

The store, on the calling thread:

- search by prompt text (``list_jobs(search=..., limit=50)``, records with their inputs and
  files, each file checked on disk) against a plain ``SELECT`` of the same 50 job rows on
  a bare connection: the ratio is what the records cost over reading the rows; the same for
  the panel's page of ``PAGE`` (100) records;
- listing the newest 50 jobs, against the same plain ``SELECT``;
- recording an arriving image (``add_file``: one short write transaction, WAL) against
  writing that image itself (``write_atomic`` of a 1 MB file, fsynced), which happens in
  the same worker call just before it: the ratio is what recording adds to saving.

The History panel (app.ui.history_panel over app.models.history), 420x700, the dark theme,
the editor's worker pool and GIL switch interval (app.qt.workers), the model untouched
except that a subclass notes the UI-thread time of its answers. Targets from issue 13:

1. Opening: ``show()`` and ``refresh()`` of a panel made beforehand (the editor makes it at
   start and refreshes it when the dock is shown), with no thumbnail decoded yet, to the
   end of the paint that draws the last visible row's thumbnail (a delegate that notes
   what it painted); the event loop runs meanwhile (``QEventLoop.exec``). Baseline: the
   visible rows' thumbnails decoded one after another with ``read_thumbnail`` on this
   thread (the decoding alone); a second row, the same panel with thumbnails off (rows
   painted with their grey boxes). Target: under 300 ms.
2. Scrolling: from the top to the 1,000th row, one page step per frame, frames driven at
   60 Hz by a precise timer in a running event loop (the view fetches the next page itself,
   at the end of the rows it holds). A frame is the time from when its tick was due to the
   end of the scroll and its repaint (``processEvents``): its lateness (what the UI thread
   was doing: thumbnails arriving, pages appended) plus its own work. Then back up to the
   top with all rows held. Two passes each, pooled. Baseline: the same panel and model with
   thumbnails off. Ticks that cannot move because the next page is still being read are
   counted as waits; each frame over 16 ms is noted with what arrived in it (thumbnails, a
   page, time in the garbage collector). Beside it, with the 1,000 rows held: what one
   thumbnail's arrival costs, and what a refresh does to a list scrolled past its first
   page. Target: under 16 ms per frame.
3. Search: the panel's round trip, ``set_filter(search=...)`` to ``loaded`` and the next
   paint, with the worker idle, against the same ``list_jobs`` query on this thread; the
   same right after a previous search's results were painted (their thumbnails being
   decoded on the one worker pool); and from typing in the search field (one ``setText``)
   to the painted results, which includes the panel's pause after typing (SEARCH_DELAY_MS).
   Target: under 50 ms.
4. Recording, on the UI thread. The panel open on the newest rows; 2 jobs arrive as the
   editor's jobs do, an event every 300 ms (longer than the panel's 250 ms refresh delay,
   so each image costs a refresh of its own: the worst case): job_started, 2 variants x (2
   partials + 1 final), job_finished. The store is written in a worker (as JobRecorder does
   in JobsModel._save's worker call), then the real JobsModel's signal is emitted on the UI
   thread, connected to ``refresh_soon`` as app.ui.history_commands connects it. The UI
   thread's busy time is the sum of every top-level event's delivery
   (``QApplication.notify``: waits for the GIL included), over the whole stream; the same
   stream with the panel not connected is subtracted; divided by the images (2 rounds: 24
   images). With the History tab in front, and behind the Results tab (the panel hidden:
   the default).
   Baseline: one repaint of the panel's list without history work. Beside it, one refresh
   of the shown panel with nothing else running (its UI-thread part), and the UI-thread
   time of each step in the stream (the refresh's submission, the first page applied, a
   thumbnail arriving, a paint of the list). Target: under 5 ms.

The cyclic garbage collector is frozen after the history is made, as the editor freezes
its start-up objects (app.gui.freeze_startup_objects); without it, a full collection of
this process's objects adds about 30 ms to one query in a hundred.

Prints a table and writes JSON to tests/benchmarks/results/.
"""

from __future__ import annotations

import argparse
import gc
import json
import multiprocessing
import os
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
from PIL import Image
from PySide6.QtCore import (
    QEvent,
    QEventLoop,
    QObject,
    QPoint,
    Qt,
    QTimer,
    SignalInstance,
    qInstallMessageHandler,
)
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from harness import percentile  # noqa: E402

from app.core.imageio import write_atomic  # noqa: E402
from app.models.history import PAGE, HistoryList, read_thumbnail, thumbnail_file  # noqa: E402
from app.models.jobs import JobsModel  # noqa: E402
from app.qt.background import Background  # noqa: E402
from app.qt.workers import favour_ui_thread, worker_count  # noqa: E402
from app.services.history import HistoryStore  # noqa: E402
from app.ui.history_panel import SEARCH_DELAY_MS, HistoryDelegate, HistoryPanel  # noqa: E402
from app.ui.theme import apply_dark_theme  # noqa: E402

JOBS, RESULTS, INPUTS = 1000, 4, 12
RUNS = 200
SOURCES = 40  # distinct result images; every result is a hard link to one of them
SIZES = ((1024, 1024), (1536, 1024))
PANEL = (420, 700)
OPENINGS = 15
SEARCHES = ("lighthouse", "spoon", "shadow", "window", "logo", "sky")
SEARCH_RUNS = 24
FRAME_MS = 16
SCROLL_ROUNDS = 2
ARRIVAL_MS = 300
ARRIVING_JOBS, ARRIVING_VARIANTS, ARRIVING_PARTIALS = 2, 2, 2
RECORDING_ROUNDS = 2  # each: not connected, connected and shown, connected and hidden
CYCLES = 40
TARGETS = {"open": 300.0, "frame": 16.0, "search": 50.0, "record": 5.0}
WORDS = [
    "remove",
    "the",
    "spoon",
    "cup",
    "sky",
    "replace",
    "with",
    "a",
    "red",
    "blue",
    "brighter",
    "window",
    "person",
    "shadow",
    "logo",
]
RESULTS_DIR = Path(__file__).resolve().parent / "results"


def now() -> float:
    return time.perf_counter()


def timed(action: Callable[[], object], runs: int = RUNS) -> list[float]:
    times = []
    for _ in range(runs):
        start = now()
        action()
        times.append((now() - start) * 1000)
    return times


def summary(
    name: str,
    times: list[float],
    baseline: list[float] | float | None = None,
    target: float | None = None,
    **extra: Any,
) -> dict:
    row = {
        "scenario": name,
        "runs": len(times),
        "p50_ms": statistics.median(times),
        "p95_ms": percentile(times, 0.95),
        "p99_ms": percentile(times, 0.99),
        "max_ms": max(times),
    }
    if baseline is not None:
        base = baseline if isinstance(baseline, float) else statistics.median(baseline)
        row["baseline_p50_ms"] = base
        row["ratio_p50"] = row["p50_ms"] / base
    if target is not None:
        row["target_ms"] = target
    row.update(extra)
    return row


# --- the history on disk ----------------------------------------------------------------


def photo_like(seed: int, width: int, height: int) -> Image.Image:
    """Smooth colour fields, a wave and grain: PNG squeezes it about as much as a photo."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)
    field = Image.fromarray(small, "RGB").resize((width, height), Image.Resampling.BICUBIC)
    pixels = np.asarray(field, dtype=np.float32)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    pixels += 25 * np.sin(x * (0.01 + 0.002 * (seed % 5)) + y * 0.013)[..., None]
    pixels += rng.normal(0, 4.0, (height, width, 3)).astype(np.float32)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")


def write_source(job: tuple[int, str]) -> None:
    number, path = job
    photo_like(number, *SIZES[number % len(SIZES)]).save(path, "PNG")


def write_sources(folder: Path) -> list[Path]:
    folder.mkdir(parents=True)
    paths = [folder / f"result-{n:02d}.png" for n in range(SOURCES)]
    # Two processes (forked before any Qt object or thread exists): half the wait.
    with multiprocessing.get_context("fork").Pool(2) as pool:
        pool.map(write_source, [(n, str(p)) for n, p in enumerate(paths)])
    return paths


def populate(store: HistoryStore, folder: Path, sources: list[Path]) -> None:
    rng = random.Random(13)
    inputs = []
    for number in range(INPUTS):
        path = folder / "inputs" / f"photo-{number}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(rng.randbytes(200_000))
        inputs.append(path)
    mask = folder / "inputs" / "mask.png"
    mask.write_bytes(rng.randbytes(20_000))
    for number in range(JOBS):
        job_id = f"{number:06d}{rng.getrandbits(96):024x}"
        prompt = " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 14)))
        if number % 100 == 7:
            prompt += " and the lighthouse"  # ten jobs to find
        jobs = folder / "results" / job_id[:12]
        jobs.mkdir(parents=True)
        store.begin_job(
            job_id, program="cli", inputs=[rng.choice(inputs)], mask=mask,
            params={"prompt": prompt, "model": "gpt-image-1", "n": RESULTS, "size": "auto"},
            folder=jobs, owns_folder=True,
        )  # fmt: skip
        for variant in range(RESULTS):
            final = jobs / f"{variant}-final.png"
            # Neighbouring rows show different images; each path is decoded on its own.
            os.link(sources[(number + 7 * variant) % SOURCES], final)
            store.add_file(job_id, variant, "final", final)
        store.finish_job(job_id, "done", {"input_tokens": 100, "output_tokens": 400}, ["req"])


def store_rows(store: HistoryStore, folder: Path) -> list[dict]:
    rows = []
    bare = sqlite3.connect(folder / "history.sqlite3")
    plain = timed(
        lambda: bare.execute("SELECT * FROM jobs ORDER BY created DESC LIMIT 50").fetchall()
    )
    plain_page = timed(
        lambda: bare.execute(f"SELECT * FROM jobs ORDER BY created DESC LIMIT {PAGE}").fetchall()
    )
    found = store.list_jobs(search="lighthouse")
    assert len(found) == JOBS // 100, len(found)
    rows.append(
        summary("search 'lighthouse' (10 of 1,000)",
                timed(lambda: store.list_jobs(search="lighthouse", limit=50)), plain)
    )  # fmt: skip
    rows.append(
        summary("search 'spoon' (first 50 of many)",
                timed(lambda: store.list_jobs(search="spoon", limit=50)), plain)
    )  # fmt: skip
    rows.append(
        summary(f"search 'spoon' (the panel's page: {PAGE})",
                timed(lambda: store.list_jobs(search="spoon", limit=PAGE)), plain_page)
    )  # fmt: skip
    rows.append(summary("list newest 50", timed(lambda: store.list_jobs(limit=50)), plain))
    # Recording an arriving image, against saving that image.
    job_id = "f" * 32
    store.begin_job(job_id, program="cli", inputs=[], params={"prompt": "arriving"})
    image = random.Random(1).randbytes(1_000_000)
    arrivals = folder / "arrivals"
    arrivals.mkdir()
    counter = iter(range(10**9))
    saves = timed(lambda: write_atomic(arrivals / f"{next(counter)}.png", image), 100)
    adds = timed(lambda: store.add_file(job_id, 0, "partial", arrivals / f"{next(counter)}.png"))
    rows.append(summary("add_file (one arriving image)", adds, saves))
    store.delete_job(job_id)
    bare.close()
    return rows


def quiet_offscreen(_kind: Any, _context: Any, message: str) -> None:
    """Qt's messages, but the offscreen platform's notice at each window shown."""
    if "propagateSizeHints" not in message:
        sys.stderr.write(f"{message}\n")


# --- Qt: timing the UI thread -----------------------------------------------------------


class TimingApp(QApplication):
    """A QApplication that, while ``counting``, adds up the time it spends delivering each
    top-level event (what the UI thread is busy with) and notes the paints of ``watched``."""

    def __init__(self, argv: list[str]) -> None:
        super().__init__(argv)
        self.counting = False
        self.watched: QObject | None = None
        self.reset()

    def reset(self) -> None:
        self.busy = 0.0
        self.events: list[float] = []
        self.paints: list[float] = []
        self.by_type: dict[str, float] = defaultdict(float)
        self._depth = 0

    def notify(self, receiver: QObject, event: QEvent) -> bool:
        if not self.counting:
            return super().notify(receiver, event)
        kind = event.type()
        paint = receiver is self.watched and kind == QEvent.Type.Paint
        self._depth += 1
        start = now()
        try:
            return super().notify(receiver, event)
        finally:
            spent = (now() - start) * 1000
            self._depth -= 1
            if self._depth == 0:
                self.busy += spent
                self.events.append(spent)
                self.by_type[kind.name] += spent
            if paint:
                self.paints.append(spent)


class GcWatch:
    """The cyclic garbage collector's pauses (ms) while installed, with a running total."""

    def __init__(self) -> None:
        self.pauses: list[float] = []
        self.total = 0.0
        self._start = 0.0

    def __enter__(self) -> GcWatch:
        gc.callbacks.append(self._note)
        return self

    def __exit__(self, *_: object) -> None:
        gc.callbacks.remove(self._note)

    def _note(self, phase: str, _info: dict) -> None:
        if phase == "start":
            self._start = now()
        else:
            self.pauses.append((now() - self._start) * 1000)
            self.total += self.pauses[-1]


class TimedHistoryList(HistoryList):
    """app.models.history's model untouched, noting the UI-thread time (ms) of its steps
    with the number of rows it held: ``refresh`` (submitting the query), ``first`` (the
    first page applied), ``more`` (a page appended), ``thumbnail`` (one arrived). With
    ``thumbnails`` False it never shows one (a baseline)."""

    def __init__(self, open_store: Callable[[], HistoryStore], thumbnails: bool = True) -> None:
        super().__init__(open_store)
        self.thumbnails = thumbnails
        self.spent: dict[str, list[tuple[int, float]]] = defaultdict(list)

    def _note(self, step: str, rows: int, start: float) -> None:
        self.spent[step].append((rows, (now() - start) * 1000))

    def refresh(self) -> None:
        start, rows = now(), self.rowCount()
        super().refresh()
        self._note("refresh", rows, start)

    def _on_first(self, serial: int, rows: list, models: list[str]) -> None:
        start, held = now(), self.rowCount()
        super()._on_first(serial, rows, models)
        self._note("first", held, start)

    def _on_more(self, serial: int, rows: list) -> None:
        start, held = now(), self.rowCount()
        super()._on_more(serial, rows)
        self._note("more", held, start)

    def _on_thumbnail(self, path: Path, image: QImage | None) -> None:
        start, held = now(), self.rowCount()
        super()._on_thumbnail(path, image)
        self._note("thumbnail", held, start)

    def data(self, index: Any, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DecorationRole and not self.thumbnails:
            return None
        return super().data(index, role)

    def busy(self) -> bool:
        """Thumbnails or queries in flight (the worker pool's answers not all in)."""
        return not self.wait(0)


class PaintProbe(HistoryDelegate):
    """The panel's delegate, noting when each row was first painted, and first painted
    with its thumbnail; ``check`` is called when either changes, ``after_paint`` after
    every row painted."""

    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self.painted: dict[int, float] = {}
        self.with_thumbnail: dict[int, float] = {}
        self.check: Callable[[], None] | None = None
        self.after_paint: Callable[[], object] | None = None

    def paint(self, painter: Any, option: Any, index: Any) -> None:
        super().paint(painter, option, index)
        if self.after_paint is not None:
            self.after_paint()
        row, changed = index.row(), False
        if row not in self.painted:
            self.painted[row], changed = now(), True
        if row not in self.with_thumbnail and isinstance(
            index.data(Qt.ItemDataRole.DecorationRole), QImage
        ):
            self.with_thumbnail[row], changed = now(), True
        if changed and self.check is not None:
            self.check()


def run_loop(until: Callable[[], bool], timeout_s: float = 30.0, every_ms: int = 2) -> None:
    """Run the event loop until ``until()`` (checked every ``every_ms``)."""
    if until():
        return
    loop = QEventLoop()
    deadline = now() + timeout_s
    timer = QTimer(interval=every_ms)
    timer.timeout.connect(lambda: (until() or now() > deadline) and loop.quit())
    timer.start()
    loop.exec()
    timer.stop()
    if not until():
        raise TimeoutError("the panel did not get there in time")


def run_until_signal(signal: SignalInstance, timeout_s: float = 30.0) -> None:
    """Run the event loop until ``signal`` is emitted (connect before what emits it)."""
    loop = QEventLoop()
    signal.connect(loop.quit)
    safety = QTimer(singleShot=True, interval=int(timeout_s * 1000))
    safety.timeout.connect(loop.quit)
    safety.start()
    loop.exec()
    safety.stop()
    signal.disconnect(loop.quit)


def settle(model: TimedHistoryList) -> None:
    """Until every answer is in and painted, and nothing more was asked."""
    app = QApplication.instance()
    quiet = 0
    while quiet < 3:
        model.wait(30)
        app.processEvents()
        quiet = quiet + 1 if not model.busy() else 0
        time.sleep(0.002)


def open_panel(
    store: HistoryStore, thumbnails: bool = True, probe: bool = False
) -> tuple[HistoryPanel, TimedHistoryList, PaintProbe | None]:
    model = TimedHistoryList(lambda: store, thumbnails)
    panel = HistoryPanel(model)
    delegate = None
    if probe:
        delegate = PaintProbe(panel.list)
        panel.list.setItemDelegate(delegate)
    panel.resize(*PANEL)
    return panel, model, delegate


def close_panel(panel: HistoryPanel, model: TimedHistoryList) -> None:
    panel.hide()
    model.wait(30)
    QApplication.processEvents()
    panel.deleteLater()
    model.deleteLater()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    QApplication.processEvents()


def visible_rows(panel: HistoryPanel) -> range:
    view = panel.list
    height = view.viewport().height()
    top, bottom = view.indexAt(QPoint(1, 1)), view.indexAt(QPoint(1, height - 1))
    last = bottom.row() if bottom.isValid() else view.model().rowCount() - 1
    return range(max(0, top.row()), last + 1)


def show_and_shown(store: HistoryStore, thumbnails: bool) -> dict[str, float]:
    """One opening: ms to the rows painted, and to the visible thumbnails painted."""
    panel, model, probe = open_panel(store, thumbnails, probe=True)
    assert probe is not None
    QApplication.processEvents()
    gc.collect()
    loop = QEventLoop()
    seen: dict[str, Any] = {}

    def check() -> None:
        if "done" in seen or model.rowCount() == 0:
            return
        rows = visible_rows(panel)
        marks = probe.with_thumbnail if thumbnails else probe.painted
        if all(row in marks for row in rows):
            seen["done"], seen["rows"] = now(), len(rows)
            loop.quit()

    probe.check = check
    safety = QTimer(singleShot=True, interval=20_000)
    safety.timeout.connect(loop.quit)
    safety.start()
    start = now()
    panel.show()
    model.refresh()
    loop.exec()
    safety.stop()
    assert "done" in seen, "the visible rows were never all painted"
    shown = {
        "rows_ms": (min(probe.painted.values()) - start) * 1000,
        "done_ms": (seen["done"] - start) * 1000,
        "visible": seen["rows"],
        "files": [thumbnail_file(model.record(r)) for r in visible_rows(panel)],
    }
    close_panel(panel, model)
    return shown


def opening_rows(store: HistoryStore) -> tuple[list[dict], dict]:
    show_and_shown(store, True)  # warm-up: imports, the style's caches
    cold = [show_and_shown(store, True) for _ in range(OPENINGS)]
    bare = [show_and_shown(store, False) for _ in range(OPENINGS)]
    files = cold[0]["files"]
    decode = []
    for _ in range(5):
        start = now()
        for path in files:
            read_thumbnail(path)
        decode.append((now() - start) * 1000)
    made = []
    for _ in range(5):
        start = now()
        panel, model, _ = open_panel(store)
        made.append((now() - start) * 1000)
        close_panel(panel, model)
    visible = cold[0]["visible"]
    rows = [
        summary(f"open: {visible} visible thumbnails painted", [r["done_ms"] for r in cold],
                decode, TARGETS["open"]),
        summary("open: rows painted (thumbnails pending)", [r["rows_ms"] for r in cold], decode),
        summary("open, thumbnails off: rows painted", [r["done_ms"] for r in bare], decode),
    ]  # fmt: skip
    facts = {
        "visible_rows": visible,
        "decode_visible_sequential_ms": statistics.median(decode),
        "decode_one_ms": statistics.median(decode) / len(files),
        "panel_construction_ms": statistics.median(made),
    }
    return rows, facts


# --- scrolling ---------------------------------------------------------------------------


def scroll(panel: HistoryPanel, model: TimedHistoryList, down: bool) -> dict[str, Any]:
    """One page step per 16 ms tick until the end (down: the 1,000th row). Each frame
    notes what else the UI thread did in it: thumbnails arrived, pages appended, time in
    the garbage collector (from the end of the previous frame to the end of this one)."""
    bar = panel.list.verticalScrollBar()
    loop = QEventLoop()
    frames: list[dict[str, Any]] = []
    timer = QTimer(singleShot=True, timerType=Qt.TimerType.PreciseTimer)
    due = [0.0]
    counts = [0, 0, 0.0]  # thumbnails, pages, gc ms at the end of the previous frame

    def finished() -> bool:
        if down:
            return bar.value() == bar.maximum() and model.rowCount() == JOBS
        return bar.value() == 0

    def tick() -> None:
        start = now()
        before = bar.value()
        bar.setValue(before + bar.pageStep() if down else before - bar.pageStep())
        QApplication.processEvents()
        end = now()
        seen = [len(model.spent["thumbnail"]), len(model.spent["more"]), watch.total]
        frames.append({
            "frame": (end - due[0]) * 1000,  # lateness + work
            "work": (end - start) * 1000,
            "moved": bar.value() != before,
            "thumbnails": seen[0] - counts[0],
            "pages": seen[1] - counts[1],
            "gc_ms": seen[2] - counts[2],
        })  # fmt: skip
        counts[:] = seen
        if finished() or len(frames) > 20_000:
            loop.quit()
            return
        due[0] = now() + FRAME_MS / 1000
        timer.start(FRAME_MS)

    timer.timeout.connect(tick)
    with GcWatch() as watch:
        counts[:] = [len(model.spent["thumbnail"]), len(model.spent["more"]), 0.0]
        decoded = counts[0]
        due[0] = now() + FRAME_MS / 1000
        timer.start(FRAME_MS)
        loop.exec()
    assert finished(), "the scroll did not reach the end"
    waits, run = [], 0
    for frame in frames:
        if not frame["moved"]:
            run += 1
        elif run:
            waits.append(run)
            run = 0
    return {
        "frames": [f["frame"] for f in frames],
        "work": [f["work"] for f in frames],
        "slow": [
            {k: round(v, 2) if isinstance(v, float) else v for k, v in f.items()}
            for f in frames
            if f["frame"] > TARGETS["frame"]
        ],
        "ticks_waiting": sum(not f["moved"] for f in frames),
        "page_waits_ticks": waits,
        "thumbnails_decoded": len(model.spent["thumbnail"]) - decoded,
        "gc_pauses_over_1_ms": sum(ms > 1 for ms in watch.pauses),
        "gc_worst_ms": max(watch.pauses, default=0.0),
    }


def scrolling_rows(store: HistoryStore) -> tuple[list[dict], dict]:
    passes: dict[str, list[dict[str, Any]]] = defaultdict(list)
    facts: dict[str, Any] = {}
    for round_ in range(SCROLL_ROUNDS):
        for thumbnails in (False, True):
            panel, model, _ = open_panel(store, thumbnails)
            panel.show()
            model.refresh()
            run_loop(lambda m=model: m.rowCount() > 0)
            settle(model)
            gc.collect()
            key = "thumbs" if thumbnails else "bare"
            passes[f"{key}-down"].append(scroll(panel, model, down=True))
            settle(model)
            passes[f"{key}-up"].append(scroll(panel, model, down=False))
            if thumbnails and round_ == 0:
                facts.update(scrolled_facts(panel, model))
            close_panel(panel, model)
    rows = []
    for direction, text in (("down", "scroll down to row 1,000"), ("up", "scroll back up")):
        bare, thumbs = passes[f"bare-{direction}"], passes[f"thumbs-{direction}"]

        def pooled(which: list[dict[str, Any]], key: str) -> list[Any]:
            return [value for p in which for value in p[key]]

        frames, base = pooled(thumbs, "frames"), pooled(bare, "frames")
        rows.append(
            summary(f"{text}: frame", frames, base, TARGETS["frame"],
                    passes=len(thumbs),
                    baseline_p99_ms=percentile(base, 0.99),
                    work_p50_ms=statistics.median(pooled(thumbs, "work")),
                    work_p99_ms=percentile(pooled(thumbs, "work"), 0.99),
                    frames_over_16_ms=sum(f > TARGETS["frame"] for f in frames),
                    baseline_frames_over_16_ms=sum(f > TARGETS["frame"] for f in base),
                    slow_frames=pooled(thumbs, "slow"),
                    ticks_waiting_for_a_page=[p["ticks_waiting"] for p in thumbs],
                    baseline_ticks_waiting=[p["ticks_waiting"] for p in bare],
                    page_waits_ticks=pooled(thumbs, "page_waits_ticks"),
                    thumbnails_decoded=[p["thumbnails_decoded"] for p in thumbs],
                    gc_worst_ms=max(p["gc_worst_ms"] for p in thumbs))
        )  # fmt: skip
    return rows, facts


def scrolled_facts(panel: HistoryPanel, model: TimedHistoryList) -> dict[str, Any]:
    """With the 1,000 rows held: what a thumbnail's arrival costs against 100 rows held,
    what appending a page costs, and what a refresh does while scrolled down the list (a
    job running meanwhile asks one for each arriving image)."""
    spent = model.spent
    bar = panel.list.verticalScrollBar()
    bar.setValue(bar.maximum() // 2)
    QApplication.processEvents()
    before = (model.rowCount(), panel.list.indexAt(QPoint(1, 1)).row())
    model.refresh()
    run_until_signal(model.loaded)
    QApplication.processEvents()
    after = (model.rowCount(), panel.list.indexAt(QPoint(1, 1)).row())
    return {
        "on_thumbnail_ms_p50_by_rows_held": {
            f"<= {PAGE}": statistics.median([ms for n, ms in spent["thumbnail"] if n <= PAGE]),
            f"{JOBS}": statistics.median([ms for n, ms in spent["thumbnail"] if n == JOBS]),
        },
        "on_more_ms_p50": statistics.median([ms for _, ms in spent["more"]]),
        "refresh_while_scrolled": {
            "rows_before": before[0],
            "top_row_before": before[1],
            "rows_after": after[0],
            "top_row_after": after[1],
            "on_first_ms": spent["first"][-1][1],
        },
    }


# --- search ------------------------------------------------------------------------------


def round_trip(probe: PaintProbe, model: TimedHistoryList, change: Callable[[], None]) -> float:
    """ms from ``change()`` (a search) to the end of the first paint of a row after the
    query's answer (``loaded``); both come from the event loop, run meanwhile."""
    start = now()
    change()
    run_until_signal(model.loaded)
    loop = QEventLoop()
    probe.after_paint = loop.quit
    safety = QTimer(singleShot=True, interval=10_000)
    safety.timeout.connect(loop.quit)
    safety.start()
    loop.exec()  # quits at the end of the paint event that painted a row
    end = now()
    safety.stop()
    probe.after_paint = None
    return (end - start) * 1000


def searched(model: TimedHistoryList, word: str) -> Callable[[], None]:
    return lambda: model.set_filter(search=word)


def search_rows(store: HistoryStore) -> list[dict]:
    direct = []
    for n in range(SEARCH_RUNS):
        word = SEARCHES[n % len(SEARCHES)]
        start = now()
        store.list_jobs(search=word, limit=PAGE)
        direct.append((now() - start) * 1000)
    # Idle: every thumbnail in before each search.
    panel, model, probe = open_panel(store, probe=True)
    assert probe is not None
    panel.show()
    model.refresh()
    run_loop(lambda: model.rowCount() > 0)
    idle = []
    for n in range(SEARCH_RUNS):
        settle(model)
        idle.append(round_trip(probe, model, searched(model, SEARCHES[n % len(SEARCHES)])))
    close_panel(panel, model)
    # Right after a previous search: its rows' thumbnails are being decoded.
    busy, in_flight = [], []
    for n in range(SEARCH_RUNS // 2):
        panel, model, probe = open_panel(store, probe=True)
        assert probe is not None
        panel.show()
        model.refresh()
        run_loop(lambda m=model: m.rowCount() > 0)
        settle(model)
        round_trip(probe, model, searched(model, SEARCHES[n % len(SEARCHES)]))
        in_flight.append(model.busy())
        word = SEARCHES[(n + 1) % len(SEARCHES)]
        busy.append(round_trip(probe, model, searched(model, word)))
        close_panel(panel, model)
    # Typing: one setText in the search field, to the results painted.
    panel, model, probe = open_panel(store, probe=True)
    assert probe is not None
    panel.show()
    model.refresh()
    run_loop(lambda: model.rowCount() > 0)
    typed = []
    for n in range(SEARCH_RUNS // 2):
        settle(model)
        word = SEARCHES[n % len(SEARCHES)]
        typed.append(round_trip(probe, model, lambda w=word: panel.search.setText(w)))
    close_panel(panel, model)
    return [
        summary("search round trip (worker idle)", idle, direct, TARGETS["search"]),
        summary("search right after a search (thumbs decoding)", busy, direct, TARGETS["search"],
                thumbnails_in_flight_at_start=sum(in_flight)),
        summary("search typed: setText to results painted", typed, direct, TARGETS["search"],
                note=f"includes the panel's {SEARCH_DELAY_MS} ms pause after typing"),
    ]  # fmt: skip


# --- recording arriving images --------------------------------------------------------


def stream_steps(
    store: HistoryStore, jobs: JobsModel, folder: Path, sources: list[Path], tag: str
) -> tuple[list[tuple[Callable[[], object], Callable[[], object]]], int]:
    """(worker part, UI-thread part) of each event of the arriving jobs, and the images."""
    image = QImage(64, 64, QImage.Format.Format_RGB32)
    image.fill(0)
    steps: list[tuple[Callable[[], object], Callable[[], object]]] = []
    images = 0
    for number in range(ARRIVING_JOBS):
        job_id = f"{tag}{number:02d}" + "e" * 24
        target = folder / "arriving" / job_id[:12]
        target.mkdir(parents=True)

        def begin(job_id: str = job_id, target: Path = target) -> None:
            store.begin_job(job_id, program="editor", inputs=[sources[0]],
                            params={"prompt": f"arriving {job_id[:8]} lighthouse",
                                    "model": "gpt-image-1", "n": ARRIVING_VARIANTS},
                            folder=target, owns_folder=True)  # fmt: skip

        steps.append((begin, lambda j=job_id: jobs.job_started.emit(j, ARRIVING_VARIANTS)))
        for index in [*range(ARRIVING_PARTIALS), None]:
            for variant in range(ARRIVING_VARIANTS):
                kind = "final" if index is None else "partial"
                path = target / f"{variant}-{kind}{'' if index is None else index}.png"
                source = sources[(number * 5 + variant + (index or 0)) % SOURCES]

                def save(j: str = job_id, v: int = variant, k: str = kind, i: Any = index,
                         p: Path = path, s: Path = source) -> None:  # fmt: skip
                    os.link(s, p)
                    store.add_file(j, v, k, p, i)

                if index is None:
                    emit = lambda j=job_id, v=variant, p=path: jobs.image_received.emit(  # noqa: E731
                        j, v, image, str(p)
                    )
                else:
                    emit = lambda j=job_id, v=variant, i=index, p=path: (  # noqa: E731
                        jobs.partial_received.emit(j, v, i, image, str(p))
                    )
                steps.append((save, emit))
                images += 1
        steps.append(
            (lambda j=job_id: store.finish_job(j, "done", {"output_tokens": 400}, ["req"]),
             lambda j=job_id: jobs.job_finished.emit(j, None))
        )  # fmt: skip
    return steps, images


def recording_pass(
    app: TimingApp,
    store: HistoryStore,
    folder: Path,
    sources: list[Path],
    mode: str,
    tag: str,
) -> dict[str, Any]:
    """The arriving jobs with the panel open on the newest rows; ``mode``: "shown" (the
    History tab in front), "hidden" (behind the Results tab, the default) or "unconnected"
    (the panel shown, the signals not connected: the baseline pass)."""
    jobs = JobsModel(None, folder, lambda _provider: None)  # type: ignore[arg-type]
    panel, model, _ = open_panel(store)
    panel.show()
    model.refresh()
    run_loop(lambda: model.rowCount() > 0)
    settle(model)
    if mode == "hidden":
        panel.hide()
        model.set_visible(False)  # as the History dock tells it when behind a tab
        QApplication.processEvents()
    if mode != "unconnected":  # as app.ui.history_commands.HistoryCommands connects them
        model.follow(jobs)
    steps, images = stream_steps(store, jobs, folder, sources, tag)
    worker = Background()
    failures: list[BaseException] = []
    loop = QEventLoop()
    pending = iter(steps)
    driver = QTimer(interval=ARRIVAL_MS, timerType=Qt.TimerType.PreciseTimer)

    def next_step() -> None:
        step = next(pending, None)
        if step is None:
            driver.stop()
            QTimer.singleShot(3 * ARRIVAL_MS, loop.quit)  # the last refresh and thumbnail
            return
        work, emit = step
        worker.run(work, lambda _result: emit(), failures.append)

    driver.timeout.connect(next_step)
    gc.collect()
    model.spent.clear()  # the stream's steps only
    app.watched = panel.list.viewport()
    app.reset()
    app.counting = True
    with GcWatch() as watch:
        driver.start()
        loop.exec()
    app.counting = False
    worker.wait(30)
    assert not failures, failures
    result = {
        "busy_ms": app.busy,
        "events": len(app.events),
        "worst_event_ms": max(app.events),
        "images": images,
        "signals": len(steps),
        "paints_ms": list(app.paints),
        "busy_by_event_ms": dict(app.by_type),
        "gc_ms": watch.total,
        "spent": {k: [ms for _, ms in v] for k, v in model.spent.items()},
    }
    app.watched = None
    close_panel(panel, model)
    worker.deleteLater()
    jobs.deleteLater()
    return result


def refresh_cycles(app: TimingApp, store: HistoryStore) -> dict[str, Any]:
    """One refresh of the shown panel with nothing else running: the query in the worker
    (waited for, not counted), then the UI thread's part counted: the answer applied, the
    filters updated, the list repainted. And one repaint of the list alone (the baseline
    of the recording row)."""
    panel, model, _ = open_panel(store)
    panel.show()
    model.refresh()
    run_loop(lambda: model.rowCount() > 0)
    settle(model)
    busy, by_type, query = [], defaultdict(list), []
    for _ in range(CYCLES):
        start = now()
        model.refresh()
        model.wait(10)
        query.append((now() - start) * 1000)
        app.reset()
        app.counting = True
        for _ in range(4):  # what each delivery posts is delivered by the next call
            QApplication.processEvents()
        app.counting = False
        busy.append(app.busy)
        for kind, ms in app.by_type.items():
            by_type[kind].append(ms)
        time.sleep(0.002)
    repaint = timed(panel.list.viewport().repaint, 100)
    close_panel(panel, model)
    return {
        "busy": busy,
        "query_ms_p50": statistics.median(query),
        "by_event_ms_p50": {k: round(statistics.median(v), 3) for k, v in by_type.items()},
        "repaint": repaint,
    }


def recording_rows(
    app: TimingApp, store: HistoryStore, folder: Path, sources: list[Path]
) -> tuple[list[dict], dict]:
    cycles = refresh_cycles(app, store)
    base = statistics.median(cycles["repaint"])
    modes = ("unconnected", "shown", "hidden")
    passes: dict[str, list[dict[str, Any]]] = {mode: [] for mode in modes}
    for round_ in range(RECORDING_ROUNDS):
        for mode in modes:
            passes[mode].append(
                recording_pass(app, store, folder, sources, mode, f"{mode[0]}{round_}")
            )

    def total(mode: str, key: str) -> float:
        return sum(p[key] for p in passes[mode])

    def per_image(mode: str) -> list[float]:
        return [(c["busy_ms"] - u["busy_ms"]) / c["images"]
                for u, c in zip(passes["unconnected"], passes[mode], strict=True)]  # fmt: skip

    def p50(values: list[float]) -> float | None:
        return statistics.median(values) if values else None

    rows, facts = [], {}
    for mode, text in (("shown", "History tab in front"), ("hidden", "History tab behind")):
        images = int(total(mode, "images"))
        added = (total(mode, "busy_ms") - total("unconnected", "busy_ms")) / images
        kinds = {
            kind for p in passes[mode] + passes["unconnected"] for kind in p["busy_by_event_ms"]
        }
        added_by_type = {
            kind: round(
                (sum(p["busy_by_event_ms"].get(kind, 0.0) for p in passes[mode])
                 - sum(p["busy_by_event_ms"].get(kind, 0.0) for p in passes["unconnected"]))
                / images, 3)
            for kind in sorted(kinds)
        }  # fmt: skip
        rows.append({
            "scenario": f"recording, {text}: UI ms per image",
            "runs": images,
            "p50_ms": added,
            "baseline_p50_ms": base,
            "ratio_p50": added / base,
            "target_ms": TARGETS["record"],
            "per_round_ms": per_image(mode),
            "added_ms_per_image_by_event": added_by_type,
            "events_per_image": (total(mode, "events") - total("unconnected", "events")) / images,
            "worst_event_ms": max(p["worst_event_ms"] for p in passes[mode]),
            "worst_event_ms_unconnected": max(p["worst_event_ms"] for p in passes["unconnected"]),
            "gc_ms_per_image": total(mode, "gc_ms") / images,
        })  # fmt: skip
        spent: dict[str, list[float]] = defaultdict(list)
        for p in passes[mode]:
            for step, values in p["spent"].items():
                spent[step].extend(values)
        paints = [ms for p in passes[mode] for ms in p["paints_ms"]]
        facts[mode] = {
            "images": images,
            "signals": int(total(mode, "signals")),
            "refreshes": len(spent["first"]),
            "refresh_submit_ms_p50": p50(spent["refresh"]),
            "on_first_ms_p50": p50(spent["first"]),
            "thumbnails_arrived": len(spent["thumbnail"]),
            "on_thumbnail_ms_p50": p50(spent["thumbnail"]),
            "list_paints": len(paints),
            "list_paint_ms_p50": p50(paints),
            "list_paint_ms_max": max(paints, default=None),
        }
    rows.append(
        summary("one refresh, worker idle: UI ms", cycles["busy"], base,
                query_in_worker_ms_p50=cycles["query_ms_p50"],
                by_event_ms_p50=cycles["by_event_ms_p50"])
    )  # fmt: skip
    facts["list_repaint_baseline_ms_p50"] = base
    return rows, facts


# --- the report ------------------------------------------------------------------------


def print_table(title: str, rows: list[dict]) -> None:
    print(f"\n{title}")
    print(
        f"{'scenario':<48}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}"
        f"{'baseline':>10}{'ratio':>8}{'target':>8}"
    )
    for row in rows:
        cells = f"{row['scenario']:<48}{row['p50_ms']:>9.2f}"
        for key in ("p95_ms", "p99_ms", "max_ms"):
            cells += f"{row[key]:>9.2f}" if key in row else f"{'':>9}"
        base = row.get("baseline_p50_ms")
        cells += f"{base:>10.2f}{row['ratio_p50']:>8.2f}" if base is not None else f"{'':>18}"
        cells += f"{row['target_ms']:>8.0f}" if "target_ms" in row else ""
        print(cells)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store-only", action="store_true", help="skip the panel")
    args = parser.parse_args(argv)
    report: dict = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "machine": {
            "python": platform.python_version(),
            "sqlite": sqlite3.sqlite_version,
            "platform": platform.platform(),
            "cores": os.cpu_count(),
            "workers": worker_count(),
        },
        "jobs": JOBS,
        "results_per_job": RESULTS,
        "rows": [],
    }
    started = now()
    with tempfile.TemporaryDirectory(prefix="bench-history-") as tmp:
        folder = Path(tmp)
        start = now()
        sources = write_sources(folder / "sources")
        report["sources_s"] = now() - start
        report["sources_mb"] = sum(p.stat().st_size for p in sources) / 1e6
        store = HistoryStore.open(folder / "history.sqlite3")
        start = now()
        populate(store, folder, sources)
        report["populate_s"] = now() - start
        gc.collect()
        gc.freeze()  # as app.gui.freeze_startup_objects does in the editor
        report["rows"] = store_rows(store, folder)
        if not args.store_only:
            qInstallMessageHandler(quiet_offscreen)
            app = TimingApp([sys.argv[0]])
            apply_dark_theme(app)
            favour_ui_thread()  # as the editor does (app.gui.configure_workers)
            opening, report["opening"] = opening_rows(store)
            scrolling, report["scrolling"] = scrolling_rows(store)
            searching = search_rows(store)
            recording, report["recording"] = recording_rows(app, store, folder, sources)
            report["panel_rows"] = opening + scrolling + searching + recording
        store.close()
    report["total_s"] = now() - started
    print(
        f"{JOBS} jobs x {RESULTS} results (populated in {report['populate_s']:.1f} s; "
        f"{SOURCES} source PNGs, {report['sources_mb']:.0f} MB, made in "
        f"{report['sources_s']:.1f} s); {report['machine']['cores']} cores, "
        f"{report['machine']['workers']} worker thread(s)"
    )
    print_table("The store (on this thread)", report["rows"])
    print("  baselines: a plain SELECT of the same job rows (searches, list); writing the 1 MB "
          "image itself, fsynced (add_file)")  # fmt: skip
    if "panel_rows" in report:
        print_table(f"The History panel ({PANEL[0]}x{PANEL[1]}, offscreen)", report["panel_rows"])
        print(
            "  baselines: open: the visible thumbnails decoded one after another on this "
            "thread;\n  scroll: the same panel with thumbnails off; search: the same "
            "list_jobs query on this thread;\n  recording: one repaint of the panel's list "
            "without history work"
        )
        for name in ("opening", "scrolling", "recording"):
            print(f"  {name}: {json.dumps(report[name], default=str)}")
        for row in report["panel_rows"]:
            extra = {k: v for k, v in row.items() if k not in {
                "scenario", "runs", "p50_ms", "p95_ms", "p99_ms", "max_ms", "baseline_p50_ms",
                "ratio_p50", "target_ms"}}  # fmt: skip
            slow = extra.pop("slow_frames", None)
            if slow is not None:
                extra["slow_frames"] = {
                    "count": len(slow),
                    "with_a_page_appended": sum(f["pages"] > 0 for f in slow),
                    "with_thumbnails_arrived": sum(f["thumbnails"] > 0 for f in slow),
                    "with_gc_over_1_ms": sum(f["gc_ms"] > 1 for f in slow),
                }
            if extra:
                print(f"  {row['scenario']}: {json.dumps(extra, default=str)}")
    print(f"\n(all of it in {report['total_s']:.0f} s)")
    RESULTS_DIR.mkdir(exist_ok=True)
    out = RESULTS_DIR / f"bench_history-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json"
    out.write_text(json.dumps(report, indent=2, default=str))
    print(f"wrote {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
