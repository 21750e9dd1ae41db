"""The ``retouch`` command: the editor (default), ``edit`` and ``serve``."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    print("retouch: not yet built", file=sys.stderr)
    return 2
