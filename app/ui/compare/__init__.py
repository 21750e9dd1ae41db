"""Compare two pictures: side by side with zoom and pan locked, a wipe, a difference map.

Embed ``CompareWidget``; ``python -m app.ui.compare A.png B.png`` opens it in a window.
"""

from __future__ import annotations

from app.ui.compare.view import CompareView, Picture
from app.ui.compare.widget import MODES, CompareWidget

__all__ = ["MODES", "CompareView", "CompareWidget", "Picture"]
