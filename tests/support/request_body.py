"""Reading a request body as the fault server receives it: its pieces (chunked or sized)
and its multipart/form-data parts (also for the multipart tests)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field

_READ = 1 << 16


@dataclass(frozen=True)
class Part:
    name: str
    data: bytes = field(repr=False)
    filename: str | None = None
    content_type: str | None = None

    @property
    def text(self) -> str:
        return self.data.decode("utf-8")


def parse_multipart(body: bytes, content_type: str) -> list[Part]:
    """The parts of a multipart/form-data body (empty for any other body)."""
    if "boundary=" not in content_type:
        return []
    boundary = content_type.split("boundary=", 1)[1].split(";")[0].strip().strip('"')
    delimiter = b"--" + boundary.encode()
    parts = []
    for chunk in body.split(delimiter)[1:]:
        if chunk.startswith(b"--"):
            break
        head, _, data = chunk.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        headers = {}
        for line in head.decode("utf-8").split("\r\n"):
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        params = _disposition(headers.get("content-disposition", ""))
        parts.append(
            Part(
                name=params.get("name", ""),
                data=data.removesuffix(b"\r\n"),
                filename=params.get("filename"),
                content_type=headers.get("content-type"),
            )
        )
    return parts


def _disposition(value: str) -> dict[str, str]:
    params = {}
    for item in value.split(";")[1:]:
        name, _, raw = item.strip().partition("=")
        params[name.lower()] = raw.strip('"')
    return params


async def body_pieces(
    reader: asyncio.StreamReader, headers: Mapping[str, str]
) -> AsyncIterator[bytes]:
    if headers.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await reader.readuntil(b"\r\n")
                return
            yield await reader.readexactly(size)
            await reader.readexactly(2)
    remaining = int(headers.get("content-length", "0"))
    while remaining:
        piece = await reader.read(min(_READ, remaining))
        if not piece:
            raise asyncio.IncompleteReadError(b"", remaining)
        remaining -= len(piece)
        yield piece
