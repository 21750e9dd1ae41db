"""Benchmark: paste-back and drift map of a 3840x2160 variant, against a plain numpy blend.

Run on demand (pytest does not collect it):

    python tests/benchmarks/bench_composite.py [--runs 7]

A textured 3840x2160 original (gradient, shapes, grain), a variant that redraws it (its own
grain, a colour drift over part of the picture, new content in the mask) and a mask of a few
soft-edged blobs covering about 10 % of the picture. Timed, interleaved, median of the runs:

- "numpy blend" (the baseline): a plain numpy float32 alpha blend of the same arrays with
  the same weight, ``o + (v - o) * w`` rounded to uint8, the way one writes it first;
- "paste": ``paste_alpha`` (feather 8 px) then ``paste_back``, what Save does;
- "drift map": ``drift_map`` of the variant, what each result's tile shows;
- for information: ``paste_back`` alone, ``difference_heat`` + ``heat_to_rgba`` (the compare
  view's difference overlay) and ``fit_to`` of a 1536x1024 result.

Targets: paste and drift map each under 150 ms and at most 1.5x the baseline. Prints a table
and writes JSON to tests/benchmarks/results/bench_composite.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from app.core import composite  # noqa: E402
from app.core.mask import apply, feathered  # noqa: E402

WIDTH, HEIGHT = 3840, 2160
FEATHER_PX = 8.0
TARGET_MS = 150.0
TARGET_RATIO = 1.5
RESULTS = ROOT / "tests" / "benchmarks" / "results"


def make_original(rng: np.random.Generator) -> np.ndarray:
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
    rgb = np.dstack(
        [
            40 + 170 * x / WIDTH,
            60 + 120 * y / HEIGHT,
            128 + 70 * np.sin((x + 2 * y) / 90.0),
        ]
    )
    picture = rgb.astype(np.uint8)
    for _ in range(60):  # hard-edged shapes, as in a real photo's objects
        centre = (int(rng.integers(0, WIDTH)), int(rng.integers(0, HEIGHT)))
        axes = (int(rng.integers(20, 300)), int(rng.integers(20, 200)))
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        cv2.ellipse(picture, centre, axes, float(rng.uniform(0, 180)), 0, 360, colour, -1)
    return add_grain(picture, rng)


def add_grain(picture: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    grain = rng.normal(0.0, 4.0, picture.shape).astype(np.float32)
    return np.clip(picture + grain, 0, 255).astype(np.uint8)


def make_coverage(rng: np.random.Generator) -> np.ndarray:
    """A few blobs, about 10 % of the picture, with the brush's soft edge."""
    coverage = np.zeros((HEIGHT, WIDTH), np.uint8)
    for cx, cy, rx, ry in ((700, 600, 300, 230), (2600, 700, 380, 270), (1900, 1650, 340, 230)):
        cv2.ellipse(coverage, (cx, cy), (rx, ry), float(rng.uniform(0, 180)), 0, 360, 255, -1)
    apply(coverage, feathered(coverage, 12))
    return coverage


