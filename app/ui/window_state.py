"""Where the editor window opens and how its docks are laid out: the saved layout, or a
first size taken from the screen."""

from __future__ import annotations

from PySide6.QtWidgets import QMainWindow

from app.models.settings import Settings


def restore_layout(window: QMainWindow, settings: Settings) -> None:
    geometry, state = settings.window_state()
    if geometry is not None:
        window.restoreGeometry(geometry)
    if state is not None:
        window.restoreState(state)


def size_to_screen(window: QMainWindow, settings: Settings) -> None:
    """The first size comes from the screen (a saved layout overrides it): at most
    1440x900, and never more than 92 % of what the screen has free."""
    if settings.window_state()[0] is not None:
        return
    free = window.screen().availableGeometry()
    window.resize(min(1440, int(free.width() * 0.92)), min(900, int(free.height() * 0.92)))
    window.move(free.center() - window.rect().center())
