"""Compare: each final result measured against the job's original (drift outside the mask)
and pairs prepared for the compare view. All pixel work runs
in worker threads; the math is app.core.composite. Saving and using results is
app.models.keep."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage

from app.core import composite
from app.core.imageio import decode_image
from app.core.limits import open_pixel_limit
from app.core.mask import read_mask
from app.core.region import Rect
from app.core.schema import load_schema
from app.models.job import Job, Measure
from app.models.levels import Leveled

MAX_PIXELS = load_schema().files.max_pixels or 33_177_600  # what an API sends or returns
OPEN_LIMIT = open_pixel_limit()  # a photo the designer opened


@dataclass(frozen=True)
class Source:
    """One image the designer can pick for A or B: the original of a job, or a result."""

    label: str
    path: Path
    job_id: int
    variant: int | None  # None for the original


def read_rgb(path: Path, *, alpha: bool) -> np.ndarray:
    return composite.load_rgb(path, max_pixels=OPEN_LIMIT, name=path.name, alpha=alpha)


def has_alpha(path: Path) -> bool:
    with decode_image(path, name=path.name, max_pixels=OPEN_LIMIT) as image:
        return "A" in image.getbands()


def job_coverage(job: Job, width: int, height: int) -> np.ndarray | None:
    if job.source.mask is None:
        return None
    return read_mask(job.source.mask, (width, height), mode="alpha", max_pixels=OPEN_LIMIT)


@dataclass(frozen=True)
class Aligned:
    """A job's original, one of its results fitted to the original's size, and the mask."""

    original: np.ndarray
    fitted: composite.Fitted
    coverage: np.ndarray | None


def aligned(job: Job, result: Path) -> Aligned:
    original_path = job.source.original
    alpha = has_alpha(original_path)
    original = read_rgb(original_path, alpha=alpha)
    height, width = original.shape[:2]
    fitted = in_place(job, read_rgb(result, alpha=alpha), original)
    return Aligned(original, fitted, job_coverage(job, width, height))


def in_place(job: Job, result: np.ndarray, original: np.ndarray) -> composite.Fitted:
    """A result at the original's full size: stretched over it, or, for a job that sent a
    region (crop to mask), scaled to that region and put in its place."""
    height, width = original.shape[:2]
    region = _region(job, width, height)
    if region is None:
        return composite.fit_to(result, width, height)
    placed = composite.fit_to(result, region.width, region.height)
    full = original.copy()
    full[region.slices] = placed.pixels
    return composite.Fitted(full, placed.scaled, placed.source_size)


def drift_of(
    job: Job, original: np.ndarray, fitted: np.ndarray, coverage: np.ndarray
) -> composite.Drift:
    """The drift outside the mask: inside the region a region job sent (elsewhere the
    result is the original), with the heat map at the original's size."""
    height, width = original.shape[:2]
    region = _region(job, width, height)
    if region is None:
        return composite.drift_map(original, fitted, coverage)
    part = region.slices
    drift = composite.drift_map(original[part], fitted[part], coverage[part])
    heat = np.zeros((height, width), np.uint8)
    heat[part] = drift.heat
    return replace(drift, heat=heat)


def measure(job: Job, result: Path) -> tuple[Measure, np.ndarray | None]:
    """Drift of ``result`` outside the job's mask, and the heat map (None without a mask)."""
    pair = aligned(job, result)
    fitted = pair.fitted
    if pair.coverage is None:
        return Measure(None, fitted.scaled, fitted.source_size), None
    drift = drift_of(job, pair.original, fitted.pixels, pair.coverage)
    return Measure(drift.share, fitted.scaled, fitted.source_size), drift.heat


def _region(job: Job, width: int, height: int) -> Rect | None:
    """The part of the original the job sent (crop to mask), inside the picture; None for
    the whole picture."""
    if job.source.region is None:
        return None
    region = Rect(*job.source.region).intersect(Rect.of_size((width, height)))
    return None if region is None or region.area == 0 else region


def to_qimage(pixels: np.ndarray) -> QImage:
    """A QImage that owns a copy of the pixels (safe to build in a worker thread)."""
    pixels = np.ascontiguousarray(pixels)
    height, width, channels = pixels.shape
    fmt = QImage.Format.Format_RGBA8888 if channels == 4 else QImage.Format.Format_RGB888
    return QImage(pixels.data, width, height, width * channels, fmt).copy()


class CompareModel(QObject):
    """``measured(job, variant, Measure)`` when a final result's drift is known (it is also
    the result's ``drift``); ``pair_ready(a, b, a_label, b_label, overlay)`` when a compare
    pair is decoded: A, B and the overlay (or None) as ``Leveled`` pictures, zoom levels
    built in the worker."""

    measured = Signal(str, int, object)
    pair_ready = Signal(object, object, str, str, object)

    def sources(self, job: Job) -> list[Source]:
        """What can be compared in a job: its original, then each final result kept."""
        found = [Source("Original", job.source.original, job.id, None)]
        for result in job.kept():
            if result.final is not None:
                found.append(
                    Source(job.label(result.variant), result.final, job.id, result.variant)
                )
        return found

    async def measure(self, job: Job, variant: int) -> Measure | None:
        result = job.results.get(variant)
        if result is None or result.final is None:
            return None
        found, _heat = await asyncio.to_thread(measure, job, result.final)
        result.drift = found
        self.measured.emit(job.id, variant, found)
        return found

    async def prepare_pair(self, job: Job, a: Source, b: Source, *, drift_overlay: bool) -> None:
        """Decode A and B at the original's size (results are scaled to it), with B's drift
        heat map as an overlay when asked."""

        def work() -> tuple[Leveled, Leveled, Leveled | None]:
            original_path = job.source.original
            alpha = has_alpha(original_path)
            original = read_rgb(original_path, alpha=alpha)
            height, width = original.shape[:2]

            def load(source: Source) -> np.ndarray:
                if source.variant is None:
                    return original
                return in_place(job, read_rgb(source.path, alpha=alpha), original).pixels

            a_px, b_px = load(a), load(b)
            overlay = None
            coverage = job_coverage(job, width, height) if drift_overlay else None
            if coverage is not None and b.variant is not None:
                heat = drift_of(job, original, b_px, coverage).heat
                overlay = Leveled.of(to_qimage(composite.heat_to_rgba(heat)))
            return Leveled.of(to_qimage(a_px)), Leveled.of(to_qimage(b_px)), overlay

        a_img, b_img, overlay = await asyncio.to_thread(work)
        self.pair_ready.emit(a_img, b_img, a.label, b.label, overlay)
