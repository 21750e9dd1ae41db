"""The bundle's ``retouch``: the editor with no command, ``edit``, ``serve``, ``history``."""

import multiprocessing

from app.cli import main

if __name__ == "__main__":
    # The engine runs PatchMatch in multiprocessing children: a frozen program must let
    # them start as children, not as another editor.
    multiprocessing.freeze_support()
    raise SystemExit(main())
