"""Nearest-neighbour fields: for every pixel near a hole, the place elsewhere in the picture
whose surroundings look most alike, found by PatchMatch (Barnes, Shechtman, Finkelstein and
Goldman, 2009) vectorised over all pixels at once, and the hole rebuilt from those places.

A 7x7 patch is compared through 16 numbers per pixel: the lowest cosine terms of its
brightness (10) and of its two colour-difference channels (3 each). They are computed for
the whole picture by a few separable filters, so a candidate costs one gather of 16 floats
instead of 147 pixel differences; what is copied into the hole are real pixels, so the
detail the comparison leaves out still arrives.

Every array here is indexed in a *padded frame*: the picture with ``RADIUS`` reflected
pixels on each side, so a patch around any pixel of the picture lies inside the frame and
flat indices never wrap to another row.
"""

from __future__ import annotations

import functools

import cv2
import numpy as np

RADIUS = 3
SIDE = 2 * RADIUS + 1
_LUMA = ((0, 0), (0, 1), (1, 0), (0, 2), (1, 1), (2, 0), (0, 3), (1, 2), (2, 1), (3, 0))
_CHROMA = ((0, 0), (0, 1), (1, 0))
FEATURES = len(_LUMA) + 2 * len(_CHROMA)


def _cosines() -> np.ndarray:
    n = np.arange(SIDE)
    rows = np.array([np.cos(np.pi * (2 * n + 1) * k / (2 * SIDE)) for k in range(4)])
    rows[0] *= np.sqrt(1 / SIDE)
    rows[1:] *= np.sqrt(2 / SIDE)
    return rows.astype(np.float32)


_COSINES = _cosines()


def describe(rgb: np.ndarray) -> np.ndarray:
    """``(H*W, FEATURES)`` float32 for an HxWx3 float32 picture (0-255): each pixel's 7x7
    surroundings as orthonormal cosine terms, so their squared distance is the part of the
    patches' squared difference that those terms carry."""
    planes = cv2.split(cv2.cvtColor(rgb, cv2.COLOR_RGB2YCrCb))
    out = [
        cv2.sepFilter2D(planes[0], -1, _COSINES[j], _COSINES[i], borderType=cv2.BORDER_REFLECT)
        for i, j in _LUMA
    ]
    for plane in planes[1:]:
        out += [
            cv2.sepFilter2D(plane, -1, _COSINES[j], _COSINES[i], borderType=cv2.BORDER_REFLECT)
            for i, j in _CHROMA
        ]
    return cv2.merge(out).reshape(-1, FEATURES)


