"""The edit mask of the first image: its coverage pixels, brush strokes and undoable
operations, observable through signals."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QRect, QSize, Signal
from PySide6.QtGui import QUndoStack

from app.core import mask as core
from app.core.mask import Box, Brush, Edit, MaskSource, Stroke
from app.models.mask_history import (
    DEFAULT_UNDO_BUDGET,
    DEFAULT_UNDO_LIMIT,
    MaskHistory,
    Region,
    SwapStep,
)


def to_qrect(box: Box) -> QRect:
    return QRect() if box.is_empty else QRect(box.x0, box.y0, box.width, box.height)


class MaskDocument(QObject):
    """The mask being painted over one image.

    ``mask`` is the coverage array (height, width), uint8, 255 = edit. Read it freely but
    change it only through this object, which keeps the undo history and tells the views
    what changed. The array object lives as long as the image size: views may wrap its
    buffer, and are told by ``mask_reset`` when a new array replaces it.

    Undo: one QUndoStack step per stroke or operation, holding only the touched pixels,
    zlib-packed (see ``mask_history``). At most ``undo_limit`` steps and ``undo_budget``
    bytes are kept; past the budget the oldest steps are dropped.
    """

    mask_changed = Signal(QRect)
    """Pixels in this rectangle (image coordinates) changed."""
    mask_reset = Signal(QSize)
    """A new mask array of this size replaced the old one: a new picture (the history was
    cleared), or a step that traded the picture and its mask."""
    stroke_started = Signal()
    stroke_committed = Signal(QRect)
    stroke_aborted = Signal()

    def __init__(
        self,
        width: int = 0,
        height: int = 0,
        parent: QObject | None = None,
        *,
        undo_limit: int = DEFAULT_UNDO_LIMIT,
        undo_budget: int = DEFAULT_UNDO_BUDGET,
    ) -> None:
        super().__init__(parent)
        self._mask = core.new_mask(width, height)
        self._stroke: Stroke | None = None
        self._stack = QUndoStack(self)
        self._history = MaskHistory(self._stack, self, limit=undo_limit, budget=undo_budget)

    # --- state ---------------------------------------------------------------------------

    @property
    def mask(self) -> np.ndarray:
        return self._mask

    @property
    def width(self) -> int:
        return self._mask.shape[1]

    @property
    def height(self) -> int:
        return self._mask.shape[0]

    @property
    def size(self) -> QSize:
        return QSize(self.width, self.height)

    @property
    def undo_stack(self) -> QUndoStack:
        return self._stack

    @property
    def undo_bytes(self) -> int:
        """Bytes of pixel data held by the undo history."""
        return self._history.nbytes

    @property
    def undo_budget(self) -> int:
        return self._history.budget

    @property
    def is_stroking(self) -> bool:
        return self._stroke is not None

    def has_painting(self) -> bool:
        return bool(self._mask.any())

    def painted_fraction(self) -> float:
        """The share of the image that the exported mask marks for editing."""
        if self._mask.size == 0:
            return 0.0
        return float(np.count_nonzero(self._mask >= core.EDIT_THRESHOLD)) / self._mask.size

    def swap_mask(self, mask: np.ndarray) -> np.ndarray:
        """Install a whole new coverage array (of any size) and return the old one, keeping
        the history: for steps that trade the picture and its mask (``push_swap``)."""
        core.check_mask(mask)
        if self._stroke is not None:
            self.abort_stroke()
        old, self._mask = self._mask, mask
        self.mask_reset.emit(self.size)
        return old

    def push_swap(self, text: str, state: Any, swap: Callable[[Any], Any], nbytes: int) -> None:
        """Record, as one undo step, a trade of state that ``swap`` has just made: undo
        calls ``swap(state)``, which installs ``state`` and returns what it replaced."""
        self._history.push_step(SwapStep(text, state, swap, nbytes, self._history))

    def reset(self, width: int, height: int) -> None:
        """Start over with an empty mask of a new size (a new image was opened)."""
        self._stroke = None
        self._stack.clear()
        self._mask = core.new_mask(width, height)
        self.mask_reset.emit(self.size)

    # --- strokes -------------------------------------------------------------------------

    def begin_stroke(
        self, x: float, y: float, brush: Brush, *, erase: bool = False, pressure: float = 1.0
    ) -> None:
        """Start a stroke at (x, y) in image coordinates and lay its first dab."""
        self._settle()
        self._stroke = Stroke(self._mask, brush, erase=erase)
        self.stroke_started.emit()
        self._emit_changed(self._stroke.add_point(x, y, pressure))

    def extend_stroke(self, x: float, y: float, pressure: float = 1.0) -> None:
        if self._stroke is not None:
            self._emit_changed(self._stroke.add_point(x, y, pressure))

    def commit_stroke(self) -> QRect:
        """End the stroke as one undo step; returns the rectangle it painted."""
        stroke, self._stroke = self._stroke, None
        if stroke is None:
            return QRect()
        tiles = stroke.changed_tiles()
        if tiles:
            text = "Erase" if stroke.erase else "Brush stroke"
            self._history.push(text, [Region(box, core.pack(before)) for box, before in tiles])
        rect = to_qrect(stroke.box)
        self.stroke_committed.emit(rect)
        return rect

    def abort_stroke(self) -> None:
        """Drop the stroke in progress and put back the pixels it changed."""
        stroke, self._stroke = self._stroke, None
        if stroke is None:
            return
        self._emit_changed(stroke.restore())
        self.stroke_aborted.emit()

    # --- operations, one undo step each --------------------------------------------------

    def clear(self) -> QRect:
        return self._apply(core.cleared(self._mask_settled()), "Clear mask")

    def fill(self) -> QRect:
        return self._apply(core.filled(self._mask_settled()), "Fill mask")

    def invert(self) -> QRect:
        return self._apply(core.inverted(self._mask_settled()), "Invert mask")

    def grow(self, pixels: int) -> QRect:
        return self._apply(core.grown(self._mask_settled(), pixels), f"Grow by {pixels} px")

    def shrink(self, pixels: int) -> QRect:
        return self._apply(core.shrunk(self._mask_settled(), pixels), f"Shrink by {pixels} px")

    def feather(self, pixels: int) -> QRect:
        return self._apply(core.feathered(self._mask_settled(), pixels), f"Feather {pixels} px")

    def fill_rect(
        self, x0: float, y0: float, x1: float, y1: float, *, subtract: bool = False
    ) -> QRect:
        edit = core.filled_rect(self._mask_settled(), x0, y0, x1, y1, subtract=subtract)
        return self._apply(edit, "Subtract rectangle" if subtract else "Rectangle")

    def fill_ellipse(
        self, x0: float, y0: float, x1: float, y1: float, *, subtract: bool = False
    ) -> QRect:
        edit = core.filled_ellipse(self._mask_settled(), x0, y0, x1, y1, subtract=subtract)
        return self._apply(edit, "Subtract ellipse" if subtract else "Ellipse")

    def fill_polygon(
        self,
        points: Sequence[tuple[float, float]],
        *,
        subtract: bool = False,
        text: str = "Polygon",
    ) -> QRect:
        edit = core.filled_polygon(self._mask_settled(), points, subtract=subtract)
        return self._apply(edit, f"Subtract {text.lower()}" if subtract else text)

    def replace(self, coverage: np.ndarray, text: str = "Load mask") -> QRect:
        """Replace the whole mask (an imported file) as one undo step."""
        core.check_mask(coverage)
        if coverage.shape != self._mask.shape:
            raise ValueError(
                f"the mask is {coverage.shape[1]}x{coverage.shape[0]} but the image is "
                f"{self.width}x{self.height}"
            )
        box = Box.of_size(self.width, self.height)
        return self._apply(Edit(box, coverage), text)

    # --- files ---------------------------------------------------------------------------

    def export_png(self) -> bytes:
        """The API mask: RGBA PNG, alpha 0 where coverage >= 128 (see app.core.mask)."""
        self._settle()
        return core.to_api_png(self._mask)

    def import_file(self, path: Path, *, mode: MaskSource = "auto", scale: bool = False) -> QRect:
        """Load a mask file as one undo step. Raises ImageFileError (the mask is kept)."""
        coverage = core.read_mask(Path(path), (self.width, self.height), mode=mode, scale=scale)
        return self.replace(coverage, f"Load {Path(path).name}")

    # --- history -------------------------------------------------------------------------

    def undo(self) -> None:
        self._stack.undo()

    def redo(self) -> None:
        self._stack.redo()

    def swap_regions(self, regions: Sequence[Region]) -> list[Region]:
        """For the undo history: write the regions' pixels, return the pixels replaced."""
        if self._stroke is not None:
            # Undo in the middle of a stroke: drop the stroke so the history stays exact.
            self.abort_stroke()
        swapped = []
        touched = Box.empty()
        for region in regions:
            current = self._mask[region.box.slices]
            swapped.append(Region(region.box, core.pack(current)))
            current[...] = core.unpack(region.blob, region.box)
            touched = touched.union(region.box)
        self._emit_changed(touched)
        return swapped

    # --- internals -----------------------------------------------------------------------

    def _settle(self) -> None:
        if self._stroke is not None:
            self.commit_stroke()

    def _mask_settled(self) -> np.ndarray:
        self._settle()
        return self._mask

    def _apply(self, edit: Edit, text: str) -> QRect:
        if edit.box.is_empty:
            return QRect()
        box = core.changed_box(self._mask[edit.box.slices], edit.pixels, edit.box)
        if box.is_empty:
            return QRect()
        inner = box.translated(-edit.box.x0, -edit.box.y0)
        before = self._mask[box.slices].copy()
        self._mask[box.slices] = edit.pixels[inner.slices]
        self._history.push(text, [Region(box, core.pack(before))])
        self._emit_changed(box)
        return to_qrect(box)

    def _emit_changed(self, box: Box) -> None:
        if not box.is_empty:
            self.mask_changed.emit(to_qrect(box))
