"""``python -m app.ui.canvas [photo.png]``: try the mask canvas in a small window."""

from __future__ import annotations

import sys

from app.ui.canvas.demo import main

sys.exit(main())