class Scale:
    """One scale of the picture, ready for matching: the padded frame, its known pixels,
    the centres a patch may be copied from, and the centres whose patch touches the hole.

    ``image`` is HxWxC uint8 (any channel count; the first three are matched, all are
    copied), ``hole`` HxW bool. ``overlap`` is the price, in grey levels per channel, of
    each hole pixel inside a source patch: patches that reach into the hole may be used, but
    a whole known one is preferred."""

    def __init__(self, image: np.ndarray, hole: np.ndarray, overlap: float) -> None:
        self.height, self.width = hole.shape
        self.stride = self.width + 2 * RADIUS
        self.channels = image.shape[2]
        pad = (RADIUS, RADIUS, RADIUS, RADIUS)
        self.pixels = cv2.copyMakeBorder(image, *pad, cv2.BORDER_REFLECT).reshape(-1, self.channels)
        padded_hole = cv2.copyMakeBorder(hole.view(np.uint8), *pad, cv2.BORDER_CONSTANT, value=0)
        self.hole = padded_hole.ravel().astype(bool)
        inside = np.zeros_like(padded_hole, dtype=bool)
        inside[RADIUS:-RADIUS, RADIUS:-RADIUS] = True
        self.source_ok = (inside & (padded_hole == 0)).ravel()
        self.overlap = overlap
        near = cv2.dilate(padded_hole, np.ones((SIDE, SIDE), np.uint8)) > 0
        self.targets = np.flatnonzero(near & inside)
        self.holes = np.flatnonzero(self.hole)

    @functools.cached_property
    def sources(self) -> np.ndarray:
        return np.flatnonzero(self.source_ok)

    @functools.cached_property
    def penalty(self) -> np.ndarray:
        """Per source centre: the share of its patch in the hole, priced (made when a
        search first needs it)."""
        frame = self.hole.reshape(-1, self.stride).astype(np.float32)
        share = cv2.boxFilter(frame, -1, (SIDE, SIDE))
        return (share * (SIDE * SIDE * 3 * self.overlap * self.overlap)).ravel()

    @property
    def size(self) -> int:
        return self.hole.size

    def coordinates(self, flat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Row and column in the picture (not the padded frame)."""
        rows, cols = np.divmod(flat, self.stride)
        return rows - RADIUS, cols - RADIUS

    def flat(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        return (rows + RADIUS) * self.stride + cols + RADIUS

    def rgb(self, values: np.ndarray | None = None) -> np.ndarray:
        """The padded frame's first three channels as HxWx3 float32, with ``values`` (one
        row per hole pixel) written into the hole."""
        pixels = self.pixels if values is None else self.with_hole(values)
        frame = pixels.reshape(self.height + 2 * RADIUS, self.stride, self.channels)
        if self.channels < 3:  # grey: brightness alone
            frame = np.repeat(frame[..., :1], 3, axis=2)
        return np.ascontiguousarray(frame[..., :3], dtype=np.float32)

    def with_hole(self, values: np.ndarray) -> np.ndarray:
        """The padded frame's pixels as float32, with ``values`` in the hole."""
        pixels = self.pixels.astype(np.float32)
        pixels[self.holes] = values
        return pixels

    def random_sources(self, count: int, rng: np.random.Generator) -> np.ndarray:
        return self.sources[rng.integers(0, self.sources.size, count)]

    def picture(self, values: np.ndarray) -> np.ndarray:
        """HxWxC uint8: the scale's picture with ``values`` (rounded) in its hole."""
        pixels = self.pixels.copy()
        pixels[self.holes] = np.rint(values).clip(0, 255).astype(np.uint8)
        frame = pixels.reshape(-1, self.stride, self.channels)
        return frame[RADIUS:-RADIUS, RADIUS:-RADIUS]


