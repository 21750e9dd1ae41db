"""The input images: thumbnails in order, reorder by drag, the first marked as masked."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QImage, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.models.inputs import THUMB_EDGE, InputsModel


class InputStrip(QWidget):
    add_requested = Signal()

    def __init__(self, model: InputsModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.list = QListWidget()
        self.list.setObjectName("inputs")
        self.list.setViewMode(QListWidget.ViewMode.IconMode)
        self.list.setFlow(QListWidget.Flow.TopToBottom)
        self.list.setWrapping(False)
        self.list.setIconSize(QSize(THUMB_EDGE, THUMB_EDGE))
        self.list.setMovement(QListWidget.Movement.Snap)
        self.list.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.list.setDefaultDropAction(Qt.DropAction.MoveAction)
        # A long file name (a used result's) is shortened in the middle, never widening
        # the strip; the whole path is in the tooltip.
        self.list.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.model().rowsMoved.connect(self._on_rows_moved)
        self.hint = QLabel()
        self.hint.setWordWrap(True)
        self.hint.setProperty("role", "hint")
        add = QPushButton("Add…")
        add.setToolTip("Add input images (PNG, JPEG or WebP, up to 16)")
        add.clicked.connect(self.add_requested)
        self.remove = QPushButton("Remove")
        self.remove.clicked.connect(self._on_remove_clicked)
        buttons = QHBoxLayout()
        buttons.addWidget(add)
        buttons.addWidget(self.remove)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.hint)
        layout.addLayout(buttons)
        model.changed.connect(self._rebuild)
        model.thumbnail_ready.connect(self._on_thumbnail_ready)
        self._rebuild()

    def _rebuild(self) -> None:
        self.list.clear()
        for index, path in enumerate(self.model.paths):
            info = self.model.infos.get(path)
            label = f"{index + 1}. {self.model.name(path)}" + (" · mask" if index == 0 else "")
            item = QListWidgetItem(label)
            item.setData(Qt.ItemDataRole.UserRole, str(path))
            item.setSizeHint(QSize(THUMB_EDGE + 36, THUMB_EDGE + 24))
            if info:
                item.setToolTip(f"{path}\n{info.width}x{info.height} {info.format.upper()}")
            thumb = self.model.thumbnails.get(path)
            if thumb is not None:
                item.setIcon(QIcon(QPixmap.fromImage(thumb)))
            self.list.addItem(item)
        count = len(self.model.paths)
        self.hint.setText(
            f"{count} of {self.model.limit}. The mask applies to the first image; drag to reorder."
            if count
            else "No input image yet: open one, drop one on the canvas, or paste one."
        )
        self.remove.setEnabled(count > 0)

    def _on_thumbnail_ready(self, path: str, image: QImage) -> None:
        for row in range(self.list.count()):
            item = self.list.item(row)
            if item.data(Qt.ItemDataRole.UserRole) == path:
                item.setIcon(QIcon(QPixmap.fromImage(image)))

    def _on_rows_moved(self, _parent, start: int, _end: int, _dest, row: int) -> None:
        target = row - 1 if row > start else row
        self.model.move(start, target)

    def _on_remove_clicked(self) -> None:
        row = self.list.currentRow()
        self.model.remove(row if row >= 0 else len(self.model.paths) - 1)
