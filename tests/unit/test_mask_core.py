"""The mask's pixel math (app.core.mask): dabs, strokes, shapes, operations, API files."""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from app.core import mask as core
from app.core.imageio import ImageFileError
from app.core.mask import Box, Brush
from app.core.validation import validate_files
from tests.support.images import corrupt, png_bytes, truncated, write


def binarized(mask: np.ndarray) -> np.ndarray:
    return np.where(mask >= core.EDIT_THRESHOLD, 255, 0).astype(np.uint8)


# --- boxes -----------------------------------------------------------------------------


def test_box_union_intersection_and_clipping() -> None:
    a, b = Box(0, 0, 10, 10), Box(5, 5, 20, 8)
    assert a.union(b) == Box(0, 0, 20, 10)
    assert a.intersect(b) == Box(5, 5, 10, 8)
    assert a.intersect(Box(10, 0, 12, 5)).is_empty
    assert Box.empty().union(b) == b
    assert Box(-5, -5, 5, 300).clipped(100, 100) == Box(0, 0, 5, 100)


def test_nonzero_and_changed_boxes() -> None:
    mask = core.new_mask(50, 40)
    assert core.nonzero_box(mask).is_empty
    mask[10:12, 20:31] = 7
    assert core.nonzero_box(mask) == Box(20, 10, 31, 12)
    other = mask.copy()
    other[30, 5] = 1
    assert core.changed_box(mask, other) == Box(5, 30, 6, 31)
    assert core.changed_box(mask, other, Box(100, 200, 150, 240)) == Box(105, 230, 106, 231)


# --- dabs and strokes --------------------------------------------------------------------


def test_hard_dab_covers_a_disc_of_its_radius() -> None:
    box, coverage = core.dab_coverage(50.0, 50.0, 20.0, 1.0, 100, 100)
    assert coverage.shape == (box.height, box.width)
    assert coverage.max() == pytest.approx(1.0)
    assert coverage.sum() == pytest.approx(math.pi * 20**2, rel=0.01)
    ys, xs = np.nonzero(coverage)
    distance = np.hypot(xs + box.x0 + 0.5 - 50, ys + box.y0 + 0.5 - 50)
    assert distance.max() <= 20.5 + 1e-6


def test_soft_dab_fades_from_the_centre() -> None:
    box, coverage = core.dab_coverage(40.0, 40.0, 30.0, 0.0, 80, 80)
    row = coverage[40 - box.y0, 40 - box.x0 :]
    assert row[0] > 0.99
    assert np.all(np.diff(row) <= 1e-6)
    assert row[15] == pytest.approx(0.5, abs=0.05)  # smoothstep halfway


def test_dab_is_clipped_at_the_image_edge() -> None:
    box, coverage = core.dab_coverage(2.0, 3.0, 10.0, 1.0, 50, 50)
    assert (box.x0, box.y0) == (0, 0)
    assert coverage.shape == (box.height, box.width)


def test_stroke_opacity_caps_overlapping_dabs_and_strokes_build_up() -> None:
    mask = core.new_mask(120, 60)
    brush = Brush(radius=10, hardness=1.0, opacity=0.5)
    points = [(20.0 + i, 30.0) for i in range(80)]
    core.paint_stroke(mask, points, brush)
    assert mask[30, 60] == 128  # many overlapping dabs, one stroke: opacity caps it
    core.paint_stroke(mask, points, brush)
    assert mask[30, 60] == 192  # a second stroke goes "over": 128 + 127 * 0.5


def test_hard_stroke_is_continuous_along_its_path() -> None:
    mask = core.new_mask(300, 40)
    core.paint_stroke(mask, [(10.0, 20.0), (290.0, 20.0)], Brush(radius=6, hardness=1.0))
    assert np.all(mask[20, 10:290] == 255)
    assert np.all(mask[20 - 9, :] == 0)


def test_erase_stroke_and_restore() -> None:
    mask = np.full((60, 60), 255, np.uint8)
    stroke = core.Stroke(mask, Brush(radius=8, hardness=1.0), erase=True)
    touched = stroke.add_point(30, 30)
    stroke.add_point(40, 30)
    assert mask[30, 35] == 0 and mask[5, 5] == 255
    assert not touched.is_empty
    tiles = stroke.changed_tiles()
    assert tiles and all(np.all(before == 255) for _, before in tiles)
    stroke.restore()
    assert np.all(mask == 255)


