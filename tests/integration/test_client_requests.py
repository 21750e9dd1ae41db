"""What the client puts on the wire, as a real server on 127.0.0.1 receives it."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx

from app.client import ClientConfig, ImageEditClient, edits, prepare
from app.core.request import EditRequest
from tests.support import fault_server as fs
from tests.support.clients import API_KEY, PNG, edit_request, harness, image_file
from tests.support.images import encode, gradient, mask_bytes


async def test_one_image_goes_out_as_image_with_its_fields(tmp_path: Path) -> None:
    request = edit_request(tmp_path, model="gpt-image-1", n=1, quality="high", stream=False)
    with fs.serve(fs.json_images([PNG])) as server:
        async with harness(server) as h:
            events = await h.run(request)
    assert len(events) == 1
    sent = server.requests[0]
    assert (sent.method, sent.path) == ("POST", "/v1/images/edits")
    assert sent.fields == {
        "prompt": "add a red hat",
        "model": "gpt-image-1",
        "n": "1",
        "quality": "high",
        "stream": "false",
    }
    assert [(p.name, p.filename, p.content_type) for p in sent.files] == [
        ("image", "input0.png", "image/png")
    ]
    assert sent.files[0].data == PNG


async def test_unset_fields_are_not_sent(tmp_path: Path) -> None:
    request = edit_request(tmp_path, size=None, background=None, user="")
    with fs.serve(fs.json_images([PNG])) as server:
        async with harness(server) as h:
            await h.run(request)
    assert set(server.requests[0].fields) == {"prompt"}


async def test_several_images_go_out_as_image_array_with_the_mask(tmp_path: Path) -> None:
    photo = image_file(tmp_path, "photo.png", encode(gradient(64, 48), "JPEG"))
    webp = image_file(tmp_path, "other.webp", encode(gradient(64, 48), "WEBP"))
    mask = image_file(tmp_path, "mask.png", mask_bytes(64, 48, (8, 8, 32, 32)))
    request = EditRequest((photo, webp), {"prompt": "x", "stream": True}, mask=mask)
    stream = fs.sse([fs.completed(PNG)])
    with fs.serve(stream) as server:
        async with harness(server) as h:
            await h.run(request)
    sent = server.requests[0]
    assert [(p.name, p.filename, p.content_type) for p in sent.files] == [
        ("image[]", "photo.png", "image/jpeg"),  # the name says PNG, the bytes say JPEG
        ("image[]", "other.webp", "image/webp"),
        ("mask", "mask.png", "image/png"),
    ]
    assert sent.fields["stream"] == "true"
    assert sent.headers["accept"] == "text/event-stream"


async def test_a_png_named_jpg_goes_out_as_image_png(tmp_path: Path) -> None:
    request = EditRequest((image_file(tmp_path, "lies.jpg"),), {"prompt": "x"})
    with fs.serve(fs.json_images([PNG])) as server:
        async with harness(server) as h:
            await h.run(request)
    assert server.requests[0].files[0].content_type == "image/png"


async def test_the_array_form_can_be_forced_for_one_image(tmp_path: Path) -> None:
    with fs.serve(fs.json_images([PNG])) as server:
        async with harness(server, force_image_array=True) as h:
            await h.run(edit_request(tmp_path))
    assert [p.name for p in server.requests[0].files] == ["image[]"]


async def test_the_singular_vendor_path_works(tmp_path: Path) -> None:
    with fs.serve(fs.json_images([PNG])) as server:
        async with harness(server, path="/v1/image/edits") as h:
            events = await h.run(edit_request(tmp_path))
    assert server.requests[0].path == "/v1/image/edits"
    assert events[0].data == PNG


async def test_bearer_header_only_with_a_key_and_a_known_length(tmp_path: Path) -> None:
    with fs.serve(fs.json_images([PNG])) as server:
        async with harness(server) as h:
            await h.run(edit_request(tmp_path))
        async with harness(server, api_key=None) as h:
            await h.run(edit_request(tmp_path))
    with_key, without = server.requests
    assert with_key.headers["authorization"] == f"Bearer {API_KEY}"
    assert "authorization" not in without.headers
    assert with_key.headers["content-type"].startswith("multipart/form-data; boundary=")
    assert int(with_key.headers["content-length"]) == with_key.body_size
    assert "transfer-encoding" not in with_key.headers


async def test_clients_share_one_tls_context_built_off_the_calling_thread(
    tmp_path: Path, monkeypatch
) -> None:
    """Building a TLS context parses the CA bundle (some 25 ms): the editor makes a client
    per job on the UI thread, so the context is made once, by prepare(), in a worker."""
    built: list[str] = []
    real = httpx.create_ssl_context

    def counting(*args, **kwargs):
        built.append(threading.current_thread().name)
        return real(*args, **kwargs)

    monkeypatch.setattr(httpx, "create_ssl_context", counting)
    edits.tls_context.cache_clear()
    try:
        await prepare()
        config = ClientConfig(base_url="https://example.invalid", api_key=API_KEY)
        for _ in range(3):
            async with ImageEditClient(config):
                pass
        assert len(built) == 1 and built[0] != threading.main_thread().name
    finally:
        edits.tls_context.cache_clear()
