"""Benchmark of the editor window: UI stalls while streaming, launch time, memory.

    python tests/benchmarks/bench_editor.py [--rounds 5] [--launches 5]

Every Qt measurement runs in a fresh child process (offscreen, RETOUCH_HOME in a temporary
folder, no keyring) built the way ``retouch`` builds it: the
QApplication with the dark theme, ``build_editor()`` on a qasync loop made by
``asyncio.Runner``, the real MainWindow shown. The loopback servers run in processes of
their own, so they do not share the editor's GIL or its memory.

1. UI stall. A custom provider points the session at a fault server that streams 3
   partials and a final 3840x2160 noise PNG (about 19 MB, 25 MB of base64 per event) to
   each of 2 variants (split streams: two requests in parallel). Generate is pressed
   through the session; a 5 ms single-shot precise QTimer, re-armed each time it fires,
   records how late it ran (actual minus due time) from the press until the job's last
   image is shown. Rows: the editor as it is (decoding in worker threads); the baseline,
   the same window whose JobsModel decodes on the UI thread in the slot; diagnostics with
   nothing decoded for display (what the client and the saving cost alone) and with the
   events 0.5 s apart instead of back to back; and the timer with no stream at all (the
   noise floor). Modes rotate from round to round. Each row also gives the median time of
   a job (the price of fewer workers). Beside it, how long each worker step holds the GIL
   on its own (one 25 MB event), and the garbage collector's pauses in the editor's runs.
   The window is set up as ``gui._main`` does it: configure_workers() before the window,
   freeze_startup_objects() after it. Target: worst lateness under 25 ms.
2. Launch. From the parent's spawn of ``python`` to the end of the main window's first
   painted frame (a Paint event on the window, then a zero-time timer so the whole frame
   is painted), through the real entry point ``app.cli.main([])`` (what ``python -m app``
   runs, local engine included); baseline: a bare PySide6 QMainWindow shown the same way.
   One warm-up each (it also compiles the bytecode, into a temporary PYTHONPYCACHEPREFIX),
   then alternating runs. Target: under 1.5 s.
3. Memory. The real window with 16 input images of 3840x2160 in the input strip (the
   first open on the canvas) and 10 final 3840x2160 results streamed through the real job
   pipeline into the gallery (5 jobs of 2 variants). Process RSS, its growth over the
   empty window, the peak (VmHWM), and, in the same process, the RSS growth of the same 26
   images held as full-size ARGB32 QImages, with the arithmetic figure. Diagnostics: RSS
   after malloc_trim(0), and a second run with glibc's mmap threshold fixed at 1 MiB
   (what the process would hold if freed buffers went back to the system).
   Target: under 500 MB in all (MiB here).

Prints a table and writes JSON to tests/benchmarks/results/bench_editor.json.
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import gc
import io
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from harness import percentile, server_process  # noqa: E402
from PIL import Image  # noqa: E402

from tests.support import fault_server as fs  # noqa: E402

RESULTS = ROOT / "tests" / "benchmarks" / "results"
MIB = 1024 * 1024
WIDTH, HEIGHT = 3840, 2160
TIMER_MS = 5
TARGET_WORST_MS = 25.0
TARGET_LAUNCH_S = 1.5
TARGET_RSS_MIB = 500.0
INPUTS, RESULT_JOBS, VARIANTS = 16, 5, 2
PACE_S = 0.5  # the paced diagnostic: a pause between a stream's events


# --- images and servers (the parent process never loads Qt) ----------------------------


def noisy_png(seed: int, width: int = WIDTH, height: int = HEIGHT) -> bytes:
    """Noise of 64 levels per channel: PNG cannot squeeze it much, about 19 MB."""
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 64, (height, width, 3), dtype=np.uint8) * 4
    buffer = io.BytesIO()
    Image.fromarray(pixels, "RGB").save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()


def small_png(path: Path) -> Path:
    y, x = np.mgrid[0:768, 0:1024].astype(np.float32)
    rgb = np.dstack([x / 4, y / 3, 128 + 60 * np.sin((x + y) / 40)]).astype(np.uint8)
    Image.fromarray(rgb, "RGB").save(path, "PNG")
    return path


def run_child(
    mode: str, *args: str, extra_env: dict[str, str] | None = None, timeout: float = 600
) -> dict[str, Any]:
    """This script in a fresh interpreter; its last stdout line is JSON."""
    command = [sys.executable, __file__, "--child", mode, *args]
    env = {**child_env(), **(extra_env or {})}
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT
    )
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        sys.stderr.write(done.stderr[-4000:])
        raise RuntimeError(f"the {mode} child failed with exit code {done.returncode}")
    return json.loads(lines[-1])


def child_env(home: Path | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["QT_QPA_PLATFORM"] = "offscreen"
    env.setdefault("QT_LOGGING_RULES", "qt.qpa.*=false")
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"  # never a real keyring
    if home is not None:
        env["RETOUCH_HOME"] = str(home)
    return env


# --- statistics -------------------------------------------------------------------------


def lateness_summary(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    pooled = [ms for r in rounds for ms in r["lateness_ms"]]
    return {
        "rounds": len(rounds),
        "fires": len(pooled),
        "seconds": [r["seconds"] for r in rounds],
        "worst_ms": max(pooled),
        "p99_ms": percentile(pooled, 0.99),
        "p50_ms": percentile(pooled, 0.50),
        "worst_per_round_ms": [max(r["lateness_ms"]) for r in rounds],
        "fires_over_25_ms": sum(ms > TARGET_WORST_MS for ms in pooled),
        "partials_shown": [r.get("partials_shown", 0) for r in rounds],
        "finals_shown": [r.get("finals_shown", 0) for r in rounds],
    }


# --- child processes: the Qt side -------------------------------------------------------


def qt_app(home: Path) -> Any:
    os.environ["RETOUCH_HOME"] = str(home)
    from PySide6.QtWidgets import QApplication

    from app.gui import tune_allocator
    from app.ui.theme import apply_dark_theme

    tune_allocator()  # as app.gui.run does

    app = QApplication.instance() or QApplication([sys.argv[0]])
    app.setApplicationName("Retouch Studio")
    app.setOrganizationName("Retouch Studio")
    apply_dark_theme(app)
    return app


def on_qasync(app: Any, coro: Any) -> Any:
    """Run ``coro`` the way app.gui.run() does: one qasync loop made by asyncio.Runner."""
    import qasync

    with asyncio.Runner(loop_factory=lambda: qasync.QEventLoop(app)) as runner:
        return runner.run(coro)


def bench_jobs_model() -> type:
    """The real JobsModel with a switch: ``mode`` "worker" is the model untouched;
    "inline" is the baseline, decoding on the UI thread in the slot; "none" decodes and
    shows nothing (what the client and the saving cost on their own)."""
    from app.core.errors import ErrorKind, UserError
    from app.core.events import PartialImage
    from app.models.display import decode_for_display
    from app.models.job import VariantState
    from app.models.jobs import JobsModel

    class BenchJobsModel(JobsModel):
        mode = "worker"

        async def _show(self, job, event, path) -> None:  # type: ignore[no-untyped-def]
            if self.mode == "worker":
                await super()._show(job, event, path)
                return
            if self.mode == "none":
                return
            # JobsModel._show with the decoding on the UI thread: the variant's result is
            # updated as there, since the gallery renders from it.
            result = job.result(event.variant)
            try:
                image = decode_for_display(event.data)  # on the UI thread: the baseline
            except ValueError as exc:
                message = f"{path.name}: saved, but {exc}."
                error = UserError(message, ErrorKind.PROTOCOL, retryable=False)
                if not result.is_final:
                    result.state, result.error = VariantState.FAILED, message
                self.job_failed.emit(job.id, error)
                return
            if isinstance(event, PartialImage):
                if result.is_final:
                    return
                result.state, result.shown_partial = VariantState.STREAMING, event.partial_index
                result.error = None
                self.partial_received.emit(
                    job.id, event.variant, event.partial_index, image, str(path)
                )
            else:
                result.state, result.error = VariantState.FINAL, None
                self.image_received.emit(job.id, event.variant, image, str(path))

    return BenchJobsModel


def lateness_probe() -> Any:
    from PySide6.QtCore import QObject, Qt, QTimer

    class LatenessProbe(QObject):
        """A 5 ms single-shot precise timer, re-armed when it fires: each fire records how
        late it ran against the time it was due."""

        def __init__(self) -> None:
            super().__init__()
            self.timer = QTimer(self)
            self.timer.setSingleShot(True)
            self.timer.setTimerType(Qt.TimerType.PreciseTimer)
            self.timer.timeout.connect(self._fire)
            self.samples: list[float] = []
            self._due = 0.0

        def start(self) -> None:
            self.samples = []
            self._arm()

        def stop(self) -> list[float]:
            self.timer.stop()
            return self.samples

        def _arm(self) -> None:
            self._due = time.perf_counter() + TIMER_MS / 1000
            self.timer.start(TIMER_MS)

        def _fire(self) -> None:
            self.samples.append((time.perf_counter() - self._due) * 1000)
            self._arm()

    return LatenessProbe()


class GcPauses:
    """The garbage collector's own pauses (gc.callbacks), per generation, while armed."""

    def __init__(self) -> None:
        self.pauses: dict[int, list[float]] = {0: [], 1: [], 2: []}
        self.armed = False
        self._started = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        elif self.armed:
            self.pauses[info["generation"]].append((time.perf_counter() - self._started) * 1000)

    def summary(self) -> dict[str, dict[str, float]]:
        return {
            f"generation {g}": {"count": len(p), "longest_ms": max(p, default=0.0)}
            for g, p in self.pauses.items()
        }