def test_pressure_scales_the_radius() -> None:
    light, full = core.new_mask(100, 100), core.new_mask(100, 100)
    core.Stroke(light, Brush(radius=20, hardness=1.0)).add_point(50, 50, pressure=0.25)
    core.Stroke(full, Brush(radius=20, hardness=1.0)).add_point(50, 50, pressure=1.0)
    assert light.sum() / full.sum() == pytest.approx(1 / 16, rel=0.1)


def test_stroke_keeps_only_changed_tiles() -> None:
    mask = core.new_mask(512, 512)
    mask[:, :] = 255
    stroke = core.Stroke(mask, Brush(radius=30))
    stroke.add_point(100, 100)
    assert stroke.changed_tiles() == []  # painting over full coverage changes nothing


def test_brush_validation() -> None:
    with pytest.raises(ValueError, match="radius"):
        Brush(radius=0)
    with pytest.raises(ValueError, match="hardness"):
        Brush(radius=3, hardness=1.5)


# --- shapes ------------------------------------------------------------------------------


def test_rectangle_snaps_to_the_pixel_grid_and_subtracts() -> None:
    mask = core.new_mask(40, 30)
    edit = core.filled_rect(mask, 10.4, 5.6, 20.2, 15.0)
    assert edit.box == Box(10, 6, 20, 15)
    core.apply(mask, edit)
    assert mask.sum() == 255 * 10 * 9
    core.apply(mask, core.filled_rect(mask, 12, 6, 14, 15, subtract=True))
    assert mask[10, 12] == 0 and mask[10, 11] == 255


def test_ellipse_area_and_symmetry() -> None:
    mask = core.new_mask(200, 120)
    core.apply(mask, core.filled_ellipse(mask, 20, 10, 180, 110))
    assert mask.sum() / 255 == pytest.approx(math.pi * 80 * 50, rel=0.01)
    region = mask[10:110, 20:180]
    assert np.array_equal(region, region[::-1, ::-1])


def test_polygon_area_matches_the_shoelace_formula() -> None:
    points = [(10.0, 10.0), (90.0, 20.0), (70.0, 80.0), (15.0, 60.0)]
    xs, ys = zip(*points, strict=True)
    area = 0.5 * abs(sum(xs[i] * ys[i - 1] - xs[i - 1] * ys[i] for i in range(len(xs))))
    mask = core.new_mask(100, 100)
    core.apply(mask, core.filled_polygon(mask, points))
    assert mask.sum() / 255 == pytest.approx(area, rel=0.02)
    assert core.filled_polygon(mask, points[:2]).box.is_empty


# --- whole-mask operations --------------------------------------------------------------


def square(size: int = 100, lo: int = 30, hi: int = 70) -> np.ndarray:
    mask = core.new_mask(size, size)
    mask[lo:hi, lo:hi] = 255
    return mask


def test_invert_clear_fill() -> None:
    mask = square()
    inverted = core.inverted(mask)
    assert inverted.box == Box(0, 0, 100, 100)
    assert np.array_equal(inverted.pixels, 255 - mask)
    assert core.cleared(mask).box == Box(30, 30, 70, 70)
    assert core.cleared(core.new_mask(10, 10)).box.is_empty
    assert np.all(core.filled(mask).pixels == 255)


def test_grow_and_shrink_move_the_edge_by_n_pixels() -> None:
    mask = square()
    grown = mask.copy()
    core.apply(grown, core.grown(mask, 5))
    assert core.nonzero_box(binarized(grown)) == Box(25, 25, 75, 75)
    assert grown[50, 25] == 255 and grown[50, 24] == 0
    shrunk = mask.copy()
    core.apply(shrunk, core.shrunk(mask, 5))
    assert core.nonzero_box(shrunk) == Box(35, 35, 65, 65)


def test_shrink_does_not_eat_the_image_border() -> None:
    mask = np.full((50, 50), 255, np.uint8)
    edit = core.shrunk(mask, 10)
    assert np.all(edit.pixels == 255)


