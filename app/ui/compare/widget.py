"""The compare widget: two pictures of the same size, A and B, side by side with zoom and
pan locked together, split by a draggable wipe, or as a difference heat map over A.

Keys (while the widget or a child has the focus): S side by side, W wipe, D difference,
X flip A and B, O drift map on or off, Ctrl+0 fit, Ctrl+1 100 %, Ctrl++ / Ctrl+- zoom,
Left / Right nudge the wipe by a screen pixel (with Shift by ten). The wheel zooms to the
cursor; see app.ui.compare.view for the mouse.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import Any

from PySide6.QtCore import QPointF, QRectF, QSignalBlocker, QSize, Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QImage, QKeySequence
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from app.models.differences import DifferenceMaps, PairKey, pair_key
from app.models.levels import Leveled, build_levels
from app.ui.canvas.icons import icon
from app.ui.compare.view import CompareView, Picture

MODES = ("side", "wipe", "difference")
_MODE_TEXT = {
    "side": ("Side by side", "S"),
    "wipe": ("Wipe", "W"),
    "difference": ("Difference", "D"),
}
_LEVELS_KEPT = 4  # pictures whose levels are kept, to step through a job's results quickly


@dataclass(frozen=True)
class _Entry:
    image: QImage
    """As the caller gave it: the key of its levels and of difference maps."""
    levels: list[QImage]
    name: str
    overlay: list[QImage] | None = None


class CompareWidget(QWidget):
    """Compares picture A with picture B (QImages of one size).

    ``set_images`` shows a pair; a pair of the size already shown keeps the zoom, the pan and
    the wipe, so that stepping through variants compares the same spot. ``set_overlay``
    lays an RGBA drift map over B; it belongs to that picture and moves with it on a flip.
    The drift map is switched on and off (O, the toolbar button, ``set_overlay_visible``)
    independently of whether there is one: switched off, a map laid over B stays hidden.
    Pass ``overlay_on_request=True`` when the owner lays a map over B on demand
    (``overlay_toggled``): the switch then works before there is one. Pass ``inline_pixels``
    to change the size up to which difference maps are computed on the UI thread (larger
    pairs are computed in a worker while the pane says so)."""

    flipped = Signal()
    """A and B were swapped in place (names, pictures, overlay); zoom and wipe are kept."""
    mode_changed = Signal(str)
    wipe_moved = Signal(float)
    """The divider's position as a fraction of the width, 0 (all B) to 1 (all A)."""
    zoom_changed = Signal(float)
    difference_computed = Signal()
    """The difference map of the current pair is now shown."""
    overlay_toggled = Signal(bool)
    """The drift map was switched on or off (O, the button or ``set_overlay_visible``)."""

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        inline_pixels: int | None = None,
        overlay_on_request: bool = False,
    ) -> None:
        super().__init__(parent)
        self._entries: list[_Entry] = []
        self._mode = "side"
        self._wipe = 0.5
        self._overlay_wanted = True
        self._overlay_on_request = overlay_on_request
        self._levels: OrderedDict[int, list[QImage]] = OrderedDict()
        self._locking = False
        self._differences = DifferenceMaps(self)
        if inline_pixels is not None:
            self._differences.inline_pixels = inline_pixels
        self._differences.computed.connect(self._on_difference_computed)
        self._differences.failed.connect(self._on_difference_failed)

        self.left_view = CompareView(self)
        self.right_view = CompareView(self)
        self._seam = QFrame(self)
        self._seam.setFixedWidth(2)
        self._seam.setStyleSheet("background: #1c1c1f;")
        for view in (self.left_view, self.right_view):
            view.view_moved.connect(self._on_view_moved)
            view.resized.connect(self._on_view_resized)
        self.left_view.zoom_changed.connect(self._on_zoom_changed)
        self.left_view.divider_dragged.connect(self._on_divider_dragged)

        self.actions_by_name: dict[str, QAction] = {}
        self.toolbar = self._build_toolbar()
        panes = QHBoxLayout()
        panes.setContentsMargins(0, 0, 0, 0)
        panes.setSpacing(0)
        panes.addWidget(self.left_view, 1)
        panes.addWidget(self._seam)
        panes.addWidget(self.right_view, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.toolbar)
        layout.addLayout(panes, 1)
        self.setFocusProxy(self.left_view)
        self._refresh()

    def _build_toolbar(self) -> QToolBar:
        bar = QToolBar("Compare", self)
        bar.setIconSize(QSize(18, 18))
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        group = QActionGroup(self)
        group.setExclusive(True)
        for mode in MODES:
            text, key = _MODE_TEXT[mode]
            action = self._add(
                f"mode.{mode}", text, [key], lambda _checked=False, m=mode: self.set_mode(m)
            )
            action.setCheckable(True)
            group.addAction(action)
            bar.addAction(action)
        bar.addSeparator()
        bar.addAction(self._add("flip", "Flip A ↔ B", ["X"], self.flip))
        bar.addSeparator()
        fit = self._add("view.fit", "Fit", ["Ctrl+0"], self.fit)
        fit.setIcon(icon("fit"))
        bar.addAction(fit)
        bar.addAction(self._add("view.actual", "100%", ["Ctrl+1"], self.actual_size))
        self._add("view.zoom_in", "Zoom in", [QKeySequence.StandardKey.ZoomIn, "Ctrl+="],
                  self.zoom_in)  # fmt: skip
        self._add("view.zoom_out", "Zoom out", [QKeySequence.StandardKey.ZoomOut], self.zoom_out)
        bar.addSeparator()
        drift = self._add("overlay", "Drift map", ["O"], self.set_overlay_visible)
        drift.setCheckable(True)
        drift.setToolTip(
            "Drift map (O): where the picture changed the original outside the mask; "
            "the hotter, the larger the change"
        )
        bar.addAction(drift)
        spacer = QWidget(bar)
        spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        bar.addWidget(spacer)
        self._zoom_label = QLabel(bar)
        self._zoom_label.setProperty("role", "caption")
        self._zoom_label.setContentsMargins(8, 0, 8, 0)
        bar.addWidget(self._zoom_label)
        return bar

    def _add(self, name: str, text: str, keys: list[Any], slot: Any) -> QAction:
        action = QAction(text, self)
        action.setShortcuts([QKeySequence(key) for key in keys])
        shortcut = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        action.setToolTip(f"{text} ({shortcut})" if shortcut else text)
        # Only while the compare widget has the focus: the canvas uses some of these keys.
        action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        action.triggered.connect(slot)
        self.addAction(action)
        self.actions_by_name[name] = action
        return action

    def action(self, name: str) -> QAction:
        """``mode.side|wipe|difference``, ``flip``, ``view.fit|actual|zoom_in|zoom_out``,
        ``overlay``: for the editor's menus."""
        return self.actions_by_name[name]

    # --- pictures --------------------------------------------------------------------------

    def set_images(
        self, a: QImage | Leveled, b: QImage | Leveled, a_name: str, b_name: str
    ) -> None:
        """Compare ``a`` (left) with ``b`` (right). They must have the same size; the overlay
        is dropped (set it again for the new B). Pictures given as ``Leveled`` come with
        their zoom levels (built in a worker); plain QImages get theirs built here, which
        takes 50-80 ms on the UI thread at 3840x2160."""
        a_image, b_image = _image(a), _image(b)
        if a_image.isNull() or b_image.isNull():
            raise ValueError("set_images needs two pictures; one of them is empty")
        if a_image.size() != b_image.size():
            raise ValueError(
                f"A ({a_image.width()}x{a_image.height()}) and B ({b_image.width()}x"
                f"{b_image.height()}) must have the same size; scale the variant to the "
                "original's size first"
            )
        new_size = not self._entries or self._entries[0].image.size() != a_image.size()
        self._entries = [
            _Entry(a_image, self._levels_of(a), a_name),
            _Entry(b_image, self._levels_of(b), b_name),
        ]
        self._refresh()
        if new_size:
            self.fit()

    def clear(self) -> None:
        self._entries = []
        self._refresh()

    def has_images(self) -> bool:
        return bool(self._entries)

    @property
    def images(self) -> tuple[QImage, QImage] | None:
        """(A, B) as given, or None before ``set_images``."""
        if not self._entries:
            return None
        return self._entries[0].image, self._entries[1].image

    @property
    def names(self) -> tuple[str, str]:
        if not self._entries:
            return "", ""
        return self._entries[0].name, self._entries[1].name

    def _levels_of(self, picture: QImage | Leveled) -> list[QImage]:
        image = _image(picture)
        key = image.cacheKey()
        if key not in self._levels:
            prepared = picture.levels if isinstance(picture, Leveled) else None
            self._levels[key] = prepared or build_levels(image)
            while len(self._levels) > _LEVELS_KEPT:
                self._levels.popitem(last=False)
        self._levels.move_to_end(key)
        return self._levels[key]

    def flip(self) -> None:
        """Swap A and B where they are: names, pictures and the overlay move; the zoom, the
        pan and the wipe position stay."""
        if not self._entries:
            return
        self._entries.reverse()
        self._refresh()
        self.flipped.emit()

    # --- overlay ---------------------------------------------------------------------------

    def set_overlay(self, picture: QImage | Leveled | None) -> None:
        """Lay an RGBA picture (a drift map) over B, or remove it (None). It shows while
        the drift map is switched on (``overlay_wanted``)."""
        image = None if picture is None else _image(picture)
        if not self._entries:
            if image is not None:
                raise ValueError("set_overlay needs pictures: call set_images first")
            return
        if image is not None and image.size() != self._entries[1].image.size():
            raise ValueError(
                f"the overlay ({image.width()}x{image.height()}) must have B's size "
                f"({self._entries[1].image.width()}x{self._entries[1].image.height()})"
            )
        overlay = None
        if isinstance(picture, Leveled):
            overlay = picture.levels
        elif image is not None:
            overlay = build_levels(image)
        self._entries = [replace(entry, overlay=None) for entry in self._entries]
        self._entries[1] = replace(self._entries[1], overlay=overlay)
        self._refresh()

    def has_overlay(self) -> bool:
        return any(entry.overlay is not None for entry in self._entries)

    @property
    def overlay_wanted(self) -> bool:
        """Whether the drift map is switched on, whether or not there is one to show."""
        return self._overlay_wanted

    @property
    def overlay_visible(self) -> bool:
        return self._overlay_wanted and self.has_overlay()

    def set_overlay_visible(self, visible: bool) -> None:
        """Switch the drift map on or off, as O and the toolbar button do."""
        visible = bool(visible)
        if visible == self._overlay_wanted:
            return
        self._overlay_wanted = visible
        self._refresh()
        self.overlay_toggled.emit(visible)

    # --- modes -----------------------------------------------------------------------------

    @property
    def mode(self) -> str:
        return self._mode

    def set_mode(self, mode: str) -> None:
        """Show the pair "side" by side (two panes, locked), as a "wipe" (one pane, A left of
        the divider, B right) or as a "difference" (a heat map of |A - B| over a dimmed A)."""
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
        if mode == self._mode:
            return
        self._mode = mode
        self._refresh()
        self.mode_changed.emit(mode)

    # --- wipe ------------------------------------------------------------------------------

    @property
    def wipe_position(self) -> float:
        """The divider as a fraction of the picture's width: A shows left of it."""
        return self._wipe

    def set_wipe_position(self, fraction: float) -> None:
        fraction = min(1.0, max(0.0, float(fraction)))
        if fraction == self._wipe:
            return
        self._wipe = fraction
        self.left_view.set_divider(self._divider_x())
        self.wipe_moved.emit(fraction)

    def _divider_x(self) -> float:
        return self._wipe * self._entries[0].image.width() if self._entries else 0.0

    def _on_divider_dragged(self, x: float) -> None:
        width = self._entries[0].image.width() if self._entries else 0
        if width:
            self.set_wipe_position(x / width)

    # --- zoom ------------------------------------------------------------------------------

    @property
    def zoom(self) -> float:
        """Device pixels per image pixel (1.0 = 100 %)."""
        return self.left_view.zoom

    def set_zoom(self, zoom: float, anchor: QPointF | None = None) -> None:
        """Zoom every pane to ``zoom``, keeping the image point under ``anchor`` (viewport
        coordinates of a pane; default its centre) in place."""
        self.left_view.set_zoom(zoom, anchor)

    def fit(self) -> None:
        self.left_view.fit()

    def actual_size(self) -> None:
        self.left_view.actual_size()

    def zoom_to_rect(self, rect: QRectF) -> None:
        """Show ``rect`` of the pictures as large as the panes allow (crop to mask's
        region, say)."""
        self.left_view.zoom_to_rect(rect)

    def zoom_in(self) -> None:
        self.left_view.zoom_in()

    def zoom_out(self) -> None:
        self.left_view.zoom_out()

    def _on_view_moved(self) -> None:
        if self._locking or self._mode != "side":
            return
        leader = self.sender()
        follower = self.right_view if leader is self.left_view else self.left_view
        self._lock(leader, follower)  # type: ignore[arg-type]

    def _on_view_resized(self) -> None:
        # Each pane kept its own centre while it was resized; the left one leads.
        if self._mode == "side" and not self._locking:
            self._lock(self.left_view, self.right_view)

    def _lock(self, leader: CompareView, follower: CompareView) -> None:
        self._locking = True
        try:
            follower.follow(leader)
        finally:
            self._locking = False

    def _on_zoom_changed(self, zoom: float) -> None:
        self._zoom_label.setText(f"Zoom {zoom:.0%}")
        self.zoom_changed.emit(zoom)

    # --- showing ---------------------------------------------------------------------------

    def _picture(self, entry: _Entry) -> Picture:
        overlay = entry.overlay if self._overlay_wanted else None
        return Picture(entry.levels, overlay)

    def _label(self, letter: str, entry: _Entry) -> str:
        drift = " · drift map" if entry.overlay is not None and self._overlay_wanted else ""
        return f"{letter}: {entry.name}{drift}"

    def _refresh(self) -> None:
        """Show the pictures as the mode says."""
        side = self._mode == "side"
        if not side and self.right_view.hasFocus():
            # The pane with the keyboard is about to go: keep the keys in the compare view.
            self.left_view.setFocus(Qt.FocusReason.OtherFocusReason)
        self.right_view.setVisible(side)
        self._seam.setVisible(side)
        left, right = self.left_view, self.right_view
        left.set_notice("")
        if not self._entries:
            left.show_pictures(None)
            right.show_pictures(None)
            left.set_labels("")
            right.set_labels("")
        else:
            a, b = self._entries
            left.set_divider(self._divider_x())
            if side:
                left.show_pictures(self._picture(a))
                right.show_pictures(self._picture(b))
                left.set_labels(self._label("A", a))
                right.set_labels(self._label("B", b))
                self._lock(left, right)
            elif self._mode == "wipe":
                left.show_pictures(self._picture(a), self._picture(b))
                left.set_labels(self._label("A", a), self._label("B", b))
            else:
                self._show_difference(a, b)
        self._update_actions()

    def _show_difference(self, a: _Entry, b: _Entry) -> None:
        heat = self._differences.get(a.image, b.image)
        self.left_view.show_pictures(Picture(a.levels), heat=heat, dimmed=True)
        self.left_view.set_labels(f"Difference · A: {a.name} · B: {b.name}")
        if heat is None:
            self.left_view.set_notice("Computing the difference…")
        else:
            self.difference_computed.emit()

    def _current_pair(self) -> PairKey | None:
        if not self._entries:
            return None
        return pair_key(self._entries[0].image, self._entries[1].image)

    def _on_difference_computed(self, key: PairKey) -> None:
        if self._mode == "difference" and key == self._current_pair():
            self._refresh()

    def _on_difference_failed(self, key: PairKey, message: str) -> None:
        if self._mode == "difference" and key == self._current_pair():
            self.left_view.set_notice(f"The difference could not be computed: {message}")

    def wait_for_difference(self, msecs: int = -1) -> bool:
        """Block until a difference map being computed is done (tests, scripts)."""
        return self._differences.wait(msecs)

    def _update_actions(self) -> None:
        for mode in MODES:
            action = self.actions_by_name[f"mode.{mode}"]
            with QSignalBlocker(action):
                action.setChecked(mode == self._mode)
        overlay = self.actions_by_name["overlay"]
        # On request, the switch is the request: it works before there is a map, even before
        # the pictures arrive, so that the first O after opening is never lost.
        usable = self._overlay_on_request or self.has_overlay()
        with QSignalBlocker(overlay):
            overlay.setEnabled(usable)
            overlay.setChecked(usable and self._overlay_wanted)
        self.actions_by_name["flip"].setEnabled(self.has_images())


def _image(picture: QImage | Leveled) -> QImage:
    return picture.image if isinstance(picture, Leveled) else picture
