"""The prompt editor. Ctrl+Up and Ctrl+Down walk through the prompts sent before (the
history is kept by app.models.settings; this box only reads it)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QPlainTextEdit, QWidget


class PromptBox(QPlainTextEdit):
    prompt_changed = Signal(str)

    def __init__(
        self, history: Callable[[], list[str]] = list, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("prompt")
        self.setPlaceholderText(
            "Describe the edit, e.g. “remove the cup and continue the wooden table”"
            "   (Ctrl+↑/↓: earlier prompts · Ctrl+Enter: generate)"
        )
        self.setTabChangesFocus(True)
        self._history = history
        self._cursor = -1
        self.textChanged.connect(lambda: self.prompt_changed.emit(self.toPlainText()))

    def restart_history(self) -> None:
        """The next Ctrl+Up starts again from the newest prompt (after one was sent)."""
        self._cursor = -1

    def keyPressEvent(self, event: QKeyEvent) -> None:
        ctrl = event.modifiers() & Qt.KeyboardModifier.ControlModifier
        history = self._history() if ctrl else []
        if event.key() in (Qt.Key.Key_Up, Qt.Key.Key_Down) and history:
            step = 1 if event.key() == Qt.Key.Key_Up else -1
            self._cursor = max(-1, min(len(history) - 1, self._cursor + step))
            self.setPlainText(history[self._cursor] if self._cursor >= 0 else "")
            self.moveCursor(self.textCursor().MoveOperation.End)
            return
        super().keyPressEvent(event)
