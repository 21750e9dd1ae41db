"""What the engine returns besides pixels: encoding (app.engine.codec) and the usage
formula (app.engine.usage)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from app.engine import codec
from app.engine.usage import image_tokens, text_tokens, usage
from tests.support.images import encode, gradient


def decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def test_png_is_lossless_rgb_and_rgba():
    rgb = np.asarray(gradient(64, 48))
    assert np.array_equal(np.asarray(decode(codec.encode(rgb, "png"))), rgb)
    rgba = np.dstack([rgb, np.arange(64, dtype=np.uint8)[None, :].repeat(48, 0)])
    out = decode(codec.encode(rgba, "png"))
    assert out.mode == "RGBA" and np.array_equal(np.asarray(out), rgba)


@pytest.mark.parametrize("fmt", ["jpeg", "webp"])
def test_compression_is_the_quality_of_lossy_formats(fmt):
    rgb = np.asarray(gradient(256, 256))
    high, low = codec.encode(rgb, fmt, 100), codec.encode(rgb, fmt, 10)
    assert decode(high).format == fmt.upper() and len(low) < len(high)


def test_webp_keeps_alpha_and_jpeg_drops_it():
    rgba = np.asarray(gradient(32, 32, "RGBA")).copy()
    rgba[:16, :, 3] = 0
    assert decode(codec.encode(rgba, "webp")).mode == "RGBA"
    assert decode(codec.encode(rgba, "jpeg")).mode == "RGB"


def test_flatten_composites_over_white():
    rgba = np.array([[[0, 0, 0, 0], [0, 0, 0, 255], [100, 100, 100, 128]]], np.uint8)
    assert codec.flatten(rgba).tolist() == [[[255, 255, 255], [0, 0, 0], [177, 177, 177]]]


def test_decoding_keeps_the_stored_pixels():
    rgb = gradient(40, 30)
    data = encode(rgb, "PNG")
    pixels = codec.decode_pixels(data, name="x.png", max_pixels=10**6, alpha=False)
    assert np.array_equal(pixels, np.asarray(rgb))
    assert codec.decode_pixels(data, name="x", max_pixels=10**6, alpha=True).shape == (30, 40, 4)


def test_resize_only_when_the_size_differs():
    rgb = np.asarray(gradient(64, 48))
    assert codec.resize(rgb, 64, 48) is rgb
    assert codec.resize(rgb, 32, 20).shape == (20, 32, 3)
    assert codec.resize(rgb, 128, 100).shape == (100, 128, 3)


def test_usage_formula():
    assert text_tokens("") == 0 and text_tokens("abcde") == 2
    assert image_tokens(512, 512) == 85 + 170
    assert image_tokens(1024, 1536) == 85 + 170 * 6
    cost = usage(prompt="x" * 40, inputs=[(1024, 1024), (256, 256)], outputs=[(1024, 1024)] * 2)
    assert cost.input_tokens == 10 + (85 + 680) + (85 + 170)
    assert cost.output_tokens == 2 * (85 + 680)
    assert cost.total_tokens == cost.input_tokens + cost.output_tokens
    wire = cost.to_json()
    assert wire["input_tokens_details"] == {"text_tokens": 10, "image_tokens": 1020}
    assert wire["output_tokens_details"] == {"image_tokens": 1530, "text_tokens": 0}
    later = usage(prompt="x", inputs=[(64, 64)], outputs=[(64, 64)], partials=2, count_input=False)
    assert later.input_tokens == 0 and later.output_tokens == 255 + 200


@pytest.mark.parametrize("shape", [(1, 1, 3), (3, 5, 4), (301, 517, 3), (700, 900, 4)])
def test_strip_png_is_lossless_and_reuses_unchanged_rows(shape: tuple[int, int, int]) -> None:
    rng = np.random.default_rng(1)
    base = rng.integers(0, 256, shape, dtype=np.uint8)
    changing = np.zeros(shape[0], bool)
    changing[shape[0] // 3 : shape[0] // 2 + 1] = True
    rows = codec.PngRows(base, changing)
    # Only strips with a changing row are encoded again, and strips are thin, so little
    # more than the changing rows is.
    again = [bottom - top for i, (top, bottom) in enumerate(rows.strips) if i not in rows.fixed]
    assert sum(again) <= changing.sum() + shape[0] // 8 + 2 * codec.MIN_STRIP_ROWS
    changed = base.copy()
    changed[changing] ^= 0x5A
    for pixels in (base, changed):  # the strips encoded from base are reused for both
        assert np.array_equal(np.asarray(decode(rows.encode(pixels))), pixels)
    with pytest.raises(ValueError):
        rows.encode(base[:-1] if shape[0] > 1 else np.zeros((2, 1, 3), np.uint8))


def test_png_fast_decode_matches_pillow() -> None:
    for mode in ("RGB", "RGBA"):
        picture = gradient(67, 45, mode)
        data = encode(picture, "PNG")
        fast = codec.decode_pixels(data, name="x", max_pixels=10**6, alpha=mode == "RGBA")
        assert np.array_equal(fast, np.asarray(picture))
    mask = gradient(67, 45, "RGBA")
    alpha = codec.mask_alpha(encode(mask, "PNG"), name="m", max_pixels=10**6)
    assert np.array_equal(alpha, np.asarray(mask.getchannel("A")))
