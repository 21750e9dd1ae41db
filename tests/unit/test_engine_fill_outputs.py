"""Every variant's output, pinned bit for bit.

The digests below were recorded from the engine before its fills became objects (commit
f6a38cb, string dispatch on a fill family), with OpenCV 5.0.0 and numpy 2.4.6, on inputs
generated here from fixed seeds. A refactor must reproduce them exactly. If an OpenCV or
numpy upgrade changes them, record them again from that commit's ``app/engine/inpaint.py``
and ``enhance.py`` (they depend on nothing else) with the new libraries.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import numpy as np
import pytest

from app.engine.variants import VARIANTS, Variant


def picture(height: int, width: int, channels: int, seed: int) -> np.ndarray:
    """Gradients, a few flat rectangles and some noise: structure for a fill to follow.
    ``channels`` 1 gives an HxW grey image; the fourth channel of 4 is a varying alpha."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    planes = []
    for _ in range(max(channels, 1)):
        a, b, c = rng.uniform(-1.0, 1.0, 3)
        planes.append(128 + 90 * a * x / width + 90 * b * y / height + 20 * c)
    image = np.stack(planes, axis=-1)
    for _ in range(5):
        top, left = rng.integers(0, height - 8), rng.integers(0, width - 8)
        tall, wide = rng.integers(4, height // 3), rng.integers(4, width // 3)
        image[top : top + tall, left : left + wide] = rng.uniform(0, 255, channels)
    image += rng.normal(0.0, 4.0, image.shape)
    image = np.rint(image).clip(0, 255).astype(np.uint8)
    return image[..., 0] if channels == 1 else image


def ellipse(shape: tuple[int, int], centre: tuple[float, float], axes: tuple[float, float]):
    y, x = np.mgrid[0 : shape[0], 0 : shape[1]]
    return ((y - centre[0]) / axes[0]) ** 2 + ((x - centre[1]) / axes[1]) ** 2 <= 1.0


def hole(kind: str, shape: tuple[int, int]) -> np.ndarray:
    height, width = shape
    if kind == "blob":
        return ellipse(shape, (height * 0.45, width * 0.55), (height * 0.12, width * 0.09))
    if kind == "edge":  # touches the top and left borders: the window is clipped
        out = np.zeros(shape, bool)
        out[: height // 4, : width // 5] = True
        return out
    if kind == "two":  # two holes far apart share one window
        first = ellipse(shape, (height * 0.2, width * 0.2), (9, 14))
        return first | ellipse(shape, (height * 0.8, width * 0.75), (12, 7))
    if kind == "big":  # most of the picture: coarse levels run out of known pixels
        return ellipse(shape, (height * 0.5, width * 0.5), (height * 0.46, width * 0.47))
    if kind == "rim":  # all but a 3 px strip: at 1/8 no coarse pixel is half known
        out = np.ones(shape, bool)
        out[:, -3:] = False
        return out
    if kind == "speck":
        out = np.zeros(shape, bool)
        out[height // 2, width // 3 : width // 3 + 2] = True
        return out
    raise ValueError(kind)


# (height, width, channels, seed, hole, partial scales)
FILL_CASES = (
    (157, 203, 3, 1, "blob", (8, 4, 2)),
    (240, 180, 4, 2, "edge", (8, 4, 2)),
    (190, 260, 1, 3, "two", (8,)),
    (128, 128, 3, 4, "big", (8, 4)),
    (300, 220, 3, 5, "speck", ()),
    (120, 136, 4, 6, "rim", (8, 4, 2)),
)
# (height, width, channels, seed, partial scales)
RETOUCH_CASES = ((157, 203, 3, 7, (8, 4, 2)), (96, 130, 4, 8, ()))


def digest(stages: Iterable[np.ndarray]) -> str:
    sha = hashlib.sha256()
    for stage in stages:
        sha.update(f"{stage.shape}{stage.dtype}".encode())
        sha.update(np.ascontiguousarray(stage).tobytes())
    return sha.hexdigest()[:8]


def fill_digests(chosen: Variant) -> list[str]:
    out = []
    for height, width, channels, seed, kind, scales in FILL_CASES:
        image = picture(height, width, channels, seed)
        out.append(digest(chosen.fill.stages(image, hole(kind, (height, width)), scales)))
    return out


def retouch_digests(chosen: Variant) -> list[str]:
    return [
        digest(chosen.retouch.stages(picture(height, width, channels, seed), scales))
        for height, width, channels, seed, scales in RETOUCH_CASES
    ]


FILL_DIGESTS: dict[str, str] = {
    # Recorded when PatchMatch became variant 0 (issue 17), with pypatchmatch 2.2.0.
    "patchmatch": "cb1697ae 29c3afcf fa0e40e6 36b6b167 5d7ba0c2 43eaae9d",
    "pyramid-navier-stokes": "482807e8 4ec8c33f 4945f89c 27fae074 44d4492c 195d2297",
    "pyramid-telea": "d7748007 f0c847e9 0c41c926 bfdc1a69 be30df34 d6d01883",
    "navier-stokes": "d05ed5c5 1444d59b 3b6a3b47 3ea451de 44d4492c 61a7d13b",
    "membrane": "35d5bfcd 9dbcfffb 67f69f32 039fb2e7 19b48fcc 808681a9",
    "telea": "d7a6cba8 9b228735 fdb9e8d4 71581d43 be30df34 a0400a99",
    "telea-r5": "bcf68e2d c3967f54 e94a860a d038ece3 3b1dc8cc ca4c592d",
    "navier-stokes-r5": "f35f0f91 f7e7c4e2 30860f75 727190c0 44d4492c a4c0be82",
    "pyramid-telea-r6": "efd98558 dbe4e422 5dcd6c96 ae5d74f0 b7ce77ed d408ac92",
    "membrane-soft": "fc0085b8 512a5047 da41a54e 8d40348b 5efb2dcf 4d21064c",
}
RETOUCH_DIGESTS: dict[str, str] = {
    # Each variant index keeps its no-mask retouch; the names moved down one row when
    # PatchMatch became variant 0 (issue 17).
    "patchmatch": "22408e10 caaca58d",
    "pyramid-navier-stokes": "3af1bd55 9762984c",
    "pyramid-telea": "b7683fa4 7a7c3c7d",
    "navier-stokes": "5a567a3f 99ef1e7e",
    "membrane": "5001d6e7 68cd6690",
    "telea": "b92a4c01 9cc621b6",
    "telea-r5": "ecd05bad 3984016f",
    "navier-stokes-r5": "6bce4f9a 4eea9346",
    "pyramid-telea-r6": "af40e666 50c058b7",
    "membrane-soft": "a087c11c 955ae7bf",
}


def test_every_variant_has_recorded_outputs() -> None:
    names = [v.name for v in VARIANTS]
    assert list(FILL_DIGESTS) == names and list(RETOUCH_DIGESTS) == names


@pytest.mark.parametrize("chosen", VARIANTS, ids=[v.name for v in VARIANTS])
def test_fill_stages_are_bit_identical_to_the_recorded_ones(chosen: Variant) -> None:
    assert fill_digests(chosen) == FILL_DIGESTS[chosen.name].split()


@pytest.mark.parametrize("chosen", VARIANTS, ids=[v.name for v in VARIANTS])
def test_no_mask_stages_are_bit_identical_to_the_recorded_ones(chosen: Variant) -> None:
    assert retouch_digests(chosen) == RETOUCH_DIGESTS[chosen.name].split()
