"""The mask on the wire, over real HTTP on 127.0.0.1: the client sends every mask compactly
(its alpha alone, under the API's 4 MB), and the local engine fills the same hole whatever
kind of PNG carries the mask's alpha."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import cv2
import httpx
import numpy as np
import pytest
from PIL import Image

from app.cli import main
from app.client import ClientConfig, ImageEditClient
from app.core.mask import compact_png
from app.core.request import EditRequest
from tests.support import fault_server as fs
from tests.support.clients import PNG, collect, harness
from tests.support.engine import image_parts, running_engine
from tests.support.images import encode, gradient, write

UNDER_4_MB = 4 * 1024 * 1024  # PROTOCOL.md: the mask is a PNG "under 4 MB"


def drawn_alpha(width: int, height: int) -> np.ndarray:
    """Opaque with transparent shapes (where to edit), one with a feathered edge."""
    alpha = np.full((height, width), 255, np.uint8)
    cv2.circle(alpha, (width // 4, height // 3), min(width, height) // 6, 0, -1)
    cv2.rectangle(alpha, (width // 2, height // 2), (width * 4 // 5, height * 5 // 6), 0, -1)
    return cv2.GaussianBlur(alpha, (0, 0), 3)


def with_noisy_colour(alpha: np.ndarray) -> Image.Image:
    colour = np.random.default_rng(11).integers(0, 256, (*alpha.shape, 3), np.uint8)
    return Image.fromarray(np.dstack([colour, alpha]), "RGBA")


def alpha_of(data: bytes) -> np.ndarray:
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG" and image.mode == "LA"
    return np.asarray(image.getchannel("A"))


# --- what the client sends -----------------------------------------------------------------


async def test_a_noisy_4k_mask_is_sent_compact_with_exactly_its_alpha(tmp_path: Path) -> None:
    alpha = drawn_alpha(3840, 2160)
    noisy = encode(with_noisy_colour(alpha), "PNG", compress_level=1)
    assert len(noisy) > 20_000_000  # as saved: the colour noise costs about 25 MB
    mask = write(tmp_path / "noisy-mask.png", noisy)
    photo = write(tmp_path / "photo.png", PNG)
    request = EditRequest((photo,), {"prompt": "x"}, mask=mask)
    with fs.serve(fs.json_images([PNG])) as server:
        async with harness(server) as h:
            await h.run(request)
    sent = server.requests[0]
    part = sent.files[-1]
    assert (part.name, part.filename, part.content_type) == ("mask", "noisy-mask.png", "image/png")
    assert len(part.data) < UNDER_4_MB and len(part.data) < 500_000
    assert np.array_equal(alpha_of(part.data), alpha)
    assert int(sent.headers["content-length"]) == sent.body_size


async def test_split_variants_and_retries_send_the_same_compact_mask(tmp_path: Path) -> None:
    alpha = drawn_alpha(320, 200)
    mask = write(tmp_path / "mask.png", encode(with_noisy_colour(alpha), "PNG"))
    photo = write(tmp_path / "photo.png", PNG)
    request = EditRequest((photo,), {"prompt": "x", "n": 2, "stream": True}, mask=mask)
    replies = [fs.error(500, "try again", code="server_error"), fs.sse([fs.completed(PNG)])]
    with fs.serve(lambda _request, index: replies[min(index, 1)]) as server:
        async with harness(server) as h:
            await collect(h.client.variants(request))
    masks = [sent.files[-1].data for sent in server.requests]
    assert len(masks) == 3  # a failed attempt, its retry and the other variant
    assert len(set(masks)) == 1 and np.array_equal(alpha_of(masks[0]), alpha)


def test_the_cli_refuses_a_mask_too_noisy_even_compact(capsys, tmp_path: Path) -> None:
    """Random alpha does not compress: 2048x2100 pixels are over 4 MB even sent compactly.
    Nothing is sent, and the message names the file and says what to do."""
    width, height = 2048, 2100
    static = np.random.default_rng(2).integers(0, 256, (height, width), np.uint8)
    mask = write(tmp_path / "static-mask.png", compact_png(static))
    photo = write(tmp_path / "photo.png", encode(gradient(width, height), "PNG", compress_level=1))
    with fs.serve(fs.json_images([PNG])) as server:
        code = main(
            ["edit", "--base-url", server.base_url, "--image", str(photo), "--mask", str(mask),
             "--prompt", "x", "--out", str(tmp_path / "out")]
        )  # fmt: skip
        assert server.requests == []
    err = capsys.readouterr().err
    assert code == 2
    assert "static-mask.png: even sent compactly" in err and "under 4 MB" in err
    assert "simplify" in err


# --- what the local engine makes of it -----------------------------------------------------

W, H = 256, 192


@pytest.fixture(scope="module")
def engine():
    with running_engine() as url, httpx.Client(base_url=url, timeout=60) as http:
        yield url, http


def scene() -> tuple[bytes, np.ndarray]:
    """A picture with a dark blot, and an alpha that is 0 over the blot (feathered)."""
    pixels = np.asarray(gradient(W, H)).copy()
    pixels[70:114, 102:144] = (30, 30, 30)
    alpha = np.full((H, W), 255, np.uint8)
    alpha[64:120, 96:150] = 0
    alpha[60:64, 96:150] = 128  # partly transparent: kept, as only alpha 0 marks the edit
    return encode(Image.fromarray(pixels), "PNG"), alpha


def filled(http: httpx.Client, image: bytes, mask: bytes) -> bytes:
    answer = http.post(
        "/v1/images/edits",
        data={"prompt": "remove the blot", "model": "local-inpaint"},
        files=image_parts([image], mask),
    )
    assert answer.status_code == 200, answer.text
    return base64.b64decode(answer.json()["data"][0]["b64_json"])


def test_the_engine_fills_the_same_with_every_kind_of_mask(engine) -> None:
    _, http = engine
    image, alpha = scene()
    zeros = np.zeros((H, W, 3), np.uint8)
    flat_rgba = encode(Image.fromarray(np.dstack([zeros, alpha]), "RGBA"), "PNG")
    levels = np.unique(alpha)  # 0, 128, 255: a palette of three, with tRNS alpha
    palette = Image.fromarray(np.searchsorted(levels, alpha).astype(np.uint8), "P")
    palette.putpalette([0, 0, 0] * len(levels))
    masks = {
        "grey+alpha (what the client sends)": compact_png(alpha),
        "rgba, noisy colour": encode(with_noisy_colour(alpha), "PNG"),
        "palette with transparency": encode(palette, "PNG", transparency=levels.tobytes()),
    }
    reference = filled(http, image, flat_rgba)
    assert reference != image  # the blot was filled
    for kind, mask in masks.items():
        assert filled(http, image, mask) == reference, kind


async def test_the_engine_holds_a_mask_to_4_mb_as_received(engine, tmp_path: Path) -> None:
    """A mask sent with its noise (over 4 MB) is refused, as the API refuses it; the same
    file sent by our client goes out compact and gives the same fill as the compact mask."""
    url, http = engine
    image, alpha = scene()
    big = np.kron(alpha, np.ones((7, 7), np.uint8))  # 1792x1344: noise makes it ~7 MB
    noisy = encode(with_noisy_colour(big), "PNG", compress_level=1)
    assert len(noisy) > UNDER_4_MB
    big_image = encode(Image.open(io.BytesIO(image)).resize((W * 7, H * 7)), "PNG")
    answer = http.post(
        "/v1/images/edits",
        data={"prompt": "remove the blot", "model": "local-inpaint"},
        files=image_parts([big_image], noisy),
    )
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert (error["param"], error["code"]) == ("mask", "mask_too_large")
    assert "mask.png" in error["message"] and "under 4 MB" in error["message"]

    photo = write(tmp_path / "photo.png", big_image)
    mask = write(tmp_path / "mask.png", noisy)
    values = {"prompt": "remove the blot", "model": "local-inpaint"}
    request = EditRequest((photo,), values, mask=mask)
    async with ImageEditClient(ClientConfig(base_url=url)) as client:
        events = await collect(client.edit(request))
    assert events[-1].data == filled(http, big_image, compact_png(big))
