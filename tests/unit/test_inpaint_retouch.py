"""The whole-image operation used without a mask (app.engine.enhance)."""

from __future__ import annotations

import itertools

import numpy as np
from PIL import Image

from app.engine.enhance import Retouch
from app.engine.variants import VARIANTS
from tests.support.images import gradient, sample


def photo() -> np.ndarray:
    return np.asarray(Image.open(sample("coffee.png")).convert("RGB").resize((240, 160)))


def last(stages) -> np.ndarray:
    return list(stages)[-1]


def test_smoothing_flattens_noise_but_keeps_a_strong_edge():
    rng = np.random.default_rng(1)
    image = np.zeros((64, 64, 3), np.float32)
    image[:, 32:] = 200
    noisy = np.clip(image + rng.normal(0, 6, image.shape), 0, 255).astype(np.uint8)
    out = last(Retouch(4, 0.0025, 0.0).stages(noisy)).astype(np.float32)
    assert out[:, 4:28].std() < noisy[:, 4:28].astype(np.float32).std() / 2
    assert out[:, 36:60].mean() - out[:, 4:28].mean() > 180  # the edge is still there


def test_detail_one_is_the_input_and_above_one_adds_contrast():
    image = photo()
    same = last(Retouch(4, 0.01, 1.0).stages(image))
    assert np.abs(same.astype(int) - image).max() <= 1
    crisp = last(Retouch(4, 0.01, 2.0).stages(image))
    lap = lambda a: np.abs(np.diff(a.astype(np.float32), axis=1)).mean()  # noqa: E731
    assert lap(crisp) > lap(image) * 1.2


def test_stages_are_coarse_to_fine_and_alpha_passes_through():
    rgba = np.asarray(gradient(96, 64, "RGBA")).copy()
    rgba[..., 3] = np.arange(96, dtype=np.uint8)[None, :]
    stages = list(Retouch(4, 0.0025, 0.3).stages(rgba, (8, 4, 2)))
    assert len(stages) == 4
    for stage in stages:
        assert stage.shape == rgba.shape
        assert np.array_equal(stage[..., 3], rgba[..., 3])
    for a, b in itertools.combinations(stages, 2):
        assert not np.array_equal(a, b)


def test_no_mask_variants_genuinely_differ_and_are_deterministic():
    image = photo()
    results = [last(v.retouch.stages(image)) for v in VARIANTS]
    for a, b in itertools.combinations(results, 2):
        assert np.count_nonzero(a != b) > 0.05 * a.size
    assert np.array_equal(results[0], last(VARIANTS[0].retouch.stages(image)))
