"""The compare page: pick A and B among a job's original and results, and show them in
the compare view (side by side, wipe or difference), with B's drift map on request."""

from __future__ import annotations

from PySide6.QtCore import QSignalBlocker, Signal
from PySide6.QtGui import QImage
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.models.compare import Source
from app.models.levels import Leveled
from app.ui.compare import CompareWidget


class ComparePanel(QWidget):
    selection_changed = Signal(object, object, bool)  # A, B, drift overlay wanted
    close_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("compare-panel")
        self.sources: list[Source] = []
        self.a = QComboBox()
        self.b = QComboBox()
        self.a.setObjectName("compare-a")
        self.b.setObjectName("compare-b")
        self.drift = QCheckBox("Drift map")
        self.drift.setToolTip(
            "Where the variant changed the original outside the mask: the hotter, the larger "
            "the change. It stays with its variant when A and B are flipped."
        )
        back = QPushButton("Back to painting")
        back.clicked.connect(self.close_requested)
        for box in (self.a, self.b):
            box.currentIndexChanged.connect(self._emit_selection)
        self.drift.toggled.connect(self._emit_selection)
        row = QHBoxLayout()
        row.setContentsMargins(8, 4, 8, 4)
        row.addWidget(QLabel("A"))
        row.addWidget(self.a, 1)
        row.addWidget(QLabel("B"))
        row.addWidget(self.b, 1)
        row.addWidget(self.drift)
        row.addWidget(back)
        self.view = CompareWidget()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(row)
        layout.addWidget(self.view, 1)
        self.view.flipped.connect(self._on_view_flipped)

    def set_sources(self, sources: list[Source], a_index: int, b_index: int) -> None:
        self.sources = list(sources)
        with QSignalBlocker(self.a), QSignalBlocker(self.b):
            for box in (self.a, self.b):
                box.clear()
                box.addItems([s.label for s in sources])
            self.a.setCurrentIndex(a_index)
            self.b.setCurrentIndex(b_index)
        self._emit_selection()

    def show_pair(
        self,
        a: QImage | Leveled,
        b: QImage | Leveled,
        a_label: str,
        b_label: str,
        overlay: QImage | Leveled | None,
    ) -> None:
        self.view.set_images(a, b, a_label, b_label)
        self.view.set_overlay(overlay if self.drift.isChecked() else None)

    def _emit_selection(self, *_: object) -> None:
        if not self.sources:
            return
        a = self.sources[self.a.currentIndex()]
        b = self.sources[self.b.currentIndex()]
        self.selection_changed.emit(a, b, self.drift.isChecked())

    def _on_view_flipped(self) -> None:
        # The view swapped its pictures in place; keep the pickers telling the truth.
        with QSignalBlocker(self.a), QSignalBlocker(self.b):
            a, b = self.a.currentIndex(), self.b.currentIndex()
            self.a.setCurrentIndex(b)
            self.b.setCurrentIndex(a)
