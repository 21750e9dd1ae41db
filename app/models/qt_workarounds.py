"""A guard against a PySide6 reference-count bug that aborts the interpreter.

PySide6 6.12 returns ``None`` from every void method (``painter.setPen(...)``,
``item.update()``, ...) and ``True`` from ``SignalInstance.emit()`` without taking a
reference, so each call drops one reference to that object. On CPython 3.12+ ``None`` and
``True`` are immortal and nothing happens; on 3.11 the count reaches zero after a few
hundred calls and Python aborts ("Fatal Python error: none_dealloc" or "bool_dealloc").
A canvas makes dozens of such calls per mouse move, so that is seconds of painting.

``guard_pyside_refcounts`` measures the leaks once and, only where there is one, makes the
object practically immortal the way PEP 683 does on 3.12: it adds 2**40 to its reference
count. Call it first thing in every composition root (the editor, the demo, tests, the
benchmarks); it is idempotent and costs two probe calls.
"""

from __future__ import annotations

import ctypes
import sys

from PySide6.QtCore import QObject, Signal

_IMMORTAL_MARGIN = 1 << 40
_guarded = False


class _Probe(QObject):
    fired = Signal()


def _leaks(singleton: object, call: object) -> bool:
    before = sys.getrefcount(singleton)
    for _ in range(8):
        call()  # type: ignore[operator]
    return sys.getrefcount(singleton) < before


def leaking_singletons() -> list[object]:
    """Which of None and True this PySide6 drops references to."""
    probe = _Probe()
    leaks = []
    if _leaks(None, lambda: probe.setObjectName("probe")):
        leaks.append(None)
    if _leaks(True, probe.fired.emit):
        leaks.append(True)
    return leaks


def guard_pyside_refcounts() -> list[object]:
    """Protect None and True from the leaks if this PySide6 has them; returns the objects
    it protected (none on CPython 3.12+, on a fixed PySide6, or on a second call)."""
    global _guarded
    if _guarded:
        return []
    _guarded = True
    # Only a release CPython before 3.12 can be hurt, and only there is the first field of
    # an object its reference count (debug builds, with sys.gettotalrefcount, differ).
    if sys.implementation.name != "cpython" or sys.version_info >= (3, 12):
        return []
    if hasattr(sys, "gettotalrefcount"):
        return []
    leaking = leaking_singletons()
    for singleton in leaking:
        ctypes.c_ssize_t.from_address(id(singleton)).value += _IMMORTAL_MARGIN
    return leaking
