"""Canvas items drawn at a constant size on screen (cursor, shape preview, region frame):
their margins and handles are given in screen pixels and turned into scene units with the
view's scale, which the canvas passes on whenever it zooms."""

from __future__ import annotations

from PySide6.QtWidgets import QGraphicsItem


class ScreenScaledItem(QGraphicsItem):
    """A QGraphicsItem that knows how many screen pixels one scene unit covers."""

    def __init__(self) -> None:
        super().__init__()
        self._scale = 1.0  # screen pixels per scene unit

    def set_view_scale(self, scale: float) -> None:
        if scale != self._scale:
            self.prepareGeometryChange()  # the bounding rect's screen-pixel margins change
            self._scale = scale
