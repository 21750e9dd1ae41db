"""Helpers for tests that drive ImageEditClient against the fault server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator
from contextlib import aclosing, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.client import ClientConfig, ImageEditClient, RetryNotice
from app.core.events import CompletedImage, PartialImage
from app.core.request import EditRequest
from tests.support.fault_server import FaultServer
from tests.support.images import png_bytes

API_KEY = "sk-test-Secret0123456789abcdefXYZ"
PNG = png_bytes(64, 48)


@dataclass
class Harness:
    """A client whose retry waits are recorded instead of slept."""

    client: ImageEditClient
    notices: list[RetryNotice] = field(default_factory=list)
    waits: list[float] = field(default_factory=list)

    async def run(self, request: EditRequest, **kwargs: Any) -> list[PartialImage | CompletedImage]:
        return await collect(self.client.edit(request, **kwargs))


@asynccontextmanager
async def harness(server: FaultServer, **config: Any) -> AsyncIterator[Harness]:
    config.setdefault("api_key", API_KEY)
    notices: list[RetryNotice] = []
    client = ImageEditClient(
        ClientConfig(base_url=server.base_url, **config), on_retry=notices.append
    )
    made = Harness(client, notices)

    async def no_sleep(delay: float) -> None:
        made.waits.append(delay)
        await asyncio.sleep(0)

    client._sleep = no_sleep
    async with client:
        yield made


def image_file(folder: Path, name: str = "input.png", data: bytes = PNG) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def edit_request(folder: Path, *, images: int = 1, **values: Any) -> EditRequest:
    paths = tuple(image_file(folder, f"input{k}.png") for k in range(images))
    return EditRequest(paths, {"prompt": "add a red hat", **values})


async def collect(events: AsyncIterable[Any]) -> list[Any]:
    async with aclosing(events) as closing:  # type: ignore[type-var]
        return [event async for event in closing]
