"""The plan for cropping to the mask: which region of the photo is sent, at which size.

The region starts as the mask box with its context (``context_padding``), or as the frame
the user dragged, clamped to the photo; then it is fitted to a size the model accepts:

- a fixed list of sizes (gpt-image-1, -1-mini, -1.5): the listed size whose aspect is
  closest to the region's (by log ratio; a tie goes to the larger size); the region grows
  to exactly that aspect, and to the size itself when the photo has room (a small mask
  then gets more context rather than being upscaled). When the photo has no room for that
  aspect around the mask (a narrow panorama), the next closest size that fits is taken.
- a free grammar (gpt-image-2, the local engine, unknown models): the region grows first,
  on its short side, to the largest ratio the model takes, and then, keeping its shape, to
  the model's minimum pixels (more context before any upscaling); the size sent is that
  region scaled to at most the model's pixel and edge limits (at most 2560x1440's pixels
  unless experimental sizes are allowed; at most ``max_pixels``, the API's per-image
  limit), on the model's grid (multiples of 16), within 5 % of that many pixels. Among
  those sizes, the one whose aspect lets the region hold all the context wanted, then the
  one closest in pixels, then the smallest region; the region is fitted to its aspect.

In both cases the region holds the whole mask and lies inside the photo, and its aspect is
the output's within rounding (``fit.aspect_error`` <= 0.5 px), so a result scaled back to
the region is not distorted. Only when no size the model accepts has a shape that holds the
mask inside the photo is the plan ``stretched``: the padded box is sent as it is and the
result stretched back, as whole-image mode does.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, replace

import numpy as np

from app.core.mask import EDIT_THRESHOLD
from app.core.region.bounds import (
    PASTE_THRESHOLD,
    Rect,
    context_padding,
    mask_bounds,
)
from app.core.region.fit import fit_region
from app.core.schema import ModelRules, SizeRule, parse_size

LOW_SCALE = 0.5
"""Below this scale (output pixels per region pixel) the plan says that detail drops."""
AREA_SLACK = 0.05
"""A free size may have this share fewer (or, up from the minimum, more) pixels than the
target when its aspect fits the region better."""
_MAX_STEPS = 24  # grid steps tried on each side of the target height (free grammar)


@dataclass(frozen=True)
class RegionPlan:
    """What is sent for a mask: ``region`` of the photo, scaled to ``output``."""

    photo: tuple[int, int]  # the photo's (upright) width and height
    mask: Rect  # the painted box the region was planned around
    region: Rect  # the part of the photo sent, in photo pixels
    output: tuple[int, int]  # the size asked of the model and sent (width, height)
    padding: int | None  # context asked on each side of the mask; None for a dragged frame
    stretched: bool = False  # the region's aspect is not the output's (see the module)
    experimental: bool = False  # the size is one OpenAI marks experimental
    notes: tuple[str, ...] = ()  # sentences for the designer, in order of importance

    @property
    def size(self) -> str:
        """The request's ``size`` value: exactly the size sent."""
        return f"{self.output[0]}x{self.output[1]}"

    @property
    def scales(self) -> tuple[float, float]:
        """Output pixels per region pixel across and down (equal within rounding unless
        ``stretched``)."""
        return self.output[0] / self.region.width, self.output[1] / self.region.height

    @property
    def scale(self) -> float:
        """Output pixels per region pixel (the geometric mean of ``scales``): below 1 the
        region is reduced, above 1 enlarged."""
        return math.sqrt(self.output[0] * self.output[1] / self.region.area)

    @property
    def whole_photo(self) -> bool:
        """The region is the whole photo: cropping gains nothing over sending it whole."""
        return self.region == Rect.of_size(self.photo)

    def describe(self) -> str:
        """The parameter panel's line: "sends 1536x1024 from a 2304x1536 region (0.67×)"."""
        region = f"{self.region.width}x{self.region.height}"
        return f"sends {self.size} from a {region} region ({self.scale:.2f}×)"


