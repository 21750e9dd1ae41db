"""Small pieces of the client: the endpoint URL, error messages, the image check."""

from __future__ import annotations

import base64
import os

import pytest

from app.client import ApiError, ClientConfig, InputError, ProtocolError
from app.client.answers import check_image
from app.client.edits import endpoint_url
from app.core.events import PayloadError, images_from_response
from tests.support.images import png_bomb, png_bytes, truncated


@pytest.mark.parametrize(
    ("base", "path", "url"),
    [
        ("https://api.openai.com", "/v1/images/edits", "https://api.openai.com/v1/images/edits"),
        ("https://api.openai.com/", "v1/images/edits", "https://api.openai.com/v1/images/edits"),
        ("http://127.0.0.1:8000", "/v1/image/edits", "http://127.0.0.1:8000/v1/image/edits"),
        ("https://host/v1", "/v1/images/edits", "https://host/v1/images/edits"),
        ("https://host/proxy", "/v1/images/edits", "https://host/proxy/v1/images/edits"),
    ],
)
def test_endpoint_url(base: str, path: str, url: str) -> None:
    assert endpoint_url(base, path) == url


@pytest.mark.parametrize("base", ["localhost:8000", "api.openai.com", "ftp://x", ""])
def test_a_base_url_that_is_not_a_web_address_is_refused(base: str) -> None:
    with pytest.raises(InputError, match="is not a web address"):
        endpoint_url(base, "/v1/images/edits")


def test_the_api_key_is_not_in_the_config_repr() -> None:
    config = ClientConfig(api_key="sk-test-0123456789")
    assert "sk-test" not in repr(config)


def test_an_api_error_reads_as_one_line_with_its_details() -> None:
    error = ApiError(
        "Your request was rejected\nby the safety system.",
        status=400,
        type="image_generation_user_error",
        code="moderation_blocked",
        param="prompt",
        request_id="req_123",
    )
    assert str(error) == (
        "400 Bad Request: Your request was rejected by the safety system. "
        "(image_generation_user_error/moderation_blocked, param prompt, request id req_123)"
    )
    assert error.message == "Your request was rejected by the safety system."


def test_retext_keeps_the_type_and_fields() -> None:
    error = ApiError("slow down", status=429, code="rate_limit_exceeded")
    copy = error.retext(f"{error}; gave up after 3 attempts")
    assert isinstance(copy, ApiError) and copy.status == 429 and copy.message == "slow down"
    assert str(copy).endswith("gave up after 3 attempts")


def test_check_image_accepts_an_image() -> None:
    check_image(png_bytes(), "image", 10_000)


def test_check_image_refuses_text_bombs_and_truncated_files() -> None:
    with pytest.raises(ProtocolError, match="image from the server is not an image"):
        check_image(b"<html>oops</html>", "image", 10_000)
    with pytest.raises(ProtocolError, match="2000x2000 = 4,000,000 pixels, over the 1,000,000"):
        check_image(png_bomb(2000, 2000), "image", 1_000_000)
    with pytest.raises(ProtocolError, match="decompression bomb"):
        check_image(png_bomb(), "image", 1_000_000)
    with pytest.raises(ProtocolError, match="truncated"):
        check_image(truncated(png_bytes()), "image", 1_000_000)


def test_long_base64_is_decoded_in_slices_to_the_same_bytes() -> None:
    raw = os.urandom(3 * 1024 * 1024 + 7)  # several slices and padding at the end
    payload = {"data": [{"b64_json": base64.b64encode(raw).decode()}]}
    assert images_from_response(payload)[0].data == raw


def test_padding_inside_long_base64_is_refused() -> None:
    one = base64.b64encode(os.urandom(3 * 1024 * 1024 // 4)).decode()  # one slice exactly
    assert len(one) == 1 << 20
    glued = base64.b64encode(b"ab").decode() + one  # "YWI=" then more data
    with pytest.raises(PayloadError, match="not valid base64"):
        images_from_response({"data": [{"b64_json": glued}]})
