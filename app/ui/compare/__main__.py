"""``python -m app.ui.compare [A.png [B.png]] [--mode side|wipe|difference]``."""

from __future__ import annotations

import sys

from app.ui.compare.demo import main

sys.exit(main())
