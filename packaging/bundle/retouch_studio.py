"""The bundle's ``retouch-studio``: the editor, with no console window on Windows."""

import multiprocessing

from app.gui import main

if __name__ == "__main__":
    # The engine runs PatchMatch in multiprocessing children: a frozen program must let
    # them start as children, not as another editor.
    multiprocessing.freeze_support()
    raise SystemExit(main())
