"""Benchmark: a 48 MP camera photo in the editor (issue 12, real photos), offscreen.

    QT_QPA_PLATFORM=offscreen python tests/benchmarks/bench_photos.py [--rounds 5]

The photo is generated in a temporary folder: 8000x6000, gradients under noise (so JPEG
cannot squeeze it, as with a real photo's grain), JPEG quality 90, sRGB, upright: a file
the editor uses as it is (no working copy), though it is over the API's per-image limit.
Every measurement runs in a fresh child process (this script with ``--child``), so no run
inherits another's memory or warm caches; modes alternate from round to round.

1. Open. From ``MaskCanvas.open_file`` (the real EditDocument, decoding in its worker) to
   the end of the canvas's first painted frame showing the photo, in a 1400x900 viewport;
   with the part spent before the picture reached the UI thread. Baseline: a bare
   ``Image.open(path).load()`` of the same file. Target: at most 1.5x the baseline.
   Diagnostic: the worst lateness of a 5 ms timer on the UI thread while opening (what a
   designer would feel as a stall).
2. Brush. The stroke of bench_canvas.py (real mouse-move events, each timed to the end of
   the viewport's repaint) over the opened photo, at fit and at 100 %. Baseline: the same
   stroke over a 12 MP (4000x3000) photo. Target: p99 at most 8 ms per move.
3. Memory. Process RSS with the photo open on the canvas, then with four 1536x1024
   results also held at full size with their zoom levels (as the compare view holds
   them); the growth over the empty canvas, against the decoded photo's own size.
   Target: under 1.5 GB (1536 MiB) in all.
4. Paste-back with profile conversion (``app.core.original.paste_into``): a 1536x1024 sRGB
   result, fitted to 8000x6000 (``composite.fit_to``, timed apart: the plain path needs it
   too), pasted through a mask of a few brush strokes (about 5 % of the picture, feather
   4 px) into (a) an 8-bit Adobe RGB JPEG (little-cms) and (b) a 16-bit ProPhoto PNG (the
   float path). Baseline, per depth: a plain numpy float32 blend of the WHOLE image,
   ``rint(o + w * (r - o))`` at the photo's depth (as bench_composite.py writes it), the
   result already at that depth. Target: at most 2x the baseline. Diagnostics: the
   conversion alone, and (c) the worst case, a mask covering the whole 16-bit picture.
5. Writing the 48 MP 16-bit result: ``write_original`` as PNG (profile and EXIF chunks,
   atomic, fsync'd) against a bare ``cv2.imencode`` of the same array at the same zlib
   level, and that against ``cv2.imencode`` with no parameters, OpenCV's own defaults,
   which are not the same as level 1 (diagnostic; at most 3 rounds).

Further measurements are functions appended to ``MEASUREMENTS``: each takes the run's
``Context`` and returns its ``Row``s. Prints a table (targets, PASS/MISS per line) and
writes JSON to tests/benchmarks/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from tests.support import icc  # noqa: E402

RESULTS = ROOT / "tests" / "benchmarks" / "results"
MIB = 1024 * 1024
WIDTH, HEIGHT = 8000, 6000
SMALL = (4000, 3000)  # the brush baseline's photo
VIEWPORT = (1400, 900)
RESULT_SIZE = (1536, 1024)
TARGET_OPEN_RATIO = 1.5
TARGET_P99_MS = 8.0
TARGET_RSS_MIB = 1536.0
TARGET_PASTE_RATIO = 2.0
PASTE_FEATHER_PX = 4.0
WRITE_ROUNDS = 3  # at most: three 48 MP PNG encodings a round


# --- the run's photos and the table ------------------------------------------------------


def photo_like(width: int, height: int, seed: int = 12, bits: int = 8) -> np.ndarray:
    """Smooth gradients with a soft wave, under grain (per-pixel noise); uint16 with
    ``bits`` 16 (the grain then fills the low bits too, as a raw conversion's does)."""
    rng = np.random.default_rng(seed)
    x = np.linspace(0.0, 1.0, width, dtype=np.float32)[None, :]
    y = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None]
    pixels = np.empty((height, width, 3), np.float32)
    pixels[..., 0] = 40 + 180 * x + 0 * y
    pixels[..., 1] = 30 + 160 * y + 0 * x
    pixels[..., 2] = 90 + 80 * np.sin(6 * (x + y))
    pixels += rng.normal(0, 12, (height, width, 1)).astype(np.float32)
    if bits == 16:
        pixels *= np.float32(257)
        return np.rint(pixels.clip(0, 65535, out=pixels), out=pixels).astype(np.uint16)
    return pixels.clip(0, 255).astype(np.uint8)


