"""Undo for the mask: each step keeps only the pixels it touched, compressed, and the whole
history stays under a step limit and a byte budget.

A step is a list of regions (a box and its packed pixels). Undo and redo are the same
operation, a swap: the region's current pixels go into the step and the stored ones go into
the mask. After a swap the step holds the "new" pixels while undone and the "old" ones while
done, so a step costs one copy of its regions, never two (napari's paint atoms keep old and
new; with compression and the swap we keep half).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

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


class Step(QUndoCommand):
    """A step of the history. It is pushed after its change is already made, so its first
    redo (which QUndoStack.push calls) does nothing; while the history is replayed (see
    ``MaskHistory._trim``) undo and redo do nothing either."""

    def __init__(self, text: str, history: MaskHistory) -> None:
        super().__init__(text)
        self._history = history
        self._applied = True

    @property
    def nbytes(self) -> int:
        raise NotImplementedError

    def replay_copy(self) -> Step:
        """The same step, to push again when the stack is rebuilt."""
        raise NotImplementedError


class PatchCommand(Step):
    """One undoable change of mask pixels."""

    def __init__(self, text: str, regions: Sequence[Region], history: MaskHistory) -> None:
        super().__init__(text, history)
        self.regions = list(regions)

    @property
    def nbytes(self) -> int:
        return sum(region.nbytes for region in self.regions)

    def replay_copy(self) -> Step:
        return PatchCommand(self.text(), self.regions, self._history)

    def redo(self) -> None:
        if self._applied:
            self._applied = False
            return
        self.regions = self._history.swap(self.regions)

    def undo(self) -> None:
        self.regions = self._history.swap(self.regions)


class SwapStep(Step):
    """A step that trades a whole state (a picture and its mask, say) with the current one:
    ``swap(state)`` installs ``state`` and returns the one it replaced."""

    def __init__(
        self,
        text: str,
        state: Any,
        swap: Callable[[Any], Any],
        nbytes: int,
        history: MaskHistory,
    ) -> None:
        super().__init__(text, history)
        self.state = state
        self._swap = swap
        self._nbytes = nbytes

    @property
    def nbytes(self) -> int:
        return self._nbytes

    def replay_copy(self) -> Step:
        return SwapStep(self.text(), self.state, self._swap, self._nbytes, self._history)

    def redo(self) -> None:
        if self._applied:
            self._applied = False
            return
        self._trade()

    def undo(self) -> None:
        self._trade()

    def _trade(self) -> None:
        if not self._history.replaying:
            self.state = self._swap(self.state)


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

    @property
    def replaying(self) -> bool:
        return self._replaying

    def push(self, text: str, regions: Sequence[Region]) -> None:
        self.push_step(PatchCommand(text, regions, self))

    def push_step(self, step: Step) -> None:
        self.stack.push(step)
        self._trim()

    def swap(self, regions: Sequence[Region]) -> list[Region]:
        if self._replaying:
            return list(regions)
        return self._target.swap_regions(regions)

    def _commands(self) -> list[Step]:
        commands = (self.stack.command(i) for i in range(self.stack.count()))
        return [command for command in commands if isinstance(command, Step)]

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
        kept = [command.replay_copy() for command in commands[drop:]]
        self._replaying = True
        try:
            self.stack.clear()
            for step in kept:
                self.stack.push(step)
            self.stack.setIndex(index - drop)
        finally:
            self._replaying = False
