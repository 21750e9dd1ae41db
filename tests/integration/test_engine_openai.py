"""Conformance: the official ``openai`` package talks to the local engine without any
special handling, and the engine's errors surface as the SDK's typed errors."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator

import numpy as np
import openai
import pytest
from PIL import Image

from tests.support.engine import running_engine
from tests.support.images import encode, gradient, mask_bytes

TOKEN = "engine-token"
W, H = 192, 128
PNG = encode(gradient(W, H), "PNG")
MASK = mask_bytes(W, H, (60, 40, 120, 90))


def file(data: bytes, name: str = "in.png") -> tuple[str, bytes, str]:
    return (name, data, "image/png")


@pytest.fixture(scope="module")
def client() -> Iterator[openai.OpenAI]:
    with running_engine(token=TOKEN) as url:
        sdk = openai.OpenAI(base_url=f"{url}/v1", api_key=TOKEN, max_retries=0, timeout=30)
        yield sdk
        sdk.close()


def decode(b64: str | None) -> Image.Image:
    assert b64
    image = Image.open(io.BytesIO(base64.b64decode(b64)))
    image.load()
    return image


def test_models_list(client):
    assert [m.id for m in client.models.list()] == ["local-inpaint"]
    assert client.models.retrieve("local-inpaint").owned_by


def test_edit_one_image_with_a_mask(client):
    result = client.images.edit(
        model="local-inpaint", image=file(PNG), mask=file(MASK, "mask.png"), prompt="remove"
    )
    assert len(result.data) == 1 and result.size == f"{W}x{H}"
    assert result.output_format == "png" and result.background == "opaque"
    assert result.usage.input_tokens > 0 and result.usage.output_tokens > 0
    assert result.usage.input_tokens_details.image_tokens == 85 + 170
    out = np.asarray(decode(result.data[0].b64_json))
    alpha = np.asarray(Image.open(io.BytesIO(MASK)))[..., 3]
    assert np.array_equal(out[alpha == 255], np.asarray(gradient(W, H))[alpha == 255])


def test_edit_several_images_several_variants(client):
    second = encode(gradient(64, 64), "PNG")
    result = client.images.edit(
        model="local-inpaint",
        image=[file(PNG, "a.png"), file(second, "b.png")],
        mask=file(MASK, "mask.png"),
        prompt="remove",
        n=2,
        size="96x64",
        output_format="webp",
        output_compression=80,
    )
    images = [decode(d.b64_json) for d in result.data]
    assert [i.size for i in images] == [(96, 64)] * 2 and images[0].format == "WEBP"
    assert images[0].tobytes() != images[1].tobytes()


def test_edit_without_a_mask(client):
    result = client.images.edit(image=file(PNG), prompt="tidy up")  # model defaults
    assert decode(result.data[0].b64_json).size == (W, H)


def test_streaming_edit(client):
    stream = client.images.edit(
        model="local-inpaint",
        image=file(PNG),
        mask=file(MASK, "mask.png"),
        prompt="remove",
        stream=True,
        partial_images=2,
    )
    events = list(stream)
    assert [e.type for e in events] == [
        "image_edit.partial_image",
        "image_edit.partial_image",
        "image_edit.completed",
    ]
    assert [e.partial_image_index for e in events[:2]] == [0, 1]
    completed = events[-1]
    assert completed.usage.total_tokens == completed.usage.input_tokens + (
        completed.usage.output_tokens
    )
    for event in events:
        assert decode(event.b64_json).size == (W, H) and event.size == f"{W}x{H}"


def test_streaming_several_images_transparent(client):
    rgba = np.asarray(gradient(W, H, "RGBA")).copy()
    rgba[:, :20, 3] = 0
    stream = client.images.edit(
        model="local-inpaint",
        image=[file(encode(Image.fromarray(rgba, "RGBA"))), file(PNG)],
        mask=file(MASK, "mask.png"),
        prompt="remove",
        stream=True,
        background="transparent",
    )
    (completed,) = list(stream)
    assert completed.background == "transparent" and decode(completed.b64_json).mode == "RGBA"


@pytest.mark.parametrize(
    ("kwargs", "param", "code"),
    [
        ({"model": "gpt-image-1"}, "model", "model_not_found"),
        ({"n": 11}, "n", "invalid_value"),
        ({"mask": file(PNG, "flat.png")}, "mask", "invalid_mask_image_format"),
        ({"mask": file(mask_bytes(10, 10), "small.png")}, "mask", "mask_size_mismatch"),
        ({"image": file(b"GIF89a nope", "x.png")}, "image", "invalid_image_format"),
        ({"quality": "high"}, "quality", "unsupported_parameter"),
    ],
)
def test_errors_are_typed_with_code_and_param(client, kwargs, param, code):
    request = {"image": file(PNG), "mask": file(MASK, "mask.png"), "prompt": "x", **kwargs}
    with pytest.raises(openai.BadRequestError) as caught:
        client.images.edit(**request)
    assert caught.value.status_code == 400
    assert (caught.value.param, caught.value.code) == (param, code)


def test_a_streaming_request_with_a_bad_value_raises_before_any_event(client):
    with pytest.raises(openai.BadRequestError) as caught:
        client.images.edit(image=file(PNG), prompt="", stream=True)
    assert caught.value.param == "prompt"


def test_a_wrong_key_is_an_authentication_error(client):
    other = client.with_options(api_key="wrong")
    with pytest.raises(openai.AuthenticationError) as caught:
        other.images.edit(image=file(PNG), prompt="x")
    assert caught.value.code == "invalid_api_key"
    with pytest.raises(openai.AuthenticationError):
        other.models.list()
