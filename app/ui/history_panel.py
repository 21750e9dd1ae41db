"""The History dock: every job ever recorded, newest first, with a thumbnail, its prompt and
a line of status, model, results and date; a search field and filters above, the actions
on a job below (and in its context menu). The rows are app.models.history's; what the
actions do is app.ui.history_commands'."""

from __future__ import annotations

from collections import OrderedDict

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QImage, QKeySequence, QPainter, QPalette, QPixmap, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QMenu,
    QPushButton,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from app.models.history import HistoryList, MetaRole, RecordRole
from app.services.history import STATUSES, JobRecord

THUMB = 72  # logical pixels
SEARCH_DELAY_MS = 80  # typing: one query per pause, not per key
PREFETCH_PAGES = 3  # read the next page this many screens before the end
PIXMAPS_KEPT = 300
ROW = THUMB + 12
PERIODS = (("Any time", None), ("Today", 0), ("Last 7 days", 7), ("Last 30 days", 30))
ACTIONS = (
    ("reopen", "Reopen", "Open this job's photo, mask, prompt and parameters (Undo goes back)"),
    (
        "rerun",
        "Re-run",
        "Send exactly this request again: same inputs, mask, parameters and "
        "provider (billed again)",
    ),
    ("compare", "Compare", "Show this job's results in the gallery and compare them"),
    ("reveal", "Reveal", "Open the folder that holds this job's files"),
    ("delete", "Delete…", "Delete this job and its files (asks first, says how much it frees)"),
)


