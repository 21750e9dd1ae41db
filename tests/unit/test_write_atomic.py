"""write_atomic: complete files only, private while being written, and in the end the
permissions a plain open() would have given them."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from app.core import imageio
from app.core.imageio import current_umask, write_atomic
from tests.support.files import mode_of

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")


def test_a_new_file_gets_the_mode_plain_open_gives(tmp_path: Path, umask: int) -> None:
    with open(tmp_path / "plain.bin", "wb") as handle:
        handle.write(b"x")
    written = write_atomic(tmp_path / "atomic.bin", b"data")
    assert written.read_bytes() == b"data"
    assert mode_of(written) == mode_of(tmp_path / "plain.bin") == 0o666 & ~umask
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_the_temporary_file_is_private_until_it_is_complete(
    tmp_path: Path, umask: int, monkeypatch
) -> None:
    seen: dict[str, int] = {}
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:  # the data is all there, the rename has not happened
        seen["while written"] = stat.S_IMODE(os.fstat(fd).st_mode)
        real_fsync(fd)

    def replace(source, target) -> None:
        seen["at the rename"] = stat.S_IMODE(os.stat(source).st_mode)
        real_replace(source, target)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    write_atomic(tmp_path / "result.png", b"\x89PNG...")
    assert seen == {"while written": 0o600, "at the rename": 0o666 & ~umask}


def test_replacing_a_file_keeps_its_mode(tmp_path: Path, umask: int) -> None:
    target = tmp_path / "kept.png"
    target.write_bytes(b"old")
    target.chmod(0o640)
    write_atomic(target, b"new")
    assert target.read_bytes() == b"new" and mode_of(target) == 0o640


@pytest.mark.parametrize("proc", [True, False], ids=["proc", "no-proc"])
def test_the_umask_is_read_without_being_changed(umask: int, monkeypatch, proc: bool) -> None:
    if not proc:  # macOS and the BSDs have no /proc/self/status

        def no_proc(*_args, **_kwargs):
            raise FileNotFoundError("/proc/self/status")

        monkeypatch.setattr(imageio, "open", no_proc, raising=False)
    assert current_umask() == umask
    assert os.umask(umask) == umask  # still in force afterwards
