"""The multipart body: part names, content types from bytes, text parts, streaming."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.client import multipart
from app.client.errors import InputError
from app.client.multipart import build_body
from app.core.request import EditRequest
from app.core.schema import Schema
from tests.support.fault_server import parse_multipart
from tests.support.images import encode, gradient, mask_bytes, png_bytes


async def render(body: multipart.MultipartBody) -> bytes:
    upload = body.open()
    try:
        return b"".join([chunk async for chunk in upload])
    finally:
        await upload.aclose()


def files(tmp_path: Path) -> dict[str, Path]:
    made = {
        "png.jpg": png_bytes(),  # a PNG whose name lies
        "photo.jpeg": encode(gradient(64, 48), "JPEG"),
        "pic.webp": encode(gradient(64, 48), "WEBP"),
        "mask.png": mask_bytes(64, 48, (0, 0, 10, 10)),
        "notes.png": b"hello, I am text",
    }
    for name, data in made.items():
        (tmp_path / name).write_bytes(data)
    return {name: tmp_path / name for name in made}


async def test_one_image_is_image_several_are_image_array(tmp_path: Path, schema: Schema) -> None:
    paths = files(tmp_path)
    one = build_body(EditRequest((paths["png.jpg"],)), schema, force_image_array=False)
    assert [f.name for f in one.files] == ["image"]
    two = EditRequest((paths["png.jpg"], paths["pic.webp"]), mask=paths["mask.png"])
    body = build_body(two, schema, force_image_array=False)
    assert [f.name for f in body.files] == ["image[]", "image[]", "mask"]
    forced = build_body(EditRequest((paths["png.jpg"],)), schema, force_image_array=True)
    assert [f.name for f in forced.files] == ["image[]"]


async def test_content_types_come_from_the_bytes(tmp_path: Path, schema: Schema) -> None:
    paths = files(tmp_path)
    request = EditRequest((paths["png.jpg"], paths["photo.jpeg"], paths["pic.webp"]))
    body = build_body(request, schema, force_image_array=False)
    parts = parse_multipart(await render(body), body.content_type)
    assert [(p.filename, p.content_type) for p in parts] == [
        ("png.jpg", "image/png"),
        ("photo.jpeg", "image/jpeg"),
        ("pic.webp", "image/webp"),
    ]
    assert parts[0].data == paths["png.jpg"].read_bytes()


async def test_text_parts_for_set_fields_only(tmp_path: Path, schema: Schema) -> None:
    paths = files(tmp_path)
    values = {"prompt": "a red hat", "n": 2, "stream": True, "quality": None, "user": ""}
    body = build_body(EditRequest((paths["png.jpg"],), values), schema, force_image_array=False)
    parts = parse_multipart(await render(body), body.content_type)
    fields = {p.name: p.text for p in parts if p.filename is None}
    assert fields == {"prompt": "a red hat", "n": "2", "stream": "true"}
    off = build_body(
        EditRequest((paths["png.jpg"],), {"stream": False}), schema, force_image_array=False
    )
    assert off.text == (("stream", "false"),)


async def test_content_length_is_the_exact_body_size(tmp_path: Path, schema: Schema) -> None:
    paths = files(tmp_path)
    request = EditRequest(
        (paths["png.jpg"], paths["pic.webp"]), {"prompt": "ünïcode ✓"}, mask=paths["mask.png"]
    )
    body = build_body(request, schema, force_image_array=False)
    assert len(await render(body)) == body.content_length


async def test_each_pass_reads_the_files_again(tmp_path: Path, schema: Schema) -> None:
    paths = files(tmp_path)
    body = build_body(EditRequest((paths["png.jpg"],)), schema, force_image_array=False)
    assert await render(body) == await render(body)


async def test_files_are_read_in_bounded_chunks(
    tmp_path: Path, schema: Schema, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(multipart, "CHUNK_SIZE", 1000)
    big = tmp_path / "big.png"
    big.write_bytes(png_bytes(400, 300))
    body = build_body(EditRequest((big,)), schema, force_image_array=False)
    upload = body.open()
    sizes = [len(chunk) async for chunk in upload]
    await upload.aclose()
    assert big.stat().st_size > 5_000
    assert max(sizes) <= 1000 + 200  # a part's headers may exceed a file chunk a little


async def test_a_quote_in_a_file_name_cannot_break_the_header(
    tmp_path: Path, schema: Schema
) -> None:
    odd = tmp_path / 'my "best" shot.png'
    odd.write_bytes(png_bytes())
    body = build_body(EditRequest((odd,)), schema, force_image_array=False)
    data = await render(body)
    assert b'filename="my %22best%22 shot.png"' in data


def test_a_file_that_is_not_an_image_is_named(tmp_path: Path, schema: Schema) -> None:
    paths = files(tmp_path)
    with pytest.raises(InputError, match=r"notes\.png: it is not a PNG, JPEG or WebP"):
        build_body(EditRequest((paths["notes.png"],)), schema, force_image_array=False)


def test_a_missing_file_is_named(tmp_path: Path, schema: Schema) -> None:
    with pytest.raises(InputError, match=r"gone\.png: file not found"):
        build_body(EditRequest((tmp_path / "gone.png",)), schema, force_image_array=False)


async def test_a_file_that_shrinks_before_sending_is_refused(
    tmp_path: Path, schema: Schema
) -> None:
    path = tmp_path / "a.png"
    path.write_bytes(png_bytes(200, 200))
    body = build_body(EditRequest((path,)), schema, force_image_array=False)
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(InputError, match=r"a\.png: the file got shorter"):
        await render(body)
