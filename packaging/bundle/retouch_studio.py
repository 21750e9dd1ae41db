"""The bundle's ``retouch-studio``: the editor, with no console window on Windows."""

from app.gui import main

if __name__ == "__main__":
    raise SystemExit(main())