class HistoryDelegate(QStyledItemDelegate):
    """A row: the thumbnail on the left, the prompt (two lines at most) and the meta line.
    Thumbnails are scaled to the screen's pixels once and kept as pixmaps, so a repaint
    (a job's images arriving, scrolling) only copies them."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._pixmaps: OrderedDict[tuple[int, float], QPixmap] = OrderedDict()

    def pixmap(self, image: QImage, ratio: float) -> QPixmap:
        key = (image.cacheKey(), ratio)
        found = self._pixmaps.get(key)
        if found is None:
            edge = round(THUMB * ratio)
            scaled = image.scaled(edge, edge, Qt.AspectRatioMode.KeepAspectRatio,
                                  Qt.TransformationMode.SmoothTransformation)  # fmt: skip
            found = QPixmap.fromImage(scaled)
            found.setDevicePixelRatio(ratio)
            self._pixmaps[key] = found
            while len(self._pixmaps) > PIXMAPS_KEPT:
                self._pixmaps.popitem(last=False)
        else:
            self._pixmaps.move_to_end(key)
        return found

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:
        return QSize(option.rect.width() or 280, ROW)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        painter.save()
        rect, palette = option.rect, option.palette
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        if selected:
            painter.fillRect(rect, palette.color(QPalette.ColorRole.Highlight))
        box = QRect(rect.left() + 6, rect.top() + 6, THUMB, THUMB)
        image = index.data(Qt.ItemDataRole.DecorationRole)
        if isinstance(image, QImage) and not image.isNull():
            pixmap = self.pixmap(image, painter.device().devicePixelRatioF())
            shown = pixmap.deviceIndependentSize().toSize()
            target = QRect(0, 0, shown.width(), shown.height())
            target.moveCenter(box.center())
            painter.drawPixmap(target, pixmap)
        else:
            painter.fillRect(box, palette.color(QPalette.ColorRole.AlternateBase))
        text_left = box.right() + 10
        text = QRect(text_left, rect.top() + 6, rect.right() - text_left - 6, THUMB)
        role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        painter.setPen(palette.color(role))
        metrics = painter.fontMetrics()
        prompt = metrics.elidedText(
            str(index.data(Qt.ItemDataRole.DisplayRole)), Qt.TextElideMode.ElideRight,
            text.width() * 2 - metrics.averageCharWidth() * 4,
        )  # fmt: skip
        flags = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop | Qt.TextFlag.TextWordWrap
        painter.drawText(QRect(text.left(), text.top(), text.width(), 2 * metrics.height()),
                         flags, prompt)  # fmt: skip
        meta = str(index.data(MetaRole))
        if not selected:
            painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
        painter.drawText(
            QRect(text.left(), text.bottom() - metrics.height(), text.width(), metrics.height()),
            Qt.AlignmentFlag.AlignLeft,
            metrics.elidedText(meta, Qt.TextElideMode.ElideRight, text.width()),
        )
        painter.restore()


class HistoryPanel(QWidget):
    """``action_requested(name, record)``: a job's action was chosen (``ACTIONS``);
    double-clicking a job reopens it."""

    action_requested = Signal(str, object)

    def __init__(self, model: HistoryList, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search prompts")
        self.search.setClearButtonEnabled(True)
        self.status = QComboBox()
        self.status.addItem("Any status", None)
        for status in STATUSES:
            self.status.addItem(status.capitalize(), status)
        self.model_filter = QComboBox()
        self.model_filter.addItem("Any model", None)
        self.period = QComboBox()
        for text, days in PERIODS:
            self.period.addItem(text, days)
        for combo, name in ((self.status, "status"), (self.model_filter, "model"),
                            (self.period, "period")):  # fmt: skip
            combo.setAccessibleName(f"History {name} filter")
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.list = QListView()
        self.list.setModel(model)
        self.list.setItemDelegate(HistoryDelegate(self.list))
        self.list.setUniformItemSizes(True)
        self.list.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.setAccessibleName("History")
        self.empty = QLabel()
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.empty.setProperty("role", "placeholder")
        self.buttons: dict[str, QPushButton] = {}
        row = QHBoxLayout()
        row.setSpacing(4)
        for key, text, tip in ACTIONS:
            button = QPushButton(text)
            button.setToolTip(tip)
            button.clicked.connect(lambda _=False, k=key: self._request(k))
            self.buttons[key] = button
            row.addWidget(button)
        filters = QHBoxLayout()
        for combo in (self.status, self.model_filter, self.period):
            filters.addWidget(combo, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.search)
        layout.addLayout(filters)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.empty, 1)
        layout.addLayout(row)
        self._search_timer = QTimer(self, singleShot=True, interval=SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(
            lambda: model.set_filter(search=self.search.text())
        )  # fmt: skip
        self.search.textChanged.connect(lambda _text: self._search_timer.start())
        self.status.currentIndexChanged.connect(
            lambda _i: model.set_filter(status=self.status.currentData()))  # fmt: skip
        self.model_filter.currentIndexChanged.connect(
            lambda _i: model.set_filter(model=self.model_filter.currentData()))  # fmt: skip
        self.period.currentIndexChanged.connect(
            lambda _i: model.set_filter(days=self.period.currentData()))  # fmt: skip
        model.models_found.connect(self._show_models)
        self._kept: str | None = None  # the job selected across a reset of the list
        model.modelAboutToBeReset.connect(self._keep_selection)
        model.loaded.connect(self._show_state)
        model.rowsRemoved.connect(self._show_state)
        # Double-click or Return reopens (Qt's "activated"); Delete asks to delete.
        self.list.activated.connect(lambda index: self._request("reopen", index))
        delete = QShortcut(QKeySequence.StandardKey.Delete, self.list)
        delete.setContext(Qt.ShortcutContext.WidgetShortcut)
        delete.activated.connect(lambda: self._request("delete"))
        self.list.customContextMenuRequested.connect(self._menu)
        self.list.verticalScrollBar().valueChanged.connect(self._prefetch)
        self.list.selectionModel().selectionChanged.connect(self._show_state)
        self._show_state()

    def selected(self) -> JobRecord | None:
        indexes = self.list.selectionModel().selectedIndexes()
        return indexes[0].data(RecordRole) if indexes else None

    def select(self, job_id: str) -> bool:
        row = self.model.row_of(job_id)
        if row is not None:
            self.list.setCurrentIndex(self.model.index(row))
        return row is not None

    def _request(self, key: str, index: QModelIndex | QPersistentModelIndex | None = None) -> None:
        record = index.data(RecordRole) if index is not None else self.selected()
        if isinstance(record, JobRecord):
            self.action_requested.emit(key, record)

    def _menu(self, point) -> None:
        index = self.list.indexAt(point)
        if not index.isValid():
            return
        self.list.setCurrentIndex(index)
        menu = QMenu(self)
        for key, text, tip in ACTIONS:
            action = menu.addAction(text)
            action.setToolTip(tip)
            action.triggered.connect(lambda _=False, k=key: self._request(k, index))
        menu.popup(self.list.viewport().mapToGlobal(point))

    def _show_models(self, models: list[str]) -> None:
        current = self.model_filter.currentData()
        self.model_filter.blockSignals(True)
        self.model_filter.clear()
        self.model_filter.addItem("Any model", None)
        for name in models:
            self.model_filter.addItem(name, name)
        found = self.model_filter.findData(current)
        self.model_filter.setCurrentIndex(max(found, 0))
        self.model_filter.blockSignals(False)

    def _prefetch(self, value: int) -> None:
        """Ask for the next page before the end is reached, so scrolling never waits."""
        bar = self.list.verticalScrollBar()
        near_end = bar.maximum() - value < PREFETCH_PAGES * max(bar.pageStep(), 1)
        if near_end and self.model.canFetchMore():
            self.model.fetchMore()

    def _keep_selection(self) -> None:
        record = self.selected()
        self._kept = record.id if record is not None else self._kept

    def _show_state(self, *_: object) -> None:
        if self._kept is not None and self.selected() is None:
            self.select(self._kept)
        self._kept = None
        rows = self.model.rowCount()
        filtered = self.model.filter != type(self.model.filter)()
        self.empty.setText(
            "No job matches. Clear the search or the filters."
            if filtered
            else "No jobs yet. Every Generate is kept here with its images, to reopen, "
            "compare or send again."
        )
        self.empty.setVisible(rows == 0)
        self.list.setVisible(rows > 0)
        chosen = self.selected() is not None
        for button in self.buttons.values():
            button.setEnabled(chosen)
