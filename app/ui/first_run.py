"""The welcome panel shown over the empty canvas: open a photo, or try the sample."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QLabel, QPushButton, QVBoxLayout, QWidget


class FirstRunPanel(QFrame):
    open_requested = Signal()
    sample_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("first-run")
        self.setStyleSheet(
            "#first-run { background: rgba(30, 30, 33, 230); border: 1px solid #4a4a50;"
            " border-radius: 12px; }"
            "#first-run QLabel { color: #dedee2; }"
            "#first-run QLabel[role='hint'] { color: #a8a8b0; }"
        )
        title = QLabel("<h2>Welcome to Retouch Studio</h2>")
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        steps = QLabel(
            "1. Open a photo (or drop one here, or paste one).<br>"
            "2. Paint over what should change.<br>"
            "3. Describe the edit and press <b>Generate</b> (Ctrl+Enter)."
        )
        steps.setTextFormat(Qt.TextFormat.RichText)
        note = QLabel(
            "The built-in local engine works offline with no account: it removes what you "
            "paint by filling it from its surroundings. Add an OpenAI or compatible provider "
            "in Settings for generative edits."
        )
        note.setWordWrap(True)
        note.setProperty("role", "hint")
        self.open_button = QPushButton("Open a photo…")
        self.sample_button = QPushButton("Try the sample photo")
        self.sample_button.setDefault(True)
        self.open_button.clicked.connect(self.open_requested)
        self.sample_button.clicked.connect(self.sample_requested)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 20, 28, 24)
        layout.setSpacing(12)
        layout.addWidget(title)
        layout.addWidget(steps)
        layout.addWidget(note)
        layout.addWidget(self.sample_button)
        layout.addWidget(self.open_button)
        self.setFixedWidth(440)

    def center_in(self, area: QWidget) -> None:
        self.adjustSize()
        self.move((area.width() - self.width()) // 2, (area.height() - self.height()) // 2)