def make_variant(
    original: np.ndarray, coverage: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """The model's redraw: new grain everywhere, a colour drift over a corner, and new
    content where the mask is."""
    base = cv2.GaussianBlur(original, (5, 5), 1.2)  # its own rendering of the texture
    variant = add_grain(base, rng)
    corner = variant[: HEIGHT // 3, WIDTH // 2 :]
    shift = np.array([18, 6, -10], np.int16)
    corner[...] = np.clip(corner.astype(np.int16) + shift, 0, 255).astype(np.uint8)
    inside = coverage >= 128
    variant[inside] = variant[inside] // 3 + np.array([150, 40, 90], np.uint8)
    return variant


def numpy_blend(original: np.ndarray, variant: np.ndarray, weight: np.ndarray) -> np.ndarray:
    o = original.astype(np.float32)
    blended = o + (variant.astype(np.float32) - o) * weight[..., np.newaxis]
    return (blended + 0.5).astype(np.uint8)


def measure(cases: dict[str, Callable[[], object]], runs: int) -> dict[str, list[float]]:
    """Interleaved, so that a slow moment of the machine hits every case alike."""
    for case in cases.values():
        case()  # warm-up: first-touch page faults, OpenCV's thread pool
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(runs):
        for name, case in cases.items():
            start = time.perf_counter()
            case()
            times[name].append((time.perf_counter() - start) * 1000.0)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()

    rng = np.random.default_rng(2026)
    original = make_original(rng)
    coverage = make_coverage(rng)
    variant = make_variant(original, coverage, rng)
    weight = composite.paste_alpha(coverage, FEATHER_PX)
    small = cv2.resize(variant, (1536, 1024), interpolation=cv2.INTER_AREA)

    pasted = composite.paste_back(original, variant, weight)
    outside = weight == 0
    if not np.array_equal(pasted[outside], original[outside]):
        print("paste_back changed pixels outside the mask", file=sys.stderr)
        return 1
    drift = composite.drift_map(original, variant, coverage)

    cases: dict[str, Callable[[], object]] = {
        "numpy blend": lambda: numpy_blend(original, variant, weight),
        "paste": lambda: composite.paste_back(
            original, variant, composite.paste_alpha(coverage, FEATHER_PX)
        ),
        "drift map": lambda: composite.drift_map(original, variant, coverage),
        "paste_back alone": lambda: composite.paste_back(original, variant, weight),
        "difference overlay": lambda: composite.heat_to_rgba(
            composite.difference_heat(original, variant)
        ),
        "fit_to 1536x1024": lambda: composite.fit_to(small, WIDTH, HEIGHT),
    }
    times = measure(cases, args.runs)
    baseline = statistics.median(times["numpy blend"])
    targeted = ("paste", "drift map")

    rows = []
    for name, samples in times.items():
        median = statistics.median(samples)
        row = {
            "case": name,
            "median_ms": round(median, 2),
            "min_ms": round(min(samples), 2),
            "max_ms": round(max(samples), 2),
            "ratio": round(median / baseline, 3),
        }
        if name in targeted:
            row["meets_target"] = median < TARGET_MS and median / baseline <= TARGET_RATIO
        rows.append(row)

    print(
        f"\nPaste-back and drift at {WIDTH}x{HEIGHT}: mask {np.mean(coverage > 0):.1%} of the "
        f"picture, feather {FEATHER_PX:g} px, median of {args.runs} runs, "
        f"{os.cpu_count()} CPUs, OpenCV {cv2.__version__} ({cv2.getNumThreads()} threads)"
    )
    header = f"{'case':<20} {'median ms':>10} {'min ms':>8} {'max ms':>8} {'x blend':>8}  target"
    print(header)
    print("-" * len(header))
    for row in rows:
        verdict = ""
        if "meets_target" in row:
            verdict = f"< {TARGET_MS:g} ms, <= {TARGET_RATIO:g}x: "
            verdict += "met" if row["meets_target"] else "MISSED"
        print(
            f"{row['case']:<20} {row['median_ms']:>10.1f} {row['min_ms']:>8.1f} "
            f"{row['max_ms']:>8.1f} {row['ratio']:>8.2f}  {verdict}"
        )
    print(f"\ndrift of the benchmark variant: {drift.share:.1%} of the unmasked pixels")

    report = {
        "benchmark": "bench_composite",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "size": [WIDTH, HEIGHT],
        "mask_share": round(float(np.mean(coverage > 0)), 4),
        "feather_px": FEATHER_PX,
        "runs": args.runs,
        "baseline": "numpy float32 blend o + (v - o) * w of the same arrays",
        "targets": {"median_ms": TARGET_MS, "ratio": TARGET_RATIO, "cases": list(targeted)},
        "drift_share": round(drift.share, 4),
        "results": rows,
        "samples_ms": {name: [round(t, 2) for t in samples] for name, samples in times.items()},
        "environment": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "opencv": cv2.__version__,
            "opencv_threads": cv2.getNumThreads(),
            "cpus": os.cpu_count(),
            "machine": platform.machine(),
        },
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / "bench_composite.json"
    path.write_text(json.dumps(report, indent=2), encoding="utf-8")
    print(f"wrote {path.relative_to(ROOT)}")
    return 0 if all(row.get("meets_target", True) for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