async def settle(seconds: float) -> None:
    gc.collect()
    await asyncio.sleep(seconds)


async def open_editor(base_url: str) -> Any:
    from app import gui

    gui.JobsModel = bench_jobs_model()  # the composition root builds this class
    gui.configure_workers(asyncio.get_running_loop())  # as gui._main does
    from PySide6.QtWidgets import QApplication

    gui.UiThreadCollector(QApplication.instance()).start()  # as gui._main does
    editor = gui.build_editor(start_engine=False)
    window, session = editor.window, editor.session
    window.canvas.confirm_discard = lambda _text: True
    window.resize(1440, 900)
    window.show()
    session.keys.set("bench", "sk-bench")
    use_server(editor, base_url)
    await asyncio.sleep(gui.FREEZE_AFTER_S)
    gui.freeze_startup_objects()  # as gui._main does after the window is shown
    return editor


def use_server(editor: Any, base_url: str) -> None:
    from app.core.providers import Provider

    provider = Provider(
        "bench", "Bench server", "custom", base_url=base_url, models=("gpt-image-1",)
    )
    editor.session.set_provider(provider)


def set_stream_params(editor: Any, partials: int) -> None:
    params = editor.session.params
    params.set_value("prompt", "remove the cup")
    params.set_value("n", VARIANTS)
    params.set_value("stream", True)
    params.set_value("partial_images", partials)