def test_feather_softens_the_edge_but_keeps_the_50_percent_line() -> None:
    mask = square(120, 30, 90)
    feathered = mask.copy()
    box = core.apply(feathered, core.feathered(mask, 8))
    assert box.x0 < 30 and box.x1 > 90
    edge = feathered[60, 20:40]
    assert 0 < edge.min() < 60 and 200 < edge.max() <= 255
    assert np.all(np.diff(edge.astype(int)) >= 0)
    assert np.array_equal(binarized(feathered)[40:80, 40:80], binarized(mask)[40:80, 40:80])
    assert abs(int(feathered[60, 30]) - 128) < 20


# --- API mask files ---------------------------------------------------------------------


def decode(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    image.load()
    return image


def test_export_is_a_grey_alpha_png_with_alpha_zero_where_at_least_half_painted() -> None:
    mask = core.new_mask(8, 2)
    mask[0, :] = [0, 1, 100, 127, 128, 129, 200, 255]
    image = decode(core.to_api_png(mask))
    # Compact: grey+alpha with the grey flat black (only alpha matters to the API).
    assert image.format == "PNG" and image.mode == "LA" and image.size == (8, 2)
    assert not np.asarray(image.getchannel("L")).any()
    alpha = np.asarray(image.getchannel("A"))
    assert alpha[0].tolist() == [255, 255, 255, 255, 0, 0, 0, 0]
    assert np.all(alpha[1] == 255)


def test_exported_mask_passes_the_request_validation(tmp_path: Path, schema) -> None:
    image = write(tmp_path / "photo.png", png_bytes(64, 48))
    mask = core.new_mask(64, 48)
    mask[10:20, 10:30] = 255
    exported = write(tmp_path / "mask.png", core.to_api_png(mask))
    problems, _ = validate_files([image], exported, schema)
    assert problems == []


@settings(max_examples=25, deadline=None)
@given(st.binary(min_size=12 * 9, max_size=12 * 9))
def test_export_then_import_gives_back_the_exported_edit_area(data: bytes) -> None:
    mask = np.frombuffer(data, np.uint8).reshape(9, 12)
    restored = core.read_mask(core.to_api_png(mask), (12, 9), max_pixels=10_000)
    assert np.array_equal(restored, binarized(mask))
    assert core.to_api_png(restored) == core.to_api_png(mask)


def test_import_black_and_white_pictures() -> None:
    grey = np.zeros((10, 20), np.uint8)
    grey[:, :5] = 255
    png = png_of(Image.fromarray(grey, "L"))
    white = core.read_mask(png, (20, 10), mode="white", max_pixels=10_000)
    black = core.read_mask(png, (20, 10), mode="black", max_pixels=10_000)
    auto = core.read_mask(png, (20, 10), max_pixels=10_000)
    assert np.array_equal(white, grey) and np.array_equal(black, 255 - grey)
    assert np.array_equal(auto, white)  # without alpha, white means edit


def png_of(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def test_wrong_size_is_refused_naming_the_file_and_both_sizes(tmp_path: Path) -> None:
    path = write(tmp_path / "other.png", core.to_api_png(core.new_mask(30, 20)))
    with pytest.raises(core.MaskSizeError) as caught:
        core.read_mask(path, (60, 40))
    message = str(caught.value)
    assert "other.png" in message and "30x20" in message and "60x40" in message
    scaled = core.read_mask(path, (60, 40), scale=True)
    assert scaled.shape == (40, 60)


@pytest.mark.parametrize("damage", [corrupt, truncated, lambda data: b"not an image"])
def test_broken_files_are_refused_with_a_message(tmp_path: Path, damage) -> None:
    good = core.to_api_png(np.full((120, 160), 255, np.uint8))
    path = write(tmp_path / "broken.png", damage(good))
    with pytest.raises(ImageFileError, match=r"broken\.png"):
        core.read_mask(path, (160, 120))


def test_alpha_mode_needs_an_alpha_channel() -> None:
    with pytest.raises(ImageFileError, match="alpha"):
        core.read_mask(png_bytes(20, 10), (20, 10), mode="alpha", name="flat.png")


def test_pack_round_trip_is_small_for_typical_masks() -> None:
    mask = square(256, 50, 200)
    blob = core.pack(mask)
    assert len(blob) < mask.nbytes / 50
    assert np.array_equal(core.unpack(blob, Box(0, 0, 256, 256)), mask)
