"""`retouch edit --crop-to-mask` (issue 14) end to end, on 127.0.0.1: a fault server that
redraws the whole picture it is sent at the size the request asks for (as GPT image
models do), and the real local engine. The request carries the region around the mask at
a size the model accepts, `size` asks for exactly that size, and --paste-back puts each
result into the full-resolution photo, exact outside the mask."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from app.cli import main
from app.core.mask import to_api_png
from app.core.schema import load_schema, parse_size
from app.services.history import HistoryStore, default_path
from tests.support import fault_server as fs
from tests.support import icc, photos
from tests.support.cli import run_edit as edit
from tests.support.engine import running_engine

WIDTH, HEIGHT = 6000, 4000
CENTRE, AXES = (4300, 1100), (260, 180)  # an ellipse painted in the photo
SCHEMA = load_schema()
RED = (255, 0, 0)


@pytest.fixture(autouse=True)
def _own_home(monkeypatch, tmp_path: Path) -> Path:
    """Each test its own history, and working files in a temporary folder of its own."""
    monkeypatch.setenv("RETOUCH_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-crop")
    monkeypatch.delenv("RETOUCH_BASE_URL", raising=False)
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


@pytest.fixture(scope="module")
def big(tmp_path_factory) -> tuple[Path, Path, np.ndarray, np.ndarray]:
    """A 6000x4000 camera-like JPEG (gradients under grain) and an API mask with one
    painted ellipse (about 0.6 % of the photo); its decoded pixels and coverage."""
    folder = tmp_path_factory.mktemp("big")
    rng = np.random.default_rng(6)
    x = np.linspace(0, 230, WIDTH, dtype=np.float32)[None, :, None]
    y = np.linspace(0, 230, HEIGHT, dtype=np.float32)[:, None, None]
    pixels = np.concatenate(
        [x + 0 * y, y + 0 * x, np.full((HEIGHT, WIDTH, 1), 90, np.float32)], axis=2
    )
    pixels += rng.normal(0, 6, (HEIGHT, WIDTH, 1)).astype(np.float32)
    photo = folder / "camera.jpg"
    Image.fromarray(pixels.clip(0, 255).astype(np.uint8)).save(photo, quality=90)
    with Image.open(photo) as image:
        decoded = np.asarray(image.convert("RGB"))
    coverage = np.zeros((HEIGHT, WIDTH), np.uint8)
    cv2.ellipse(coverage, CENTRE, AXES, 0, 0, 360, 255, -1)
    mask = folder / "mask.png"
    mask.write_bytes(to_api_png(coverage))
    return photo, mask, decoded, coverage


def redraw(request: fs.RecordedRequest, _index: int) -> fs.Reply:
    """A model that redraws the whole picture at the requested size: the first image
    scaled to ``size``, a little brighter everywhere, and red where the mask says."""
    width, height = parse_size(request.fields["size"]) or (0, 0)
    image = next(p for p in request.files if p.name.startswith("image"))
    mask = next(p for p in request.files if p.name == "mask")
    with Image.open(io.BytesIO(image.data)) as sent:
        pixels = np.asarray(sent.convert("RGB").resize((width, height)), np.int16)
    with Image.open(io.BytesIO(mask.data)) as sent_mask:
        alpha = np.asarray(sent_mask.convert("RGBA").resize((width, height)).getchannel("A"))
    out = np.clip(pixels + 8, 0, 255).astype(np.uint8)
    out[alpha == 0] = RED
    buffer = io.BytesIO()
    Image.fromarray(out).save(buffer, "PNG", compress_level=1)
    return fs.json_images([buffer.getvalue()])


def wire_images(request: fs.RecordedRequest) -> list[Image.Image]:
    parts = [p for p in request.files if p.name.startswith("image")]
    return [Image.open(io.BytesIO(p.data)) for p in parts]


@pytest.mark.parametrize("model", ["gpt-image-1", "gpt-image-2"])
def test_a_24_mp_photo_is_sent_as_its_region_and_pasted_back_at_full_size(
    capsys, tmp_path: Path, big, model: str
) -> None:
    photo, mask, original, coverage = big
    out = tmp_path / "out"
    with fs.serve(redraw) as server:
        code, events, _, _ = edit(
            capsys, "--base-url", server.base_url, "--image", str(photo), "--mask", str(mask),
            "--prompt", "a red balloon", "--model", model, "--crop-to-mask", "--paste-back",
            "--out", str(out), "--json",
        )  # fmt: skip
        request = server.requests[0]
    assert code == 0, events
    crop = next(e for e in events if e["event"] == "crop")
    x, y, w, h = crop["region"]
    sent = (crop["sent_width"], crop["sent_height"])
    assert (crop["width"], crop["height"]) == (WIDTH, HEIGHT) and crop["file"] == str(photo)
    # The request: the region at an allowed size, asking for exactly that size.
    assert SCHEMA.rules_for(model).size.problem(request.fields["size"]) is None
    assert request.fields["size"] == crop["size"] == f"{sent[0]}x{sent[1]}"
    if model == "gpt-image-2":
        assert sent[0] % 16 == 0 and sent[1] % 16 == 0 and sent[0] * sent[1] <= 2560 * 1440
    else:
        assert crop["size"] in ("1024x1024", "1536x1024", "1024x1536")
    (image,) = wire_images(request)
    mask_part = next(p for p in request.files if p.name == "mask")
    with Image.open(io.BytesIO(mask_part.data)) as wire_mask:
        assert image.size == wire_mask.size == sent
        edited = np.asarray(wire_mask.convert("RGBA").getchannel("A")) == 0
    # The mask's area is large in what is sent: here many times its share of the photo.
    photo_share = (coverage >= 128).mean()
    assert edited.mean() > 10 * photo_share
    # The region holds the whole mask and lies inside the photo.
    ys, xs = np.nonzero(coverage)
    assert x <= xs.min() and xs.max() < x + w and y <= ys.min() and ys.max() < y + h
    assert x >= 0 and y >= 0 and x + w <= WIDTH and y + h <= HEIGHT
    # The result as received (the size sent), and the photo pasted at full resolution.
    final = next(e for e in events if e["event"] == "completed")
    assert (final["width"], final["height"]) == sent
    assert 0 <= final["drift"] < 0.01  # +8 everywhere is no visible change
    with Image.open(final["pasted"]) as pasted_image:
        assert pasted_image.size == (WIDTH, HEIGHT)
        pasted = np.asarray(pasted_image.convert("RGB"))
    outside = coverage == 0
    assert np.array_equal(pasted[outside], original[outside])  # bit for bit
    inner = np.zeros_like(coverage)
    cv2.ellipse(inner, CENTRE, (AXES[0] - 12, AXES[1] - 12), 0, 0, 360, 255, -1)
    assert (pasted[inner > 0] == RED).all()  # the edit, in its place
    assert events[-1]["event"] == "done" and events[-1]["pasted"] == [final["pasted"]]
    # The history has the region and the settings.
    with HistoryStore.open(default_path()) as store:
        (record,) = store.list_jobs(limit=5)
    assert record.region == (x, y, w, h)
    assert record.params["size"] == crop["size"] and record.paste_back == {"feather": None}
    assert record.options["crop_to_mask"] == {
        "padding": None, "context_image": False, "allow_experimental_size": False,
    }  # fmt: skip
    assert [i.name for i in record.inputs] == [photo.name]
    assert record.results[0] == Path(final["file"]).absolute()


def test_a_photo_smaller_than_the_models_size_is_enlarged_and_reduced_again(
    capsys, tmp_path: Path
) -> None:
    rng = np.random.default_rng(2)
    pixels = rng.integers(0, 256, (400, 600, 3), dtype=np.uint8)
    photo = tmp_path / "small.png"
    Image.fromarray(pixels).save(photo)
    coverage = np.zeros((400, 600), np.uint8)
    coverage[170:230, 200:400] = 255  # wide: the 3:2 size is the closest
    mask = tmp_path / "mask.png"
    mask.write_bytes(to_api_png(coverage))
    with fs.serve(redraw) as server:
        code, _, printed, _ = edit(
            capsys, "--base-url", server.base_url, "--image", str(photo), "--mask", str(mask),
            "--prompt", "x", "--model", "gpt-image-1", "--crop-to-mask", "--padding", "40",
            "--paste-back", "--feather", "2", "--out", str(tmp_path / "out"),
        )  # fmt: skip
        (image,) = wire_images(server.requests[0])
    assert code == 0, printed
    assert image.size == (1536, 1024)  # 3:2, the photo's whole shape, enlarged 2.56x
    assert "crop to mask sends 1536x1024 from a 600x400 region (2.56×) at (0, 0)" in printed
    assert "note: The photo is smaller than" in printed
    (pasted_file,) = (tmp_path / "out").glob("*-pasted.png")
    pasted = np.asarray(Image.open(pasted_file).convert("RGB"))
    assert pasted.shape == (400, 600, 3)
    assert np.array_equal(pasted[coverage == 0], pixels[coverage == 0])
    assert (pasted[175:225, 205:395] == RED).all()


def test_the_whole_photo_can_go_along_for_context(capsys, tmp_path: Path, big) -> None:
    photo, mask, _, _ = big
    with fs.serve(redraw) as server:
        code, events, _, _ = edit(
            capsys, "--base-url", server.base_url, "--image", str(photo), "--mask", str(mask),
            "--prompt", "x", "--model", "gpt-image-1.5", "--crop-to-mask", "--context-image",
            "--size", "auto", "--out", str(tmp_path / "out"), "--json", "--no-history",
        )  # fmt: skip
        request = server.requests[0]
    assert code == 0, events
    crop = next(e for e in events if e["event"] == "crop")
    assert crop["context_image"] is True
    assert request.fields["size"] == crop["size"]  # "auto" gives way to the size sent
    first, context = wire_images(request)
    assert first.size == (crop["sent_width"], crop["sent_height"])
    assert context.size == (1024, 683)  # the whole 3:2 photo, 1024 on its longer side
    assert [p.name for p in request.files] == ["image[]", "image[]", "mask"]
    # Without --paste-back only the model's images are written, as received.
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert written == [Path(e["file"]).name for e in events if e["event"] == "completed"]


def test_crop_to_mask_and_paste_back_on_the_local_engine(capsys, tmp_path: Path) -> None:
    """A 16-bit ProPhoto PNG, two variants streamed: each final pasted back in its depth
    and profile, exact outside the mask; the engine got the region only."""
    width, height = 1200, 800
    pixels = photos.scene(width, height, 3, 16)
    photo = photos.png16(tmp_path / "prophoto.png", pixels, icc.prophoto(), photos.exif_bytes())
    coverage = np.zeros((height, width), np.uint8)
    cv2.circle(coverage, (820, 300), 60, 255, -1)
    mask = tmp_path / "mask.png"
    mask.write_bytes(to_api_png(coverage))
    with running_engine() as url:
        code, events, _, _ = edit(
            capsys, "--base-url", url, "--image", str(photo), "--mask", str(mask),
            "--prompt", "remove it", "--crop-to-mask", "--n", "2", "--stream",
            "--partial-images", "1", "--paste-back", "--out", str(tmp_path / "out"), "--json",
        )  # fmt: skip
    assert code == 0, events
    crop = next(e for e in events if e["event"] == "crop")
    _, _, w, h = crop["region"]
    assert w * h < width * height / 4 and crop["scale"] == 1.0  # a real crop, 1:1
    finals = [e for e in events if e["event"] == "completed"]
    assert len(finals) == 2
    assert all("pasted" not in e for e in events if e["event"] == "partial")
    for final in finals:
        assert (final["width"], final["height"]) == (w, h)
        kept = photos.reread(Path(final["pasted"]))
        assert kept.dtype == np.uint16 and kept.shape == pixels.shape
        assert np.array_equal(kept[coverage == 0], pixels[coverage == 0])
        assert not np.array_equal(kept[coverage > 0], pixels[coverage > 0])
        with Image.open(final["pasted"]) as image:
            assert image.info.get("icc_profile") == icc.prophoto()


# --- what is refused --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flags", "says"),
    [
        (["--crop-to-mask"], "argument --crop-to-mask: needs --mask"),
        (["--padding", "40"], "argument --padding: only with --crop-to-mask"),
        (["--context-image"], "argument --context-image: only with --crop-to-mask"),
        (["--mask", "m.png", "--crop-to-mask", "--padding", "-5"], "argument --padding: -5 pixels"),
        (["--mask", "m.png", "--crop-to-mask", "--padding", "abc"],
         "argument --padding: 'abc' is not a whole number"),
        (["--mask", "m.png", "--crop-to-mask", "--padding", "2.5"],
         "argument --padding: '2.5' is not a whole number"),
    ],
)  # fmt: skip
def test_wrong_crop_flags_are_refused_naming_the_flag(capsys, tmp_path, flags, says) -> None:
    photo = photos.build("adobe.jpg", tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        main(["edit", "--image", str(photo.path), "--prompt", "x", *flags])
    assert exit_info.value.code == 2
    assert says in capsys.readouterr().err


def test_an_empty_mask_is_refused_before_anything_is_sent(capsys, tmp_path: Path) -> None:
    photo = photos.build("adobe.jpg", tmp_path)
    mask = tmp_path / "empty.png"
    mask.write_bytes(to_api_png(np.zeros(photos.SIZE[::-1], np.uint8)))
    with fs.serve(redraw) as server:
        code, events, _, _ = edit(
            capsys, "--base-url", server.base_url, "--image", str(photo.path), "--mask",
            str(mask), "--prompt", "x", "--crop-to-mask", "--out", str(tmp_path), "--json",
        )  # fmt: skip
        assert server.requests == []
    assert code == 2
    (problem,) = events[0]["problems"]
    assert problem["field"] == "mask" and problem["file"] == str(mask)
    assert "no pixel is marked for editing" in problem["message"]


def test_a_size_other_than_the_crops_is_refused(capsys, tmp_path: Path, big) -> None:
    photo, mask, _, _ = big
    code, events, _, _ = edit(
        capsys, "--base-url", "http://127.0.0.1:9", "--image", str(photo), "--mask", str(mask),
        "--prompt", "x", "--model", "gpt-image-1", "--size", "1536x1024", "--crop-to-mask",
        "--out", str(tmp_path), "--json",
    )  # fmt: skip
    assert code == 2
    problems = events[-1]["problems"]
    assert [p["field"] for p in problems] == ["size"]
    assert problems[0]["message"].startswith("--size 1536x1024: --crop-to-mask asks for exactly")
    assert "the size it sends, 1024x1024 for this mask and model" in problems[0]["message"]


def test_a_mask_of_another_size_is_named(capsys, tmp_path: Path) -> None:
    photo = photos.build("adobe-16-turned.tif", tmp_path)  # a TIFF: never checked as sent
    mask = tmp_path / "mask.png"
    mask.write_bytes(to_api_png(np.full((10, 10), 255, np.uint8)))
    code, events, _, _ = edit(
        capsys, "--base-url", "http://127.0.0.1:9", "--image", str(photo.path), "--mask",
        str(mask), "--prompt", "x", "--crop-to-mask", "--out", str(tmp_path), "--json",
    )  # fmt: skip
    assert code == 2
    (problem,) = events[0]["problems"]
    assert problem["field"] == "mask" and "10x10" in problem["message"]


def test_a_rerun_crops_again_as_the_first_run_did(capsys, tmp_path: Path) -> None:
    """`retouch history rerun` of a crop-to-mask job sends the region again (with its
    padding and the context image), not the whole photo at the region's size."""
    rng = np.random.default_rng(3)
    pixels = rng.integers(0, 256, (1600, 2400, 3), dtype=np.uint8)
    photo = tmp_path / "wide.png"
    Image.fromarray(pixels).save(photo, compress_level=1)
    coverage = np.zeros((1600, 2400), np.uint8)
    coverage[300:420, 1800:1950] = 255
    mask = tmp_path / "mask.png"
    mask.write_bytes(to_api_png(coverage))
    with fs.serve(redraw) as server:
        code, events, _, _ = edit(
            capsys, "--base-url", server.base_url, "--image", str(photo), "--mask", str(mask),
            "--prompt", "x", "--model", "gpt-image-1", "--crop-to-mask", "--padding", "64",
            "--context-image", "--out", str(tmp_path / "out"), "--json",
        )  # fmt: skip
        assert code == 0, events
        with HistoryStore.open(default_path()) as store:
            (record,) = store.list_jobs(limit=5)
        code = main(["history", "rerun", record.id, "--base-url", server.base_url,
                     "--out", str(tmp_path / "again"), "--json"])  # fmt: skip
        printed = capsys.readouterr().out
        first, again = server.requests
    assert code == 0, printed
    assert again.fields["size"] == first.fields["size"]
    assert [i.size for i in wire_images(again)] == [i.size for i in wire_images(first)]
    assert len(wire_images(again)) == 2  # the region and the whole photo for context
    assert np.array_equal(
        np.asarray(wire_images(again)[0].convert("RGB")),
        np.asarray(wire_images(first)[0].convert("RGB")),
    )
    with HistoryStore.open(default_path()) as store:
        rerun = next(j for j in store.list_jobs(limit=5) if j.id != record.id)
    assert rerun.region == record.region and rerun.options["crop_to_mask"]["padding"] == 64
