"""Numbers in requests, read strictly: ASCII digits only.

Python's ``int()`` and ``str.isdigit()`` accept far more than 0-9: ``int("٣")`` is 3,
``int("1_000")`` is 1000, and ``"²".isdigit()`` is true though ``int("²")`` raises. The
engine reads every number a client sends (headers and form fields) here, so that anything
but plain digits is a 400 that names the field, never a crash or a silent reading.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from app.core.schema import Schema
from app.engine.errors import EngineError

_UNSIGNED = re.compile(r"[0-9]{1,18}")
_SIGNED = re.compile(r"[+-]?[0-9]{1,18}")
_SPACE = " \t"


def ascii_int(text: str, *, signed: bool = True) -> int | None:
    """The whole number ``text`` spells with ASCII digits (an optional sign if ``signed``,
    spaces and tabs around it), else None. At most 18 digits."""
    core = text.strip(_SPACE)
    return int(core) if (_SIGNED if signed else _UNSIGNED).fullmatch(core) else None


def check_numbers(texts: Iterable[tuple[str, str]], schema: Schema) -> None:
    """Refuse a form field of the image-edit request whose number is not written in ASCII
    digits: whole-number fields must be one; ``size`` may hold no other digits. Raises
    EngineError (400, ``invalid_value``) naming the field."""
    for name, text in texts:
        if not schema.has_field(name):
            continue
        kind = schema.field(name).kind
        if kind == "integer" and ascii_int(text) is None:
            raise EngineError(
                400,
                f"{name}: expected a whole number written with the digits 0-9, got {text[:40]!r}.",
                param=name,
                code="invalid_value",
            )
        if kind == "size" and any(ch.isdigit() and not ch.isascii() for ch in text):
            raise EngineError(
                400,
                f"{name}: write the size with the digits 0-9 (as in 1024x1024), got {text[:40]!r}.",
                param=name,
                code="invalid_value",
            )
