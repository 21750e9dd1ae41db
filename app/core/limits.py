"""How large a photo this machine can open, from its memory.

The schema's ``files.max_pixels`` is what an image-edit API takes per image: it limits what
is *sent* (a larger photo is sent as a scaled copy, app.core.sending). What can be *opened*
depends on memory instead: an open photo is held several times over (the decoded pixels,
the canvas's full-size level and the smaller ones, the mask and its coloured overlay, the
working copy being written), about 32 bytes per pixel at the peak. Half of the memory the
process may use (the machine's, or its container's cgroup limit when lower) divided by
that, kept between 100 MP (a medium-format camera's photo opens anywhere) and 1 GP (a PNG
header claiming 60000x60000 pixels never does).
"""

from __future__ import annotations

import ctypes
import functools
import os
import sys
from pathlib import Path

BYTES_PER_PIXEL = 32
"""Peak bytes held per pixel of an open photo (decode, levels, mask, overlay, copy)."""
MEMORY_SHARE = 0.5
"""The share of the memory available that one open photo may take."""
MIN_OPEN_PIXELS = 100_000_000
MAX_OPEN_PIXELS = 1_000_000_000
CGROUP_ROOT = Path("/sys/fs/cgroup")


def pixel_limit_for(physical_bytes: int | None, cgroup_bytes: int | None = None) -> int:
    """The open limit for a machine with ``physical_bytes`` of RAM in a cgroup limited to
    ``cgroup_bytes`` (None: unknown, or no limit), clamped to [100 MP, 1 GP]."""
    known = [b for b in (physical_bytes, cgroup_bytes) if b is not None and b > 0]
    if not known:
        return MIN_OPEN_PIXELS
    pixels = int(MEMORY_SHARE * min(known) / BYTES_PER_PIXEL)
    return max(MIN_OPEN_PIXELS, min(MAX_OPEN_PIXELS, pixels))


def physical_memory() -> int | None:
    """The machine's RAM in bytes, None when the system does not say."""
    if sys.platform == "win32":
        return _windows_memory()
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def _windows_memory() -> int | None:
    class MemoryStatus(ctypes.Structure):
        _fields_ = [
            ("length", ctypes.c_ulong),
            ("memory_load", ctypes.c_ulong),
            ("total_physical", ctypes.c_ulonglong),
            ("available_physical", ctypes.c_ulonglong),
            ("total_page_file", ctypes.c_ulonglong),
            ("available_page_file", ctypes.c_ulonglong),
            ("total_virtual", ctypes.c_ulonglong),
            ("available_virtual", ctypes.c_ulonglong),
            ("available_extended_virtual", ctypes.c_ulonglong),
        ]

    status = MemoryStatus()
    status.length = ctypes.sizeof(MemoryStatus)
    try:
        if ctypes.windll.kernel32.GlobalMemoryStatusEx(ctypes.byref(status)):  # type: ignore[attr-defined]
            return int(status.total_physical)
    except (AttributeError, OSError):
        pass
    return None


def cgroup_memory_limit(root: Path = CGROUP_ROOT) -> int | None:
    """The memory limit of the container the process runs in (cgroup v2 ``memory.max``,
    else v1 ``memory/memory.limit_in_bytes``), None when there is none or it cannot be
    read. v1 writes "no limit" as a huge number, which the minimum with RAM then ignores."""
    for file in (root / "memory.max", root / "memory" / "memory.limit_in_bytes"):
        try:
            text = file.read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError):
            continue
        if text == "max":  # v2: no limit
            return None
        try:
            return int(text)
        except ValueError:
            continue
    return None


@functools.cache
def open_pixel_limit() -> int:
    """The most pixels a photo may have to be opened on this machine (read once)."""
    return pixel_limit_for(physical_memory(), cgroup_memory_limit())
