"""Undo for the mask: each step keeps only the pixels it touched, compressed, and the whole
history stays under a step limit and a byte budget.

A step is a list of regions (a box and its packed pixels). Undo and redo are the same
operation, a swap: the region's current pixels go into the step and the stored ones go into
the mask. After a swap the step holds the "new" pixels while undone and the "old" ones while
done, so a step costs one copy of its regions, never two (napari's paint atoms keep old and
new; with compression and the swap we keep half).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from PySide6.QtGui import QUndoCommand, QUndoStack

from app.core.mask import Box

DEFAULT_UNDO_LIMIT = 200
DEFAULT_UNDO_BUDGET = 256 * 1024 * 1024


@dataclass(frozen=True)
class Region:
    """Pixels of one box of the mask, packed with ``app.core.mask.pack``."""

    box: Box
    blob: bytes

    @property
    def nbytes(self) -> int:
        return len(self.blob)


class SwapTarget(Protocol):
    def swap_regions(self, regions: Sequence[Region]) -> list[Region]:
        """Write the regions into the mask and return what was there before."""
        ...


class PatchCommand(QUndoCommand):
    """One undoable mask step. It is pushed after the change is already in the mask, so its
    first redo (which QUndoStack.push calls) does nothing."""

    def __init__(self, text: str, regions: Sequence[Region], history: MaskHistory) -> None:
        super().__init__(text)
        self.regions = list(regions)
        self._history = history
        self._applied = True

    @property
    def nbytes(self) -> int:
        return sum(region.nbytes for region in self.regions)

    def redo(self) -> None:
        if self._applied:
            self._applied = False
            return
        self.regions = self._history.swap(self.regions)

    def undo(self) -> None:
        self.regions = self._history.swap(self.regions)


class MaskHistory:
    """Pushes patch steps onto a QUndoStack and keeps the stack within ``budget`` bytes.

    QUndoStack can only drop its oldest steps through its count limit, so when the bytes go
    over budget the stack is rebuilt without the oldest steps. While it is rebuilt the steps
    are replayed without touching the mask (their pixels already match it)."""

    def __init__(
        self,
        stack: QUndoStack,
        target: SwapTarget,
        *,
        limit: int = DEFAULT_UNDO_LIMIT,
        budget: int = DEFAULT_UNDO_BUDGET,
    ) -> None:
        self.stack = stack
        self.budget = budget
        self._target = target
        self._replaying = False
        stack.setUndoLimit(limit)

    @property
    def nbytes(self) -> int:
        return sum(command.nbytes for command in self._commands())

    def push(self, text: str, regions: Sequence[Region]) -> None:
        self.stack.push(PatchCommand(text, regions, self))
        self._trim()

    def swap(self, regions: Sequence[Region]) -> list[Region]:
        if self._replaying:
            return list(regions)
        return self._target.swap_regions(regions)

    def _commands(self) -> list[PatchCommand]:
        commands = (self.stack.command(i) for i in range(self.stack.count()))
        return [command for command in commands if isinstance(command, PatchCommand)]

    def _trim(self) -> None:
        commands = self._commands()
        total = sum(command.nbytes for command in commands)
        if total <= self.budget:
            return
        index = self.stack.index()
        drop = 0
        # Drop only done steps, oldest first, and always keep the newest one.
        while total > self.budget and drop < min(index, len(commands)) - 1:
            total -= commands[drop].nbytes
            drop += 1
        if drop == 0:
            return
        kept = [(command.text(), command.regions) for command in commands[drop:]]
        self._replaying = True
        try:
            self.stack.clear()
            for text, regions in kept:
                self.stack.push(PatchCommand(text, regions, self))
            self.stack.setIndex(index - drop)
        finally:
            self._replaying = False