async def run_job(editor: Any, start: Any) -> dict[str, Any]:
    """Start a job with ``start()`` (a coroutine giving its id) and wait for its end."""
    jobs = editor.session.jobs
    loop = asyncio.get_running_loop()
    ended: asyncio.Future[tuple[str, Any]] = loop.create_future()
    counts = {"partials_shown": 0, "finals_shown": 0}

    def finish(kind: str, job_id: str, detail: Any = None) -> None:
        if not ended.done():
            ended.set_result((kind, detail))

    def partial(*_: Any) -> None:
        counts["partials_shown"] += 1

    def final(*_: Any) -> None:
        counts["finals_shown"] += 1

    connections = [
        (jobs.job_finished, lambda j, u: finish("finished", j, u)),
        (jobs.job_failed, lambda j, e: finish("failed", j, e)),
        (jobs.job_cancelled, lambda j: finish("cancelled", j)),
        (jobs.partial_received, partial),
        (jobs.image_received, final),
    ]
    for signal, slot in connections:
        signal.connect(slot)
    try:
        started = time.perf_counter()
        job_id = await start()
        if job_id is None:
            raise RuntimeError(f"Generate was refused: {editor.session.readiness()}")
        kind, detail = await asyncio.wait_for(ended, 120)
        elapsed = time.perf_counter() - started
    finally:
        for signal, slot in connections:
            signal.disconnect(slot)
    if kind != "finished":
        raise RuntimeError(f"the job {kind}: {detail}")
    return {"job": job_id, "seconds": elapsed, **counts}


