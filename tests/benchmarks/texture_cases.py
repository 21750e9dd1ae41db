"""Seeded holes in the sample photos and the two measures of a fill that bench_engine.py
reports (imported by the benchmarks as a sibling module, like ``harness``).

**Texture ratio.** ``detail(picture, hole)`` is the mean absolute Laplacian (OpenCV's 3x3
kernel, on the luminance) over the hole's pixels divided by its mean over a ring of 16
pixels around the hole (outside it, Euclidean distance). A smooth fill scores near 0, a fill
as detailed as its surroundings near 1. The photo itself does not score exactly 1 in the
same holes, so the *texture ratio* of a fill is its detail divided by the clean photo's
detail in the same hole: 1.0 means as much detail as the photo really had there.

**PSNR in the hole.** ``10 log10(255² / MSE)`` over the hole's pixels and channels,
against the clean photo.

A stroke hole is a set of brush strokes (random walks, seeded) painted until the wanted
share of the picture is covered, each stroke ``sqrt(width * height) / 40`` pixels wide (12
pixels at 600x400, 26 at 1024x1024, 72 at 3840x2160); an object hole is two seeded
ellipses of 5-10 % of the short side, or the spoon on the coffee sample.
"""

from __future__ import annotations

import zlib
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

SAMPLES = Path("/work/shared/samples")
PHOTOS = ("coffee.png", "astronaut.png", "rocket.jpg", "chelsea.png")
RING = 16
MAGENTA = (255, 0, 255)


def photo(name: str, size: tuple[int, int] | None = None) -> np.ndarray:
    """A sample photo as HxWx3 RGB uint8, resized (bicubic) to ``size`` (width, height)."""
    path = SAMPLES / name
    if not path.exists():  # the copies shipped with the program
        from tests.support.images import sample

        path = sample(name)
    rgb = np.asarray(Image.open(path).convert("RGB"))
    if size is None:
        return rgb
    return cv2.resize(rgb, size, interpolation=cv2.INTER_CUBIC)


def seed_of(*parts: object) -> int:
    return zlib.crc32(repr(parts).encode())


def strokes(height: int, width: int, share: float, seed: int) -> np.ndarray:
    """Brush strokes covering ``share`` of the picture."""
    rng = np.random.default_rng(seed)
    mask = np.zeros((height, width), np.uint8)
    scale = (height * width) ** 0.5
    brush = max(4.0, scale / 40)
    while mask.mean() < share:
        x, y = rng.uniform(0.1, 0.9) * width, rng.uniform(0.1, 0.9) * height
        angle = rng.uniform(0, 2 * np.pi)
        points = [(x, y)]
        for _ in range(int(rng.integers(4, 10))):
            angle += rng.normal(0, 0.6)
            step = scale * rng.uniform(0.02, 0.06)
            x = float(np.clip(x + step * np.cos(angle), 0, width - 1))
            y = float(np.clip(y + step * np.sin(angle), 0, height - 1))
            points.append((x, y))
        thickness = max(2, int(brush * rng.uniform(0.7, 1.3)))
        cv2.polylines(mask, [np.int32(points)], False, 1, thickness, cv2.LINE_8)
    return mask > 0


def ellipse(mask: np.ndarray, rng: np.random.Generator, smallest: float, largest: float) -> None:
    """Paint a seeded ellipse into ``mask``: its long axis ``smallest`` to ``largest`` of
    the short side, its short axis 0.7 of that, anywhere 10 pixels inside the picture."""
    height, width = mask.shape
    radius = int(min(height, width) * rng.uniform(smallest, largest))
    centre = (
        int(rng.integers(radius + 10, width - radius - 10)),
        int(rng.integers(radius + 10, height - radius - 10)),
    )
    angle = float(rng.uniform(0, 180))
    cv2.ellipse(mask, centre, (radius, int(radius * 0.7)), angle, 0, 360, 1, -1)


def objects(height: int, width: int, seed: int) -> np.ndarray:
    """Two elliptical holes, as painted over two objects."""
    rng = np.random.default_rng(seed)
    mask = np.zeros((height, width), np.uint8)
    for _ in range(2):
        ellipse(mask, rng, 0.05, 0.1)
    return mask > 0


def spoon(height: int = 400, width: int = 600) -> np.ndarray:
    """The spoon on the coffee sample (600x400), head and handle, as a designer paints it."""
    mask = np.zeros((400, 600), np.uint8)
    cv2.ellipse(mask, (366, 283), (44, 48), 20, 0, 360, 1, -1)
    handle = np.int32([(372, 245), (385, 200), (398, 150), (408, 105), (413, 70)])
    cv2.polylines(mask, [handle], False, 1, 24)
    if (height, width) != (400, 600):
        mask = cv2.resize(mask, (width, height), interpolation=cv2.INTER_NEAREST)
    return mask > 0


def cases(size: tuple[int, int] | None = None, seeds: int = 2):
    """``(photo name, kind, clean photo, hole)``: strokes of 2, 5 and 15 % (``seeds`` each)
    and the two-object holes, for every sample photo."""
    for name in PHOTOS:
        clean = photo(name, size)
        height, width = clean.shape[:2]
        for share in (0.02, 0.05, 0.15):
            for index in range(seeds):
                hole = strokes(height, width, share, seed_of(name, share, index))
                yield name, f"strokes {share:.0%} #{index + 1}", clean, hole
        yield name, "objects", clean, objects(height, width, seed_of(name, "objects"))


def detail(picture: np.ndarray, hole: np.ndarray) -> float:
    """Mean |Laplacian| in the hole over the same in the 16-pixel ring around it."""
    grey = cv2.cvtColor(picture, cv2.COLOR_RGB2GRAY).astype(np.float32)
    laplacian = np.abs(cv2.Laplacian(grey, cv2.CV_32F))
    distance = cv2.distanceTransform((~hole).astype(np.uint8), cv2.DIST_L2, 3)
    ring = ~hole & (distance <= RING)
    return float(laplacian[hole].mean() / max(1e-6, laplacian[ring].mean()))


def texture_ratio(filled: np.ndarray, clean: np.ndarray, hole: np.ndarray) -> float:
    return detail(filled, hole) / max(1e-6, detail(clean, hole))


def psnr(filled: np.ndarray, clean: np.ndarray, hole: np.ndarray) -> float:
    error = filled[hole].astype(np.float32) - clean[hole].astype(np.float32)
    return float(10 * np.log10(255.0**2 / max(1e-9, float(np.mean(error * error)))))


def painted(picture: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """The picture with its hole shown in magenta, as the editor's overlay shows it."""
    out = picture.copy()
    out[hole] = MAGENTA
    return out


def montage(rows: list[list[np.ndarray]], labels: list[str], gap: int = 6) -> np.ndarray:
    """Pictures in a grid (rows of equal-size pictures) under one label per column."""
    height, width = rows[0][0].shape[:2]
    band = 28
    columns = len(rows[0])
    out = np.full(
        (band + len(rows) * (height + gap), columns * (width + gap) - gap, 3), 255, np.uint8
    )
    for column, label in enumerate(labels):
        x = column * (width + gap)
        cv2.putText(
            out, label, (x + 4, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 0, 0), 1, cv2.LINE_AA
        )
    for row, pictures in enumerate(rows):
        y = band + row * (height + gap)
        for column, picture in enumerate(pictures):
            x = column * (width + gap)
            out[y : y + height, x : x + width] = picture
    return out
