"""Shared test setup. Qt runs offscreen; nothing here touches the network."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_LOGGING_RULES", "qt.qpa.*=false")
# Never touch the developer's real keyring: keys live for the session in tests.
os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"

import pytest

from app.core.schema import Schema, load_schema

# Fixtures: qt_loop; editor; photo and mask.
pytest_plugins = ["tests.support.qtloop", "tests.support.editor", "tests.support.files"]


@pytest.fixture(scope="session")
def schema() -> Schema:
    return load_schema()