def gil_holds(png: bytes, reps: int = 3) -> dict[str, dict[str, float]]:
    """How long each worker step of the pipeline keeps the GIL, one 25 MB event, alone on
    the machine: while it runs, a second thread spins in Python and records its longest
    wait, which is the longest time the UI thread could not have run Python either (a
    slot, a timer, asyncio's callbacks). The median of ``reps`` runs."""
    import threading

    from app.client.answers import event_from_sse
    from app.client.sse import EventDecoder
    from app.models.display import decode_for_display

    wire = fs.completed(png).encode("\n")
    chunks = [wire[k : k + (1 << 16)] for k in range(0, len(wire), 1 << 16)]

    def primed() -> Any:
        decoder = EventDecoder()
        for chunk in chunks[:-1]:
            decoder.feed(chunk)
        return decoder

    sse = primed().feed(chunks[-1])[0]
    nothing = lambda: None  # noqa: E731
    steps: dict[str, tuple[Any, Any]] = {  # label: (prepare, step(prepared))
        "EventDecoder.feed, the chunk that ends the 25 MB line": (
            primed,
            lambda decoder: decoder.feed(chunks[-1]),
        ),
        "json.loads of the 25 MB event data": (nothing, lambda _: json.loads(sse.data)),
        "event_from_sse (json.loads + base64 in 1 MB slices)": (
            nothing,
            lambda _: event_from_sse(sse, 0, None),
        ),
        "decode_for_display (19 MB PNG to 512 px)": (nothing, lambda _: decode_for_display(png)),
        "reference: time.sleep(0.1)": (nothing, lambda _: time.sleep(0.1)),
    }
    results = {}
    for label, (prepare, step) in steps.items():
        holds, calls = [], []
        for _ in range(reps):
            prepared = prepare()
            longest = [0.0]
            done = threading.Event()

            def spin(longest: list[float] = longest, done: threading.Event = done) -> None:
                last = time.perf_counter()
                while True:
                    now = time.perf_counter()
                    longest[0] = max(longest[0], now - last)  # also the wait that saw done
                    last = now
                    if done.is_set():
                        return

            spinner = threading.Thread(target=spin)
            spinner.start()
            time.sleep(0.02)
            started = time.perf_counter()
            step(prepared)
            calls.append(time.perf_counter() - started)
            done.set()
            spinner.join()
            holds.append(longest[0])
        results[label] = {
            "longest_hold_ms": statistics.median(holds) * 1000,
            "call_ms": statistics.median(calls) * 1000,
        }
    return results


async def stall_main(
    base_url: str, paced_url: str, input_path: Path, rounds: int, png: Path
) -> dict[str, Any]:
    holds = gil_holds(png.read_bytes())
    editor = await open_editor(base_url)
    session = editor.session
    await session.inputs.add([input_path])
    set_stream_params(editor, partials=3)
    deadline = time.monotonic() + 20
    while session.readiness() or not editor.window.canvas.has_image():
        if time.monotonic() > deadline:
            raise RuntimeError(f"not ready: {session.readiness()}")
        await asyncio.sleep(0.05)
    await settle(1.0)
    probe = lateness_probe()
    collector = GcPauses()
    # One unmeasured job first: imports, thread pool, connection set-up.
    await run_job(editor, session.generate)
    await settle(0.5)
    modes = ["worker", "inline", "none", "paced"]
    results: dict[str, list[dict[str, Any]]] = {m: [] for m in [*modes, "idle"]}
    for round_ in range(rounds):
        shift = round_ % len(modes)
        for mode in modes[shift:] + modes[:shift]:
            session.jobs.mode = "worker" if mode == "paced" else mode
            use_server(editor, paced_url if mode == "paced" else base_url)
            await settle(0.3)
            probe.start()
            collector.armed = mode == "worker"
            record = await run_job(editor, session.generate)
            await asyncio.sleep(0.05)
            record["lateness_ms"] = probe.stop()
            collector.armed = False
            results[mode].append(record)
        await settle(0.3)
        idle_for = statistics.median(r["seconds"] for r in results["worker"])
        probe.start()
        started = time.perf_counter()
        await asyncio.sleep(idle_for)
        results["idle"].append(
            {"seconds": time.perf_counter() - started, "lateness_ms": probe.stop()}
        )
    session.jobs.mode = "worker"
    await editor.shutdown()
    editor.window.close()
    return {"modes": results, "gil_holds": holds, "gc_pauses": collector.summary()}


