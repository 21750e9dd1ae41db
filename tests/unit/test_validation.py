from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from app.core.imageio import ImageFileError, probe_image, write_atomic
from app.core.validation import NamedSource, validate_files, validate_request, validate_values
from tests.support import images

GOOD = {"prompt": "remove the cup", "model": "gpt-image-2"}


def fields_of(problems) -> list[str]:
    return [p.field for p in problems]


def test_a_good_request_has_no_problems(schema) -> None:
    assert validate_values({**GOOD, "n": 3, "size": "1024x1536", "stream": True}, schema) == []


def test_every_problem_is_reported_at_once(schema) -> None:
    values = {
        "prompt": "",
        "model": "gpt-image-2",
        "n": 0,
        "quality": "ultra",
        "input_fidelity": "high",
        "partial_images": 2,
    }
    problems = validate_values(values, schema)
    assert sorted(fields_of(problems)) == sorted(
        ["prompt", "n", "quality", "input_fidelity", "partial_images"]
    )
    assert all(str(p).startswith(p.field) for p in problems)


@pytest.mark.parametrize(
    ("values", "field", "words"),
    [
        ({"prompt": "x" * 32001}, "prompt", "at most 32,000"),
        ({"n": 11}, "n", "maximum 10"),
        ({"n": "2"}, "n", "whole number"),
        ({"n": True}, "n", "whole number"),
        ({"stream": "yes"}, "stream", "true or false"),
        ({"size": "1000x1000"}, "size", "multiples of 16"),
        ({"size": "4000x2000"}, "size", "at most 3840"),
        ({"output_compression": 50}, "output_compression", "jpeg or webp"),
        ({"output_compression": 101, "output_format": "jpeg"}, "output_compression", "maximum"),
        ({"background": "transparent", "output_format": "jpeg"}, "background", "png or webp"),
        ({"input_fidelity": "high"}, "input_fidelity", "invalid_input_fidelity_model"),
        ({"model": "dall-e-2", "quality": "high"}, "quality", "'high' is not one of standard"),
        (
            {"model": "gpt-image-1", "background": "transparent", "output_format": "jpeg"},
            "background",
            "png or webp",
        ),
        ({"model": "gpt-image-1", "size": "1024x768"}, "size", "not offered"),
        ({"model": "gpt-image-1-mini", "input_fidelity": "low"}, "input_fidelity", "mini"),
        ({"model": "gpt-image-1-plus", "quality": "high"}, "quality", "-plus"),
        ({"partial_images": 4, "stream": True}, "partial_images", "maximum 3"),
        ({"moderation": "off"}, "moderation", "auto, low"),
        ({"model": "  "}, "model", "required"),
        ({"colour": "red"}, "colour", "unknown field"),
    ],
)
def test_each_rule_names_its_field(schema, values, field, words) -> None:
    problems = validate_values({**GOOD, **values}, schema)
    assert [p.field for p in problems] == [field]
    assert words in problems[0].message


def test_allowed_combinations_pass(schema) -> None:
    ok = [
        {"model": "gpt-image-1", "background": "transparent", "output_format": "webp"},
        {"model": "gpt-image-1.5", "input_fidelity": "low"},
        {"output_format": "jpeg", "output_compression": 0},
        {"stream": True, "partial_images": 0},
        {"model": "some-vendor-model", "size": "100x100", "input_fidelity": "high"},
    ]
    for values in ok:
        assert validate_values({**GOOD, **values}, schema) == [], values


# --- files ---------------------------------------------------------------------------


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    return images.write(tmp_path / "photo.png", images.png_bytes(64, 48))


def test_good_files_and_mask(schema, tmp_path: Path, photo: Path) -> None:
    mask = images.write(tmp_path / "mask.png", images.mask_bytes(64, 48, (10, 10, 20, 20)))
    jpeg = images.write(tmp_path / "b.jpg", images.encode(images.gradient(30, 30), "JPEG"))
    webp = images.write(tmp_path / "c.webp", images.encode(images.gradient(30, 30), "WEBP"))
    problems, infos = validate_files([photo, jpeg, webp], mask, schema, deep=True)
    assert problems == []
    assert [i.format for i in infos] == ["png", "jpeg", "webp"]


