"""Benchmark: crop to mask at 48 MP (issue 14): preparing the request, and pasting a result
back into the full-resolution photo.

    python tests/benchmarks/bench_crop.py [--rounds 7]

The photo is generated in memory: 8000x6000, gradients under grain (bench_photos.py's
``photo_like``), and a mask of one painted area covering 5 % of it (an ellipse of aspect
1.6 with strokes across it, soft-edged), as when one object is retouched. Everything is
timed in this process, interleaved round by round, after a warm-up; medians.

1. Preparing the request (``app.core.cropping.prepare_crop`` on the working pixels already
   decoded): cutting the region out and scaling it to the planned size, scaling the mask
   with it, encoding both and writing the files. Baseline: encoding the same crop (already
   cut and scaled) alone with Pillow as a PNG at its fastest level (``compress_level=1``,
   what whole-image sending uses). Target: at most 1.5x the baseline; for gpt-image-1's
   1536x1024 and, as a diagnostic, gpt-image-2's larger size. Diagnostics: Pillow at its
   default level, and decoding the 48 MP JPEG's working pixels (done once per run, before
   any of this).
2. Pasting a 1536x1024 result back at full resolution: ``result_to_region`` (the result
   scaled to the region), ``region_weight`` (the feathered mask, 4 px, of the region) and
   ``paste_region`` into the photo's own pixels (in place, as ``paste_region_file``
   does), for (a) an 8-bit sRGB photo, (b) an 8-bit Adobe RGB photo (little-cms) and (c)
   a 16-bit ProPhoto photo (the float path). Baseline, per photo: a plain numpy float32
   blend of the region, ``rint(o + w * (r - o))`` at the photo's depth, with the result
   already at the region's size and depth and the weight given. Target: at most 2x the
   baseline. Diagnostic: the whole-photo way for (a) (``fit_to`` the 48 MP photo,
   ``paste_alpha`` of the whole mask, ``paste_into``).

Prints a table (targets, PASS/MISS) and writes JSON to tests/benchmarks/results/.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from bench_photos import Row, photo_like, print_and_save, write_jpeg  # noqa: E402
from PIL import Image  # noqa: E402

from app.core import composite  # noqa: E402
from app.core.cropping import (  # noqa: E402
    paste_region,
    prepare_crop,
    region_weight,
    result_to_region,
    working_pixels,
)
from app.core.original import Original, paste_into  # noqa: E402
from app.core.region import Rect, RegionPlan, plan_for_coverage  # noqa: E402
from app.core.schema import load_schema  # noqa: E402
from tests.support import icc  # noqa: E402

WIDTH, HEIGHT = 8000, 6000
MASK_SHARE = 0.05
FEATHER_PX = 4.0
TARGET_PREPARE_RATIO = 1.5
TARGET_PASTE_RATIO = 2.0
SCHEMA = load_schema()


def five_percent_mask(width: int, height: int) -> np.ndarray:
    """One painted area of about 5 % of the picture: an ellipse (aspect 1.6, 4.5 %) and two
    strokes across it, with a soft edge (blurred in the area's box only)."""
    coverage = np.zeros((height, width), np.uint8)
    minor = round((0.9 * MASK_SHARE * width * height / (1.6 * np.pi)) ** 0.5)  # + strokes
    centre = (round(width * 0.6), round(height * 0.45))
    cv2.ellipse(coverage, centre, (round(1.6 * minor), minor), 12, 0, 360, 255, -1)
    x, y = centre
    for dy in (-minor // 2, minor // 2):
        cv2.line(coverage, (x - 2 * minor, y + dy), (x + 2 * minor, y - dy), 255, 60)
    box = composite.nonzero_box(coverage).expanded(40).clipped(width, height)
    coverage[box.slices] = cv2.GaussianBlur(coverage[box.slices], (0, 0), 6)
    return coverage


def plan(coverage: np.ndarray, model: str) -> RegionPlan:
    found = plan_for_coverage(coverage, SCHEMA.rules_for(model), max_pixels=SCHEMA.files.max_pixels)
    assert found is not None
    return found


def medians(cases: dict[str, Callable[[], Any]], rounds: int) -> dict[str, float]:
    """Each case's median time in milliseconds, interleaved round by round."""
    for case in cases.values():
        case()  # warm-up: page faults, OpenCV's threads, little-cms's transform
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(rounds):
        for name, case in cases.items():
            start = time.perf_counter()
            case()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(found) * 1000 for name, found in times.items()}


def pillow_png(pixels: np.ndarray, level: int | None = None) -> bytes:
    buffer = io.BytesIO()
    options = {} if level is None else {"compress_level": level}
    Image.fromarray(pixels).save(buffer, "PNG", **options)
    return buffer.getvalue()


# --- 1. preparing the request ---------------------------------------------------------------


def measure_prepare(pixels: np.ndarray, coverage: np.ndarray, rounds: int) -> list[Row]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-crop-") as tmp:
        folder = Path(tmp)
        for model, target in (("gpt-image-1", TARGET_PREPARE_RATIO), ("gpt-image-2", None)):
            chosen = plan(coverage, model)
            files = prepare_crop(pixels, coverage, chosen, folder)
            sent = files.pixels  # the crop as sent, for the baseline
            found = medians(
                {
                    "prepare": lambda p=chosen: prepare_crop(pixels, coverage, p, folder),
                    "pillow": lambda s=sent: pillow_png(s, 1),
                    "pillow6": lambda s=sent: pillow_png(s),
                },
                rounds,
            )
            what = f"{chosen.size} from {chosen.region.width}x{chosen.region.height}"
            png_kb = files.image.stat().st_size / 1024
            rows += [
                Row(f"prepare the request, {model}", found["prepare"], "ms", found["pillow"],
                    target, on_ratio=target is not None,
                    note=f"{what} ({chosen.scale:.2f}x); PNG {png_kb:.0f} KB"),
                Row(f"  Pillow PNG at its default level, {model}", found["pillow6"], "ms",
                    found["pillow"], note="diagnostic"),
            ]  # fmt: skip
    return rows


def measure_decode(photo: Path, rounds: int) -> list[Row]:
    found = medians(
        {"decode": lambda: working_pixels(photo, max_pixels=1 << 30)}, max(1, rounds // 2)
    )
    note = "diagnostic: once per run, before preparing"
    return [Row("decode the 48 MP JPEG's working pixels", found["decode"], "ms", note=note)]


# --- 2. pasting back --------------------------------------------------------------------------


def region_blend(pixels: np.ndarray, region: Rect, result: np.ndarray, weight: np.ndarray) -> None:
    """The baseline: a plain numpy float32 blend of the region, in place."""
    part = pixels[region.slices]
    o = part.astype(np.float32)
    part[...] = np.rint(o + weight[..., None] * (result.astype(np.float32) - o))


def measure_paste(coverage: np.ndarray, rounds: int) -> list[Row]:
    chosen = plan(coverage, "gpt-image-1")
    assert chosen.output == (1536, 1024), chosen
    region = chosen.region
    result = photo_like(1536, 1024, seed=3)
    rows = []
    photos = {
        "8-bit sRGB": (8, None),
        "8-bit Adobe RGB": (8, icc.adobe_rgb()),
        "16-bit ProPhoto": (16, icc.prophoto()),
    }
    for label, (bits, profile) in photos.items():
        pixels = photo_like(WIDTH, HEIGHT, seed=16, bits=bits)
        original = Original(pixels, "RGB", bits, profile, None, "PNG", (WIDTH, HEIGHT))
        placed = result_to_region(result, chosen)
        at_depth = placed.astype(np.uint16) * 257 if bits == 16 else placed
        weight = region_weight(coverage, region, FEATHER_PX)
        scratch = pixels.copy()  # the baseline blends into its own copy
        before = pixels.copy()

        def paste(original=original, pixels=pixels) -> None:
            fitted = result_to_region(result, chosen)
            w = region_weight(coverage, region, FEATHER_PX)
            paste_region(original, fitted, region, w, out=pixels)

        cases: dict[str, Callable[[], Any]] = {
            "paste": paste,
            "blend": lambda s=scratch, a=at_depth, w=weight: region_blend(s, region, a, w),
        }
        if bits == 8 and profile is None:
            whole_original = Original(pixels.copy(), "RGB", 8, None, None, "PNG",
                                      (WIDTH, HEIGHT))  # fmt: skip

            def whole(original=whole_original) -> None:
                fitted = composite.fit_to(result, WIDTH, HEIGHT).pixels
                paste_into(original, fitted, composite.paste_alpha(coverage, FEATHER_PX))

            cases["whole"] = whole
        found = medians(cases, rounds)
        outside = coverage == 0  # the paste went in place, again and again: still exact?
        assert np.array_equal(pixels[outside], before[outside]), "changed outside the mask"
        assert not np.array_equal(pixels[region.slices], before[region.slices]), "no paste"
        rows.append(
            Row(f"paste 1536x1024 back, {label}", found["paste"], "ms", found["blend"],
                TARGET_PASTE_RATIO, on_ratio=True,
                note=f"into {region.width}x{region.height} of {WIDTH}x{HEIGHT}")
        )  # fmt: skip
        if "whole" in found:
            rows.append(
                Row("  the whole-photo way, 8-bit sRGB", found["whole"], "ms", found["blend"],
                    note="diagnostic: fit_to 48 MP, paste_alpha, paste_into")
            )  # fmt: skip
        del pixels, original, scratch, before, cases
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    coverage = five_percent_mask(WIDTH, HEIGHT)
    share = np.count_nonzero(coverage) / coverage.size
    with tempfile.TemporaryDirectory(prefix="bench-crop-photo-") as tmp:
        photo = write_jpeg(Path(tmp) / "camera.jpg", WIDTH, HEIGHT)
        pixels = working_pixels(photo, max_pixels=1 << 30)
        rows = measure_decode(photo, args.rounds)
    rows = measure_prepare(pixels, coverage, args.rounds) + rows
    del pixels
    rows += measure_paste(coverage, args.rounds)

    title = (
        f"\nCrop to mask: {WIDTH}x{HEIGHT} photo, mask {share:.1%} of it, feather "
        f"{FEATHER_PX:g} px, {args.rounds} rounds, {os.cpu_count()} CPUs, OpenCV "
        f"{cv2.__version__}; medians"
    )
    print_and_save("bench_crop", title, rows, photo=f"{WIDTH}x{HEIGHT}", mask_share=share)
    return 0


if __name__ == "__main__":
    sys.exit(main())