def plan_region(
    photo_size: tuple[int, int],
    mask_box: Rect | tuple[int, int, int, int],
    rules: ModelRules,
    *,
    padding: int | None = None,
    frame: Rect | tuple[int, int, int, int] | None = None,
    allow_experimental: bool = False,
    max_pixels: int | None = None,
) -> RegionPlan:
    """The region to send for a mask whose painted box is ``mask_box`` (x, y, w, h; see
    ``mask_bounds``) in a photo of ``photo_size`` (width, height), and the size to ask of
    the model whose ``rules`` are given (``Schema.rules_for(model)``).

    ``padding``: context on each side of the mask in pixels (default: ``context_padding``).
    ``frame``: a region the user chose (dragged on the canvas) instead of the padded box;
    it is clamped to the photo and grown to hold the mask, then fitted like the padded box.
    ``allow_experimental``: free sizes may go above the rule's ``experimental_above``.
    ``max_pixels``: the API's per-image pixel limit (``Schema.files.max_pixels``).

    Raises ValueError for a photo or mask box that makes no sense (empty, or the box not
    inside the photo) and for rules that offer no size to crop to."""
    width, height = (int(side) for side in photo_size)
    if width <= 0 or height <= 0:
        raise ValueError(f"the photo must have a positive size, got {width}x{height}")
    photo = (width, height)
    whole = Rect.of_size(photo)
    mask = Rect(*(int(v) for v in mask_box))
    if mask.is_empty or not whole.contains(mask):
        raise ValueError(
            f"the mask box {mask} must be non-empty and inside the {width}x{height} photo"
        )
    if frame is None:
        pad: int | None = context_padding(photo, mask, padding)
        wanted = mask.expanded(pad).intersect(whole)
    else:
        pad = None
        chosen = Rect(*(int(v) for v in frame)).intersect(whole)
        wanted = mask if chosen.is_empty else chosen.union(mask)
    if rules.size.grammar == "fixed":
        region, output, stretched = _fit_fixed(rules, wanted, mask, photo, max_pixels)
    else:
        region, output, stretched = _fit_free(
            rules.size, wanted, mask, photo, _pixel_cap(rules.size, allow_experimental, max_pixels)
        )
    size = f"{output[0]}x{output[1]}"
    plan = RegionPlan(
        photo=photo,
        mask=mask,
        region=region,
        output=output,
        padding=pad,
        stretched=stretched,
        experimental=rules.size.is_experimental(size),
    )
    return replace(plan, notes=tuple(_notes(plan, wanted, rules)))


def plan_for_coverage(
    coverage: np.ndarray,
    rules: ModelRules,
    *,
    padding: int | None = None,
    frame: Rect | tuple[int, int, int, int] | None = None,
    allow_experimental: bool = False,
    max_pixels: int | None = None,
) -> RegionPlan | None:
    """``plan_region`` for the document's coverage layer ((H, W) uint8, the photo's size):
    None when no pixel is painted for editing (none at ``EDIT_THRESHOLD``). The region is
    planned around every pixel of coverage > 0, the soft edges included, because
    paste-back blends each of them (``PASTE_THRESHOLD``): so nothing pasted ever lies
    outside the region."""
    painted = mask_bounds(coverage, PASTE_THRESHOLD)
    if painted is None or mask_bounds(coverage[painted.slices], EDIT_THRESHOLD) is None:
        return None
    height, width = coverage.shape
    return plan_region(
        (width, height),
        painted,
        rules,
        padding=padding,
        frame=frame,
        allow_experimental=allow_experimental,
        max_pixels=max_pixels,
    )


# --- a fixed list of sizes ----------------------------------------------------------------


def _fit_fixed(
    rules: ModelRules,
    wanted: Rect,
    mask: Rect,
    photo: tuple[int, int],
    max_pixels: int | None,
) -> tuple[Rect, tuple[int, int], bool]:
    parsed = (parse_size(choice) for choice in rules.size.choices)
    sizes = [
        s for s in parsed if s and min(s) > 0 and (not max_pixels or s[0] * s[1] <= max_pixels)
    ]
    if not sizes:
        raise ValueError(f"{rules.name or 'this model'} offers no WIDTHxHEIGHT size to crop to")
    shape = math.log(wanted.width / wanted.height)
    order = sorted(sizes, key=lambda s: (abs(math.log(s[0] / s[1]) - shape), -s[0] * s[1]))
    for size in order:
        region = fit_region(size, wanted, mask, photo, at_least=size)
        if region is not None:
            return region, size, False
    return wanted, order[0], True


# --- a free grammar -----------------------------------------------------------------------


def _pixel_cap(rule: SizeRule, allow_experimental: bool, max_pixels: int | None) -> int | None:
    caps = [rule.max_pixels, max_pixels]
    if rule.experimental_above and not allow_experimental:
        caps.append(rule.experimental_above[0] * rule.experimental_above[1])
    return min((cap for cap in caps if cap), default=None)


def _grown_to(width: int, height: int, pixels: int, photo: tuple[int, int]) -> tuple[int, int]:
    """(width, height) enlarged with its shape to at least ``pixels``, within the photo
    (longer on one side when the other reaches the photo's edge)."""
    if width * height >= pixels:
        return width, height
    factor = math.sqrt(pixels / (width * height))
    width, height = math.ceil(width * factor), math.ceil(height * factor)
    if width > photo[0]:
        width, height = photo[0], max(height, math.ceil(pixels / photo[0]))
    if height > photo[1]:
        width, height = min(photo[0], max(width, math.ceil(pixels / photo[1]))), photo[1]
    return width, height


