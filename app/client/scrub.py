"""The API key taken out of everything the client hands out.

A server may echo the key anywhere: in an error message, in the ``x-request-id`` of a
successful answer, in an event's fields or its usage object. ``ImageEditClient.edit`` passes
every event, retry notice, warning and error through one ``Scrubber`` as it leaves, so
whatever a caller prints, logs or stores (``retouch edit --json``, the history, the error
bar) never holds the key.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, TypeVar

from app.client.errors import ClientError, ProtocolError

KEY_MARK = "[api key]"
_SHORTEST = 4  # a shorter "key" would blank out ordinary words

T = TypeVar("T")


class Scrubber:
    def __init__(self, api_key: str | None) -> None:
        self._key = api_key if api_key and len(api_key) >= _SHORTEST else None

    def text(self, value: str) -> str:
        key = self._key
        return value.replace(key, KEY_MARK) if key and key in value else value

    def record(self, value: T) -> T:
        """``value`` (a dataclass such as an event, a mapping, a list or a string) with
        the key replaced in every string it holds; the same object when there is none.
        Bytes (the images) are left alone."""
        if self._key is None:
            return value
        return self._clean(value)  # type: ignore[no-any-return]

    def error(self, exc: Exception) -> Exception:
        """The error without the key. A client error keeps its type and attributes; any
        other exception that mentions the key becomes a ProtocolError saying what it was."""
        if self._key is None:
            return exc
        if not isinstance(exc, ClientError):
            text = f"{type(exc).__name__}: {exc}"
            return ProtocolError(self.text(text)) if self.text(text) != text else exc
        values = vars(exc)
        clean_values = {name: self._clean(value) for name, value in values.items()}
        changed = any(clean_values[name] is not value for name, value in values.items())
        if not changed and self.text(str(exc)) == str(exc):
            return exc
        clean = exc.retext(self.text(str(exc)))
        clean.__dict__.update(clean_values)
        return clean

    def _clean(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, bytes | bytearray | memoryview):
            return value
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            changes = {}
            for spec in dataclasses.fields(value):
                if not spec.init:
                    continue
                old = getattr(value, spec.name)
                new = self._clean(old)
                if new is not old:
                    changes[spec.name] = new
            return dataclasses.replace(value, **changes) if changes else value
        if isinstance(value, Mapping):
            pairs = [(self._clean(k), self._clean(v), k, v) for k, v in value.items()]
            if all(nk is k and nv is v for nk, nv, k, v in pairs):
                return value
            return {nk: nv for nk, nv, _, _ in pairs}
        if isinstance(value, list | tuple):
            items = [self._clean(item) for item in value]
            if all(new is old for new, old in zip(items, value, strict=True)):
                return value
            return type(value)(items) if isinstance(value, list) else tuple(items)
        return value
