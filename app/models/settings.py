"""Persistent preferences (QSettings): the declared settings, providers, presets, prompt
history, window layout.

A preference the designer sets with one control is a ``Setting``, declared once below with
its key, default (whose type is the setting's type) and meaning; ``Settings.get``/``set``
read and write it, ``changed`` tells every observer, and ``app.ui.bind`` ties it to its
widget in one line. Structured values (providers, presets, history) have methods of their
own. API keys are never stored here; they live in the KeyStore (app.services.keys).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from platformdirs import user_pictures_dir
from PySide6.QtCore import QByteArray, QObject, QSettings, Signal

from app.core.original import DEFAULT_FEATHER_PX
from app.core.providers import LOCAL_ID, Provider, builtin_providers
from app.core.schema import Schema

T = TypeVar("T", bool, int, str)
PROMPT_HISTORY_SIZE = 30


@dataclass(frozen=True)
class Setting(Generic[T]):
    """One preference: where it is stored, its default (which gives its type), what it
    means (a widget's tooltip), and for numbers the range a widget offers."""

    key: str
    default: T
    doc: str
    minimum: int | None = None
    maximum: int | None = None

    def coerce(self, raw: object) -> T:
        """The stored value as the setting's type; the default when it cannot be read
        (a hand-edited or damaged settings file never stops the editor)."""
        kind = type(self.default)
        if isinstance(raw, kind):
            value: Any = raw
        elif kind is bool:
            value = str(raw).lower() in ("true", "1", "yes")
        else:
            try:
                value = kind(raw)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                return self.default
        if kind is int:
            if self.minimum is not None:
                value = max(self.minimum, value)
            if self.maximum is not None:
                value = min(self.maximum, value)
        return value


SPLIT_STREAMS = Setting(
    "jobs/split_streams",
    True,
    "With streaming and several variants, send one request per variant so that each "
    "variant shows its own partial images (each request bills its input tokens again).",
)
PASTE_BACK = Setting(
    "keep/paste_back",
    True,
    "Save and Use take the result inside the mask only: every pixel outside it stays "
    "exactly the original's (GPT image models redraw the whole picture). Right-click "
    "a result for the other way.",
)
FEATHER_PX = Setting(
    "keep/feather_px",
    DEFAULT_FEATHER_PX,
    "How far inside the mask the blend reaches full strength",
    minimum=0,
    maximum=64,
)

RECENT_PHOTOS = Setting(
    "files/recent_photos",
    "[]",
    "The photos opened last, newest first, for File ▸ Open Recent (a JSON list of paths)",
)


class Settings(QObject):
    changed = Signal(str, object)
    """A declared setting's key and its new value."""

    def __init__(self, store: QSettings, schema: Schema, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._store = store
        self._schema = schema
        self.notices: list[str] = []
        """What was wrong in the settings file and was ignored (said once, at start)."""

    def get(self, setting: Setting[T]) -> T:
        raw = self._store.value(setting.key)
        return setting.default if raw is None else setting.coerce(raw)

    def set(self, setting: Setting[T], value: T) -> None:
        value = setting.coerce(value)
        if self._store.value(setting.key) is not None and self.get(setting) == value:
            return
        self._store.setValue(setting.key, value)
        self.changed.emit(setting.key, value)

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
        """The built-in providers and the designer's own. A damaged entry of the settings
        file (not a list, not an object, missing its id) is dropped, said once in
        ``notices``, never fatal."""
        builtins = list(builtin_providers(self._schema))
        stored = self._json("providers/custom", [])
        if not isinstance(stored, list):
            self._notice("providers/custom is not a list of providers")
            stored = []
        custom = []
        for raw in stored:
            try:
                if not isinstance(raw, dict):
                    raise TypeError("not an object")
                custom.append(Provider.from_json(raw))
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                self._notice(f"a custom provider was dropped ({exc or type(exc).__name__})")
        return builtins + [p for p in custom if p.kind == "custom"]

    def _notice(self, what: str) -> None:
        text = (
            f"The settings file has a damaged entry: {what}. It is ignored; Settings ▸ "
            f"Providers saves a good one ({self._store.fileName()})."
        )
        if text not in self.notices:
            self.notices.append(text)

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
        if not isinstance(value, dict):
            return {}
        return {str(k): v for k, v in value.items() if isinstance(v, dict)}

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
        self._set_json("prompts/history", prompts[:PROMPT_HISTORY_SIZE])

    def remember_prompt(self, prompt: str) -> None:
        """Put a prompt that was sent at the top of the history (once, newest first)."""
        prompt = prompt.strip()
        if prompt:
            older = [p for p in self.prompt_history() if p != prompt]
            self.set_prompt_history([prompt, *older])

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