def test_format_comes_from_bytes_not_name(schema, tmp_path: Path) -> None:
    disguised = images.write(tmp_path / "photo.jpg", images.png_bytes())
    assert probe_image(disguised, max_pixels=10**8).mime_type == "image/png"
    text = images.write(tmp_path / "notes.png", b"<html><body>502</body></html>")
    problems, _ = validate_files([text], None, schema)
    assert "notes.png" in problems[0].message and "HTML" in problems[0].message


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "empty"),
        (b"GIF89a" + b"\x00" * 40, "GIF"),
        (images.truncated(images.png_bytes(200, 200)), "truncated"),
        (images.truncated(images.encode(images.gradient(200, 200), "JPEG")), "truncated"),
        (
            images.truncated(images.encode(images.gradient(200, 200), "WEBP", lossless=True)),
            "truncated",
        ),
        (images.png_bomb(), "decompression bomb"),
    ],
    ids=["empty", "gif", "png-cut", "jpeg-cut", "webp-cut", "bomb"],
)
def test_bad_files_are_named_and_explained(schema, tmp_path: Path, data: bytes, words) -> None:
    bad = images.write(tmp_path / "bad-input.png", data)
    problems, infos = validate_files([bad], None, schema)
    assert len(problems) == 1 and infos == [None]
    assert "bad-input.png" in problems[0].message and words in problems[0].message


def test_corruption_in_the_middle_is_found_by_a_deep_check(schema, tmp_path: Path) -> None:
    data = images.corrupt(images.encode(images.gradient(300, 300).effect_spread(5), "PNG"))
    bad = images.write(tmp_path / "middle.png", data)
    assert validate_files([bad], None, schema)[0] == []  # header and tail look fine
    problems, _ = validate_files([bad], None, schema, deep=True)
    assert "corrupt" in problems[0].message and "middle.png" in problems[0].message


def test_missing_file_and_folder(schema, tmp_path: Path) -> None:
    problems, _ = validate_files([tmp_path / "nope.png", tmp_path], None, schema)
    assert "not found" in problems[0].message
    assert "folder" in problems[1].message


def test_file_size_limit(tmp_path: Path) -> None:
    big = images.write(tmp_path / "big.png", images.png_bytes(300, 300))
    with pytest.raises(ImageFileError, match=r"big.png: .* KB is over the 1.0 KB limit"):
        probe_image(big, max_pixels=10**8, max_bytes=1000)


def test_image_count_limits(schema, photo: Path) -> None:
    assert fields_of(validate_files([], None, schema)[0]) == ["image"]
    problems, _ = validate_files([photo] * 17, None, schema)
    assert "at most 16" in problems[0].message


def test_mask_rules(schema, tmp_path: Path, photo: Path) -> None:
    wrong_size = images.write(tmp_path / "m1.png", images.mask_bytes(32, 32))
    no_alpha = images.write(tmp_path / "m2.png", images.png_bytes(64, 48, "L"))
    jpeg = images.write(tmp_path / "m3.jpg", images.encode(images.gradient(64, 48), "JPEG"))
    palette = Image.new("P", (64, 48))
    palette.info["transparency"] = 0
    paletted = images.write(tmp_path / "m4.png", images.encode(palette, "PNG", transparency=0))
    cases = {
        wrong_size: "the mask is 32x32 but the first image is 64x48",
        no_alpha: "no alpha channel",
        jpeg: "must be a PNG",
    }
    for mask, words in cases.items():
        problems, _ = validate_files([photo], mask, schema)
        assert [p.field for p in problems] == ["mask"], mask
        assert words in problems[0].message and mask.name in problems[0].message
    assert validate_files([photo], paletted, schema)[0] == []


def test_bytes_sources_use_the_given_name(schema) -> None:
    named = NamedSource(images.truncated(images.png_bytes()), "upload-3.png")
    problems, _ = validate_files([named], None, schema)
    assert problems[0].file == "upload-3.png" and "upload-3.png" in problems[0].message


def test_validate_request_joins_values_and_files(schema, photo: Path) -> None:
    problems = validate_request({"model": "gpt-image-2"}, [photo], photo, schema)
    assert sorted(fields_of(problems)) == ["mask", "prompt"]


def test_write_atomic_leaves_no_partial_file(tmp_path: Path) -> None:
    target = tmp_path / "out.png"
    write_atomic(target, b"abc")
    assert target.read_bytes() == b"abc"
    with pytest.raises(TypeError):
        write_atomic(target, "not bytes")  # type: ignore[arg-type]
    assert target.read_bytes() == b"abc"
    assert list(tmp_path.iterdir()) == [target]
