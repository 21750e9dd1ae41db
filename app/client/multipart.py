"""The multipart/form-data request body, streamed from the files on disk.

Each attempt reads the files afresh in chunks, off the event loop, so memory does not grow
with the size of the uploads and a retry sends the same bytes again. The mask is the
exception: only its alpha matters, so it is re-encoded compactly (``app.core.mask``) and
sent from memory, at most the mask's own limit (under 4 MB)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from contextlib import aclosing
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from app.client.errors import InputError
from app.core.imageio import MIME_TYPES, ImageFileError, describe_unknown, sniff_format
from app.core.mask import compact_mask
from app.core.request import EditRequest, text_parts
from app.core.schema import Schema

CHUNK_SIZE = 256 * 1024
_CRLF = b"\r\n"
# HTML5 form encoding of names in Content-Disposition (what browsers and httpx do).
_ESCAPES = {ord('"'): "%22", ord("\\"): "\\\\"} | {c: f"%{c:02X}" for c in range(0x20) if c != 0x1B}


@dataclass(frozen=True)
class FilePart:
    name: str  # the form field: "image", "image[]" or "mask"
    path: Path  # the file; its name is the part's filename
    content_type: str
    size: int
    data: bytes | None = None  # bytes sent instead of the file's (the compact mask)


class MultipartBody:
    """A request body: text parts, then file parts. ``open()`` gives one pass over it."""

    def __init__(
        self,
        text: Sequence[tuple[str, str]],
        files: Sequence[FilePart],
        boundary: str | None = None,
    ) -> None:
        self.text = tuple(text)
        self.files = tuple(files)
        self.boundary = boundary or os.urandom(16).hex()
        self._text_bytes = b"".join(self._text_part(n, v) for n, v in self.text)
        self._file_heads = tuple(self._file_head(f) for f in self.files)
        self._closing = b"--" + self.boundary.encode("ascii") + b"--" + _CRLF

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    @property
    def content_length(self) -> int:
        files = sum(
            len(h) + f.size + len(_CRLF) for h, f in zip(self._file_heads, self.files, strict=True)
        )
        return len(self._text_bytes) + files + len(self._closing)

    def open(self) -> Upload:
        return Upload(self)

    async def chunks(self) -> AsyncGenerator[bytes, None]:
        yield self._text_bytes
        for head, part in zip(self._file_heads, self.files, strict=True):
            yield head
            async with aclosing(_read_file(part)) as reader:
                async for chunk in reader:
                    yield chunk
            yield _CRLF
        yield self._closing

    def _delimiter(self) -> bytes:
        return b"--" + self.boundary.encode("ascii") + _CRLF

    def _text_part(self, name: str, value: str) -> bytes:
        disposition = f'Content-Disposition: form-data; name="{_escape(name)}"'
        return (
            self._delimiter()
            + disposition.encode("utf-8")
            + _CRLF * 2
            + value.encode("utf-8")
            + _CRLF
        )

    def _file_head(self, part: FilePart) -> bytes:
        disposition = (
            f'Content-Disposition: form-data; name="{_escape(part.name)}"; '
            f'filename="{_escape(part.path.name)}"'
        )
        headers = f"{disposition}\r\nContent-Type: {part.content_type}"
        return self._delimiter() + headers.encode("utf-8") + _CRLF * 2


class Upload:
    """One pass over a body for one attempt. httpx iterates it; ``aclose()`` closes the
    open file at once when the attempt ends early (cancelled, or the server hung up)."""

    def __init__(self, body: MultipartBody) -> None:
        self._body = body
        self._chunks: AsyncGenerator[bytes, None] | None = None

    def __aiter__(self) -> AsyncIterator[bytes]:
        self._chunks = self._body.chunks()
        return self._chunks

    async def aclose(self) -> None:
        chunks, self._chunks = self._chunks, None
        if chunks is not None:
            await chunks.aclose()


def build_body(request: EditRequest, schema: Schema, *, force_image_array: bool) -> MultipartBody:
    """The body for ``request``: every set value field as text, the images as ``image``
    (one) or ``image[]`` (several, or always when forced), and the mask. Content types
    come from the files' bytes. The mask goes out compactly (see ``mask_part``), so this
    takes a tenth of a second or more for a large mask file: call it off the event loop.
    Raises InputError naming a file that cannot be sent."""
    image_name = schema.image_field.name
    if force_image_array or len(request.images) > 1:
        image_name += "[]"
    files = [file_part(image_name, Path(path)) for path in request.images]
    if request.mask is not None:
        files.append(mask_part(Path(request.mask), schema))
    return MultipartBody(text_parts(request.values, schema), files)


def file_part(name: str, path: Path) -> FilePart:
    try:
        with open(path, "rb") as handle:
            head = handle.read(64)
            size = os.fstat(handle.fileno()).st_size
    except FileNotFoundError:
        raise InputError(f"{path}: file not found; check the path.") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a folder, not an image file.") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror or exc}).") from None
    fmt = sniff_format(head)
    if fmt is None:
        raise InputError(f"{path}: {describe_unknown(head)}; use PNG, JPEG or WebP.")
    return FilePart(name, path, MIME_TYPES[fmt], size)


def mask_part(path: Path, schema: Schema) -> FilePart:
    """The mask's part: its alpha alone, re-encoded compactly whatever colour the file
    holds (the alpha is kept exactly). A file that is not a PNG with alpha goes as it is,
    so that the server reports it. Raises InputError when the file cannot be read, or when
    even compact it is over the mask's limit."""
    spec = schema.mask_field
    assert spec is not None, "a request with a mask needs a mask field in the schema"
    part = file_part(spec.name, path)  # missing, unreadable, not an image: said the usual way
    try:
        data = compact_mask(path, max_pixels=schema.files.max_pixels, max_bytes=spec.max_file_bytes)
    except ImageFileError as exc:
        raise InputError(str(exc)) from None
    if data is None:
        return part
    return FilePart(spec.name, path, MIME_TYPES["png"], len(data), data)


async def _read_file(part: FilePart) -> AsyncGenerator[bytes, None]:
    if part.data is not None:  # already in memory: the bytes of this part never change
        for start in range(0, len(part.data), CHUNK_SIZE):
            yield part.data[start : start + CHUNK_SIZE]
        return
    try:
        handle: BinaryIO = await asyncio.to_thread(open, part.path, "rb")
    except OSError as exc:
        raise InputError(
            f"{part.path}: cannot be read any more ({exc.strerror or exc}); "
            "was it moved or deleted?"
        ) from None
    try:
        remaining = part.size
        while remaining:
            chunk = await asyncio.to_thread(handle.read, min(CHUNK_SIZE, remaining))
            if not chunk:
                raise InputError(
                    f"{part.path}: the file got shorter while it was being sent; "
                    "wait until it is saved completely and try again."
                )
            remaining -= len(chunk)
            yield chunk
    finally:
        handle.close()


def _escape(value: str) -> str:
    return value.translate(_ESCAPES)
