"""Layering rules that import-linter cannot express (it forbids only whole external
packages, not PySide6.QtWidgets alone)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[2] / "app"


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_the_scan_sees_widget_imports(tmp_path: Path) -> None:
    sample = tmp_path / "m.py"
    sample.write_text("from PySide6 import QtWidgets\nfrom PySide6.QtWidgets import QLabel\n")
    assert {"PySide6.QtWidgets"} <= imported_modules(sample)


NO_WIDGETS = sorted(
    [
        *(APP / "models").rglob("*.py"),
        *(APP / "qt").rglob("*.py"),
        *(APP / "services").rglob("*.py"),
    ]
)


@pytest.mark.parametrize("path", NO_WIDGETS, ids=str)
def test_models_never_import_widgets(path: Path) -> None:
    assert not {m for m in imported_modules(path) if m.startswith("PySide6.QtWidgets")}


@pytest.mark.parametrize("path", sorted(APP.rglob("*.py")), ids=str)
def test_no_module_is_over_500_lines(path: Path) -> None:
    """A module a newcomer can read at one sitting (issue 11)."""
    assert len(path.read_text(encoding="utf-8").splitlines()) <= 500


def test_the_main_window_only_lays_out_and_wires() -> None:
    """Its features live in their own modules and its state in app.models."""
    window = (APP / "ui" / "main_window.py").read_text(encoding="utf-8")
    assert len(window.splitlines()) <= 300
    assert not {m for m in imported_modules(APP / "ui" / "main_window.py") if "QFileDialog" in m}
