"""Provider settings: the local engine, OpenAI, and custom OpenAI-compatible vendors."""

from __future__ import annotations

import itertools
from dataclasses import replace

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.core.providers import Provider
from app.services.keys import KeyStore


class SettingsDialog(QDialog):
    """Edits a copy of the providers; nothing is applied until OK. Keys typed here go
    straight to the KeyStore on OK and are never shown again in clear."""

    def __init__(
        self,
        providers: list[Provider],
        active_id: str,
        keys: KeyStore,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Providers")
        self.setObjectName("settings-dialog")
        self.resize(720, 420)
        self.keys = keys
        self.providers = list(providers)
        self.active_id = active_id
        self._typed_keys: dict[str, str] = {}
        self._ids = itertools.count(len(providers) + 1)
        self._current: Provider | None = None

        # Every widget and layout gets its parent when it is made, so Qt alone owns them
        # and no Python wrapper can delete one a second time (tests/ui/test_stability.py).
        outer = QVBoxLayout(self)
        body = QHBoxLayout()
        outer.addLayout(body)
        left = QVBoxLayout()
        body.addLayout(left, 1)
        self.list = QListWidget(self)
        self.list.setObjectName("provider-list")
        self.list.currentRowChanged.connect(self._on_row_changed)
        left.addWidget(self.list, 1)
        row = QHBoxLayout()
        left.addLayout(row)
        self.add = QPushButton("Add custom…", self)
        self.add.clicked.connect(self._on_add_clicked)
        self.remove = QPushButton("Remove", self)
        self.remove.clicked.connect(self._on_remove_clicked)
        row.addWidget(self.add)
        row.addWidget(self.remove)

        self.editor = QWidget(self)
        body.addWidget(self.editor, 2)
        form = QFormLayout(self.editor)
        self.name = QLineEdit(self.editor)
        self.base_url = QLineEdit(self.editor)
        self.path = QLineEdit(self.editor)
        self.force_array = QCheckBox("Send image[] even for one image", self.editor)
        self.moderation = QCheckBox("Send the moderation setting", self.editor)
        self.moderation.setToolTip(
            "On for vendors that take it. OpenAI's multipart edit endpoint does not."
        )
        self.models = QLineEdit(self.editor)
        self.key = QLineEdit(self.editor)
        self.key.setEchoMode(QLineEdit.EchoMode.Password)
        self.key.setObjectName("api-key")
        self.key_note = QLabel(self.editor)
        self.key_note.setWordWrap(True)
        self.key_note.setProperty("role", "hint")
        self.use = QCheckBox("Use this provider", self.editor)
        self.problems = QLabel(self.editor)
        self.problems.setWordWrap(True)
        self.problems.setStyleSheet("color: #d9534f;")
        form.addRow("Name", self.name)
        form.addRow("Base URL", self.base_url)
        form.addRow("Endpoint path", self.path)
        form.addRow("", self.force_array)
        form.addRow("", self.moderation)
        form.addRow("Models", self.models)
        form.addRow("API key", self.key)
        form.addRow("", self.key_note)
        form.addRow("", self.use)
        form.addRow("", self.problems)
        for widget in (self.name, self.base_url, self.path, self.models):
            widget.textEdited.connect(self._store_current)
        self.force_array.toggled.connect(self._store_current)
        self.moderation.toggled.connect(self._store_current)
        self.use.toggled.connect(self._on_use_toggled)
        self.key.textEdited.connect(self._on_key_edited)

        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        outer.addWidget(buttons)
        self._fill_list()

    # list ------------------------------------------------------------------------

    def _fill_list(self, select: str | None = None) -> None:
        self.list.blockSignals(True)
        self.list.clear()
        for provider in self.providers:
            label = provider.name + ("  ✓" if provider.id == self.active_id else "")
            item = QListWidgetItem(label)
            item.setData(Qt.ItemDataRole.UserRole, provider.id)
            self.list.addItem(item)
        self.list.blockSignals(False)
        ids = [p.id for p in self.providers]
        target = select or self.active_id
        self.list.setCurrentRow(ids.index(target) if target in ids else 0)

    def _on_row_changed(self, row: int) -> None:
        if row < 0:
            return
        provider = self.providers[row]
        self._current = provider
        editable = provider.kind == "custom"
        blockers = (
            self.name, self.base_url, self.path, self.models, self.force_array,
            self.moderation, self.use,
        )  # fmt: skip
        for widget in blockers:
            widget.blockSignals(True)
        self.name.setText(provider.name)
        self.base_url.setText(provider.base_url)
        self.path.setText(provider.path)
        self.force_array.setChecked(provider.force_image_array)
        self.moderation.setChecked(provider.takes_moderation and provider.kind != "local")
        self.models.setText(", ".join(provider.models))
        self.use.setChecked(provider.id == self.active_id)
        for widget in blockers:
            widget.blockSignals(False)
        for widget in (self.name, self.base_url, self.path, self.force_array, self.models):
            widget.setEnabled(editable)
        self.moderation.setEnabled(editable)
        # Example values only where the designer types them: the built-in providers'
        # fields are fixed, and an empty one must not suggest a vendor URL.
        self.base_url.setPlaceholderText("https://api.vendor.example" if editable else "")
        self.path.setPlaceholderText("/v1/images/edits" if editable else "")
        self.models.setPlaceholderText("gpt-image-2, gpt-image-1" if editable else "")
        self.remove.setEnabled(editable)
        self.key.setEnabled(provider.needs_key)
        self.key.clear()
        stored = self._typed_keys.get(provider.id) or (
            self.keys.get(provider.id) if provider.needs_key else None
        )
        self.key.setPlaceholderText("•••••••• (stored)" if stored else "paste the key here")
        if not provider.needs_key:
            note = "The local engine runs on this computer and needs no key."
        else:
            note = f"Keys are kept in {self.keys.where}."
        self.key_note.setText(note)
        self._show_problems()

    def _store_current(self, *_: object) -> None:
        provider = self._current
        if provider is None or provider.kind != "custom":
            return
        updated = replace(
            provider,
            name=self.name.text(),
            base_url=self.base_url.text().strip(),
            path=self.path.text().strip() or "/v1/images/edits",
            force_image_array=self.force_array.isChecked(),
            takes_moderation=self.moderation.isChecked(),
            models=tuple(m.strip() for m in self.models.text().split(",") if m.strip()),
        )
        index = self.providers.index(provider)
        self.providers[index] = updated
        self._current = updated
        self.list.item(index).setText(updated.name or "(unnamed)")
        self._show_problems()

    def _show_problems(self) -> None:
        problems = self._current.problems() if self._current else []
        self.problems.setText("\n".join(problems))

    def _on_use_toggled(self, on: bool) -> None:
        if on and self._current is not None:
            self.active_id = self._current.id
            self._fill_list(select=self._current.id)

    def _on_key_edited(self, text: str) -> None:
        if self._current is not None:
            self._typed_keys[self._current.id] = text

    def _on_add_clicked(self) -> None:
        provider = Provider(
            id=f"custom-{next(self._ids)}",
            name="New provider",
            kind="custom",
            base_url="https://",
        )
        self.providers.append(provider)
        self._fill_list(select=provider.id)
        self.name.setFocus()
        self.name.selectAll()

    def _on_remove_clicked(self) -> None:
        provider = self._current
        if provider is None or provider.kind != "custom":
            return
        self.providers.remove(provider)
        self._typed_keys.pop(provider.id, None)
        if self.active_id == provider.id:
            self.active_id = self.providers[0].id
        self._fill_list()

    # accept ----------------------------------------------------------------------

    def active_provider(self) -> Provider:
        return next(p for p in self.providers if p.id == self.active_id)

    def accept(self) -> None:
        active = self.active_provider()
        problems = active.problems()
        if problems:
            self._fill_list(select=active.id)
            return
        if active.is_plain_http_remote and not self._confirm_plain_http(active):
            return
        for provider_id, key in self._typed_keys.items():
            self.keys.set(provider_id, key)
        self._typed_keys.clear()
        super().accept()

    def _confirm_plain_http(self, provider: Provider) -> bool:
        answer = QMessageBox.warning(
            self,
            "Unencrypted connection",
            f"{provider.base_url} uses plain http to another computer: your API key and "
            "images would cross the network unencrypted. Use it anyway?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        return answer == QMessageBox.StandardButton.Yes
