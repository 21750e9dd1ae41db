"""Benchmark of the local engine (run on demand: ``python tests/benchmarks/bench_engine.py``).

For a 1024x1024 photo with 10% masked and a 3840x2160 photo with 5% masked:

- per variant, the engine's fill (window, fill, composite) against OpenCV's own
  ``cv2.inpaint`` call on the same full image (same method and radius; the membrane fill,
  which has no OpenCV counterpart, against Telea radius 3): the overhead ratio;
- per variant, fill + PNG encoding (what a non-streaming request adds per variant);
- end to end over HTTP on loopback: one request with n=1 (variant 0, the default), one with
  n=1 asking for the direct Navier-Stokes variant (whose fill *is* cv2.inpaint, so its ratio
  is pure plumbing: upload, PNG decode, PNG encode, base64, JSON), and one with n=10 divided
  by 10 against the mean cv2.inpaint time of the variants;
- fill quality: the mean and median error against the clean photo in 16 elliptical holes
  (4 sample photos, 4 seeded holes each), per variant;
- texture (``texture_cases.py`` defines the holes and the measures): the texture ratio and
  the PSNR in the hole for cv2.inpaint (Telea, radius 3), the previous default (the pyramid
  Navier-Stokes fill) and the default (PatchMatch) on 28 seeded holes in the sample photos
  at their own size (strokes of 2, 5 and 15 %, two objects), plus the spoon on the coffee
  photo; a montage of each case goes to results/texture/;
- the default fill as a designer meets it, through HTTP on an engine started as the editor
  starts it (``python -m app serve``): the whole n=1 request and the first partial image of
  a stream, at 1024x1024 and 3840x2160 with 5 % stroke holes, against cv2.inpaint (Telea)
  on the same input in this process; and how long the engine keeps working after a
  streaming client disconnects (its CPU time, sampled every 5 ms).

Prints tables and writes JSON to tests/benchmarks/results/.
"""

from __future__ import annotations

import json
import platform
import statistics
import sys
import time
from pathlib import Path

import cv2
import httpx
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import texture_cases as tc  # noqa: E402  (a sibling module: this folder is on sys.path)
from engine_timing import api_mask, best, serve_engine, texture_speed  # noqa: E402

from app.core.providers import LOCAL_VARIANT_HEADER  # noqa: E402
from app.engine import codec  # noqa: E402
from app.engine.fills.base import Fill  # noqa: E402
from app.engine.fills.direct import DirectFill, Method  # noqa: E402
from app.engine.fills.pyramid import PyramidFill  # noqa: E402
from app.engine.variants import VARIANTS  # noqa: E402
from tests.support.engine import image_parts, running_engine  # noqa: E402
from tests.support.images import encode, sample  # noqa: E402

PHOTOS = ("coffee.png", "astronaut.png", "rocket.jpg", "chelsea.png")
DIRECT = next(i for i, v in enumerate(VARIANTS) if isinstance(v.fill, DirectFill))

CASES = ((1024, 1024, 0.10), (3840, 2160, 0.05))
RESULTS = Path(__file__).resolve().parent / "results"