async def memory_main(base_url: str, inputs: list[Path], upload: Path) -> dict[str, Any]:
    from PySide6.QtGui import QImage

    from app.core.request import EditRequest

    editor = await open_editor(base_url)
    window, session = editor.window, editor.session
    await settle(1.5)
    empty = rss()
    await session.inputs.add(inputs)
    deadline = time.monotonic() + 60
    while len(session.inputs.thumbnails) < len(inputs) or not window.canvas.has_image():
        if time.monotonic() > deadline:
            raise RuntimeError("the inputs did not load")
        await asyncio.sleep(0.05)
    await settle(1.5)
    with_inputs = rss()
    peak_inputs = vm_hwm()
    set_stream_params(editor, partials=1)

    async def submit() -> str:
        # The 16 inputs stay in the strip; the request itself sends one small image.
        return session.submit(EditRequest((upload,), session.params.request_values()))

    jobs = [await run_job(editor, submit) for _ in range(RESULT_JOBS)]
    await settle(2.0)
    tiles = [t for s in window.gallery.sections.values() for t in s.tiles.values()]
    finals = sum(t.is_final for t in tiles)
    everything = rss()
    peak = vm_hwm()
    trimmed = malloc_trim()
    # The same 26 images held as full-size QImages, measured from the trimmed state so
    # that no allocation lands in memory the process already held.
    count = len(inputs) + finals
    before = rss()
    held = []
    for _ in range(count):
        image = QImage(WIDTH, HEIGHT, QImage.Format.Format_ARGB32)
        image.fill(0xFF336699)  # touch every page
        held.append(image)
    held_growth = rss() - before
    arithmetic = count * WIDTH * HEIGHT * 4
    assert held[0].sizeInBytes() == WIDTH * HEIGHT * 4
    del held
    await editor.shutdown()
    window.close()
    return {
        "inputs": len(session.inputs.paths),
        "input_thumbnails": len(session.inputs.thumbnails),
        "results_final_tiles": finals,
        "jobs": jobs,
        "rss_empty_window": empty,
        "rss_with_inputs": with_inputs,
        "vm_hwm_after_inputs": peak_inputs,
        "rss_all": everything,
        "growth_over_empty": everything - empty,
        "vm_hwm_peak": peak,
        "rss_after_malloc_trim": trimmed,
        "qimages": count,
        "qimages_rss_growth": held_growth,
        "qimages_arithmetic": arithmetic,
    }


