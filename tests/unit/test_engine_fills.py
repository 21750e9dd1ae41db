"""The fill contract (app.engine.fills.base) and the variant table built from it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pytest

from app.engine.fills.base import MIN_CONTEXT, Fill
from app.engine.fills.direct import DirectFill, Method
from app.engine.fills.membrane import MembraneFill
from app.engine.fills.patchmatch import PatchMatchFill
from app.engine.fills.pyramid import PyramidFill
from app.engine.variants import VARIANTS, variant


@dataclass(frozen=True)
class Flat(Fill):
    """The smallest new fill: one colour everywhere, at every scale asked for."""

    colour: int
    reach: int = MIN_CONTEXT

    @property
    def context(self) -> int:
        return self.reach

    def window_stages(
        self, image: np.ndarray, hole: np.ndarray, scales: tuple[int, ...]
    ) -> Iterator[tuple[int, np.ndarray]]:
        for factor in (*scales, 1):
            height, width = -(-image.shape[0] // factor), -(-image.shape[1] // factor)
            yield factor, np.full((height, width, *image.shape[2:]), self.colour + factor, np.uint8)


def scene() -> tuple[np.ndarray, np.ndarray]:
    image = np.arange(300 * 400 * 3, dtype=np.uint32).reshape(300, 400, 3).astype(np.uint8)
    hole = np.zeros((300, 400), bool)
    hole[140:160, 180:230] = True
    return image, hole


def test_a_new_fill_writes_only_its_stages_and_gets_window_and_compositing() -> None:
    image, hole = scene()
    stages = list(Flat("flat", 100).stages(image, hole, (8, 4, 2)))
    assert len(stages) == 4
    for factor, stage in zip((8, 4, 2, 1), stages, strict=True):
        assert stage.shape == image.shape
        assert np.array_equal(stage[~hole], image[~hole])
        assert (stage[hole] == 100 + factor).all()  # coarse results are upsampled
    assert np.array_equal(Flat("flat", 100).apply(image, hole), stages[-1])


def test_a_fill_sees_the_surroundings_it_asks_for() -> None:
    image, hole = scene()
    seen: list[tuple[int, ...]] = []

    @dataclass(frozen=True)
    class Probe(Flat):
        def window_stages(self, image, hole, scales):
            seen.append(image.shape)
            yield from super().window_stages(image, hole, scales)

    Probe("probe", 0).apply(image, hole)
    Probe("probe", 0, reach=90).apply(image, hole)
    assert seen == [(20 + 2 * 64, 50 + 2 * 64, 3), (20 + 2 * 90, 50 + 2 * 90, 3)]
    assert DirectFill("d", Method.TELEA, 40).context == PyramidFill("p", Method.NS, 40).context
    assert DirectFill("d", Method.TELEA, 3).context == MembraneFill("m", 4).context == 64


def test_the_fill_base_is_abstract() -> None:
    with pytest.raises(TypeError):
        Fill("nothing")  # type: ignore[abstract]


def test_the_variant_table_is_one_row_per_fill_object() -> None:
    assert all(isinstance(v.fill, Fill) for v in VARIANTS)
    assert [v.name for v in VARIANTS] == [v.fill.name for v in VARIANTS]
    assert len({v.name for v in VARIANTS}) == len(VARIANTS) == 10
    kinds = {DirectFill, PyramidFill, MembraneFill, PatchMatchFill}
    assert {type(v.fill) for v in VARIANTS} == kinds
    assert all(variant(i) is VARIANTS[i] for i in range(len(VARIANTS)))
