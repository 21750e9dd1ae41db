"""A non-modal bar for every problem (app.models.tasks reports them): the message, the
server's code and request id, and the way out the error names: Retry for a failed job, or
Settings… when the provider's key was refused."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from app.core.errors import UserError


class ErrorBar(QFrame):
    """``retry_requested`` when Retry is pressed; ``settings_requested`` when Settings… is
    (shown instead of Retry for a refused API key: the provider settings should open)."""

    retry_requested = Signal()
    settings_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("error-bar")
        self.setProperty("role", "error-bar")
        self.setStyleSheet(
            "#error-bar { background: #5a1f1f; border: 1px solid #a33; border-radius: 4px; }"
            "#error-bar QLabel { color: #fde; }"
        )
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.retry = QPushButton("Retry")
        self.retry.clicked.connect(self.retry_requested)
        self.settings = QPushButton("Settings…")
        self.settings.setToolTip("Open Settings ▸ Providers to check the API key")
        self.settings.clicked.connect(self.settings_requested)
        self.close_button = QPushButton("Dismiss")
        self.close_button.clicked.connect(self.hide)
        layout.addWidget(self.message, 1)
        layout.addWidget(self.retry)
        layout.addWidget(self.settings)
        layout.addWidget(self.close_button)
        self.hide()

    def show_error(
        self,
        message: str,
        *,
        code: str | None = None,
        request_id: str | None = None,
        retryable: bool = True,
        settings: bool = False,
    ) -> None:
        details = [f"code {code}" if code else "", f"request id {request_id}" if request_id else ""]
        extra = " · ".join(d for d in details if d)
        self.message.setText(message + (f"\n{extra}" if extra else ""))
        self.retry.setVisible(retryable)
        self.settings.setVisible(settings)
        self.show()

    def show_problem(self, error: UserError) -> None:
        """A problem as the model judged it: the bar decides nothing itself."""
        self.show_error(
            error.message,
            code=error.code,
            request_id=error.request_id,
            retryable=error.retryable,
            settings=error.needs_settings,
        )
