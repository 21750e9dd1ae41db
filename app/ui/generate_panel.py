"""The Prompt dock: the prompt, Generate and Cancel, why Generate is off, a warning when the
model returns far fewer pixels than the photo has, and the switch for one request per
variant (shown only when it matters: streaming with several variants)."""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app.models.session import EditorSession
from app.models.settings import SPLIT_STREAMS
from app.ui.bind import bind
from app.ui.crop_controls import CropControls
from app.ui.prompt_box import PromptBox


class GeneratePanel(QWidget):
    def __init__(self, session: EditorSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._session = session
        self.prompt = PromptBox(session.settings.prompt_history, self)
        self.generate_button = QPushButton("Generate", self)
        self.generate_button.setObjectName("generate")
        self.generate_button.setToolTip("Send the edit (Ctrl+Enter)")
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setToolTip("Stop the running jobs (Esc); what arrived is kept")
        self.cancel_button.setEnabled(False)
        self.reason = QLabel(self)
        self.reason.setObjectName("generate-reason")
        self.reason.setWordWrap(True)
        self.reason.setStyleSheet("color: #e0a040;")
        self.size_note = QLabel(self)
        self.size_note.setObjectName("output-size-note")
        self.size_note.setWordWrap(True)
        self.size_note.setProperty("role", "hint")
        self.size_note.setVisible(False)
        self.split = QCheckBox("One request per variant (live previews for each)", self)
        bind(self.split, session.settings, SPLIT_STREAMS)
        self.split_note = QLabel(
            "Each variant is its own request and bills its input tokens again. "
            "Untick to send one request: cheaper, but partial images cannot be told apart.",
            self,
        )
        self.split_note.setWordWrap(True)
        self.split_note.setProperty("role", "hint")
        buttons = QHBoxLayout()
        buttons.addWidget(self.generate_button, 1)
        buttons.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.prompt, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.reason)
        layout.addWidget(self.size_note)
        self.crop = CropControls(session.crop, self)
        layout.addWidget(self.crop)
        layout.addWidget(self.split)
        layout.addWidget(self.split_note)

        params = session.params
        self.prompt.prompt_changed.connect(lambda text: params.set_value("prompt", text))
        self.prompt.setPlainText(params.value("prompt") or "")
        params.value_changed.connect(self._on_value_changed)  # a reopened job, its undo
        self.split.toggled.connect(self._update_split)
        params.value_changed.connect(self._update_split)
        params.value_changed.connect(self._update_size_note)
        session.document.picture_changed.connect(self._update_size_note)
        session.provider_changed.connect(self._update_size_note)
        session.crop.changed.connect(self._update_size_note)
        self._update_split()
        self._update_size_note()

    def show_readiness(self, reason: str) -> None:
        self.generate_button.setEnabled(not reason)
        self.reason.setText(reason)
        self.reason.setVisible(bool(reason))

    def show_busy(self, busy: bool) -> None:
        self.cancel_button.setEnabled(busy)
        self.generate_button.setText("Generate again" if busy else "Generate")

    def _update_split(self, *_: object) -> None:
        params = self._session.params
        relevant = bool(params.value("stream")) and int(params.value("n") or 1) > 1
        self.split.setVisible(relevant)
        self.split_note.setVisible(relevant and self.split.isChecked())

    def _update_size_note(self, *_: object) -> None:
        # Crop to mask keeps the detail: the warning about a shrunk result does not apply.
        note = "" if self._session.crop.enabled else self._session.output_note()
        self.size_note.setText(note)
        self.size_note.setVisible(bool(note))

    def _on_value_changed(self, name: str, value: object) -> None:
        text = str(value or "")
        if name == "prompt" and text != self.prompt.toPlainText():
            self.prompt.setPlainText(text)
