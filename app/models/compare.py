"""Compare: each final result measured against the job's original (drift outside the mask)
and pairs prepared for the compare view. All pixel work runs
in worker threads; the math is app.core.composite. Saving and using results is
app.models.keep."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage

from app.core import composite
from app.core.imageio import decode_image
from app.core.limits import open_pixel_limit
from app.core.mask import read_mask
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
    fitted = composite.fit_to(read_rgb(result, alpha=alpha), width, height)
    return Aligned(original, fitted, job_coverage(job, width, height))


def measure(job: Job, result: Path) -> tuple[Measure, np.ndarray | None]:
    """Drift of ``result`` outside the job's mask, and the heat map (None without a mask)."""
    pair = aligned(job, result)
    fitted = pair.fitted
    if pair.coverage is None:
        return Measure(None, fitted.scaled, fitted.source_size), None
    drift = composite.drift_map(pair.original, fitted.pixels, pair.coverage)
    return Measure(drift.share, fitted.scaled, fitted.source_size), drift.heat


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
                return composite.fit_to(read_rgb(source.path, alpha=alpha), width, height).pixels

            a_px, b_px = load(a), load(b)
            overlay = None
            coverage = job_coverage(job, width, height) if drift_overlay else None
            if coverage is not None and b.variant is not None:
                heat = composite.drift_map(original, b_px, coverage).heat
                overlay = Leveled.of(to_qimage(composite.heat_to_rgba(heat)))
            return Leveled.of(to_qimage(a_px)), Leveled.of(to_qimage(b_px)), overlay

        a_img, b_img, overlay = await asyncio.to_thread(work)
        self.pair_ready.emit(a_img, b_img, a.label, b.label, overlay)
