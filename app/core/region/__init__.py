"""Crop to mask (issue 14): the region of the photo around the mask that is sent at a size
the model accepts, and the pixels cut out of it and put back into it. No Qt.

The way through, for a photo of any size:

1. ``plan_for_coverage(coverage, schema.rules_for(model))`` (or ``mask_bounds`` and
   ``plan_region``): a ``RegionPlan`` with the ``region`` (x, y, w, h in photo pixels),
   the ``output`` size to send and to ask for (``plan.size`` is the request's ``size``),
   the ``scale`` and the ``notes`` for the designer. ``plan.describe()`` is the panel's
   "sends 1536x1024 from a 2304x1536 region (0.67×)".
2. ``crop(pixels, plan.region, plan.output)`` and ``crop_mask(coverage, plan.region,
   plan.output)``: the picture and the mask as sent (the mask then goes through
   ``mask.to_api_png``).
3. ``place_back(result, plan.region)``: each result at the region's size, to paste at
   ``photo[plan.region.slices]`` through the feathered mask of that same part.

Guarantees (tested with hypothesis for every model of the schema): the region holds every
pixel of the mask box and lies inside the photo; the output size passes the model's
``SizeRule``; the region's aspect is the output's within rounding (half a pixel) unless the
plan says ``stretched``. ``plan_for_coverage`` plans around every pixel of coverage > 0, so
everything that paste-back blends lies inside the region and every pixel outside the mask
stays the photo's own.

Modules: ``bounds`` (``Rect``, ``mask_bounds``, ``context_padding``), ``fit`` (a region of
an exact aspect in whole pixels), ``plan`` (the model's sizes, ``RegionPlan``), ``pixels``
(``crop``, ``crop_mask``, ``place_back``).
"""

from app.core.region.bounds import (
    MIN_PADDING_PX,
    PASTE_THRESHOLD,
    Rect,
    context_padding,
    mask_bounds,
)
from app.core.region.fit import aspect_error, fit_region
from app.core.region.pixels import crop, crop_mask, place_back
from app.core.region.plan import (
    AREA_SLACK,
    LOW_SCALE,
    RegionPlan,
    plan_for_coverage,
    plan_region,
)

__all__ = [
    "AREA_SLACK",
    "LOW_SCALE",
    "MIN_PADDING_PX",
    "PASTE_THRESHOLD",
    "Rect",
    "RegionPlan",
    "aspect_error",
    "context_padding",
    "crop",
    "crop_mask",
    "fit_region",
    "mask_bounds",
    "place_back",
    "plan_for_coverage",
    "plan_region",
]