def write_jpeg(path: Path, width: int, height: int, icc_profile: bytes | None = None) -> Path:
    options = {"icc_profile": icc_profile} if icc_profile else {}
    Image.fromarray(photo_like(width, height)).save(path, "JPEG", quality=90, **options)
    return path


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    crc = struct.pack(">I", zlib.crc32(kind + body))
    return struct.pack(">I", len(body)) + kind + body + crc


def write_png16(path: Path, width: int, height: int, icc_profile: bytes) -> Path:
    """A 16-bit RGB PNG with ``icc_profile`` (an iCCP chunk right after the IHDR), encoded
    by OpenCV at its fastest setting."""
    bgr = photo_like(width, height, seed=16, bits=16)[..., ::-1]
    ok, encoded = cv2.imencode(".png", bgr, [cv2.IMWRITE_PNG_COMPRESSION, 1])
    assert ok, "OpenCV could not encode the 16-bit PNG"
    data = encoded.tobytes()
    iccp = _png_chunk(b"iCCP", b"ProPhoto\0\0" + zlib.compress(icc_profile))
    path.write_bytes(data[:33] + iccp + data[33:])  # 33: the signature and the IHDR chunk
    return path


@dataclass(frozen=True)
class Context:
    """What every measurement gets: the photos of this run and how many rounds."""

    folder: Path
    photo: Path  # 8000x6000 JPEG
    small: Path  # 4000x3000 JPEG, the brush baseline
    results: list[Path]  # four 1536x1024 PNGs
    rounds: int

    # The paste-back photos are made on first use, after the open, brush and memory
    # measurements: making them churns some 3 GB, and a fresh VM then faults pages in
    # slowly for a while, which doubled the open figure when they were made up front.
    @property
    def adobe(self) -> Path:
        """8000x6000 JPEG, 8-bit, tagged Adobe RGB."""
        path = self.folder / "adobe.jpg"
        if not path.exists():
            write_jpeg(path, WIDTH, HEIGHT, icc.adobe_rgb())
            os.sync()  # no write-back of it during the timings
        return path

    @property
    def prophoto(self) -> Path:
        """8000x6000 PNG, 16-bit RGB, tagged ProPhoto."""
        path = self.folder / "prophoto.png"
        if not path.exists():
            write_png16(path, WIDTH, HEIGHT, icc.prophoto())
            os.sync()
        return path


@dataclass(frozen=True)
class Row:
    """One line of the table: a figure, what it is measured against, and its target."""

    measure: str
    value: float
    unit: str
    baseline: float | None = None  # the same-run baseline, in ``unit``
    target: float | None = None  # the value (or ratio, when ``on_ratio``) must be at most
    on_ratio: bool = False
    note: str = ""

    @property
    def ratio(self) -> float | None:
        return self.value / self.baseline if self.baseline else None

    @property
    def verdict(self) -> str:
        if self.target is None:
            return ""
        judged = self.ratio if self.on_ratio else self.value
        return "PASS" if judged is not None and judged <= self.target else "MISS"

    def line(self) -> str:
        base = f"{self.baseline:10.1f}" if self.baseline is not None else f"{'':10}"
        ratio = f"{self.ratio:6.2f}x" if self.ratio is not None else f"{'':7}"
        if self.target is None:
            target = ""
        else:
            target = f"<= {self.target:g}{'x' if self.on_ratio else ' ' + self.unit}"
        return (
            f"{self.measure:44} {self.value:10.1f} {self.unit:4} {base} {ratio} "
            f"{target:>14} {self.verdict:4} {self.note}"
        )


def print_and_save(name: str, title: str, rows: list[Row], **facts: Any) -> Path:
    """Print ``title`` and the table of ``rows``; write them, with ``facts`` about the run,
    as JSON to tests/benchmarks/results/<name>-<stamp>.json (returned)."""
    print(title)
    header = f"{'measure':44} {'value':>10} {'unit':4} {'baseline':>10} {'ratio':>7} "
    print(header + f"{'target':>14} {'':4} note")
    print("-" * (len(header) + 40))
    for row in rows:
        print(row.line())
    report = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        **facts,
        "rows": [{**asdict(row), "ratio": row.ratio, "verdict": row.verdict} for row in rows],
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = RESULTS / f"{name}-{stamp}.json"
    path.write_text(json.dumps(report, indent=2), encoding="utf-8")
    print(f"\nwrote {path.relative_to(ROOT)}")
    return path


