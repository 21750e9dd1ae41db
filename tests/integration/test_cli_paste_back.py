"""`retouch edit --paste-back` against the real local engine on 127.0.0.1: photos as
cameras write them (turned by EXIF, Adobe RGB, 16-bit, CMYK) are sent as upright sRGB
working copies, and each final result is also pasted onto the photo itself, at its own
size, profile and depth, bit-exact outside the mask."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from app.cli import main
from app.core.mask import read_mask
from tests.support import images, photos
from tests.support.cli import run_edit as edit
from tests.support.engine import running_engine

HOLE = (20, 12, 50, 36)  # in upright coordinates, like everything the designer gives


@pytest.fixture(autouse=True)
def _own_temp(monkeypatch, tmp_path: Path) -> Path:
    """Working copies go to a temporary folder of this test's own, checked empty after."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    return folder


@pytest.fixture
def mask(tmp_path: Path) -> Path:
    return images.write(tmp_path / "mask.png", images.mask_bytes(*photos.SIZE, HOLE))


@pytest.mark.parametrize("name", ["adobe-16-turned.tif", "turned-6.jpg", "cmyk-profile.jpg"])
def test_each_final_is_pasted_onto_the_photo_itself(capsys, tmp_path, mask, name, _own_temp):
    photo = photos.build(name, tmp_path / "in")
    out = tmp_path / "out"
    with running_engine() as url:
        code, events, _, _ = edit(
            capsys, "--base-url", url, "--image", str(photo.path), "--mask", str(mask),
            "--prompt", "remove it", "--n", "2", "--stream", "--partial-images", "1",
            "--out", str(out), "--paste-back", "--feather", "3", "--json",
        )  # fmt: skip
    assert code == 0, events
    finals = [e for e in events if e["event"] == "completed"]
    assert len(finals) == 2
    assert all("pasted" not in e for e in events if e["event"] == "partial")
    suffix = ".tif" if photo.mode == "CMYK" else ".png"
    outside = read_mask(mask, photos.SIZE, mode="alpha") == 0
    for final in finals:
        result, pasted = Path(final["file"]), Path(final["pasted"])
        assert (final["width"], final["height"]) == photos.SIZE  # the upright working copy
        assert pasted == out / f"{result.stem}-pasted{suffix}" and pasted.is_file()
        pixels = photos.reread(pasted)
        assert pixels.dtype == photo.pixels.dtype and pixels.shape == photo.pixels.shape
        assert np.array_equal(pixels[outside], photo.pixels[outside])  # bit for bit
        assert not np.array_equal(pixels[~outside], photo.pixels[~outside])
        with Image.open(pasted) as image:
            assert image.info.get("icc_profile") == photo.icc
            assert photos.ORIENTATION not in image.getexif()
    assert sorted(events[-1]["pasted"]) == sorted(e["pasted"] for e in finals)
    assert list(_own_temp.iterdir()) == []  # the working copies are gone


def test_the_pasted_16_bit_photo_keeps_its_fine_steps(capsys, tmp_path, mask) -> None:
    photo = photos.build("prophoto-16.png", tmp_path / "in")
    with running_engine() as url:
        code, events, _, _ = edit(
            capsys, "--base-url", url, "--image", str(photo.path), "--mask", str(mask),
            "--prompt", "x", "--out", str(tmp_path / "out"), "--paste-back", "--json",
        )  # fmt: skip
    assert code == 0
    pixels = photos.reread(Path(events[-1]["pasted"][0]))
    # Outside the mask the 16-bit values are the photo's, not 8-bit levels spread out.
    assert pixels.dtype == np.uint16 and (pixels[:6, 60:] % 257 != 0).any()
    with Image.open(events[-1]["pasted"][0]) as image:
        assert image.getexif()[photos.MAKE] == "Retouch Test Camera"


def test_people_are_told_where_the_pasted_file_is(capsys, tmp_path, mask) -> None:
    photo = photos.build("adobe.jpg", tmp_path / "in")
    with running_engine() as url:
        code, _, printed, _ = edit(
            capsys, "--base-url", url, "--image", str(photo.path), "--mask", str(mask),
            "--prompt", "x", "--out", str(tmp_path / "out"), "--paste-back",
        )  # fmt: skip
    assert code == 0
    pasted = sorted((tmp_path / "out").glob("*-pasted.png"))
    assert len(pasted) == 1
    assert f"pasted onto the original: {pasted[0]}" in printed
    assert "1 image(s) (and 1 pasted onto the original) saved" in printed


def test_without_paste_back_nothing_else_is_written(capsys, tmp_path, mask) -> None:
    photo = photos.build("adobe-16-turned.tif", tmp_path / "in")
    with running_engine() as url:
        code, events, _, _ = edit(
            capsys, "--base-url", url, "--image", str(photo.path), "--mask", str(mask),
            "--prompt", "x", "--out", str(tmp_path / "out"), "--json",
        )  # fmt: skip
    assert code == 0  # a 16-bit, turned TIFF is sent (as its working copy)
    assert [p.name for p in (tmp_path / "out").iterdir()] == [Path(events[0]["file"]).name]
    assert "pasted" not in events[0] and "pasted" not in events[-1]


def test_a_broken_photo_is_named_as_the_designer_gave_it(capsys, tmp_path, mask) -> None:
    broken = tmp_path / "scan.tif"
    broken.write_bytes(b"II*\x00" + b"\x00" * 64)
    code, events, _, _ = edit(
        capsys, "--base-url", "http://127.0.0.1:9", "--image", str(broken), "--mask",
        str(mask), "--prompt", "x", "--out", str(tmp_path / "out"), "--paste-back", "--json",
    )  # fmt: skip
    assert code == 2
    problems = events[0]["problems"]
    assert [p["field"] for p in problems] == ["image"]  # once, not again by the probe
    assert problems[0]["file"] == str(broken) and str(broken) in problems[0]["message"]
    assert "working" not in problems[0]["message"]


@pytest.mark.parametrize(
    ("flags", "says"),
    [
        (["--paste-back", "--feather", "-1"], "argument --feather: -1 pixels"),
        (["--paste-back", "--feather", "abc"], "argument --feather: 'abc' is not a number"),
        (["--paste-back", "--feather", "nan"], "argument --feather: nan pixels"),
        (["--feather", "4"], "argument --feather: only with --paste-back"),
    ],
)
def test_a_wrong_feather_is_refused_naming_the_flag(capsys, tmp_path, flags, says) -> None:
    photo = photos.build("adobe.jpg", tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        main(["edit", "--image", str(photo.path), "--prompt", "x", *flags])
    assert exit_info.value.code == 2
    assert says in capsys.readouterr().err
