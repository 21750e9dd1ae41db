"""The variants a request's ``n`` asks for: variant i always uses the same algorithm, so
results are reproducible and the ``n`` images of one request genuinely differ."""

from __future__ import annotations

from dataclasses import dataclass

from app.engine.child import warm_up
from app.engine.enhance import Retouch
from app.engine.fills import refine
from app.engine.fills.base import Fill
from app.engine.fills.direct import DirectFill, Method
from app.engine.fills.membrane import MembraneFill
from app.engine.fills.patchmatch import PatchMatchFill
from app.engine.fills.pyramid import PyramidFill


@dataclass(frozen=True)
class Variant:
    """One row of the variant table: how the variant fills a hole, and what it does to an
    image sent without a mask."""

    fill: Fill
    retouch: Retouch

    @property
    def name(self) -> str:
        return self.fill.name


VARIANTS: tuple[Variant, ...] = (
    # The first variant is what n=1 returns: PatchMatch continues texture into the hole,
    # within 10x the time of cv2.inpaint (README, *Variants*, and bench_engine.py). The
    # diffusion fills follow, for skies, gradients and smooth walls. The no-mask retouches
    # keep their places: a variant index without a mask gives what it always gave.
    Variant(PatchMatchFill("patchmatch"), Retouch(4, 0.0025, 0.35)),
    Variant(PyramidFill("pyramid-navier-stokes", Method.NS, 3), Retouch(8, 0.01, 1.6)),
    Variant(PyramidFill("pyramid-telea", Method.TELEA, 3), Retouch(8, 0.0025, 0.0)),
    Variant(DirectFill("navier-stokes", Method.NS, 3), Retouch(16, 0.01, 2.0)),
    Variant(MembraneFill("membrane", gain=4), Retouch(2, 0.01, 0.5)),
    Variant(DirectFill("telea", Method.TELEA, 3), Retouch(4, 0.0025, 1.4)),
    Variant(DirectFill("telea-r5", Method.TELEA, 5), Retouch(12, 0.0025, 0.25)),
    Variant(DirectFill("navier-stokes-r5", Method.NS, 5), Retouch(4, 0.04, 1.8)),
    Variant(PyramidFill("pyramid-telea-r6", Method.TELEA, 6), Retouch(8, 0.04, 0.0)),
    Variant(MembraneFill("membrane-soft", gain=1), Retouch(24, 0.005, 1.3)),
)


def warm_up_fills() -> None:
    """Start what the fills need before their first request comes (the fork server of the
    PatchMatch fill's child processes); only the first call does anything."""
    warm_up(tuple(refine.PRELOAD))


def variant(index: int) -> Variant:
    """Variant ``index`` (0-based); the schema caps n at 10, the size of the table."""
    return VARIANTS[index % len(VARIANTS)]