def run_child(mode: str, *args: str, timeout: float = 600) -> dict[str, Any]:
    """This script in a fresh interpreter; its last stdout line is JSON."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    env.setdefault("QT_LOGGING_RULES", "qt.qpa.*=false")
    command = [sys.executable, __file__, "--child", mode, *args]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT
    )
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        sys.stderr.write(done.stderr[-4000:])
        raise RuntimeError(f"the {mode} child failed with exit code {done.returncode}")
    return json.loads(lines[-1])


# --- measurements (the parent's side) ----------------------------------------------------


def measure_open(context: Context) -> list[Row]:
    baseline, ours, before_ui, lateness = [], [], [], []
    for _ in range(context.rounds):
        baseline.append(run_child("decode", str(context.photo))["seconds"])
        opened = run_child("open", str(context.photo))
        ours.append(opened["seconds"])
        before_ui.append(opened["until_ui_seconds"])
        lateness.append(opened["worst_lateness_ms"])
    base_ms = statistics.median(baseline) * 1000
    return [
        Row(
            "open 48 MP JPEG to first painted frame",
            statistics.median(ours) * 1000,
            "ms",
            base_ms,
            TARGET_OPEN_RATIO,
            on_ratio=True,
            note="baseline: Image.open().load(); medians",
        ),
        Row(
            "  of which before the UI thread has it",
            statistics.median(before_ui) * 1000,
            "ms",
            base_ms,
            note="decode and zoom levels, in the worker",
        ),
        Row(
            "  worst UI-thread stall while opening",
            max(lateness),
            "ms",
            note="lateness of a 5 ms timer (diagnostic)",
        ),
    ]


def measure_brush(context: Context) -> list[Row]:
    big = run_child("brush", str(context.photo))
    small = run_child("brush", str(context.small))
    rows = []
    for zoom in ("fit", "100%"):
        rows.append(
            Row(
                f"brush p99 per move, 48 MP, {zoom}",
                big[zoom]["p99_ms"],
                "ms",
                small[zoom]["p99_ms"],
                TARGET_P99_MS,
                note=f"p50 {big[zoom]['p50_ms']:.2f} ms; baseline: the 12 MP photo",
            )
        )
    return rows


def measure_memory(context: Context) -> list[Row]:
    found = run_child("memory", str(context.photo), *map(str, context.results))
    decoded_mib = WIDTH * HEIGHT * 3 / MIB
    return [
        Row(
            "RSS growth with the 48 MP photo open",
            found["photo_growth_mib"],
            "MiB",
            decoded_mib,
            note="baseline: the decoded RGB photo's size",
        ),
        Row(
            "RSS, photo open + 4 results at full size",
            found["rss_mib"],
            "MiB",
            target=TARGET_RSS_MIB,
            note=f"peak (VmHWM) {found['peak_mib']:.0f} MiB; empty canvas "
            f"{found['empty_mib']:.0f} MiB",
        ),
    ]


def _ms(found: dict[str, Any], key: str) -> float:
    return statistics.median(found[key]) * 1000


def _paste_note(found: dict[str, Any]) -> str:
    return (
        f"mask {found['mask_share']:.1%}, converted {found['converted_share']:.1%} "
        f"in {found['boxes']} boxes; baseline: whole-image float32 blend"
    )


def measure_paste_8bit(context: Context) -> list[Row]:
    found = run_child("paste", str(context.adobe), str(context.results[0]), str(context.rounds))
    blend_ms = _ms(found, "blend")
    return [
        Row(
            "paste into 8-bit Adobe RGB JPEG, 5 % mask",
            _ms(found, "paste"),
            "ms",
            blend_ms,
            TARGET_PASTE_RATIO,
            on_ratio=True,
            note=_paste_note(found),
        ),
        Row(
            "  of which sRGB -> Adobe RGB (little-cms)",
            _ms(found, "convert"),
            "ms",
            blend_ms,
            note="srgb_into over the same boxes (diagnostic)",
        ),
        Row(
            "  fit_to 1536x1024 -> 8000x6000 (shared)",
            _ms(found, "fit"),
            "ms",
            note="needed by the plain path too: not in either figure",
        ),
        Row(
            f"  paste_alpha, feather {PASTE_FEATHER_PX:g} px (shared)",
            _ms(found, "alpha"),
            "ms",
            note="the weight both paths take: not in either figure",
        ),
    ]


def measure_paste_16bit(context: Context) -> list[Row]:
    found = run_child(
        "paste", str(context.prophoto), str(context.results[0]), str(context.rounds), "whole"
    )
    blend_ms = _ms(found, "blend")
    return [
        Row(
            "paste into 16-bit ProPhoto PNG, 5 % mask",
            _ms(found, "paste"),
            "ms",
            blend_ms,
            TARGET_PASTE_RATIO,
            on_ratio=True,
            note=_paste_note(found) + " (uint16)",
        ),
        Row(
            "  of which sRGB -> ProPhoto (float path)",
            _ms(found, "convert"),
            "ms",
            blend_ms,
            note="srgb_into over the same boxes (diagnostic)",
        ),
        Row(
            "paste into 16-bit ProPhoto, whole picture",
            _ms(found, "whole"),
            "ms",
            blend_ms,
            note="the worst case: every pixel converted (diagnostic)",
        ),
    ]


def measure_write(context: Context) -> list[Row]:
    found = run_child("write", str(context.prophoto), str(context.results[0]), str(context.rounds))
    rounds = len(found["write"])
    return [
        Row(
            "write 48 MP 16-bit PNG (write_original)",
            _ms(found, "write"),
            "ms",
            _ms(found, "imencode"),
            note=f"zlib level {found['level']}, {found['file_mb']:.0f} MB, fsync'd; baseline: "
            f"cv2.imencode of the same array at that level; {rounds} rounds (diagnostic)",
        ),
        Row(
            "  cv2.imencode with OpenCV's defaults",
            _ms(found, "imencode_default"),
            "ms",
            _ms(found, "imencode"),
            note=f"no parameters, {found['default_mb']:.0f} MB; baseline: at write_original's "
            "level (diagnostic)",
        ),
    ]


MEASUREMENTS: list[Callable[[Context], list[Row]]] = [
    measure_open,
    measure_brush,
    measure_memory,
    measure_paste_8bit,
    measure_paste_16bit,
    measure_write,
]
"""Run in this order; append a function to add a measurement to the table."""


# --- child processes: the Qt side --------------------------------------------------------


def rss() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def vm_hwm() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def child_decode(path: str) -> dict[str, Any]:
    start = time.perf_counter()
    with Image.open(path) as image:
        image.load()
    return {"seconds": time.perf_counter() - start}


def _canvas():
    """A shown MaskCanvas of the viewport's size, its first (empty) frame painted."""
    from PySide6.QtWidgets import QApplication

    from app.ui.canvas import MaskCanvas

    app = QApplication.instance() or QApplication([sys.argv[0]])
    canvas = MaskCanvas(confirm_discard=lambda _text: True)
    canvas.resize(*VIEWPORT)
    canvas.show()
    app.processEvents()
    return app, canvas


