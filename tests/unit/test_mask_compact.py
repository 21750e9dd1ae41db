"""Masks go out compactly (app.core.mask: compact_png, compact_mask, to_api_png) and are
held to their own limit, under 4 MB (schema, validation); the local engine reads the alpha
of every kind of mask a client may send (app.engine.codec.mask_alpha)."""

from __future__ import annotations

import dataclasses
import io
import os
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from app.client.errors import InputError
from app.client.multipart import build_body
from app.core import mask as core
from app.core.imageio import ImageFileError
from app.core.request import EditRequest
from app.core.schema import Schema, SchemaError, load_schema, schema_from_dict
from app.core.validation import validate_files
from app.engine import codec
from tests.support.images import encode, gradient, png_bytes, write

W4K, H4K = 3840, 2160
LIMIT = 4 * 1024 * 1024  # PROTOCOL.md: the mask is a PNG "under 4 MB"


def shapes_alpha(width: int, height: int) -> np.ndarray:
    """An API mask's alpha as a person draws it: opaque, with transparent shapes to edit,
    one of them with a graded (feathered) edge, which must survive exactly."""
    alpha = np.full((height, width), 255, np.uint8)
    cv2.ellipse(alpha, (width // 3, height // 2), (width // 6, height // 5), 20, 0, 360, 0, -1)
    cv2.rectangle(alpha, (width * 2 // 3, height // 8), (width * 9 // 10, height // 2), 0, -1)
    ramp = np.linspace(0, 255, width // 8).astype(np.uint8)
    alpha[height * 3 // 4 : height * 3 // 4 + height // 10, : ramp.size] = ramp
    return alpha


def noisy_colour(alpha: np.ndarray, seed: int = 7) -> np.ndarray:
    """RGBA with ``alpha`` and random colour: what a paint program may leave behind."""
    colour = np.random.default_rng(seed).integers(0, 256, (*alpha.shape, 3), np.uint8)
    return np.dstack([colour, alpha])


def decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def assert_compact_with_alpha(data: bytes, alpha: np.ndarray) -> None:
    image = decode(data)
    assert image.format == "PNG" and image.mode == "LA"
    assert not np.asarray(image.getchannel("L")).any()  # the grey is flat black
    assert np.array_equal(np.asarray(image.getchannel("A")), alpha)


def with_mask_limit(schema: Schema, limit: int | None) -> Schema:
    fields = tuple(
        dataclasses.replace(spec, max_file_bytes=limit) if spec.kind == "mask" else spec
        for spec in schema.fields
    )
    return dataclasses.replace(schema, fields=fields)


@pytest.fixture(scope="module")
def noisy_4k(tmp_path_factory) -> tuple[Path, np.ndarray]:
    """A 3840x2160 mask file with noisy colour channels, and its alpha."""
    alpha = shapes_alpha(W4K, H4K)
    folder = tmp_path_factory.mktemp("noisy")
    data = encode(Image.fromarray(noisy_colour(alpha), "RGBA"), "PNG", compress_level=1)
    return write(folder / "noisy-mask.png", data), alpha


# --- the compact encoding ------------------------------------------------------------------


def test_a_noisy_4k_mask_file_goes_from_megabytes_to_kilobytes(noisy_4k, schema) -> None:
    path, alpha = noisy_4k
    assert path.stat().st_size > 20_000_000  # the colour noise alone: about 25 MB
    compact = core.compact_mask(path, max_pixels=schema.files.max_pixels, max_bytes=LIMIT)
    assert compact is not None and len(compact) < 300_000
    assert_compact_with_alpha(compact, alpha)


@pytest.mark.parametrize("shape", [(1, 1), (3, 7), (64, 48), (257, 130)])
def test_compact_png_keeps_every_alpha_value_exactly(shape: tuple[int, int]) -> None:
    alpha = np.random.default_rng(sum(shape)).integers(0, 256, shape, np.uint8)
    assert_compact_with_alpha(core.compact_png(alpha), alpha)


def palette_mask(alpha_of_index: list[int], indexes: np.ndarray) -> bytes:
    """A palette PNG whose entries have the given alpha (a tRNS chunk)."""
    image = Image.fromarray(indexes.astype(np.uint8), "P")
    image.putpalette([value for i in range(len(alpha_of_index)) for value in (i, 40, 200)])
    return encode(image, "PNG", transparency=bytes(alpha_of_index))


def test_every_png_mode_with_alpha_is_compacted_with_its_alpha(tmp_path: Path) -> None:
    alpha = shapes_alpha(90, 60)
    indexes = np.random.default_rng(3).integers(0, 3, (60, 90))
    sources = {
        "rgba.png": (encode(Image.fromarray(noisy_colour(alpha), "RGBA"), "PNG"), alpha),
        "la.png": (encode(Image.fromarray(np.dstack([alpha, alpha]), "LA"), "PNG"), alpha),
        "palette.png": (
            palette_mask([0, 128, 255], indexes),
            np.array([0, 128, 255], np.uint8)[indexes],
        ),
    }
    for name, (data, expected) in sources.items():
        compact = core.compact_mask(write(tmp_path / name, data), max_pixels=10**6)
        assert compact is not None, name
        assert_compact_with_alpha(compact, expected)


def test_a_file_that_is_no_png_with_alpha_is_left_as_it_is(tmp_path: Path) -> None:
    """Validation (or the server) says what is wrong with these; nothing is made up."""
    grey = write(tmp_path / "grey.png", png_bytes(40, 30, "L"))
    webp = write(tmp_path / "alpha.webp", encode(gradient(40, 30, "RGBA"), "WEBP"))
    jpeg = write(tmp_path / "photo.jpg", encode(gradient(40, 30), "JPEG"))
    for path in (grey, webp, jpeg):
        assert core.compact_mask(path, max_pixels=10**6) is None, path.name


def test_a_broken_mask_file_is_reported_by_name(tmp_path: Path) -> None:
    data = encode(Image.fromarray(noisy_colour(shapes_alpha(90, 60)), "RGBA"), "PNG")
    broken = write(tmp_path / "broken-mask.png", data[:60] + bytes(200) + data[260:])
    with pytest.raises(ImageFileError, match=r"broken-mask\.png"):
        core.compact_mask(broken, max_pixels=10**6)


def test_the_remembered_encoding_follows_a_rewritten_file(tmp_path: Path) -> None:
    first, second = shapes_alpha(80, 40), 255 - shapes_alpha(80, 40)
    path = write(tmp_path / "mask.png", core.compact_png(first))
    assert_compact_with_alpha(core.compact_mask(path, max_pixels=10**6), first)
    stat = path.stat()
    path.write_bytes(core.compact_png(second))
    # Same size, and the clock may not have moved: make the change visible to stat().
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert_compact_with_alpha(core.compact_mask(path, max_pixels=10**6), second)


def test_the_editor_export_is_compact_at_4k() -> None:
    """to_api_png is what the editor writes for every request (session._write_mask)."""
    coverage = core.new_mask(W4K, H4K)
    coverage[300:1500, 500:2200] = 255
    coverage = cv2.GaussianBlur(coverage, (0, 0), 25)  # a soft brush edge
    cv2.circle(coverage, (3000, 1600), 400, 200, -1)
    png = core.to_api_png(coverage)
    assert len(png) < 100_000
    assert_compact_with_alpha(png, core.api_alpha(coverage))


# --- the mask's own limit ------------------------------------------------------------------


def test_the_schema_gives_the_mask_its_own_limit_under_4_mb(schema) -> None:
    mask = schema.mask_field
    assert mask is not None and mask.max_file_bytes == LIMIT
    assert schema.files.max_file_bytes == 50 * 1024 * 1024  # images keep theirs
    assert "under 4 MB" in mask.help and "compact" in mask.help


@pytest.mark.parametrize("bad", [0, -1, "4 MB", True])
def test_a_bad_byte_limit_is_a_schema_error(bad) -> None:
    raw = {
        "files": {"formats": ["png"], "max_file_bytes": 10, "max_pixels": 10},
        "fields": [
            {"name": "image", "kind": "image_list"},
            {"name": "mask", "kind": "mask", "max_file_bytes": bad},
        ],
    }
    with pytest.raises(SchemaError, match="max_file_bytes"):
        schema_from_dict(raw)
    raw["fields"][1] = {"name": "prompt", "kind": "text", "max_file_bytes": 5}
    with pytest.raises(SchemaError, match="max_file_bytes"):
        schema_from_dict(raw)


def same_size_photo(folder: Path, width: int, height: int) -> Path:
    return write(folder / "photo.png", encode(gradient(width, height), "PNG", compress_level=1))


def test_the_noisy_4k_mask_passes_because_it_is_sent_compactly(noisy_4k, schema) -> None:
    """The client's check is on the compact bytes; the engine's, on the bytes received."""
    path, _ = noisy_4k
    photo = same_size_photo(path.parent, W4K, H4K)
    assert validate_files([photo], path, schema)[0] == []
    problems, _ = validate_files([photo], path, schema, as_received=True)
    assert [(p.field, p.code, p.file) for p in problems] == [("mask", "mask_too_large", str(path))]
    assert "under 4 MB" in problems[0].message and "alpha" in problems[0].message


def test_a_mask_too_noisy_to_compress_is_refused_naming_the_file(tmp_path: Path, schema) -> None:
    # Random alpha does not compress: 2048x2100 pixels are about 4.3 MB even compact.
    width, height = 2048, 2100
    alpha = np.random.default_rng(5).integers(0, 256, (height, width), np.uint8)
    mask = write(tmp_path / "static.png", core.compact_png(alpha))
    assert mask.stat().st_size >= LIMIT
    photo = same_size_photo(tmp_path, width, height)
    problems, _ = validate_files([photo], mask, schema)
    assert [(p.field, p.code, p.file) for p in problems] == [("mask", "mask_too_large", str(mask))]
    message = problems[0].message
    assert message.startswith(f"{mask}:") and "4 MB" in message
    assert "simplify" in message and "soften" in message
    with pytest.raises(InputError, match=r"static\.png: even sent compactly"):
        build_body(EditRequest((photo,), mask=mask), schema, force_image_array=False)


def test_the_limit_means_under(tmp_path: Path) -> None:
    photo = same_size_photo(tmp_path, 64, 48)
    mask = write(tmp_path / "mask.png", core.compact_png(shapes_alpha(64, 48)))
    size = len(core.compact_mask(mask, max_pixels=10**6))
    at_limit = with_mask_limit(load_schema(), size)
    assert [p.code for p in validate_files([photo], mask, at_limit)[0]] == ["mask_too_large"]
    assert validate_files([photo], mask, with_mask_limit(at_limit, size + 1))[0] == []
    assert validate_files([photo], mask, with_mask_limit(at_limit, None))[0] == []


# --- what goes into the request body -------------------------------------------------------


async def test_the_body_carries_the_compact_mask_under_its_own_name(tmp_path: Path, schema) -> None:
    alpha = shapes_alpha(64, 48)
    noisy = write(tmp_path / "my mask.png", encode(Image.fromarray(noisy_colour(alpha)), "PNG"))
    photo = same_size_photo(tmp_path, 64, 48)
    body = build_body(EditRequest((photo,), mask=noisy), schema, force_image_array=False)
    part = body.files[-1]
    assert (part.name, part.path, part.content_type) == ("mask", noisy, "image/png")
    assert part.data is not None and part.size == len(part.data) < noisy.stat().st_size
    assert_compact_with_alpha(part.data, alpha)
    sent = b"".join([chunk async for chunk in body.chunks()])
    assert len(sent) == body.content_length and part.data in sent


def test_a_mask_that_cannot_be_compacted_goes_as_it_is(tmp_path: Path, schema) -> None:
    photo = same_size_photo(tmp_path, 40, 30)
    grey = write(tmp_path / "grey.png", png_bytes(40, 30, "L"))
    part = build_body(EditRequest((photo,), mask=grey), schema, force_image_array=False).files[-1]
    assert part.data is None and part.size == grey.stat().st_size


# --- the local engine reads every kind of mask ---------------------------------------------


def test_the_engine_reads_the_alpha_of_every_mask_kind() -> None:
    alpha = shapes_alpha(90, 60)
    indexes = np.random.default_rng(9).integers(0, 3, (60, 90))
    cases = {
        "rgba, noisy colour": (encode(Image.fromarray(noisy_colour(alpha)), "PNG"), alpha),
        "rgba, flat colour": (
            encode(Image.fromarray(np.dstack([np.zeros((60, 90, 3), np.uint8), alpha])), "PNG"),
            alpha,
        ),
        "compact grey+alpha": (core.compact_png(alpha), alpha),
        "palette with transparency": (
            palette_mask([255, 0, 77], indexes),
            np.array([255, 0, 77], np.uint8)[indexes],
        ),
    }
    for kind, (data, expected) in cases.items():
        decoded = codec.mask_alpha(data, name="mask.png", max_pixels=10**6)
        assert decoded.dtype == np.uint8 and np.array_equal(decoded, expected), kind


def test_the_engine_reads_a_mask_without_alpha_as_opaque_as_before() -> None:
    """Validation refuses such a mask first; the decode itself is unchanged: all opaque."""
    decoded = codec.mask_alpha(png_bytes(40, 30, "L"), name="grey.png", max_pixels=10**6)
    assert decoded.shape == (30, 40) and np.all(decoded == 255)
