"""The bundle's ``retouch``: the editor with no command, ``edit``, ``serve``, ``history``."""

from app.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