def rss() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def vm_hwm() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def malloc_trim() -> int:
    """RSS once glibc returned its free pages (a diagnostic: what the allocator keeps)."""
    gc.collect()
    with suppress(OSError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    return rss()


def child_main(mode: str, args: list[str]) -> int:
    with tempfile.TemporaryDirectory(prefix=f"bench-editor-{mode}-") as home:
        app = qt_app(Path(home))
        if mode == "stall":
            base_url, paced_url, input_path, rounds, png = args
            result = on_qasync(
                app, stall_main(base_url, paced_url, Path(input_path), int(rounds), Path(png))
            )
        elif mode == "memory":
            base_url, upload, *inputs = args
            result = on_qasync(app, memory_main(base_url, [Path(p) for p in inputs], Path(upload)))
        else:
            raise SystemExit(f"unknown child {mode}")
        print(json.dumps(result), flush=True)
    return 0


# --- launch -----------------------------------------------------------------------------

# Runs in ``python -c``: stamps the interpreter's start, the imports, the window built and
# the end of its first painted frame, on the system-wide monotonic clock.
LAUNCH_PROBE = r"""
import json, sys, time
stamps = {"boot": time.monotonic()}
which = sys.argv[1]
from PySide6.QtCore import QEvent, QObject, QTimer


class FirstFrame(QObject):
    def __init__(self, window, close):
        super().__init__()
        self.window, self.close, self.seen = window, close, False

    def eventFilter(self, watched, event):
        if not self.seen and watched is self.window and event.type() == QEvent.Type.Paint:
            self.seen = True
            stamps["first_paint"] = time.monotonic()
            QTimer.singleShot(0, self.done)
        return False

    def done(self):
        stamps["frame"] = time.monotonic()
        print(json.dumps(stamps), flush=True)
        self.close()


if which == "app":
    import app.gui as gui
    from app.cli import main

    stamps["imports"] = time.monotonic()
    build, probes = gui.build_editor, []

    def build_and_watch(**options):
        editor = build(**options)
        stamps["built"] = time.monotonic()
        probes.append(FirstFrame(editor.window, editor.window.close))
        editor.window.installEventFilter(probes[-1])
        return editor

    gui.build_editor = build_and_watch
    sys.exit(main([]))
else:
    from PySide6.QtWidgets import QApplication, QMainWindow

    stamps["imports"] = time.monotonic()
    app = QApplication([sys.argv[0]])
    window = QMainWindow()
    window.resize(1440, 900)
    stamps["built"] = time.monotonic()
    probe = FirstFrame(window, app.quit)
    window.installEventFilter(probe)
    window.show()
    sys.exit(app.exec())
"""


def launch_once(which: str, home: Path, pycache: Path) -> dict[str, float]:
    command = [sys.executable, "-c", LAUNCH_PROBE, which]
    # Compiled bytecode, as an installed editor has: the warm-up writes it to a folder of
    # ours (whatever PYTHONDONTWRITEBYTECODE says), the measured runs read it.
    env = child_env(home)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(pycache)
    spawned = time.monotonic()
    process = subprocess.Popen(
        command,
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    out, err = process.communicate(timeout=60)
    lines = [line for line in out.splitlines() if line.startswith("{")]
    if not lines:
        raise RuntimeError(f"launch of {which} printed no stamps:\n{err[-3000:]}")
    stamps = json.loads(lines[-1])
    return {
        "total_s": stamps["frame"] - spawned,
        "interpreter_s": stamps["boot"] - spawned,
        "imports_s": stamps["imports"] - stamps["boot"],
        "build_s": stamps["built"] - stamps["imports"],
        "first_frame_s": stamps["frame"] - stamps["built"],
        "exit_code": process.returncode,
    }


def bench_launch(runs: int, folder: Path) -> dict[str, Any]:
    home = folder / "launch-home"  # one home: after the warm-up, a returning user's start
    pycache = folder / "pycache"
    times: dict[str, list[dict[str, float]]] = {"app": [], "bare": []}
    for which in times:
        launch_once(which, home, pycache)  # warm-up: disk cache, settings file, bytecode
    for _ in range(runs):
        for which in times:
            times[which].append(launch_once(which, home, pycache))
    summary: dict[str, Any] = {"runs": runs}
    for which, records in times.items():
        totals = [r["total_s"] for r in records]
        parts = ("interpreter_s", "imports_s", "build_s", "first_frame_s")
        summary[which] = {
            "median_s": statistics.median(totals),
            "worst_s": max(totals),
            "all_s": totals,
            "median_parts_s": {p: statistics.median(r[p] for r in records) for p in parts},
            "exit_codes": [r["exit_code"] for r in records],
        }
    summary["ratio_median"] = summary["app"]["median_s"] / summary["bare"]["median_s"]
    summary["target_s"] = TARGET_LAUNCH_S
    return summary


# --- the parent: images, servers, children, report --------------------------------------


def bench_stall(rounds: int, folder: Path) -> dict[str, Any]:
    partials = [noisy_png(seed=10 + k) for k in range(3)]
    final = noisy_png(seed=20)
    events = [fs.partial(p, k) for k, p in enumerate(partials)] + [fs.completed(final)]
    scenario = fs.sse(events)
    upload = small_png(folder / "input.png")
    png = folder / "final.png"
    png.write_bytes(final)
    paced = fs.sse(events, pause=PACE_S)
    with server_process(scenario) as base_url, server_process(paced) as paced_url:
        child = run_child("stall", base_url, paced_url, str(upload), str(rounds), str(png))
    raw = child["modes"]
    rows = {mode: lateness_summary(records) for mode, records in raw.items()}
    worker, inline = rows["worker"], rows["inline"]
    return {
        "events_per_variant": len(events),
        "variants": VARIANTS,
        "image": f"{WIDTH}x{HEIGHT}",
        "final_png_bytes": len(final),
        "base64_bytes_per_event": round(sum(len(e) for e in scenario.encoded) / len(events)),
        "timer_ms": TIMER_MS,
        "modes": rows,
        "baseline_over_ours_worst": inline["worst_ms"] / worker["worst_ms"],
        "baseline_over_ours_p99": inline["p99_ms"] / max(worker["p99_ms"], 1e-3),
        "ours_over_idle_worst": worker["worst_ms"] / max(rows["idle"]["worst_ms"], 1e-3),
        "target_worst_ms": TARGET_WORST_MS,
        "gil_holds": child["gil_holds"],
        "gc_pauses_in_editor_runs": child["gc_pauses"],
        "raw_lateness_ms": {m: [r["lateness_ms"] for r in rs] for m, rs in raw.items()},
    }


def bench_memory(folder: Path) -> dict[str, Any]:
    final = noisy_png(seed=30)
    partial = noisy_png(seed=31)
    source = folder / "input-01.png"
    source.write_bytes(noisy_png(seed=32))
    inputs = [source]
    for k in range(2, INPUTS + 1):
        inputs.append(folder / f"input-{k:02d}.png")
        shutil.copyfile(source, inputs[-1])
    upload = small_png(folder / "upload.png")
    scenario = fs.sse([fs.partial(partial, 0), fs.completed(final)])
    with server_process(scenario) as base_url:
        result = run_child("memory", base_url, str(upload), *map(str, inputs))
        if platform.libc_ver()[0] == "glibc":
            # Diagnostic: the same with glibc's mmap threshold fixed at 1 MiB, so that every
            # multi-megabyte buffer is returned to the system when freed.
            fixed = run_child(
                "memory",
                base_url,
                str(upload),
                *map(str, inputs),
                extra_env={"MALLOC_MMAP_THRESHOLD_": str(MIB)},
            )
            result["fixed_mmap_threshold"] = {
                k: fixed[k]
                for k in (
                    "rss_empty_window",
                    "rss_with_inputs",
                    "vm_hwm_after_inputs",
                    "rss_all",
                    "vm_hwm_peak",
                )
            }
    result["input_png_bytes"] = source.stat().st_size
    result["qimages_measured_over_ours"] = result["qimages_rss_growth"] / result["rss_all"]
    result["target_bytes"] = TARGET_RSS_MIB * MIB
    return result


def table(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


def fixed_rows(memory: dict[str, Any], mib: Any) -> list[tuple[str, str, str]]:
    fixed = memory.get("fixed_mmap_threshold")
    if not fixed:
        return []
    return [
        (
            "  diagnostic: MALLOC_MMAP_THRESHOLD_=1 MiB, all",
            mib(fixed["rss_all"]),
            mib(fixed["rss_all"] - fixed["rss_empty_window"]),
        ),
        (
            "    its peak (VmHWM), after the inputs / at the end",
            f"{mib(fixed['vm_hwm_after_inputs'])} / {mib(fixed['vm_hwm_peak'])}",
            "",
        ),
    ]


def report(stall: dict[str, Any], launch: dict[str, Any], memory: dict[str, Any]) -> str:
    def ms(value: float) -> str:
        return f"{value:,.1f} ms"

    def mib(value: float) -> str:
        return f"{value / MIB:,.0f} MiB"

    def met(ok: bool) -> str:
        return "met" if ok else "MISSED"

    names = {
        "worker": "editor (decode in worker threads)",
        "inline": "baseline: decode on the UI thread",
        "none": "diagnostic: nothing decoded for display",
        "paced": f"diagnostic: editor, events {PACE_S:g} s apart",
        "idle": "noise floor: no stream",
    }
    modes = stall["modes"]
    lines = [
        f"UI stall: {stall['variants']} variants x {stall['events_per_variant']} events of "
        f"{stall['image']} PNG ({stall['final_png_bytes'] / MIB:.1f} MiB, "
        f"{stall['base64_bytes_per_event'] / MIB:.1f} MiB base64 each), "
        f"{TIMER_MS} ms timer lateness",
        table(
            [
                ("", "rounds", "fires", "worst", "p99", "p50", "worst per round", ">25 ms", "job"),
                *(
                    (
                        names[mode],
                        str(row["rounds"]),
                        str(row["fires"]),
                        ms(row["worst_ms"]),
                        ms(row["p99_ms"]),
                        ms(row["p50_ms"]),
                        " ".join(f"{w:.0f}" for w in row["worst_per_round_ms"]),
                        str(row["fires_over_25_ms"]),
                        f"{statistics.median(row['seconds']):.2f} s",
                    )
                    for mode, row in modes.items()
                ),
            ]
        ),
        f"baseline / editor: worst x{stall['baseline_over_ours_worst']:.1f}, "
        f"p99 x{stall['baseline_over_ours_p99']:.1f}; editor / noise floor worst "
        f"x{stall['ours_over_idle_worst']:.1f}; target worst < {TARGET_WORST_MS:.0f} ms: "
        f"{met(modes['worker']['worst_ms'] < TARGET_WORST_MS)}",
        "diagnostic: the garbage collector's pauses in the editor's runs (after "
        "gui.freeze_startup_objects): "
        + "; ".join(
            f"{gen}: {p['count']} collections, longest {p['longest_ms']:.1f} ms"
            for gen, p in stall["gc_pauses_in_editor_runs"].items()
        ),
        "diagnostic: the longest GIL hold of each worker step, one 25 MB event, machine idle",
        table(
            [
                ("", "longest GIL hold", "call"),
                *(
                    (label, ms(hold["longest_hold_ms"]), ms(hold["call_ms"]))
                    for label, hold in stall["gil_holds"].items()
                ),
            ]
        ),
        "",
        f"Launch to the first painted frame of the main window ({launch['runs']} runs each "
        "after a warm-up)",
        table(
            [
                ("", "median", "worst", "interpreter", "imports", "build", "first frame"),
                *(
                    (
                        label,
                        f"{launch[which]['median_s']:.2f} s",
                        f"{launch[which]['worst_s']:.2f} s",
                        *(
                            f"{launch[which]['median_parts_s'][part]:.2f} s"
                            for part in ("interpreter_s", "imports_s", "build_s", "first_frame_s")
                        ),
                    )
                    for which, label in (
                        ("app", "editor (app.cli.main, engine included)"),
                        ("bare", "baseline: bare PySide6 QMainWindow"),
                    )
                ),
            ]
        ),
        f"editor / baseline median x{launch['ratio_median']:.2f}; target < "
        f"{TARGET_LAUNCH_S} s: median {met(launch['app']['median_s'] < TARGET_LAUNCH_S)}, "
        f"worst {met(launch['app']['worst_s'] < TARGET_LAUNCH_S)}",
        "",
        f"Memory: {memory['inputs']} inputs + {memory['results_final_tiles']} final results of "
        f"{WIDTH}x{HEIGHT} in the real window",
        table(
            [
                ("", "RSS", "growth over empty window"),
                ("empty window", mib(memory["rss_empty_window"]), ""),
                (
                    f"+ {memory['inputs']} inputs",
                    mib(memory["rss_with_inputs"]),
                    mib(memory["rss_with_inputs"] - memory["rss_empty_window"]),
                ),
                (
                    f"+ {memory['results_final_tiles']} results (all)",
                    mib(memory["rss_all"]),
                    mib(memory["growth_over_empty"]),
                ),
                (
                    "  peak (VmHWM), after the inputs / at the end",
                    f"{mib(memory['vm_hwm_after_inputs'])} / {mib(memory['vm_hwm_peak'])}",
                    "",
                ),
                ("  after malloc_trim(0) (diagnostic)", mib(memory["rss_after_malloc_trim"]), ""),
                *fixed_rows(memory, mib),
                (
                    f"{memory['qimages']} full-size ARGB32 QImages, measured",
                    "",
                    mib(memory["qimages_rss_growth"]),
                ),
                (
                    f"{memory['qimages']} x {WIDTH}x{HEIGHT}x4, arithmetic",
                    "",
                    mib(memory["qimages_arithmetic"]),
                ),
            ]
        ),
        f"QImages measured / editor total x{memory['qimages_measured_over_ours']:.2f}; target "
        f"< {TARGET_RSS_MIB:.0f} MiB in all: {met(memory['rss_all'] < TARGET_RSS_MIB * MIB)}",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="UI stall rounds per mode")
    parser.add_argument("--launches", type=int, default=5, help="launches of each kind")
    parser.add_argument("--only", choices=("stall", "launch", "memory"), action="append")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child_main(args.child[0], args.child[1:])
    only = set(args.only or ("stall", "launch", "memory"))
    record: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
    }
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-editor-") as tmp:
        folder = Path(tmp)
        if "launch" in only:
            record["launch"] = bench_launch(args.launches, folder)
        if "stall" in only:
            record["stall"] = bench_stall(args.rounds, folder)
        if "memory" in only:
            record["memory"] = bench_memory(folder)
    record["seconds"] = time.perf_counter() - started
    if only == {"stall", "launch", "memory"}:
        print(report(record["stall"], record["launch"], record["memory"]))
    else:
        print(json.dumps({k: v for k, v in record.items() if k != "stall"}, indent=2))
        if "stall" in record:
            summary = {k: v for k, v in record["stall"].items() if k != "raw_lateness_ms"}
            print(json.dumps(summary, indent=2))
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / "bench_editor.json"
    out.write_text(json.dumps(record, indent=2), encoding="utf-8")
    print(f"\nwrote {out.relative_to(ROOT)} in {record['seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
