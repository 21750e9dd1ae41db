"""Reading a multipart/form-data request body as it streams in, with limits.

A huge upload is refused as early as possible: at once when its Content-Length is over the
limit, else as soon as the bytes counted so far (of the body, or of one file) pass it. Each
file may be at most the schema's file limit (50 MB), and the whole body at most one file per
image slot plus the mask. A file is kept in memory up to ``spool_bytes``; beyond that it
goes to a temporary file (deleted when the upload is closed), so uploads that are still
arriving, or waiting for their turn, hold little memory.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from typing import IO

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from app.core.imageio import human_bytes
from app.core.schema import Schema
from app.engine.errors import EngineError
from app.engine.strict import ascii_int

_MiB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    max_request_bytes: int
    max_file_bytes: int
    max_text_bytes: int = 256 * 1024  # a 32,000-character prompt is at most 128 KB of UTF-8
    max_files: int = 18  # 16 images and a mask, and one more so that too many is reported
    max_texts: int = 64
    spool_bytes: int = 1 * _MiB  # a file part larger than this waits in a temporary file

    @classmethod
    def for_schema(cls, schema: Schema) -> Limits:
        images = schema.image_field.max_items or 16
        return cls(
            max_request_bytes=(images + 1) * schema.files.max_file_bytes + _MiB,
            max_file_bytes=schema.files.max_file_bytes,
            max_files=images + 2,
        )


@dataclass(frozen=True)
class FilePart:
    """A file of the upload. ``data`` reads it whole (from memory or its temporary file):
    read it when it is needed, in the work that needs it."""

    field: str
    filename: str
    content_type: str
    spool: IO[bytes]
    size: int

    @property
    def data(self) -> bytes:
        self.spool.seek(0)
        return self.spool.read()


@dataclass
class Upload:
    texts: list[tuple[str, str]] = field(default_factory=list)
    files: list[FilePart] = field(default_factory=list)

    def close(self) -> None:
        """Forget the files (a temporary file is deleted)."""
        for part in self.files:
            part.spool.close()


def too_large(
    message: str, param: str | None = None, code: str = "request_too_large"
) -> EngineError:
    return EngineError(413, message, param=param, code=code)


async def read_upload(request: Request, limits: Limits) -> Upload:
    """Parse the body of an image-edit request. Raises EngineError (400 or 413)."""
    content_type, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise EngineError(
            400,
            "The body must be multipart/form-data (with a boundary): send the fields as form "
            "parts and the images as file parts.",
            code="invalid_content_type",
        )
    declared = declared_length(request.headers.get("content-length"))
    if declared is not None and declared > limits.max_request_bytes:
        raise too_large(_body_message(declared, limits))
    reader = _PartReader(limits)
    parser = MultipartParser(boundary, reader.callbacks())
    received = 0
    try:
        async for chunk in request.stream():
            received += len(chunk)
            if received > limits.max_request_bytes:
                raise too_large(_body_message(received, limits, so_far=True))
            parser.write(chunk)
        parser.finalize()
        if not reader.complete:
            raise EngineError(
                400,
                "The multipart body ended early; send the whole request again.",
                code="invalid_multipart",
            )
    except FormParserError:
        reader.upload.close()
        raise EngineError(
            400,
            "The multipart body is malformed (a part or the closing boundary is broken); "
            "send it again.",
            code="invalid_multipart",
        ) from None
    except BaseException:  # refused, timed out or left: nothing of it is kept
        reader.abandon()
        raise
    return reader.upload


def declared_length(header: str | None) -> int | None:
    """A Content-Length header's value; None when absent or not plain ASCII digits."""
    return None if header is None else ascii_int(header, signed=False)


def _body_message(size: int, limits: Limits, *, so_far: bool = False) -> str:
    amount = f"more than {human_bytes(size)}" if so_far else human_bytes(size)
    return (
        f"The request is {amount}; the engine accepts at most "
        f"{human_bytes(limits.max_request_bytes)}. Send fewer or smaller images."
    )


class _PartReader:
    """python-multipart callbacks that collect parts and enforce the per-part limits."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.upload = Upload()
        self.complete = False
        self._headers: dict[bytes, bytes] = {}
        self._header_name = b""
        self._header_value = b""
        self._name = ""
        self._filename: str | None = None
        self._data = bytearray()  # a text part
        self._spool: IO[bytes] | None = None  # a file part
        self._size = 0

    def callbacks(self) -> dict:
        return {
            "on_part_begin": self._begin,
            "on_header_field": self._header_field,
            "on_header_value": self._header_value_part,
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
            "on_end": self._end,
        }

    def abandon(self) -> None:
        self.upload.close()
        if self._spool is not None:
            self._spool.close()

    def _begin(self) -> None:
        self._headers = {}
        self._data = bytearray()
        self._size = 0

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _header_value_part(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _header_end(self) -> None:
        self._headers[self._header_name.strip().lower()] = self._header_value.strip()
        self._header_name = self._header_value = b""

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        if b"name" not in options:
            raise EngineError(
                400,
                'A multipart part has no name (Content-Disposition needs name="..."); '
                "name every part after its field.",
                code="invalid_multipart",
            )
        self._name = options[b"name"].decode("utf-8", "replace")
        filename = options.get(b"filename")
        self._filename = None if filename is None else filename.decode("utf-8", "replace")
        files, texts = len(self.upload.files), len(self.upload.texts)
        if self._filename is not None and files >= self.limits.max_files:
            raise EngineError(
                400,
                f"More than {self.limits.max_files - 1} files were sent; send at most 16 "
                "images and one mask.",
                param=self._name,
                code="too_many_images",
            )
        if self._filename is None and texts >= self.limits.max_texts:
            raise EngineError(
                400,
                f"More than {self.limits.max_texts} form fields were sent; send only the "
                "fields of the image-edit request.",
                code="too_many_fields",
            )
        if self._filename is not None:
            self._spool = tempfile.SpooledTemporaryFile(  # noqa: SIM115 (closed by Upload.close)
                max_size=self.limits.spool_bytes, prefix="retouch-engine-upload-"
            )

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._spool is not None:
            self._spool.write(data[start:end])
            self._size += end - start
        else:
            self._data += data[start:end]
        if self._filename is not None and self._size > self.limits.max_file_bytes:
            raise too_large(
                f"{self._filename or self._name}: the file is over the "
                f"{human_bytes(self.limits.max_file_bytes)} limit; save it smaller or as "
                "JPEG/WebP.",
                param=self._name,
                code="file_too_large",
            )
        if self._filename is None and len(self._data) > self.limits.max_text_bytes:
            raise too_large(
                f"The field {self._name!r} is over {human_bytes(self.limits.max_text_bytes)}; "
                "shorten it.",
                param=self._name,
                code="field_too_large",
            )

    def _part_end(self) -> None:
        if self._filename is None:
            self.upload.texts.append((self._name, self._data.decode("utf-8", "replace")))
            return
        content_type, _ = parse_options_header(self._headers.get(b"content-type", b""))
        assert self._spool is not None
        self.upload.files.append(
            FilePart(
                field=self._name,
                filename=self._filename,
                content_type=content_type.decode("latin-1").lower(),
                spool=self._spool,
                size=self._size,
            )
        )
        self._spool = None

    def _end(self) -> None:
        self.complete = True
