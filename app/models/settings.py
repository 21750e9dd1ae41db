"""Persistent preferences (QSettings): providers, presets, prompt history, window layout.

API keys are never stored here; they live in the KeyStore."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from platformdirs import user_pictures_dir
from PySide6.QtCore import QByteArray, QObject, QSettings

from app.core.providers import LOCAL_ID, Provider, builtin_providers
from app.core.schema import Schema


class Settings(QObject):
    def __init__(self, store: QSettings, schema: Schema, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._store = store
        self._schema = schema

    def _json(self, key: str, default: Any) -> Any:
        raw = self._store.value(key)
        if not isinstance(raw, str):
            return default
        try:
            return json.loads(raw)
        except json.JSONDecodeError:
            return default

    def _set_json(self, key: str, value: Any) -> None:
        self._store.setValue(key, json.dumps(value))

    # providers ---------------------------------------------------------------------

    def providers(self) -> list[Provider]:
        builtins = list(builtin_providers(self._schema))
        custom = []
        for raw in self._json("providers/custom", []):
            try:
                custom.append(Provider.from_json(raw))
            except (KeyError, TypeError, ValueError):
                continue  # a damaged entry is dropped, not fatal
        return builtins + [p for p in custom if p.kind == "custom"]

    def set_custom_providers(self, providers: list[Provider]) -> None:
        self._set_json("providers/custom", [p.to_json() for p in providers if p.kind == "custom"])

    def active_provider_id(self) -> str:
        value = self._store.value("providers/active", LOCAL_ID)
        return value if isinstance(value, str) else LOCAL_ID

    def set_active_provider_id(self, provider_id: str) -> None:
        self._store.setValue("providers/active", provider_id)

    # presets, prompts, choices -----------------------------------------------------

    def presets(self) -> dict[str, dict[str, Any]]:
        value = self._json("presets", {})
        return value if isinstance(value, dict) else {}

    def save_preset(self, name: str, values: dict[str, Any]) -> None:
        self._set_json("presets", {**self.presets(), name: values})

    def delete_preset(self, name: str) -> None:
        presets = self.presets()
        presets.pop(name, None)
        self._set_json("presets", presets)

    def prompt_history(self) -> list[str]:
        value = self._json("prompts/history", [])
        return [p for p in value if isinstance(p, str)] if isinstance(value, list) else []

    def set_prompt_history(self, prompts: list[str]) -> None:
        self._set_json("prompts/history", prompts)

    def flag(self, key: str, default: bool) -> bool:
        value = self._store.value(key, default)
        return value in (True, "true", "1", 1) if not isinstance(value, bool) else value

    def set_flag(self, key: str, value: bool) -> None:
        self._store.setValue(key, value)

    def integer(self, key: str, default: int) -> int:
        try:
            return int(self._store.value(key, default))
        except (TypeError, ValueError):
            return default

    def set_integer(self, key: str, value: int) -> None:
        self._store.setValue(key, int(value))

    def results_dir(self) -> Path:
        value = self._store.value("results/dir")
        if isinstance(value, str) and value:
            return Path(value)
        return Path(user_pictures_dir()) / "Retouch Studio"

    # window layout -----------------------------------------------------------------

    def window_state(self) -> tuple[QByteArray | None, QByteArray | None]:
        geometry = self._store.value("window/geometry")
        state = self._store.value("window/state")
        return (
            geometry if isinstance(geometry, QByteArray) else None,
            state if isinstance(state, QByteArray) else None,
        )

    def set_window_state(self, geometry: QByteArray, state: QByteArray) -> None:
        self._store.setValue("window/geometry", geometry)
        self._store.setValue("window/state", state)

    def sync(self) -> None:
        self._store.sync()
