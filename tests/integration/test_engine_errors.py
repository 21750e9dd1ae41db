"""The local engine refuses bad requests with OpenAI-shaped errors that name the field."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import httpx
import numpy as np
import pytest
from PIL import Image

from app.core.schema import Schema
from app.engine.upload import Limits
from tests.support.engine import image_parts, running_engine
from tests.support.images import corrupt, encode, gradient, mask_bytes, png_bomb, truncated

W, H = 128, 96
PNG = encode(gradient(W, H), "PNG")
MASK = mask_bytes(W, H, (40, 30, 80, 60))


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with running_engine() as url, httpx.Client(base_url=url, timeout=30) as http:
        yield http


def error_of(reply: httpx.Response, status: int = 400) -> dict[str, object]:
    assert reply.status_code == status, reply.text
    body = reply.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"message", "type", "param", "code"}
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]


def post(client: httpx.Client, files: list | None = None, **fields: object) -> httpx.Response:
    data = {"prompt": "remove it", **{k: str(v) for k, v in fields.items()}}
    return client.post("/v1/images/edits", data=data, files=files or image_parts([PNG], MASK))


@pytest.mark.parametrize(
    ("fields", "param", "code"),
    [
        ({"prompt": ""}, "prompt", "missing_required_parameter"),
        ({"prompt": " "}, "prompt", "missing_required_parameter"),
        ({"model": "gpt-image-2"}, "model", "model_not_found"),
        ({"n": "11"}, "n", "invalid_value"),
        ({"n": "two"}, "n", "invalid_value"),
        ({"size": "huge"}, "size", "invalid_value"),
        ({"size": "5000x100"}, "size", "invalid_value"),
        ({"output_format": "gif"}, "output_format", "invalid_value"),
        ({"background": "purple"}, "background", "invalid_value"),
        ({"quality": "high"}, "quality", "unsupported_parameter"),
        ({"input_fidelity": "high"}, "input_fidelity", "unsupported_parameter"),
        ({"stream": "maybe"}, "stream", "invalid_value"),
        ({"partial_images": "2"}, "partial_images", "invalid_parameter_combination"),
        ({"stream": "true", "partial_images": "4"}, "partial_images", "invalid_value"),
        ({"background": "transparent", "output_format": "jpeg"}, "background",
         "invalid_parameter_combination"),
        ({"output_compression": "50"}, "output_compression", "invalid_parameter_combination"),
        ({"response_format": "url"}, "response_format", "unknown_parameter"),
        ({"prompt": "x" * 32001}, "prompt", "invalid_value"),
    ],
)  # fmt: skip
def test_bad_values_are_refused_naming_the_field(client, fields, param, code):
    error = error_of(post(client, **fields))
    assert (error["param"], error["code"], error["type"]) == (param, code, "invalid_request_error")


def test_unknown_model_message_names_the_models(client):
    error = error_of(post(client, model="dall-e-3"))
    assert "dall-e-3" in error["message"] and "local-inpaint" in error["message"]


def test_missing_image(client):
    reply = client.post("/v1/images/edits", data={"prompt": "x"}, files={"x": ("", b"", "")})
    assert error_of(reply)["param"] == "x"
    reply = client.post("/v1/images/edits", data={"prompt": "x"}, files=[])
    assert error_of(reply)["code"] == "invalid_content_type"  # httpx sends no multipart at all
    only_mask = [("mask", ("mask.png", MASK, "image/png"))]
    error = error_of(post(client, only_mask))
    assert (error["param"], error["code"]) == ("image", "missing_required_parameter")


def test_missing_prompt_part(client):
    reply = client.post("/v1/images/edits", files=image_parts([PNG], MASK))
    error = error_of(reply)
    assert (error["param"], error["code"]) == ("prompt", "missing_required_parameter")


@pytest.mark.parametrize(
    ("mask", "code", "words"),
    [
        (mask_bytes(W + 1, H), "mask_size_mismatch", "same size"),
        (encode(gradient(W, H), "PNG"), "invalid_mask_image_format", "alpha"),
        (encode(gradient(W, H, "L"), "PNG"), "invalid_mask_image_format", "alpha"),
        (encode(gradient(W, H), "JPEG"), "mask_not_png", "PNG"),
        (b"not an image at all", "invalid_image_format", "PNG"),
        (mask_bytes(W, H, (0, 0, W, H)), "mask_covers_image", "opaque"),
    ],
)
def test_bad_masks_each_get_their_own_error(client, mask, code, words):
    error = error_of(post(client, image_parts([PNG], mask)))
    assert (error["param"], error["code"]) == ("mask", code)
    assert words in error["message"] and "mask.png" in error["message"]
    if code == "invalid_mask_image_format":
        assert error["type"] == "image_generation_user_error"  # as OpenAI files it


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (corrupt(encode(gradient(400, 300), "PNG")), "corrupt_image"),
        (truncated(PNG), "truncated_image"),
        (b"<html>not an image</html>", "invalid_image_format"),
        (b"", "invalid_image_format"),
        (encode(Image.new("RGB", (8, 8)), "GIF"), "invalid_image_format"),
        (png_bomb(), "image_too_large"),
    ],
)
def test_bad_images_each_get_their_own_error(client, data, code):
    size = Image.open(__import__("io").BytesIO(data)).size if code == "corrupt_image" else None
    mask = mask_bytes(*size) if size else None
    error = error_of(post(client, image_parts([data], mask)))
    assert (error["param"], error["code"]) == ("image", code)
    assert "in0.png" in error["message"]


def test_a_bad_second_image_is_found_too(client):
    bad = corrupt(encode(gradient(400, 300), "PNG"))
    error = error_of(post(client, image_parts([PNG, bad], MASK)))
    assert (error["param"], error["code"]) == ("image", "corrupt_image")
    assert "in1.png" in error["message"]


def test_file_parts_need_an_image_content_type(client):
    files = [("image", ("in.png", PNG, "application/octet-stream"))]
    error = error_of(post(client, files))
    assert (error["param"], error["code"]) == ("image", "unsupported_file_mimetype")


def test_duplicate_and_misplaced_parts(client):
    twice = [("image", ("a.png", PNG, "image/png")), ("image", ("b.png", PNG, "image/png"))]
    assert error_of(post(client, twice))["code"] == "duplicate_parameter"
    mixed = [("image", ("a.png", PNG, "image/png")), ("image[]", ("b.png", PNG, "image/png"))]
    assert error_of(post(client, mixed))["code"] == "duplicate_parameter"
    reply = client.post(
        "/v1/images/edits",
        data={"prompt": "x", "image": "a.png"},
        files=[("mask", ("m.png", MASK, "image/png"))],
    )
    assert error_of(reply)["param"] == "image"
    reply = client.post(
        "/v1/images/edits",
        data={"prompt": "x"},
        files=[*image_parts([PNG]), ("prompt", ("p.txt", b"hi", "text/plain"))],
    )
    assert error_of(reply)["param"] == "prompt"


def test_too_many_images(client):
    small = encode(gradient(16, 16), "PNG")
    error = error_of(post(client, image_parts([small] * 17)))
    assert (error["param"], error["code"]) == ("image", "too_many_images")
    assert post(client, image_parts([small] * 16)).status_code == 200


def test_not_multipart(client):
    reply = client.post("/v1/images/edits", json={"prompt": "x"})
    assert error_of(reply)["code"] == "invalid_content_type"
    broken = client.post(
        "/v1/images/edits",
        content=b'--xyz\r\nContent-Disposition: form-data; name="prompt"\r\n\r\nhi',
        headers={"content-type": "multipart/form-data; boundary=xyz"},
    )
    assert error_of(broken)["code"] == "invalid_multipart"


def test_unknown_paths_and_methods_answer_in_the_openai_shape(client):
    assert error_of(client.get("/v1/nothing"), 404)["code"] == "not_found"
    assert error_of(client.get("/v1/images/edits"), 405)["code"] == "method_not_allowed"


# --- size limits ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_limits_url(schema: Schema) -> Iterator[str]:
    files = dataclasses.replace(schema.files, max_file_bytes=200_000)
    limits = Limits(max_request_bytes=300_000, max_file_bytes=200_000)
    with running_engine(schema=dataclasses.replace(schema, files=files), limits=limits) as url:
        yield url


def noise_png(width: int, height: int) -> bytes:
    rng = np.random.default_rng(3)
    return encode(Image.fromarray(rng.integers(0, 255, (height, width, 3), dtype=np.uint8)))


def test_a_declared_huge_body_is_refused_before_it_is_read(small_limits_url):
    body = b"x" * 400_000
    with httpx.Client(base_url=small_limits_url, timeout=30) as http:
        reply = http.post(
            "/v1/images/edits",
            content=body,
            headers={"content-type": "multipart/form-data; boundary=abc"},
        )
        error = error_of(reply, 413)
        assert error["code"] == "request_too_large"
        assert http.get("/health").status_code == 200


def test_a_chunked_huge_body_is_refused_while_it_streams(small_limits_url):
    sent = 0

    def chunks() -> Iterator[bytes]:
        nonlocal sent
        yield b'--abc\r\nContent-Disposition: form-data; name="prompt"\r\n\r\nhi\r\n'
        yield b'--abc\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\n'
        yield b"Content-Type: image/png\r\n\r\n"
        for _ in range(1000):  # up to 64 MB, far more than the engine will take
            sent += 65536
            yield b"\0" * 65536

    with httpx.Client(base_url=small_limits_url, timeout=30) as http:
        try:
            reply = http.post(
                "/v1/images/edits",
                content=chunks(),
                headers={"content-type": "multipart/form-data; boundary=abc"},
            )
        except httpx.WriteError:
            pass  # the engine may close the connection before the client reads the 413
        else:
            assert error_of(reply, 413)["code"] in {"request_too_large", "file_too_large"}
        assert sent < 10_000_000  # refused early, not after buffering everything
        assert http.get("/health").status_code == 200


def test_one_file_over_the_file_limit(small_limits_url):
    big = noise_png(300, 300)
    assert 200_000 < len(big) < 300_000
    with httpx.Client(base_url=small_limits_url, timeout=30) as http:
        reply = http.post("/v1/images/edits", data={"prompt": "x"}, files=image_parts([big]))
    error = error_of(reply, 413)
    assert (error["param"], error["code"]) == ("image", "file_too_large")
    assert "in0.png" in error["message"]


# --- auth ----------------------------------------------------------------------------------


def test_a_token_is_required_everywhere_but_health():
    with running_engine(token="s3cret") as url, httpx.Client(base_url=url, timeout=30) as http:
        assert http.get("/health").status_code == 200
        missing = error_of(http.get("/v1/models"), 401)
        assert missing["code"] == "missing_api_key"
        wrong = {"authorization": "Bearer nope"}
        assert error_of(http.get("/v1/models", headers=wrong), 401)["code"] == "invalid_api_key"
        basic = {"authorization": "Basic s3cret"}
        assert error_of(http.get("/v1/models", headers=basic), 401)["code"] == "invalid_api_key"
        reply = http.post("/v1/images/edits", data={"prompt": "x"}, files=image_parts([PNG]))
        assert error_of(reply, 401)["code"] == "missing_api_key"
        assert "s3cret" not in reply.text
        good = {"authorization": "Bearer s3cret"}
        assert http.get("/v1/models", headers=good).status_code == 200
        reply = http.post(
            "/v1/images/edits", data={"prompt": "x"}, files=image_parts([PNG]), headers=good
        )
        assert reply.status_code == 200