def _candidates(target: tuple[float, float], step: int) -> Iterable[tuple[int, int]]:
    """Sizes on the grid around ``target`` (width, height): heights within about twice the
    slack, each with the widths on either side of the target aspect."""
    width, height = target
    reach = min(_MAX_STEPS, math.ceil(height * 2 * AREA_SLACK / step) + 1)
    middle = round(height / step)
    for row in range(max(1, middle - reach), middle + reach + 1):
        out_h = row * step
        across = out_h * width / height / step
        for column in {math.floor(across), math.ceil(across)}:
            if column >= 1:
                yield column * step, out_h


def _fit_free(
    rule: SizeRule, wanted: Rect, mask: Rect, photo: tuple[int, int], cap: int | None
) -> tuple[Rect, tuple[int, int], bool]:
    least = rule.min_pixels or 1
    if cap is not None and cap < least:
        raise ValueError(f"no size has at least {least:,} and at most {cap:,} pixels")
    ratio = rule.max_ratio
    # The shape the model takes: more context on the short side up to the largest ratio;
    # then more context all round up to the smallest size.
    width, height = wanted.width, wanted.height
    if ratio and width > ratio * height:
        height = math.ceil(width / ratio)
    elif ratio and height > ratio * width:
        width = math.ceil(height / ratio)
    width, height = _grown_to(min(width, photo[0]), min(height, photo[1]), least, photo)
    # The output: that region scaled into the pixel and edge limits, with a shape taken.
    pixels = min(max(width * height, least), cap or math.inf)
    aspect = width / height
    if ratio:
        aspect = min(max(aspect, 1 / ratio), ratio)
    out_w, out_h = math.sqrt(pixels * aspect), math.sqrt(pixels / aspect)
    if rule.max_edge and max(out_w, out_h) > rule.max_edge:
        shrink = rule.max_edge / max(out_w, out_h)
        out_w, out_h, pixels = out_w * shrink, out_h * shrink, pixels * shrink * shrink
    step = max(1, rule.multiple_of)
    sizes = {*_candidates((out_w, out_h), step), rule.snap(round(out_w), round(out_h))}
    valid = [
        s
        for s in sizes
        if rule.problem(f"{s[0]}x{s[1]}") is None and (not cap or s[0] * s[1] <= cap)
    ]
    if not valid:
        raise ValueError(f"no size the model accepts is near {round(out_w)}x{round(out_h)}")
    slack = -math.log(1 - AREA_SLACK)

    def closeness(size: tuple[int, int]) -> float:
        return abs(math.log(size[0] * size[1] / pixels))

    best = None
    for size in valid:
        # At least the output's size: a region that would be enlarged gets more context.
        at_least = (max(width, size[0]), max(height, size[1]))
        region = fit_region(size, wanted, mask, photo, at_least=at_least)
        if region is None:
            continue
        lost = max(0, wanted.width - region.width) + max(0, wanted.height - region.height)
        key = (closeness(size) > slack + 1e-12, lost, closeness(size), region.area, size)
        if best is None or key < best[0]:
            best = (key, region, size)
    if best is not None:
        return best[1], best[2], False
    shape = math.log(wanted.width / wanted.height)
    size = min(
        valid,
        key=lambda s: (
            closeness(s) > slack + 1e-12,
            abs(math.log(s[0] / s[1]) - shape),
            closeness(s),
            s,
        ),
    )
    return wanted, size, True


# --- what the designer is told --------------------------------------------------------------


def _notes(plan: RegionPlan, wanted: Rect, rules: ModelRules) -> Iterable[str]:
    region, (out_w, out_h) = plan.region, plan.output
    sent = f"{region.width}x{region.height} region"
    model = rules.name or "The model"
    if plan.stretched:
        yield (
            f"No size {model} takes has the shape of a region that holds the mask inside "
            f"this {plan.photo[0]}x{plan.photo[1]} photo: the {sent} is sent at {plan.size} "
            "and the result is stretched back, as in whole-image mode."
        )
    if plan.scale < LOW_SCALE:
        where = (
            "The region covers most of the photo"
            if region.area * 2 >= plan.photo[0] * plan.photo[1]
            else "The painted areas span a large region"
        )
        yield (
            f"{where}: the {sent} is sent at {plan.size} ({plan.scale:.2f}×), so fine detail "
            "drops. Paint one area at a time to keep it."
        )
    elif plan.scale > 1.0 + 1e-9:
        yield (
            f"The photo is smaller than {model}'s sizes around the mask: the {sent} is "
            f"enlarged {plan.scale:.2f}× to {plan.size} and the result reduced again."
        )
    if not plan.stretched and not region.contains(wanted):
        yield (
            f"The photo leaves room for less context than asked: the region is {region}, "
            f"not {wanted}."
        )
    if plan.experimental:
        limit = rules.size.experimental_above or (0, 0)
        yield f"{out_w}x{out_h} is above {limit[0]}x{limit[1]}, which OpenAI marks experimental."