def _open_and_paint(app, canvas, path: str, on_tick: Callable[[], None] = lambda: None):
    """Open ``path`` through the canvas's document; returns (seconds to the end of the
    first frame painted with the photo, seconds until the picture reached the UI thread)."""
    from harness import PaintCounter

    counter = PaintCounter()
    arrived: list[float] = []

    def on_arrival() -> None:  # the decoded picture reached the UI thread
        arrived.append(time.perf_counter())

    def on_changed(_refit: bool) -> None:
        counter.paints = 0  # count only the frames that show the photo
        changed.append(True)

    changed: list[bool] = []
    canvas.edit.about_to_change.connect(on_arrival)
    canvas.edit.picture_changed.connect(on_changed)
    canvas.viewport().installEventFilter(counter)
    failed: list[str] = []
    canvas.edit.open_failed.connect(failed.append)
    start = time.perf_counter()
    canvas.open_file(path)
    while not (changed and counter.paints):
        if failed:
            raise RuntimeError(failed[0])
        app.processEvents()
        on_tick()
        time.sleep(0.0005)
    end = time.perf_counter()
    canvas.viewport().removeEventFilter(counter)
    return end - start, arrived[0] - start


def child_open(path: str) -> dict[str, Any]:
    from PySide6.QtCore import QTimer

    app, canvas = _canvas()
    lateness: list[float] = []
    due = [time.perf_counter() + 0.005]
    timer = QTimer()
    timer.setTimerType(timer.timerType().PreciseTimer)
    timer.setSingleShot(True)

    def fire() -> None:
        now = time.perf_counter()
        lateness.append((now - due[0]) * 1000)
        due[0] = now + 0.005
        timer.start(5)

    timer.timeout.connect(fire)
    timer.start(5)
    seconds, until_ui = _open_and_paint(app, canvas, path)
    timer.stop()
    size = canvas.image().size()
    assert (size.width(), size.height()) == Image.open(path).size, "shown at the wrong size"
    return {
        "seconds": seconds,
        "until_ui_seconds": until_ui,
        "worst_lateness_ms": max(lateness, default=0.0),
    }


