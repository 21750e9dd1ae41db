"""Shared test setup. Qt runs offscreen; nothing here touches the network."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_LOGGING_RULES", "qt.qpa.*=false")
# Never touch the developer's real keyring: keys live for the session in tests.
os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"

import pytest

from app.core.schema import Schema, load_schema

# Fixtures: qt_loop; editor and start (an editor at the next start); photo and mask.
pytest_plugins = ["tests.support.qtloop", "tests.support.editor", "tests.support.files"]


@pytest.fixture(scope="session")
def schema() -> Schema:
    return load_schema()


@pytest.fixture(scope="session", autouse=True)
def _private_home(tmp_path_factory: pytest.TempPathFactory):
    """`retouch edit` records its jobs in the history (RETOUCH_HOME/history.sqlite3): a
    test that sets no RETOUCH_HOME of its own must not write the developer's real one."""
    if os.environ.get("RETOUCH_HOME"):
        yield
        return
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RETOUCH_HOME", str(tmp_path_factory.mktemp("home")))
        yield
