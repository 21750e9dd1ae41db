"""The variants a request's ``n`` asks for: variant i always uses the same algorithm, so
results are reproducible and the ``n`` images of one request genuinely differ."""

from __future__ import annotations

from dataclasses import dataclass

from app.engine.enhance import Retouch
from app.engine.inpaint import Fill


@dataclass(frozen=True)
class Variant:
    name: str
    fill: Fill  # used when the request has a mask
    retouch: Retouch  # used when it has none


VARIANTS: tuple[Variant, ...] = (
    # The first variant is what n=1 returns: the pyramid fill matches the direct ones on
    # photos (mean error in removed-object holes within 2 %, the best median) and takes a
    # third to a half of their time on big holes (README, *Variants*).
    Variant("pyramid-navier-stokes", Fill("pyramid", "navier-stokes", 3), Retouch(4, 0.0025, 0.35)),
    Variant("pyramid-telea", Fill("pyramid", "telea", 3), Retouch(8, 0.01, 1.6)),
    Variant("navier-stokes", Fill("direct", "navier-stokes", 3), Retouch(8, 0.0025, 0.0)),
    Variant("membrane", Fill("membrane", radius=4), Retouch(16, 0.01, 2.0)),
    Variant("telea", Fill("direct", "telea", 3), Retouch(2, 0.01, 0.5)),
    Variant("telea-r5", Fill("direct", "telea", 5), Retouch(4, 0.0025, 1.4)),
    Variant("navier-stokes-r5", Fill("direct", "navier-stokes", 5), Retouch(12, 0.0025, 0.25)),
    Variant("pyramid-telea-r6", Fill("pyramid", "telea", 6), Retouch(4, 0.04, 1.8)),
    Variant("pyramid-navier-stokes-r6", Fill("pyramid", "navier-stokes", 6), Retouch(8, 0.04, 0.0)),
    Variant("membrane-soft", Fill("membrane", radius=1), Retouch(24, 0.005, 1.3)),
)


def variant(index: int) -> Variant:
    """Variant ``index`` (0-based); the schema caps n at 10, the size of the table."""
    return VARIANTS[index % len(VARIANTS)]