def child_brush(path: str) -> dict[str, Any]:
    from bench_canvas import run_stroke, stroke_path

    app, canvas = _canvas()
    _open_and_paint(app, canvas, path)
    canvas.brush.set_size(80)
    canvas.brush.set_hardness(0.7)
    viewport = canvas.viewport()
    points = stroke_path(1500, viewport.width(), viewport.height())
    found = {}
    for zoom, set_zoom in (("fit", canvas.fit), ("100%", lambda: canvas.set_zoom(1.0))):
        set_zoom()
        app.processEvents()
        found[zoom] = run_stroke(canvas, points, app.processEvents, zoom)
    return found


def child_memory(path: str, *results: str) -> dict[str, Any]:
    import gc

    from app.core.photo import prepare
    from app.models.levels import decode_levels

    app, canvas = _canvas()
    gc.collect()
    empty = rss()
    _open_and_paint(app, canvas, path)
    gc.collect()
    with_photo = rss()
    held = []
    for result in results:  # as the compare view holds a result: full size, with levels
        held.append(decode_levels(prepare(Path(result), Path(tempfile.gettempdir())), result))
    gc.collect()
    final = rss()
    return {
        "empty_mib": empty / MIB,
        "photo_growth_mib": (with_photo - empty) / MIB,
        "rss_mib": final / MIB,
        "peak_mib": vm_hwm() / MIB,
        "held": len(held),
    }


# --- child processes: paste-back and writing ---------------------------------------------


def brush_strokes(width: int, height: int, seed: int = 5) -> np.ndarray:
    """A coverage layer of six wandering brush strokes (80-130 px radius, soft edged),
    about 5 % of an 8000x6000 picture."""
    rng = np.random.default_rng(seed)
    coverage = np.zeros((height, width), np.uint8)
    for _ in range(6):
        point = rng.uniform((0.15 * width, 0.15 * height), (0.85 * width, 0.85 * height))
        heading = rng.uniform(0, 2 * np.pi)
        points = []
        for _ in range(40):
            points.append(point.copy())
            heading += rng.normal(0, 0.25)
            point += 40 * np.array([np.cos(heading), np.sin(heading)])
        radius = int(rng.integers(80, 130))
        cv2.polylines(coverage, [np.array(points, np.int32)], False, 255, 2 * radius, cv2.LINE_AA)
    return cv2.GaussianBlur(coverage, (0, 0), 8)  # the brush's soft edge


