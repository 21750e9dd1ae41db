"""Input files most request tests share: a small photo and an API mask with a hole in it.
A test module may define its own ``photo`` when it needs another one. Also the umask a
file-permission test runs under (``umask``: 022 and 002) and ``mode_of`` to read it back."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import images

PHOTO_SIZE = (96, 64)
HOLE = (30, 20, 60, 44)  # x0, y0, x1, y1


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    return images.write(tmp_path / "photo.png", images.png_bytes(*PHOTO_SIZE))


@pytest.fixture
def mask(tmp_path: Path) -> Path:
    return images.write(tmp_path / "mask.png", images.mask_bytes(*PHOTO_SIZE, HOLE))


@pytest.fixture(params=[0o022, 0o002], ids=["umask-022", "umask-002"])
def umask(request) -> Iterator[int]:
    previous = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(previous)


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)
