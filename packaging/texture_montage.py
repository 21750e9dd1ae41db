"""Make the README's texture montage: holes in the sample photos, the previous default fill
and PatchMatch, the default now, side by side (2x, nearest neighbour, so texture shows).

    python packaging/texture_montage.py [OUT.png]

The holes are the benchmark's (tests/benchmarks/texture_cases.py): the spoon on the coffee
photo, brush strokes over its wood, and strokes over the cat's fur.
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "benchmarks")]

import texture_cases as tc  # noqa: E402

from app.engine.fills.direct import Method  # noqa: E402
from app.engine.fills.pyramid import PyramidFill  # noqa: E402
from app.engine.variants import VARIANTS  # noqa: E402

OUT = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "packaging/screenshots/texture-fill.png"
CROP = (240, 200)  # height, width of each picture before the 2x zoom
LABELS = ["the hole", "previous default (diffusion)", "default now (PatchMatch)"]


def scenes() -> list[tuple[np.ndarray, np.ndarray, tuple[int, int]]]:
    """(photo, hole, top-left corner of the crop)."""
    coffee = tc.photo("coffee.png")
    wood = np.zeros(coffee.shape[:2], bool)  # strokes over the wood and the saucer's rim
    wood[160:400, 20:220] = tc.strokes(400, 600, 0.08, tc.seed_of("montage", "wood"))[:240, :200]
    cat = tc.photo("chelsea.png")
    fur = np.zeros(cat.shape[:2], bool)
    fur[20:260, 60:260] = tc.strokes(451, 300, 0.08, tc.seed_of("montage", "fur"))[:240, :200]
    return [(coffee, tc.spoon(), (90, 290)), (coffee, wood, (160, 20)), (cat, fur, (20, 60))]


def zoomed(picture: np.ndarray, corner: tuple[int, int]) -> np.ndarray:
    top, left = corner
    crop = picture[top : top + CROP[0], left : left + CROP[1]]
    return cv2.resize(crop, None, fx=2, fy=2, interpolation=cv2.INTER_NEAREST)


def main() -> int:
    previous = PyramidFill("pyramid-navier-stokes", Method.NS, 3)
    rows = []
    for photo, hole, corner in scenes():
        pictures = [tc.painted(photo, hole), previous.apply(photo, hole)]
        pictures.append(VARIANTS[0].fill.apply(photo, hole))
        rows.append([zoomed(picture, corner) for picture in pictures])
    OUT.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(tc.montage(rows, LABELS)).save(OUT, optimize=True)
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