def scene(width: int, height: int, fraction: float) -> tuple[np.ndarray, np.ndarray]:
    """A real photo at that size and an elliptical hole covering ``fraction`` of it."""
    photo = np.asarray(Image.open(sample("coffee.png")).convert("RGB"))
    image = cv2.resize(photo, (width, height), interpolation=cv2.INTER_CUBIC)
    radius = (width * height * fraction / np.pi) ** 0.5
    mask = np.zeros((height, width), np.uint8)
    axes = (round(radius * 1.25), round(radius / 1.25))
    cv2.ellipse(mask, (width // 2, height // 2), axes, 0, 0, 360, 255, -1)
    return image, mask > 0


def baseline_call(fill: Fill) -> tuple[Method, int]:
    """The cv2.inpaint method and radius a fill is compared with: its own, or Telea radius 3
    for a fill that has no OpenCV counterpart."""
    if isinstance(fill, DirectFill | PyramidFill):
        return fill.method, fill.radius
    return Method.TELEA, 3


def run_case(width: int, height: int, fraction: float, url: str) -> dict[str, object]:
    image, hole = scene(width, height, fraction)
    mask = hole.astype(np.uint8) * 255
    repeat = 3 if width * height <= 1024 * 1024 else 2
    rows = []
    for variant in VARIANTS:
        method, radius = baseline_call(variant.fill)
        cv_time = best(lambda m=method, r=radius: cv2.inpaint(image, mask, r, m), repeat)
        fill_time = best(lambda v=variant: v.fill.apply(image, hole), repeat)
        full_time = best(lambda v=variant: codec.encode(v.fill.apply(image, hole), "png"), repeat)
        rows.append(
            {
                "variant": variant.name,
                "cv2_inpaint_s": cv_time,
                "engine_fill_s": fill_time,
                "fill_ratio": fill_time / cv_time,
                "fill_and_png_s": full_time,
            }
        )
    files = image_parts([encode(Image.fromarray(image), "PNG")], api_mask(hole))
    with httpx.Client(base_url=url, timeout=600) as http:

        def request(n: int, first: int = 0) -> None:
            reply = http.post(
                "/v1/images/edits",
                data={"prompt": "x", "n": str(n)},
                files=files,
                headers={LOCAL_VARIANT_HEADER: str(first)},
            )
            reply.raise_for_status()

        one = best(lambda: request(1), repeat + 1)
        direct = best(lambda: request(1, DIRECT), repeat)
        ten = best(lambda: request(10), 1)
    mean_cv = statistics.mean(r["cv2_inpaint_s"] for r in rows)
    return {
        "size": f"{width}x{height}",
        "masked_fraction": float(hole.mean()),
        "variants": rows,
        "http_n1_s": one,
        "http_n1_ratio_vs_cv2_variant0": one / rows[0]["cv2_inpaint_s"],
        "http_n1_direct_variant": VARIANTS[DIRECT].name,
        "http_n1_direct_s": direct,
        "http_n1_direct_ratio": direct / rows[DIRECT]["cv2_inpaint_s"],
        "http_n1_direct_plumbing_s": direct - rows[DIRECT]["engine_fill_s"],
        "http_n10_per_variant_s": ten / 10,
        "http_n10_ratio_vs_mean_cv2": ten / 10 / mean_cv,
    }


def print_case(case: dict[str, object]) -> None:
    print(f"\n{case['size']}, {case['masked_fraction']:.1%} masked")
    header = f"{'variant':<26}{'cv2.inpaint':>12}{'engine fill':>13}{'ratio':>7}{'+png':>9}"
    print(header)
    print("-" * len(header))
    for row in case["variants"]:
        print(
            f"{row['variant']:<26}{row['cv2_inpaint_s']:>11.3f}s{row['engine_fill_s']:>12.3f}s"
            f"{row['fill_ratio']:>7.2f}{row['fill_and_png_s']:>8.3f}s"
        )
    print(
        f"HTTP n=1 (variant 0, decode+fill+PNG+base64): {case['http_n1_s']:.3f}s, "
        f"ratio {case['http_n1_ratio_vs_cv2_variant0']:.2f} vs cv2.inpaint"
    )
    print(
        f"HTTP n=1 ({case['http_n1_direct_variant']}, the fill is cv2.inpaint): "
        f"{case['http_n1_direct_s']:.3f}s, ratio {case['http_n1_direct_ratio']:.2f}, "
        f"plumbing {case['http_n1_direct_plumbing_s'] * 1000:.0f} ms"
    )
    print(
        f"HTTP n=10, per variant: {case['http_n10_per_variant_s']:.3f}s, "
        f"ratio {case['http_n10_ratio_vs_mean_cv2']:.2f} vs mean cv2.inpaint"
    )


def quality() -> dict[str, dict[str, float]]:
    """Mean and median error (0-255 per channel) against the clean photo in the hole."""
    rng = np.random.default_rng(1)
    errors: dict[str, list[float]] = {v.name: [] for v in VARIANTS}
    for name in PHOTOS:
        clean = np.asarray(Image.open(sample(name)).convert("RGB"))
        height, width = clean.shape[:2]
        for _ in range(4):
            hole = np.zeros((height, width), np.uint8)
            tc.ellipse(hole, rng, 0.04, 0.12)
            inside = hole > 0
            for v in VARIANTS:
                out = v.fill.apply(clean, inside)
                diff = np.abs(out.astype(np.int16) - clean.astype(np.int16))[inside]
                errors[v.name].append(float(diff.mean()))
    return {
        name: {"mean": statistics.mean(e), "median": statistics.median(e)}
        for name, e in errors.items()
    }


TEXTURE_FILLS = {
    "cv2.inpaint telea": lambda image, hole: cv2.inpaint(
        image, hole.astype(np.uint8), 3, cv2.INPAINT_TELEA
    ),
    "previous default": PyramidFill("pyramid-navier-stokes", Method.NS, 3).apply,
    "default (patchmatch)": VARIANTS[0].fill.apply,
}


def texture_quality() -> dict[str, object]:
    """Texture ratio and PSNR in the hole per fill and case; montages in results/texture/."""
    folder = RESULTS / "texture"
    folder.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, object]] = []
    for name, kind, clean, hole in tc.cases():
        row: dict[str, object] = {"photo": name, "hole": kind, "share": float(hole.mean())}
        pictures = [tc.painted(clean, hole)]
        for label, fill in TEXTURE_FILLS.items():
            started = time.perf_counter()
            filled = fill(clean, hole)
            row[label] = {
                "texture": tc.texture_ratio(filled, clean, hole),
                "psnr": tc.psnr(filled, clean, hole),
                "seconds": time.perf_counter() - started,
            }
            pictures.append(filled)
        rows.append(row)
        image = tc.montage([[*pictures, clean]], ["hole", *TEXTURE_FILLS, "photo"])
        stem = f"{Path(name).stem}-{kind.replace(' ', '').replace('%', 'pc').replace('#', '-')}"
        Image.fromarray(image).save(folder / f"{stem}.png")
    clean = tc.photo("coffee.png")
    hole = tc.spoon()
    spoon = {label: tc.detail(fill(clean, hole), hole) for label, fill in TEXTURE_FILLS.items()}
    spoon["photo (the spoon itself)"] = tc.detail(clean, hole)
    means = {
        label: {
            "texture": statistics.mean(r[label]["texture"] for r in rows),
            "psnr": statistics.mean(r[label]["psnr"] for r in rows),
        }
        for label in TEXTURE_FILLS
    }
    print(f"\ntexture in {len(rows)} seeded holes of the sample photos (their own size)")
    print(f"{'fill':<24}{'texture ratio':>15}{'PSNR in hole':>15}{'spoon detail':>14}")
    for label, mean in means.items():
        print(f"{label:<24}{mean['texture']:>15.2f}{mean['psnr']:>13.2f}dB{spoon[label]:>14.2f}")
    print(f"montages in {folder.relative_to(ROOT)}")
    return {"cases": rows, "means": means, "spoon_detail": spoon}


def main() -> int:
    cv2.setRNGSeed(0)
    report = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "machine": {
            "python": platform.python_version(),
            "opencv": cv2.__version__,
            "cpus": cv2.getNumberOfCPUs(),
            "platform": platform.platform(),
        },
        "cases": [],
    }
    with running_engine() as url:
        for width, height, fraction in CASES:
            case = run_case(width, height, fraction, url)
            report["cases"].append(case)
            print_case(case)
    report["quality"] = quality()
    print("\nfill error in 16 holes of 4 photos (0-255)   mean  median")
    for name, q in report["quality"].items():
        print(f"{name:<44}{q['mean']:>6.2f}{q['median']:>8.2f}")
    report["texture"] = texture_quality()
    with serve_engine() as (url, pid):
        report["texture_speed"] = texture_speed(url, pid)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"bench_engine-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(report, indent=2))
    print(f"\nwrote {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
