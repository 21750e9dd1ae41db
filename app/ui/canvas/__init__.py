"""The mask canvas: paint the area to edit over the first image.

Embed ``MaskCanvas`` (the view) with ``ToolPalette`` and ``ToolOptionsBar`` (its toolbars);
``python -m app.ui.canvas photo.png`` opens them in a small window.
"""

from __future__ import annotations

from app.ui.canvas.toolbars import ToolOptionsBar, ToolPalette
from app.ui.canvas.tools import ToolKind
from app.ui.canvas.view import MaskCanvas

__all__ = ["MaskCanvas", "ToolKind", "ToolOptionsBar", "ToolPalette"]
