"""Composition root of the editor: QApplication, the qasync loop, and the wiring."""

from __future__ import annotations

import sys


def run(argv: list[str]) -> int:
    print(
        "retouch: the editor window is not built yet; use 'retouch edit' or 'retouch serve'.",
        file=sys.stderr,
    )
    return 2
