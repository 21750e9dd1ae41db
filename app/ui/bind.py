"""Ties a declared setting (app.models.settings.Setting) to the widget that shows it, in one
line: the widget starts from the stored value, every change by the designer is stored,
and a change made elsewhere (another window, a test, a reset) is shown."""

from __future__ import annotations

import contextlib

from PySide6.QtWidgets import QAbstractButton, QSpinBox

from app.models.settings import Setting, Settings


def bind(widget: QAbstractButton | QSpinBox, settings: Settings, setting: Setting) -> None:
    """A checkable button for a bool setting, a spin box for an int one. The setting's text
    becomes the tooltip when the widget has none."""
    if not widget.toolTip():
        widget.setToolTip(setting.doc)
    if isinstance(widget, QSpinBox):
        if setting.minimum is not None and setting.maximum is not None:
            widget.setRange(setting.minimum, setting.maximum)
        widget.setValue(settings.get(setting))
        widget.valueChanged.connect(lambda value: settings.set(setting, value))
        show = widget.setValue
    else:
        widget.setCheckable(True)
        widget.setChecked(settings.get(setting))
        widget.toggled.connect(lambda on: settings.set(setting, on))
        show = widget.setChecked

    def on_changed(key: str, value: object) -> None:
        if key == setting.key:
            show(value)  # no echo: Settings.set ignores a value it already holds

    settings.changed.connect(on_changed)

    def forget(*_: object) -> None:
        # RuntimeError: the settings went first (they die with the editor too).
        with contextlib.suppress(RuntimeError):
            settings.changed.disconnect(on_changed)

    widget.destroyed.connect(forget)
