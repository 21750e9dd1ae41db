"""The result gallery: one section per job, one tile per variant, rendered from the jobs
model (app.models.job): what a variant is, its files, whether it was discarded and its
drift are the model's; a tile only shows them.

Partials appear in their variant's tile as they arrive and the final image replaces them.
Tiles only hold display-sized images (the full results stay on disk), so dozens of 4K
results cost a few megabytes here.
"""

from __future__ import annotations

import html
from collections.abc import Callable

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

from app.models.job import Job, JobStatus, VariantResult, VariantState
from app.models.jobs import JobsModel

TILE_EDGE = 150
_LIVE = (VariantState.WAITING, VariantState.STREAMING)
TILE_WIDTH = TILE_EDGE + 30


class VariantTile(QFrame):
    """One variant of one job. Right-click or the buttons give its actions."""

    action_requested = Signal(str, str, int)  # action, job id, variant
    activated = Signal(str, int)

    ACTIONS = (
        ("save", "Save", "Save as PNG, JPEG or WebP…"),
        ("copy", "Copy", "Copy to the clipboard"),
        ("use", "Use", "Use as the new input image (the mask is kept)"),
        ("discard", "✕", "Remove from the gallery (the file stays in the results folder)"),
    )
    # The context menu's other way of saving and using: the tile's buttons follow the
    # Results panel's paste-back switch, these do the opposite.
    MENU_ONLY = (
        ("compare", "Compare with the original (double-click, Ctrl+K)"),
        ("rerun", "Run this job again (billed again)"),
    )
    ALTERNATES = (
        ("save-alt", "save"),
        ("use-alt", "use"),
    )

    def __init__(
        self,
        job: Job,
        variant: int,
        paste_back: Callable[[], bool] = lambda: True,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.job_id, self.variant = job.id, variant
        self.result: VariantResult = job.result(variant)
        self.region = job.source.region  # crop to mask: the region the job sent
        self.details = job.details()
        self._paste_back = paste_back
        self.setToolTip(self.details)
        self.setObjectName(f"tile-{job.number}-{variant}")
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

    @property
    def path(self) -> str | None:
        """The file the tile's actions work on (the model's), if any."""
        file = self.result.file
        return str(file) if file else None

    @property
    def is_final(self) -> bool:
        return self.result.is_final

    def show_image(self, image: QImage) -> None:
        """The display-sized picture of the variant's newest image."""
        pixmap = QPixmap.fromImage(image).scaled(
            self.picture.size() * self.devicePixelRatioF(),
            Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
        pixmap.setDevicePixelRatio(self.devicePixelRatioF())
        self.picture.setPixmap(pixmap)
        self.render()

    def render(self) -> None:
        """Caption, tooltip, measure and buttons from the variant's result."""
        result, number = self.result, self.variant + 1
        kept = result.file is not None
        match result.state:
            case VariantState.WAITING:
                caption = f"Variant {number}"
            case VariantState.STREAMING:
                caption = f"Variant {number} · partial {result.shown_partial + 1}"
            case VariantState.FINAL:
                caption = f"Variant {number} · final"
            case _:
                # A partial that arrived is a paid-for image on disk: Save, Copy and Use
                # work on it.
                caption = f"Variant {number} · {result.state.value}"
                caption += " (partial kept)" if kept else ""
                if not kept:
                    self.picture.setText(f"{result.state.value}: no image")
        self.caption.setText(caption)
        if result.error and not result.is_final and result.state not in _LIVE:
            # Rich text, so a long server message wraps instead of making a screen-wide
            # tooltip; escaped, so markup in it is shown, not obeyed.
            self.setToolTip(f"<p>{html.escape(result.error)}</p>")
        else:
            self.setToolTip(self.details)
        # While streaming, the actions wait for the final; once the variant ended without
        # one, they work on the partial that arrived.
        usable = result.is_final or (kept and result.state not in _LIVE)
        for key, button in self.buttons.items():
            button.setEnabled(usable or key == "discard")
        self._render_measure()

    def _render_measure(self) -> None:
        """The drift outside the mask (share of unmasked pixels that changed visibly) and
        whether the result had another size than the original."""
        drift = self.result.drift
        parts = []
        if drift is not None and drift.share is not None:
            parts.append(f"drift {drift.share * 100:.1f}% outside the mask")
        region = self.region
        if drift is not None and region is not None:  # crop to mask: full detail, in place
            parts.append(f"placed in its {region[2]}×{region[3]} region")
        elif drift is not None and drift.scaled:
            parts.append(f"scaled from {drift.source_size[0]}×{drift.source_size[1]}")
        self.measure_label.setText(" · ".join(parts))
        self.measure_label.setVisible(bool(parts))
        high = drift is not None and drift.share is not None and drift.share > 0.05
        self.measure_label.setProperty("drift", "high" if high else "low")
        self.measure_label.setStyleSheet("color: #e0a040;" if high else "color: #8fc98f;")

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
            action.setEnabled(self.is_final or key == "rerun")
            action.triggered.connect(lambda _=False, k=key: self._request(k))
            menu.addAction(action)
        menu.addSeparator()
        for key, base in self.ALTERNATES:
            verb = "Save…" if base == "save" else "Use as input"
            how = (
                "as received (no paste-back)"
                if self._paste_back()
                else "pasted back on the original"
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
        self, job: Job, paste_back: Callable[[], bool], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.job = job
        self.job_id = job.id
        self._paste_back = paste_back
        self.setObjectName(f"job-{job.number}")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        self.header = QLabel(f"<b>#{job.number}</b> {html.escape(job.summary())}")
        self.header.setTextFormat(Qt.TextFormat.RichText)
        self.header.setWordWrap(True)
        self.status = QLabel()
        self.status.setProperty("role", "job-status")
        self.setToolTip(job.details())
        layout.addWidget(self.header)
        layout.addWidget(self.status)
        self.grid = QGridLayout()
        self.grid.setSpacing(6)
        self.columns = 1
        layout.addLayout(self.grid)
        self.tiles: dict[int, VariantTile] = {}
        for result in job.kept():
            self.add_tile(result.variant)
        self.render()

    def add_tile(self, variant: int) -> VariantTile:
        tile = VariantTile(self.job, variant, self._paste_back, self)
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

    def render(self) -> None:
        """The status line and every tile, from the job."""
        job = self.job
        match job.status:
            case JobStatus.SENDING:
                text = "sending…"
            case JobStatus.STREAMING:
                text = "streaming…"
            case JobStatus.DONE:
                text = f"done · {job.usage.total_tokens:,} tokens"
            case JobStatus.FAILED:
                text = "failed"
            case JobStatus.CANCELLED:
                text = "cancelled; what arrived is kept"
            case JobStatus.INTERRUPTED:
                text = "interrupted (the program stopped); what arrived is kept"
        self.status.setText(text)
        for tile in self.tiles.values():
            tile.render()

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
    """Newest job on top. It observes the JobsModel (and the drift measures) and keeps no
    state of its own beyond its widgets."""

    action_requested = Signal(str, str, int)  # action, job id, variant
    activated = Signal(str, int)

    def __init__(
        self,
        jobs: JobsModel,
        paste_back: Callable[[], bool] = lambda: True,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._jobs = jobs
        self._paste_back = paste_back
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
        self.sections: dict[str, JobSection] = {}
        jobs.job_started.connect(self._on_job_started)
        jobs.job_restored.connect(self._on_job_restored)
        jobs.partial_received.connect(self._on_image)
        jobs.image_received.connect(lambda job_id, variant, image, _path: self._on_image(
            job_id, variant, 0, image))  # fmt: skip
        for ended in (jobs.job_finished, jobs.job_failed):
            ended.connect(lambda job_id, *_: self.render(job_id))
        jobs.job_cancelled.connect(self.render)
        jobs.variant_discarded.connect(self._on_discarded)

    def _on_job_started(self, job_id: str, _variants: int) -> None:
        self.placeholder.hide()
        section = JobSection(self._jobs.jobs[job_id], self._paste_back)
        for tile in section.tiles.values():
            self._wire(tile)
        self.sections[job_id] = section
        section.set_columns(self._columns())
        self.column.insertWidget(0, section)
        self.verticalScrollBar().setValue(0)

    def _on_job_restored(self, job_id: str) -> None:
        """A job of the history shown again (its images follow)."""
        old = self.sections.pop(job_id, None)
        if old is not None:
            old.deleteLater()
        self._on_job_started(job_id, 0)

    def tile(self, job_id: str, variant: int) -> VariantTile:
        section = self.sections[job_id]
        known = variant in section.tiles
        tile = section.tile(variant)
        if not known:
            self._wire(tile)
        return tile

    def _on_image(self, job_id: str, variant: int, _index: int, image: QImage, *_: object) -> None:
        section = self.sections.get(job_id)
        if section is not None and not section.job.results[variant].discarded:
            self.tile(job_id, variant).show_image(image)
            section.render()

    def render(self, job_id: str, *_: object) -> None:
        """Show the job's state again (it ended, a variant failed, a measure came)."""
        section = self.sections.get(job_id)
        if section is not None:
            section.render()

    def _on_discarded(self, job_id: str, variant: int) -> None:
        section = self.sections.get(job_id)
        if section is None:
            return
        section.remove_tile(variant)
        if not section.tiles:
            self.sections.pop(job_id)
            section.deleteLater()

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
