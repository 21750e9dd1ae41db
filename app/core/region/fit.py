"""Fitting a region of an exact shape around the mask, inside the photo, in whole pixels.

A region sent at an output size must have the output's aspect, or the result is distorted
when it is scaled back. In whole pixels that holds within rounding: the region's long side
(the output's long side) is chosen, and its short side is the long side times the
output's short/long ratio, rounded. So a result scaled to the region lies within half a
pixel of where an exact scaling would put it.
"""

from __future__ import annotations

from app.core.region.bounds import Rect


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def aspect_short_side(long_side: int, aspect: tuple[int, int]) -> int:
    """The short side that goes with ``long_side`` at ``aspect`` (width, height; the long
    side is the width when width >= height), rounded half up."""
    long_a, short_a = max(aspect), min(aspect)
    return (2 * long_side * short_a + long_a) // (2 * long_a)


def _long_at_least(long_min: int, short_min: int, long_a: int, short_a: int) -> int:
    # The smallest L with L >= long_min and round(L * short_a / long_a) >= short_min.
    return max(1, long_min, _ceil_div((2 * short_min - 1) * long_a, 2 * short_a))


def _long_at_most(long_max: int, short_max: int, long_a: int, short_a: int) -> int:
    # The largest L with L <= long_max and round(L * short_a / long_a) <= short_max.
    return min(long_max, ((2 * short_max + 1) * long_a - 1) // (2 * short_a))


def _place(
    size: int, wanted_at: int, wanted_len: int, must_at: int, must_len: int, room: int
) -> int:
    """The start of a span of ``size`` centred on the wanted span, holding the ``must`` span
    and inside ``0 .. room``."""
    start = wanted_at - (size - wanted_len) // 2
    low = max(0, must_at + must_len - size)
    high = min(must_at, room - size)
    return min(max(start, low), high)


def fit_region(
    aspect: tuple[int, int],
    wanted: Rect,
    must: Rect,
    photo: tuple[int, int],
    at_least: tuple[int, int] = (1, 1),
) -> Rect | None:
    """The region of ``aspect`` (an output size, width and height) around ``wanted``:

    - it holds ``must`` (the mask box) whole, and lies inside ``photo`` (width, height);
      None when no region of that aspect can;
    - it is the smallest region of that aspect holding ``wanted`` (the mask with its
      context) and at least ``at_least`` in size, when the photo has room for it; else the
      largest that the photo has room for, which then holds less context than wanted;
    - it is centred on ``wanted`` and shifted inside the photo.
    """
    width_a, height_a = aspect
    if min(width_a, height_a) <= 0:
        raise ValueError(f"an aspect needs two positive sides, got {aspect}")
    swap = height_a > width_a  # work along the output's long side

    def along(w: int, h: int) -> tuple[int, int]:
        return (h, w) if swap else (w, h)

    long_a, short_a = along(width_a, height_a)
    photo_long, photo_short = along(*photo)
    want_long, want_short = along(max(wanted.width, at_least[0]), max(wanted.height, at_least[1]))
    must_long, must_short = along(must.width, must.height)
    need = _long_at_least(must_long, must_short, long_a, short_a)
    cap = _long_at_most(photo_long, photo_short, long_a, short_a)
    if need > cap:
        return None
    long_side = min(max(_long_at_least(want_long, want_short, long_a, short_a), need), cap)
    short_side = aspect_short_side(long_side, aspect)
    width, height = along(long_side, short_side)
    x = _place(width, wanted.x, wanted.width, must.x, must.width, photo[0])
    y = _place(height, wanted.y, wanted.height, must.y, must.height, photo[1])
    return Rect(x, y, width, height)


def aspect_error(region: tuple[int, int], output: tuple[int, int]) -> float:
    """How far, in region pixels, the region's short side (along the output's short side)
    is from the output's aspect applied to its long side: at most 0.5 for a region made by
    ``fit_region``."""
    width, height = region
    out_w, out_h = output
    if out_w >= out_h:
        return abs(height - width * out_h / out_w)
    return abs(width - height * out_w / out_h)
