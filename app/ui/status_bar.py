"""The status line: the provider in use, the local engine's state, and the last job's tokens."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QStatusBar, QWidget

from app.core.events import Usage
from app.models.session import EditorSession


class EditorStatusBar(QStatusBar):
    """``problem`` is how the engine's failure reaches the error bar (the window wires it)."""

    def __init__(self, session: EditorSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._session = session
        self.provider_label, self.engine_label = QLabel(self), QLabel(self)
        self.usage_label = QLabel(self)
        self.addWidget(self.provider_label)
        self.addWidget(self.engine_label)
        self.addPermanentWidget(self.usage_label)
        session.provider_changed.connect(self.show_provider)
        session.jobs.job_finished.connect(self._on_job_finished)
        engine = session.engine
        if engine is not None:
            engine.ready.connect(lambda _url: self.engine_label.setText("Local engine ready"))
            engine.restarting.connect(self.engine_label.setText)
            engine.failed.connect(
                lambda _message: self.engine_label.setText("Local engine stopped")
            )
        self.show_provider(session.provider)

    def show_provider(self, provider) -> None:
        self.provider_label.setText(f"Provider: {provider.name}")
        self.engine_label.setVisible(provider.kind == "local")

    def _on_job_finished(self, job_id: str, usage: Usage) -> None:
        number = self._session.jobs.jobs[job_id].number
        self.usage_label.setText(
            f"Job #{number}: {usage.input_tokens:,} tokens in, {usage.output_tokens:,} out"
        )
