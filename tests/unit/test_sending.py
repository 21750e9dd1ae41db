"""What is sent for a photo over the API's limits (app.core.sending): a smaller copy of the
picture and of its mask, and the warning shown before sending."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from app.core.imageio import ImageFileError
from app.core.mask import read_mask
from app.core.schema import load_schema
from app.core.sending import fit_for_sending, output_note, scaled_mask, size_to_send


def photo(path, width: int, height: int, fmt: str = "PNG", mode: str = "RGB"):
    rng = np.random.default_rng(7)
    channels = 4 if mode == "RGBA" else 3
    pixels = rng.integers(0, 256, (height, width, channels), np.uint8)
    Image.fromarray(pixels, mode).save(path, fmt)
    return path


def test_a_photo_within_the_limits_is_sent_as_it_is(tmp_path) -> None:
    image = photo(tmp_path / "small.png", 64, 48)
    mask = tmp_path / "mask.png"
    sent = fit_for_sending(image, None, tmp_path / "out", max_pixels=10_000, max_bytes=1 << 30,
                           mask=mask)  # fmt: skip
    assert (sent.image, sent.mask, sent.size, sent.scaled) == (image, mask, (64, 48), False)
    assert not (tmp_path / "out").exists()


def test_a_photo_over_the_pixel_limit_is_sent_scaled_with_its_aspect(tmp_path) -> None:
    image = photo(tmp_path / "big.png", 400, 300)
    coverage = np.zeros((300, 400), np.uint8)
    coverage[100:200, 100:300] = 255
    sent = fit_for_sending(image, coverage, tmp_path / "out", max_pixels=30_000,
                           max_bytes=1 << 30)  # fmt: skip
    assert sent.scaled and sent.size == (200, 150)
    with Image.open(sent.image) as copy:
        assert copy.size == (200, 150)
    assert sent.image.parent == tmp_path / "out"
    alpha_coverage = read_mask(sent.mask, (200, 150), mode="alpha")
    assert alpha_coverage[50:100, 50:150].min() == 255  # painted, scaled by one half
    assert alpha_coverage[:45].max() == 0 and alpha_coverage[:, :45].max() == 0


def test_a_photo_over_the_byte_limit_is_sent_as_jpeg_or_webp(tmp_path) -> None:
    opaque = photo(tmp_path / "noise.png", 300, 200)
    limit = opaque.stat().st_size // 2  # noise: PNG cannot get under it, JPEG can
    sent = fit_for_sending(opaque, None, tmp_path / "out", max_pixels=10**6, max_bytes=limit)
    assert sent.image.suffix == ".jpg" and sent.image.stat().st_size < limit
    clear = photo(tmp_path / "clear.png", 300, 200, mode="RGBA")
    limit = clear.stat().st_size // 2
    sent = fit_for_sending(clear, None, tmp_path / "out", max_pixels=10**6, max_bytes=limit)
    assert sent.image.suffix == ".webp"
    with Image.open(sent.image) as copy:
        assert "A" in copy.getbands()


def test_a_stroke_thinner_than_the_scale_stays_in_the_mask() -> None:
    coverage = np.zeros((1000, 1000), np.uint8)
    coverage[500, 100:900] = 255  # one pixel high, scaled down 10x
    small = scaled_mask(coverage, (100, 100))
    assert small[50, 10:90].min() == 255
    assert small.sum() // 255 == 80


@pytest.mark.parametrize(("width", "height"), [(8000, 6000), (6000, 8000), (12000, 3000)])
def test_the_size_sent_fits_the_limit_and_keeps_the_aspect(width, height) -> None:
    limit = load_schema().files.max_pixels
    w, h = size_to_send(width, height, limit)
    assert w * h <= limit
    assert abs(w / h - width / height) < 0.01
    assert (w + 1) * (h + 1) > limit  # not needlessly small


def test_an_unreadable_picture_is_refused_naming_it(tmp_path) -> None:
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 40)
    with pytest.raises(ImageFileError, match=r"broken\.png"):
        fit_for_sending(bad, None, tmp_path, max_pixels=10, max_bytes=10)


def test_the_warning_before_sending_names_the_scale() -> None:
    schema = load_schema()
    note = output_note((8000, 6000), schema.rules_for("gpt-image-1"), "auto", "gpt-image-1")
    assert "1.6 MP" in note and "8000x6000" in note and "5.5x" in note
    # A size asked for explicitly is what comes back.
    note = output_note((8000, 6000), schema.rules_for("gpt-image-1"), "1024x1024", "gpt-image-1")
    assert "1.0 MP" in note
    # gpt-image-2 returns up to 8.3 MP: a 24 MP photo is within 4x, a 48 MP one is not.
    rules = schema.rules_for("gpt-image-2")
    assert output_note((6000, 4000), rules, "auto", "gpt-image-2") == ""
    assert "8.3 MP" in output_note((8000, 6000), rules, "auto", "gpt-image-2")
    # The local engine returns the picture's own size.
    assert output_note((8000, 6000), schema.rules_for("local-inpaint"), "auto", "") == ""
    assert output_note((1536, 1024), schema.rules_for("gpt-image-1"), "auto", "gpt-image-1") == ""