def search(
    scale: Scale,
    features: np.ndarray,
    nnf: np.ndarray,
    *,
    iterations: int,
    reach: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """Improve ``nnf`` (a source index per target of ``scale``) for the picture whose
    ``features`` are given: each iteration propagates good matches from neighbours 1 and 3
    pixels away in the four directions, then tries random sources around the current one
    within ``reach``, ``reach / 2`` ... 1 pixels."""
    targets, stride = scale.targets, scale.stride
    mine = features[targets]
    cost = _cost(features, mine, nnf, scale.penalty)
    field = _spread(scale, nnf)
    rows_max, cols_max = scale.height + RADIUS - 1, scale.width + RADIUS - 1
    for iteration in range(iterations):
        field[targets] = nnf  # the random search of the last iteration moved some
        sign = 1 if iteration % 2 == 0 else -1
        for step in (1, stride, 3, 3 * stride):
            for direction in (sign, -sign):
                offset = step * direction
                neighbour = field[targets - offset]
                candidate = neighbour + offset
                usable = (neighbour >= 0) & (candidate != nnf)
                usable &= scale.source_ok.take(candidate, mode="clip")
                better = _improve(features, mine, nnf, cost, usable, candidate, scale.penalty)
                field[targets[better]] = nnf[better]
        span = reach
        while span >= 1:
            rows, cols = np.divmod(nnf, stride)
            rows = np.clip(rows + rng.integers(-span, span + 1, nnf.size), RADIUS, rows_max)
            cols = np.clip(cols + rng.integers(-span, span + 1, nnf.size), RADIUS, cols_max)
            candidate = rows * stride + cols
            usable = scale.source_ok[candidate] & (candidate != nnf)
            _improve(features, mine, nnf, cost, usable, candidate, scale.penalty)
            span //= 2
    return nnf


def _spread(scale: Scale, nnf: np.ndarray) -> np.ndarray:
    """The field over the whole padded frame: each target's source, -1 elsewhere."""
    field = np.full(scale.size, -1, np.int64)
    field[scale.targets] = nnf
    return field


def _cost(
    features: np.ndarray, mine: np.ndarray, sources: np.ndarray, penalty: np.ndarray
) -> np.ndarray:
    difference = features.take(sources, axis=0)
    difference -= mine
    return np.einsum("nk,nk->n", difference, difference) + penalty[sources]


def _improve(
    features: np.ndarray,
    mine: np.ndarray,
    nnf: np.ndarray,
    cost: np.ndarray,
    usable: np.ndarray,
    candidate: np.ndarray,
    penalty: np.ndarray,
) -> np.ndarray:
    """Take ``candidate`` where it is usable and cheaper; the indexes that changed."""
    which = np.flatnonzero(usable)
    if which.size == 0:
        return which
    chosen = candidate[which]
    new = _cost(features, mine[which], chosen, penalty)
    better = new < cost[which]
    changed = which[better]
    nnf[changed] = chosen[better]
    cost[changed] = new[better]
    return changed


def vote(
    scale: Scale, nnf: np.ndarray, radius: int, fallback: np.ndarray, centre: float = 1.0
) -> np.ndarray:
    """The hole's pixels (one row per pixel of ``scale.holes``, all channels): each the
    mean of what the patches around it (up to ``radius``) copy there from their sources,
    the patch centred on the pixel weighing ``centre`` times the others. Only known source
    pixels count; a pixel no patch reaches keeps ``fallback``."""
    field = _spread(scale, nnf)
    holes, stride = scale.holes, scale.stride
    sums = np.zeros((holes.size, scale.channels), np.float32)
    counts = np.zeros(holes.size, np.float32)
    known = ~scale.hole
    for dy in range(-radius, radius + 1):
        for dx in range(-radius, radius + 1):
            offset = dy * stride + dx
            source = field[holes - offset]
            usable = source >= 0
            source += offset
            usable &= known.take(source, mode="clip")
            weight = usable.astype(np.float32)
            if offset == 0:
                weight *= centre
            sums += scale.pixels.take(source, axis=0, mode="clip") * weight[:, None]
            counts += weight
    reached = counts > 0
    out = fallback.astype(np.float32, copy=True)
    out[reached] = sums[reached] / counts[reached, None]
    return out


def coherence(scale: Scale, nnf: np.ndarray) -> np.ndarray:
    """Per hole pixel (``scale.holes``), the share of its four neighbours whose source is
    the pixel next to its own source: 1 inside a copied piece, less at its seams."""
    field = _spread(scale, nnf)
    own = field[scale.holes]
    agree = np.zeros(scale.holes.size, np.float32)
    for step in (1, -1, scale.stride, -scale.stride):
        agree += field[scale.holes + step] == own + step
    return agree / 4


def upsample(coarse: Scale, nnf: np.ndarray, fine: Scale, rng: np.random.Generator) -> np.ndarray:
    """A field for ``fine`` (twice the size of ``coarse``) from ``coarse``'s: each fine
    target takes its coarse parent's source, doubled, plus its own place in the 2x2 block;
    where that is no source at this scale, a random one."""
    field = _spread(coarse, nnf)
    rows, cols = fine.coordinates(fine.targets)
    parent = field[
        coarse.flat(
            np.minimum(rows // 2, coarse.height - 1), np.minimum(cols // 2, coarse.width - 1)
        )
    ]
    source_rows, source_cols = coarse.coordinates(np.maximum(parent, 0))
    out = fine.flat(
        np.clip(2 * source_rows + rows % 2, 0, fine.height - 1),
        np.clip(2 * source_cols + cols % 2, 0, fine.width - 1),
    )
    missing = (parent < 0) | ~fine.source_ok[out]
    out[missing] = fine.random_sources(int(missing.sum()), rng)
    return out
