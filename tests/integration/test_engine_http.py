"""The local engine over real HTTP: what it returns for good requests."""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image

from app.engine.usage import usage
from app.engine.variants import VARIANTS
from tests.support.engine import image_parts, running_engine, sse_events
from tests.support.images import encode, gradient, mask_bytes, png_bytes

W, H = 256, 192
HOLE = (96, 64, 150, 120)  # x0, y0, x1, y1


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with running_engine() as url, httpx.Client(base_url=url, timeout=30) as http:
        yield http


@pytest.fixture(scope="module")
def scene() -> dict[str, object]:
    clean = np.asarray(gradient(W, H))
    dirty = clean.copy()
    dirty[70:114, 102:144] = (30, 30, 30)
    hole = np.zeros((H, W), bool)
    x0, y0, x1, y1 = HOLE
    hole[y0:y1, x0:x1] = True
    return {
        "clean": clean,
        "dirty": dirty,
        "hole": hole,
        "png": encode(Image.fromarray(dirty), "PNG"),
        "mask": mask_bytes(W, H, HOLE),
    }


def decode(b64: str) -> Image.Image:
    image = Image.open(io.BytesIO(base64.b64decode(b64)))
    image.load()
    return image


def post(client: httpx.Client, files: list, path: str = "/v1/images/edits", **fields: object):
    data = {"prompt": "remove the square", **{k: str(v).lower() for k, v in fields.items()}}
    return client.post(path, data=data, files=files)


def test_health_and_models(client):
    health = client.get("/health").json()
    assert health["status"] == "ok" and health["models"] == ["local-inpaint"]
    models = client.get("/v1/models").json()
    assert models["object"] == "list"
    assert [m["id"] for m in models["data"]] == ["local-inpaint"]
    card = models["data"][0]
    assert card["object"] == "model" and isinstance(card["created"], int) and card["owned_by"]
    assert client.get("/v1/models/local-inpaint").json() == card
    missing = client.get("/v1/models/gpt-image-2")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "model_not_found"
    assert client.get("/v1/models").headers["x-request-id"].startswith("req_")


def test_an_object_is_removed_and_everything_else_is_bit_identical(client, scene):
    reply = post(client, image_parts([scene["png"]], scene["mask"]))
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert set(body) == {
        "created", "data", "background", "output_format", "quality", "size", "usage",
    }  # fmt: skip
    assert body["size"] == f"{W}x{H}" and body["output_format"] == "png"
    assert body["background"] == "opaque" and body["quality"] == "high"
    result = np.asarray(decode(body["data"][0]["b64_json"]))
    hole, clean, dirty = scene["hole"], scene["clean"], scene["dirty"]
    assert result.shape == dirty.shape
    assert np.array_equal(result[~hole], dirty[~hole])
    error = np.abs(result.astype(int) - clean)[hole].mean()
    foreign = np.abs(dirty.astype(int) - clean)[hole].mean()
    assert error < 10 and error < foreign / 5


def test_both_paths_and_model_name_work(client, scene):
    for path in ("/v1/images/edits", "/v1/image/edits"):
        reply = post(
            client, image_parts([scene["png"]], scene["mask"]), path, model="local-inpaint"
        )
        assert reply.status_code == 200, reply.text


def test_n_variants_genuinely_differ(client, scene):
    reply = post(client, image_parts([scene["png"]], scene["mask"]), n=4)
    images = [np.asarray(decode(item["b64_json"])) for item in reply.json()["data"]]
    assert len(images) == 4
    for i in range(4):
        for j in range(i + 1, 4):
            assert not np.array_equal(images[i], images[j])
    # ...and are reproducible.
    again = post(client, image_parts([scene["png"]], scene["mask"]), n=1).json()
    assert np.array_equal(np.asarray(decode(again["data"][0]["b64_json"])), images[0])


def test_several_images_edit_the_first_and_are_counted_in_usage(client, scene):
    extra = png_bytes(64, 64)
    reply = post(client, image_parts([scene["png"], extra, extra], scene["mask"]))
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["size"] == f"{W}x{H}"
    expected = usage(
        prompt="remove the square", inputs=[(W, H), (64, 64), (64, 64)], outputs=[(W, H)]
    )
    assert body["usage"] == expected.to_json()
    one_as_array = post(client, image_parts([scene["png"]], scene["mask"], array=True))
    assert one_as_array.status_code == 200


def test_without_a_mask_the_whole_image_gets_the_documented_retouch(client, scene):
    reply = post(client, image_parts([scene["png"]]), n=2)
    assert reply.status_code == 200, reply.text
    first, second = (np.asarray(decode(d["b64_json"])) for d in reply.json()["data"])
    assert first.shape == scene["dirty"].shape
    assert not np.array_equal(first, scene["dirty"]) and not np.array_equal(first, second)


@pytest.mark.parametrize("size", ["128x96", "400x300", "100x250"])
def test_size_resizes_the_result(client, scene, size):
    reply = post(client, image_parts([scene["png"]], scene["mask"]), size=size)
    body = reply.json()
    assert body["size"] == size
    assert "x".join(map(str, decode(body["data"][0]["b64_json"]).size)) == size


@pytest.mark.parametrize("fmt", ["jpeg", "webp"])
def test_output_format_and_compression(client, scene, fmt):
    sizes = []
    for compression in (100, 20):
        reply = post(
            client,
            image_parts([scene["png"]], scene["mask"]),
            output_format=fmt,
            output_compression=compression,
        )
        body = reply.json()
        assert body["output_format"] == fmt
        image = decode(body["data"][0]["b64_json"])
        assert image.format == fmt.upper() and image.size == (W, H)
        sizes.append(len(body["data"][0]["b64_json"]))
    assert sizes[1] < sizes[0]


