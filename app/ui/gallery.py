"""The result gallery: one section per job, one tile per variant.

Partials appear in their variant's tile as they arrive and the final image replaces them.
Tiles only hold display-sized images (the full results stay on disk), so dozens of 4K
results cost a few megabytes here.
"""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QAction, QImage, QPixmap
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMenu,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

TILE_EDGE = 150
TILE_WIDTH = TILE_EDGE + 30


class VariantTile(QFrame):
    """One variant of one job. Right-click or the buttons give its actions."""

    action_requested = Signal(str, int, int)  # action, job id, variant
    activated = Signal(int, int)

    ACTIONS = (
        ("save", "Save", "Save as PNG, JPEG or WebP…"),
        ("copy", "Copy", "Copy to the clipboard"),
        ("use", "Use", "Use as the new input image (the mask is kept)"),
        ("discard", "✕", "Remove from the gallery (the file stays in the results folder)"),
    )
    # The context menu's other way of saving and using: the tile's buttons follow the
    # Results panel's paste-back switch, these do the opposite.
    MENU_ONLY = (("compare", "Compare with the original (double-click, Ctrl+K)"),)
    ALTERNATES = (
        ("save-alt", "save"),
        ("use-alt", "use"),
    )

    def __init__(
        self, job_id: int, variant: int, details: str = "", parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.job_id, self.variant = job_id, variant
        self.details = details
        self.setToolTip(details)
        self.path: str | None = None
        self.is_final = False
        self.setObjectName(f"tile-{job_id}-{variant}")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setProperty("role", "tile")
        self.setFixedWidth(TILE_WIDTH)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(3)
        self.picture = QLabel("waiting…")
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.picture.setFixedSize(QSize(TILE_EDGE, TILE_EDGE))
        self.picture.setProperty("role", "tile-picture")
        self.caption = QLabel(f"Variant {variant + 1}")
        self.caption.setProperty("role", "tile-caption")
        # "Variant 10 · cancelled (partial kept)" is wider than a tile: wrap, never cut.
        self.caption.setWordWrap(True)
        self.measure_label = QLabel()
        self.measure_label.setProperty("role", "tile-measure")
        self.measure_label.setWordWrap(True)
        self.measure_label.hide()
        self.paste_back = True
        buttons = QHBoxLayout()
        buttons.setSpacing(2)
        self.buttons: dict[str, QToolButton] = {}
        for key, text, tip in self.ACTIONS:
            button = QToolButton()
            button.setText(text)
            button.setToolTip(tip)
            button.setEnabled(False)
            button.setAutoRaise(True)
            button.setStyleSheet("QToolButton { padding: 1px 2px; }")
            button.clicked.connect(lambda _=False, k=key: self._request(k))
            buttons.addWidget(button)
            self.buttons[key] = button
        layout.addWidget(self.picture)
        layout.addWidget(self.caption)
        layout.addWidget(self.measure_label)
        layout.addLayout(buttons)

    def show_image(self, image: QImage, path: str, *, final: bool, partial: int = 0) -> None:
        pixmap = QPixmap.fromImage(image).scaled(
            self.picture.size() * self.devicePixelRatioF(),
            Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
        pixmap.setDevicePixelRatio(self.devicePixelRatioF())
        self.picture.setPixmap(pixmap)
        self.path = path
        self.is_final = final
        state = "final" if final else f"partial {partial + 1}"
        self.caption.setText(f"Variant {self.variant + 1} · {state}")
        self.setToolTip(self.details)  # a failure of an earlier image is over
        self._enable_actions(final)

    def _enable_actions(self, on: bool) -> None:
        for key, button in self.buttons.items():
            button.setEnabled(on or key == "discard")

    def show_measure(self, share: float | None, scaled: bool, source: tuple[int, int]) -> None:
        """The drift outside the mask (share of unmasked pixels that changed visibly) and
        whether the result had another size than the original."""
        parts = []
        if share is not None:
            parts.append(f"drift {share * 100:.1f}% outside the mask")
        if scaled:
            parts.append(f"scaled from {source[0]}×{source[1]}")
        self.measure_label.setText(" · ".join(parts))
        self.measure_label.setVisible(bool(parts))
        level = "high" if share is not None and share > 0.05 else "low"
        self.measure_label.setProperty("drift", level)
        self.measure_label.setStyleSheet(
            "color: #e0a040;" if level == "high" else "color: #8fc98f;"
        )

    def mark_failed(self, reason: str) -> None:
        """No final image will come; ``reason`` becomes the tooltip."""
        if not self.is_final:
            self._mark_ended("failed")
            # Rich text, so a long server message wraps instead of making a screen-wide
            # tooltip; escaped, so markup in it is shown, not obeyed.
            self.setToolTip(f"<p>{html.escape(reason)}</p>")

    def mark_cancelled(self) -> None:
        if not self.is_final:
            self._mark_ended("cancelled")

    def _mark_ended(self, how: str) -> None:
        # A partial that arrived is a paid-for image on disk: Save, Copy and Use work on it.
        kept = self.path is not None
        suffix = " (partial kept)" if kept else ""
        self.caption.setText(f"Variant {self.variant + 1} · {how}{suffix}")
        if not kept:
            self.picture.setText(f"{how}: no image")
        self._enable_actions(kept)

    def _request(self, action: str) -> None:
        self.action_requested.emit(action, self.job_id, self.variant)

    def contextMenuEvent(self, event) -> None:
        menu = QMenu(self)
        for key, _text, tip in self.ACTIONS:
            action = QAction(tip, menu)
            action.setEnabled(self.buttons[key].isEnabled())
            action.triggered.connect(lambda _=False, k=key: self._request(k))
            menu.addAction(action)
        for key, tip in self.MENU_ONLY:
            action = QAction(tip, menu)
            action.setEnabled(self.is_final)
            action.triggered.connect(lambda _=False, k=key: self._request(k))
            menu.addAction(action)
        menu.addSeparator()
        for key, base in self.ALTERNATES:
            verb = "Save…" if base == "save" else "Use as input"
            how = (
                "as received (no paste-back)" if self.paste_back else "pasted back on the original"
            )
            action = QAction(f"{verb} {how}", menu)
            action.setEnabled(self.buttons[base].isEnabled())
            action.triggered.connect(lambda _=False, k=key: self._request(k))
            menu.addAction(action)
        menu.exec(event.globalPos())

    def mouseDoubleClickEvent(self, event) -> None:
        if self.path:
            self.activated.emit(self.job_id, self.variant)
        super().mouseDoubleClickEvent(event)


class JobSection(QFrame):
    """A job's header (prompt, status, tokens) and its variant tiles."""

    def __init__(
        self, job_id: int, variants: int, summary: str, details: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.job_id = job_id
        self.setObjectName(f"job-{job_id}")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        self.header = QLabel(f"<b>#{job_id}</b> {html.escape(summary)}")
        self.header.setTextFormat(Qt.TextFormat.RichText)
        self.header.setWordWrap(True)
        self.status = QLabel("sending…")
        self.status.setProperty("role", "job-status")
        self.setToolTip(details)
        layout.addWidget(self.header)
        layout.addWidget(self.status)
        self.grid = QGridLayout()
        self.grid.setSpacing(6)
        self.columns = 1
        layout.addLayout(self.grid)
        self.tiles: dict[int, VariantTile] = {}
        for variant in range(variants):
            self.add_tile(variant)

    def add_tile(self, variant: int) -> VariantTile:
        tile = VariantTile(self.job_id, variant, self.toolTip(), self)
        self.tiles[variant] = tile
        self._relayout()
        return tile

    def tile(self, variant: int) -> VariantTile:
        return self.tiles.get(variant) or self.add_tile(variant)

    def remove_tile(self, variant: int) -> None:
        tile = self.tiles.pop(variant, None)
        if tile is not None:
            self.grid.removeWidget(tile)
            tile.deleteLater()
            self._relayout()

    def _relayout(self) -> None:
        for tile in self.tiles.values():
            self.grid.removeWidget(tile)
        for index, variant in enumerate(sorted(self.tiles)):
            self.grid.addWidget(self.tiles[variant], index // self.columns, index % self.columns)

    def set_columns(self, columns: int) -> None:
        if columns != self.columns:
            self.columns = columns
            self._relayout()


class Gallery(QScrollArea):
    """Newest job on top."""

    action_requested = Signal(str, int, int)
    activated = Signal(int, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        body = QWidget()
        self.column = QVBoxLayout(body)
        self.column.setContentsMargins(4, 4, 4, 4)
        self.placeholder = QLabel(
            "Results appear here.\nPaint where to edit, write a prompt, press Generate."
        )
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)
        self.placeholder.setProperty("role", "placeholder")
        self.column.addWidget(self.placeholder)
        self.column.addStretch(1)
        self.setWidget(body)
        self.sections: dict[int, JobSection] = {}

    def add_job(self, job_id: int, variants: int, summary: str, details: str) -> JobSection:
        self.placeholder.hide()
        section = JobSection(job_id, variants, summary, details)
        for tile in section.tiles.values():
            self._wire(tile)
        self.sections[job_id] = section
        section.set_columns(self._columns())
        self.column.insertWidget(0, section)
        self.verticalScrollBar().setValue(0)
        return section

    def tile(self, job_id: int, variant: int) -> VariantTile:
        section = self.sections[job_id]
        known = variant in section.tiles
        tile = section.tile(variant)
        if not known:
            self._wire(tile)
        return tile

    def show_partial(self, job_id: int, variant: int, index: int, image: QImage, path: str) -> None:
        tile = self.tile(job_id, variant)
        if not tile.is_final:  # a late partial never replaces a final
            tile.show_image(image, path, final=False, partial=index)
            self.sections[job_id].status.setText("streaming…")

    def show_final(self, job_id: int, variant: int, image: QImage, path: str) -> None:
        self.tile(job_id, variant).show_image(image, path, final=True)

    def show_measure(self, job_id: int, variant: int, measure) -> None:
        section = self.sections.get(job_id)
        if section is not None and variant in section.tiles:
            section.tiles[variant].show_measure(measure.share, measure.scaled, measure.source_size)

    def set_paste_back(self, on: bool) -> None:
        for section in self.sections.values():
            for tile in section.tiles.values():
                tile.paste_back = on

    def set_status(self, job_id: int, text: str) -> None:
        if job_id in self.sections:
            self.sections[job_id].status.setText(text)

    def mark_job_failed(self, job_id: int, message: str, variant: int | None = None) -> None:
        """The job ended with ``message`` (or, with ``variant``, only that variant failed
        and the job goes on): tiles still without a final image say so."""
        section = self.sections.get(job_id)
        if section is None:
            return
        if variant is None:
            section.status.setText("failed")
            tiles = list(section.tiles.values())
        else:
            tiles = [section.tiles[variant]] if variant in section.tiles else []
        for tile in tiles:
            tile.mark_failed(message)

    def mark_job_cancelled(self, job_id: int) -> None:
        section = self.sections.get(job_id)
        if section is None:
            return
        section.status.setText("cancelled; what arrived is kept")
        for tile in section.tiles.values():
            tile.mark_cancelled()

    def discard(self, job_id: int, variant: int) -> None:
        section = self.sections.get(job_id)
        if section is None:
            return
        section.remove_tile(variant)
        if not section.tiles:
            self.sections.pop(job_id)
            section.deleteLater()

    def tile_path(self, job_id: int, variant: int) -> Path | None:
        tile = self.sections.get(job_id, None)
        path = tile.tiles[variant].path if tile and variant in tile.tiles else None
        return Path(path) if path else None

    def _wire(self, tile: VariantTile) -> None:
        tile.action_requested.connect(self.action_requested)
        tile.activated.connect(self.activated)

    def _columns(self) -> int:
        return max(1, (self.viewport().width() - 24) // (TILE_WIDTH + 6))

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        for section in self.sections.values():
            section.set_columns(self._columns())

    def sizeHint(self) -> QSize:
        return QSize(2 * TILE_EDGE + 48, 400)
