"""Shared test setup. Qt runs offscreen; nothing here touches the network."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_LOGGING_RULES", "qt.qpa.*=false")

import pytest

from app.core.schema import Schema, load_schema

pytest_plugins = ["tests.support.qtloop"]  # the qt_loop fixture


@pytest.fixture(scope="session")
def schema() -> Schema:
    return load_schema()
