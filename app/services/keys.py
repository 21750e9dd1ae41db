"""API keys in the system keyring, or for this session only when there is none.

A key never reaches a settings file, a log or an error message."""

from __future__ import annotations

import contextlib

import keyring
import keyring.errors
from keyring.backend import KeyringBackend

SERVICE = "Retouch Studio"


def _usable(backend: KeyringBackend) -> bool:
    # keyring reports "no backend" through a backend of priority <= 0 (fail, null).
    try:
        return backend.priority > 0
    except Exception:  # a broken backend's priority property raises
        return False


class KeyStore:
    """Get and set one API key per provider id."""

    def __init__(self, backend: KeyringBackend | None = None) -> None:
        self._backend = backend or keyring.get_keyring()
        self.persistent = _usable(self._backend)
        self._session: dict[str, str] = {}
        self._read: dict[str, str | None] = {}

    @property
    def where(self) -> str:
        if self.persistent:
            return f"the system keyring ({type(self._backend).__name__})"
        return "memory, for this session only (no system keyring was found)"

    def get(self, provider_id: str) -> str | None:
        """The key, read from the keyring once and then from memory: the editor asks on
        every parameter change, and a keyring read can be a D-Bus round trip."""
        if provider_id in self._session:
            return self._session[provider_id]
        if not self.persistent:
            return None
        if provider_id not in self._read:
            try:
                self._read[provider_id] = self._backend.get_password(SERVICE, provider_id)
            except keyring.errors.KeyringError:
                return None
        return self._read[provider_id]

    def set(self, provider_id: str, key: str) -> bool:
        """Store the key; True when it was stored persistently."""
        key = key.strip()
        if not key:
            self.delete(provider_id)
            return self.persistent
        if self.persistent:
            try:
                self._backend.set_password(SERVICE, provider_id, key)
                self._session.pop(provider_id, None)
                self._read[provider_id] = key
                return True
            except keyring.errors.KeyringError:
                pass
        self._session[provider_id] = key
        return False

    def delete(self, provider_id: str) -> None:
        self._session.pop(provider_id, None)
        self._read.pop(provider_id, None)
        if self.persistent:
            with contextlib.suppress(keyring.errors.KeyringError):
                self._backend.delete_password(SERVICE, provider_id)

    def __repr__(self) -> str:
        known = sorted(set(self._session) | {k for k, v in self._read.items() if v})
        return f"KeyStore(persistent={self.persistent}, providers={known})"