def test_transparent_background_keeps_alpha(client, scene):
    rgba = np.dstack([scene["dirty"], np.tile(np.arange(W, dtype=np.uint8), (H, 1))])
    data = encode(Image.fromarray(rgba, "RGBA"), "PNG")
    for fmt in ("png", "webp"):
        body = post(
            client,
            image_parts([data], scene["mask"]),
            background="transparent",
            output_format=fmt,
        ).json()
        assert body["background"] == "transparent"
        image = decode(body["data"][0]["b64_json"])
        assert image.mode == "RGBA"
        if fmt == "png":
            out = np.asarray(image)
            assert np.array_equal(out[~scene["hole"]], rgba[~scene["hole"]])
    auto = post(client, image_parts([data], scene["mask"])).json()
    assert auto["background"] == "transparent"
    opaque = post(client, image_parts([data], scene["mask"]), background="opaque").json()
    assert opaque["background"] == "opaque"
    assert decode(opaque["data"][0]["b64_json"]).mode == "RGB"


def test_opaque_input_in_jpeg_works(client, scene):
    data = encode(Image.fromarray(scene["dirty"]), "JPEG", quality=95)
    reply = post(client, [("image", ("photo.jpg", data, "image/jpeg"))])
    assert reply.status_code == 200 and reply.json()["background"] == "opaque"


@pytest.mark.parametrize("partials", [0, 1, 2, 3])
def test_stream_sends_coarse_to_fine_partials_then_the_completed_image(client, scene, partials):
    reply = post(
        client,
        image_parts([scene["png"]], scene["mask"]),
        stream=True,
        partial_images=partials,
    )
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/event-stream")
    events = sse_events(reply.text)
    kinds = [name for name, _ in events]
    assert kinds == ["image_edit.partial_image"] * partials + ["image_edit.completed"]
    assert all(data["type"] == name for name, data in events)
    for index, (_, data) in enumerate(events[:-1]):
        assert data["partial_image_index"] == index
        assert set(data) == {
            "type", "b64_json", "partial_image_index", "created_at", "size", "quality",
            "background", "output_format",
        }  # fmt: skip
    completed = events[-1][1]
    assert set(completed) == {
        "type", "b64_json", "created_at", "size", "quality", "background", "output_format",
        "usage",
    }  # fmt: skip
    assert completed["usage"]["output_tokens"] == 85 + 170 + 100 * partials
    hole = scene["hole"]
    errors = []
    for _, data in events:
        pixels = np.asarray(decode(data["b64_json"]))
        assert np.array_equal(pixels[~hole], scene["dirty"][~hole])
        errors.append(np.abs(pixels.astype(int) - scene["clean"])[hole].mean())
    assert max(errors) < 15


def test_stream_with_n_variants_sums_to_the_request_usage(client, scene):
    reply = post(
        client,
        image_parts([scene["png"]], scene["mask"]),
        stream=True,
        partial_images=1,
        n=3,
    )
    events = sse_events(reply.text)
    kinds = [name.split(".")[1] for name, _ in events]
    assert kinds == ["partial_image", "completed"] * 3
    usages = [data["usage"] for name, data in events if name == "image_edit.completed"]
    assert usages[0]["input_tokens"] > 0 and usages[1]["input_tokens"] == 0
    plain = post(client, image_parts([scene["png"]], scene["mask"]), n=3).json()["usage"]
    assert sum(u["total_tokens"] for u in usages) == plain["total_tokens"] + 3 * 100
    finals = [data["b64_json"] for name, data in events if name == "image_edit.completed"]
    assert len(set(finals)) == 3


def test_keep_alive_comments_while_working():
    big = encode(gradient(1600, 1200), "PNG")
    with (
        running_engine(keepalive_seconds=0.02) as url,
        httpx.Client(base_url=url, timeout=60) as http,
    ):
        reply = post(
            http,
            image_parts([big], mask_bytes(1600, 1200, (300, 300, 1100, 900))),
            stream=True,
            n=2,
        )
    assert ": keep-alive" in reply.text
    assert [name for name, _ in sse_events(reply.text)] == ["image_edit.completed"] * 2


def test_variant_table_is_documented_in_order():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("**Variants (`n`") :].split("\n\n")[1]
    rows = re.findall(r"^\| (\d+) \| ([a-z0-9-]+) \|", table, re.MULTILINE)
    assert [(int(i), name) for i, name in rows] == list(enumerate(v.name for v in VARIANTS))


def test_split_streams_ask_for_their_variant_by_header(client, scene):
    """A client that streams n variants as n requests of n=1 numbers them, so they differ
    exactly as the variants of one request do."""
    together = post(client, image_parts([scene["png"]], scene["mask"]), n=3).json()["data"]
    for index in range(3):
        reply = client.post(
            "/v1/images/edits",
            data={"prompt": "remove the square", "stream": "true"},
            files=image_parts([scene["png"]], scene["mask"]),
            headers={"x-retouch-variant": str(index)},
        )
        (completed,) = [data for _, data in sse_events(reply.text)]
        assert completed["b64_json"] == together[index]["b64_json"]
    bad = client.post(
        "/v1/images/edits",
        data={"prompt": "x"},
        files=image_parts([scene["png"]]),
        headers={"x-retouch-variant": "10"},
    )
    assert bad.status_code == 400 and "x-retouch-variant" in bad.json()["error"]["message"]
