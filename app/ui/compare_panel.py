"""The compare page: pick A and B among a job's original and results, and show them in
the compare view (side by side, wipe or difference), with B's drift map on request.

The Drift map box and the view's O key and button are one switch: the view holds it, the
box mirrors it, and switching it on asks for the map when the last request went without.
Shown, the page hands the keyboard to the view, so its keys work from the first press."""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSignalBlocker, Qt, Signal
from PySide6.QtGui import QImage, QShowEvent
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
    """The editor's compare page. ``selection_changed(A, B, drift wanted)`` asks for a pair;
    ``show_pair`` shows what came back."""

    selection_changed = Signal(object, object, bool)  # A, B, drift overlay wanted
    close_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("compare-panel")
        self.sources: list[Source] = []
        self._drift_requested = False
        self.a = QComboBox()
        self.b = QComboBox()
        self.a.setObjectName("compare-a")
        self.b.setObjectName("compare-b")
        self.drift = QCheckBox("Drift map")
        self.drift.setToolTip(
            "Where the variant changed the original outside the mask: the hotter, the larger "
            "the change. It stays with its variant when A and B are flipped."
        )
        self.region_button = QPushButton("Zoom to region")
        self.region_button.setToolTip("Show the region crop to mask sent, as large as fits (R)")
        self.region_button.clicked.connect(self.zoom_to_region)
        self.region_button.setShortcut("R")
        self.region_button.setVisible(False)
        self._region: tuple[int, int, int, int] | None = None
        back = QPushButton("Back to painting")
        back.clicked.connect(self.close_requested)
        for box in (self.a, self.b):
            box.currentIndexChanged.connect(self._emit_selection)
        for control in (self.a, self.b, self.drift, self.region_button, back):
            # Clicked, they leave the keyboard with the pictures; Tab still reaches them.
            control.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        row = QHBoxLayout()
        row.setContentsMargins(8, 4, 8, 4)
        row.addWidget(QLabel("A"))
        row.addWidget(self.a, 1)
        row.addWidget(QLabel("B"))
        row.addWidget(self.b, 1)
        row.addWidget(self.drift)
        row.addWidget(self.region_button)
        row.addWidget(back)
        self.view = CompareWidget(overlay_on_request=True)
        self.view.set_overlay_visible(self.drift.isChecked())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(row)
        layout.addWidget(self.view, 1)
        # Focus given to the page (the editor's return_focus, the stack switching pages)
        # lands in the view, where the compare keys are.
        self.setFocusProxy(self.view)
        self.view.flipped.connect(self._on_view_flipped)
        self.drift.toggled.connect(self._on_drift_toggled)
        self.view.overlay_toggled.connect(self.drift.setChecked)

    def set_sources(self, sources: list[Source], a_index: int, b_index: int) -> None:
        self.sources = list(sources)
        with QSignalBlocker(self.a), QSignalBlocker(self.b):
            for box in (self.a, self.b):
                box.clear()
                box.addItems([s.label for s in sources])
            self.a.setCurrentIndex(a_index)
            self.b.setCurrentIndex(b_index)
        self._emit_selection()

    def set_region(self, region: tuple[int, int, int, int] | None) -> None:
        """The region the compared job sent (crop to mask), or None: Zoom to region."""
        self._region = region
        self.region_button.setVisible(region is not None)

    def zoom_to_region(self) -> None:
        if self._region is not None:
            self.view.zoom_to_rect(QRectF(*self._region))

    def show_pair(
        self,
        a: QImage | Leveled,
        b: QImage | Leveled,
        a_label: str,
        b_label: str,
        overlay: QImage | Leveled | None,
    ) -> None:
        self.view.set_images(a, b, a_label, b_label)
        # Kept even while the switch is off: switched on again, it shows at once.
        self.view.set_overlay(overlay)

    def focus_view(self) -> None:
        """Give the keyboard to the compare view."""
        self.view.setFocus(Qt.FocusReason.OtherFocusReason)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        # Opened from a menu, a tile or a shortcut, the keyboard is elsewhere (or, the
        # first time, would go to the A picker, which takes letters as a search): the
        # first key pressed is meant for the pictures.
        if not event.spontaneous():
            self.focus_view()

    def _emit_selection(self, *_: object) -> None:
        if not self.sources:
            return
        a = self.sources[self.a.currentIndex()]
        b = self.sources[self.b.currentIndex()]
        self._drift_requested = self.drift.isChecked()
        self.selection_changed.emit(a, b, self._drift_requested)

    def _on_drift_toggled(self, on: bool) -> None:
        self.view.set_overlay_visible(on)
        if on and not self._drift_requested:
            self._emit_selection()

    def _on_view_flipped(self) -> None:
        # The view swapped its pictures in place; keep the pickers telling the truth.
        with QSignalBlocker(self.a), QSignalBlocker(self.b):
            a, b = self.a.currentIndex(), self.b.currentIndex()
            self.a.setCurrentIndex(b)
            self.b.setCurrentIndex(a)