def float_blend(original: np.ndarray, result: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """The baseline: a plain numpy float32 blend of the whole image at its own depth."""
    o = original.astype(np.float32)
    blended = np.rint(o + weight[..., None] * (result.astype(np.float32) - o))
    return blended.astype(original.dtype)


def _timed(function: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    value = function()
    return time.perf_counter() - start, value


def _paste_inputs(photo: str, result: str):
    """The photo as read_original gives it and the result as the editor has it."""
    from app.core.original import read_original

    original = read_original(Path(photo), max_pixels=WIDTH * HEIGHT)
    with Image.open(result) as image:
        srgb = np.asarray(image.convert("RGB"))
    return original, srgb


def child_paste(photo: str, result: str, rounds: str, *extra: str) -> dict[str, Any]:
    from app.core import composite
    from app.core.original import paste_into, srgb_into

    original, srgb = _paste_inputs(photo, result)
    width, height = original.size
    coverage = brush_strokes(width, height)
    found: dict[str, Any] = {key: [] for key in ("fit", "alpha", "blend", "paste", "convert")}
    fitted = composite.fit_to(srgb, width, height).pixels
    weight = composite.paste_alpha(coverage, PASTE_FEATHER_PX)
    boxes = composite.weight_boxes(weight)
    # The baseline blends a result already at the photo's depth (x 257 at 16 bits).
    at_depth = fitted.astype(np.uint16) * 257 if original.bits == 16 else fitted
    convert = srgb_into(original)

    def convert_boxes() -> None:
        for box in boxes:
            convert(fitted[box.slices][..., :3])

    cases: dict[str, Callable[[], Any]] = {
        "fit": lambda: composite.fit_to(srgb, width, height),
        "alpha": lambda: composite.paste_alpha(coverage, PASTE_FEATHER_PX),
        "blend": lambda: float_blend(original.pixels, at_depth, weight),
        "paste": lambda: paste_into(original, fitted, weight),
        "convert": convert_boxes,
    }
    if "whole" in extra:
        everything = composite.paste_alpha(np.full_like(coverage, 255), PASTE_FEATHER_PX)
        cases["whole"] = lambda: paste_into(original, fitted, everything)
        found["whole"] = []
    for case in cases.values():
        case()  # warm-up: first-touch page faults, OpenCV's threads, little-cms's transform
    for _ in range(int(rounds)):  # interleaved: a slow moment of the machine hits all alike
        for name, case in cases.items():
            found[name].append(_timed(case)[0])
    pasted = paste_into(original, fitted, weight)
    outside = weight == 0
    assert np.array_equal(pasted[outside], original.pixels[outside]), "changed outside"
    assert not np.array_equal(pasted, original.pixels), "nothing was pasted"
    found["mask_share"] = float(np.count_nonzero(coverage)) / coverage.size
    found["converted_share"] = sum(box.area for box in boxes) / coverage.size
    found["boxes"] = len(boxes)
    return found


def child_write(photo: str, result: str, rounds: str) -> dict[str, Any]:
    from app.core import composite
    from app.core.original import paste_into, write_original
    from app.core.original.writing import PNG_LEVEL_16 as PNG_LEVEL

    original, srgb = _paste_inputs(photo, result)
    width, height = original.size
    weight = composite.paste_alpha(brush_strokes(width, height), PASTE_FEATHER_PX)
    pixels = paste_into(original, composite.fit_to(srgb, width, height).pixels, weight)
    target = Path(photo).with_name("pasted.png")
    level = [cv2.IMWRITE_PNG_COMPRESSION, PNG_LEVEL]
    found: dict[str, Any] = {"write": [], "imencode": [], "imencode_default": []}
    sizes = {}
    for _ in range(max(1, min(int(rounds), WRITE_ROUNDS))):  # ~20 s a round
        found["write"].append(_timed(lambda: write_original(target, pixels, original, "png"))[0])
        seconds, (_, encoded) = _timed(lambda: cv2.imencode(".png", pixels, level))
        found["imencode"].append(seconds)
        sizes["imencode"] = encoded.size
        seconds, (_, encoded) = _timed(lambda: cv2.imencode(".png", pixels))
        found["imencode_default"].append(seconds)
        sizes["imencode_default"] = encoded.size
    found["level"] = PNG_LEVEL
    found["file_mb"] = target.stat().st_size / 1e6
    found["default_mb"] = sizes["imencode_default"] / 1e6
    target.unlink()
    return found


CHILDREN = {
    "decode": child_decode,
    "open": child_open,
    "brush": child_brush,
    "memory": child_memory,
    "paste": child_paste,
    "write": child_write,
}


# --- main --------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        mode, *rest = args.child
        print(json.dumps(CHILDREN[mode](*rest)))
        return 0

    with tempfile.TemporaryDirectory(prefix="bench-photos-") as tmp:
        folder = Path(tmp)
        results = []
        for index in range(4):
            result = folder / f"result-{index}.png"
            Image.fromarray(photo_like(*RESULT_SIZE, seed=index)).save(result, compress_level=1)
            results.append(result)
        context = Context(
            folder,
            write_jpeg(folder / "camera.jpg", WIDTH, HEIGHT),
            write_jpeg(folder / "small.jpg", *SMALL),
            results,
            args.rounds,
        )
        rows = [row for measure in MEASUREMENTS for row in measure(context)]
        photo_mb = context.photo.stat().st_size / 1e6
        pasted_into = (
            f"Adobe RGB JPEG ({context.adobe.stat().st_size / 1e6:.1f} MB) and 16-bit "
            f"ProPhoto PNG ({context.prophoto.stat().st_size / 1e6:.0f} MB)"
        )

    title = (
        f"\nReal photos: {WIDTH}x{HEIGHT} JPEG ({photo_mb:.1f} MB, quality 90), "
        f"{VIEWPORT[0]}x{VIEWPORT[1]} viewport, {args.rounds} rounds, {os.cpu_count()} CPUs, "
        f"OpenCV {cv2.__version__}; results pasted into an {pasted_into}, "
        f"medians"
    )
    print_and_save(
        "bench_photos", title, rows, photo=f"{WIDTH}x{HEIGHT} JPEG q90", pasted_into=pasted_into
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
