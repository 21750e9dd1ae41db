"""The prompt editor. Ctrl+Up and Ctrl+Down walk through the last prompts."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QPlainTextEdit, QWidget

HISTORY_SIZE = 30


class PromptBox(QPlainTextEdit):
    prompt_changed = Signal(str)

    def __init__(self, history: list[str] | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("prompt")
        self.setPlaceholderText(
            "Describe the edit, e.g. “remove the cup and continue the wooden table”"
            "   (Ctrl+↑/↓: earlier prompts · Ctrl+Enter: generate)"
        )
        self.setTabChangesFocus(True)
        self.history: list[str] = list(history or [])[:HISTORY_SIZE]
        self._cursor = -1
        self.textChanged.connect(lambda: self.prompt_changed.emit(self.toPlainText()))

    def remember(self, prompt: str) -> None:
        prompt = prompt.strip()
        if not prompt:
            return
        if prompt in self.history:
            self.history.remove(prompt)
        self.history.insert(0, prompt)
        del self.history[HISTORY_SIZE:]
        self._cursor = -1

    def keyPressEvent(self, event: QKeyEvent) -> None:
        ctrl = event.modifiers() & Qt.KeyboardModifier.ControlModifier
        if ctrl and event.key() in (Qt.Key.Key_Up, Qt.Key.Key_Down) and self.history:
            step = 1 if event.key() == Qt.Key.Key_Up else -1
            self._cursor = max(-1, min(len(self.history) - 1, self._cursor + step))
            self.setPlainText(self.history[self._cursor] if self._cursor >= 0 else "")
            self.moveCursor(self.textCursor().MoveOperation.End)
            return
        super().keyPressEvent(event)
