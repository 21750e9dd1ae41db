"""Drag and drop onto the mask canvas: a dropped image file or image opens, like a paste.

A mixin for MaskCanvas, listed before ZoomView in its bases so that these Qt event handlers
override the view's.
"""

from __future__ import annotations

from PySide6.QtGui import QDragEnterEvent, QDragLeaveEvent, QDragMoveEvent, QDropEvent, QImage


class DropMixin:
    """Accepts local files and images dragged over the canvas, and opens the dropped one.

    ``_drop_hover`` is set while an acceptable drag is over the canvas (the drop hint is
    painted brighter then); the class it is mixed into provides ``open_file`` and
    ``_open_image``."""

    _drop_hover: bool

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        mime = event.mimeData()
        if mime.hasImage() or any(url.isLocalFile() for url in mime.urls()):
            self._drop_hover = True
            self.viewport().update()
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        event.acceptProposedAction()

    def dragLeaveEvent(self, event: QDragLeaveEvent) -> None:
        self._drop_hover = False
        self.viewport().update()

    def dropEvent(self, event: QDropEvent) -> None:
        self._drop_hover = False
        self.viewport().update()
        mime = event.mimeData()
        local = [url.toLocalFile() for url in mime.urls() if url.isLocalFile()]
        if local:
            event.acceptProposedAction()
            self.open_file(local[0])
        elif mime.hasImage():
            event.acceptProposedAction()
            self._open_image(
                QImage(mime.imageData()),
                "dropped image",
                "Open the dropped image? The painted mask will be lost.",
            )
        else:
            event.ignore()
