"""The editor's look: a neutral dark theme, as in most image editors, so the photo is what
stands out."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory


def apply_dark_theme(app: QApplication) -> None:
    """A neutral dark theme, as in most image editors, so the photo is what stands out."""
    app.setStyle(QStyleFactory.create("Fusion"))
    palette = QPalette()
    colors = {
        QPalette.ColorRole.Window: QColor(50, 50, 54),
        QPalette.ColorRole.WindowText: QColor(222, 222, 226),
        QPalette.ColorRole.Base: QColor(34, 34, 37),
        QPalette.ColorRole.AlternateBase: QColor(44, 44, 48),
        QPalette.ColorRole.ToolTipBase: QColor(30, 30, 33),
        QPalette.ColorRole.ToolTipText: QColor(230, 230, 235),
        QPalette.ColorRole.Text: QColor(222, 222, 226),
        QPalette.ColorRole.Button: QColor(58, 58, 63),
        QPalette.ColorRole.ButtonText: QColor(222, 222, 226),
        QPalette.ColorRole.Highlight: QColor(64, 128, 255),
        QPalette.ColorRole.HighlightedText: QColor(255, 255, 255),
        QPalette.ColorRole.Link: QColor(110, 160, 255),
        QPalette.ColorRole.PlaceholderText: QColor(140, 140, 146),
    }
    for role, color in colors.items():
        palette.setColor(role, color)
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(120, 120, 126))
    palette.setColor(
        QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText, QColor(120, 120, 126)
    )
    app.setPalette(palette)
    app.setStyleSheet(
        """
        QToolBar { border: none; spacing: 2px; padding: 4px; background: #323236; }
        QToolBar::separator { background: #4a4a50; width: 1px; height: 1px; margin: 5px 6px; }
        QToolButton { border: 1px solid transparent; border-radius: 6px; padding: 4px; }
        QToolButton:hover { background: #44444a; }
        QToolButton:checked { background: #2f4f8f; border-color: #4080ff; }
        QToolButton:focus { border-color: #9cb8ff; }
        QLabel[role="caption"] { color: #a8a8b0; }
        QStatusBar { background: #2a2a2e; color: #a8a8b0; }
        QStatusBar QLabel { color: #a8a8b0; padding: 0 8px; }
        QSlider::groove:horizontal { height: 4px; background: #55555c; border-radius: 2px; }
        QSlider::sub-page:horizontal { background: #4080ff; border-radius: 2px; }
        QSlider::handle:horizontal {
            background: #e8e8ec; width: 12px; height: 12px; margin: -4px 0; border-radius: 6px;
        }
        QMenuBar { background: #2a2a2e; }
        QMenuBar::item:selected { background: #44444a; }
        QDockWidget::title { background: #2a2a2e; padding: 5px 8px; color: #c8c8ce; }
        QLabel[role="hint"] { color: #a8a8b0; }
        QLabel[role="placeholder"] { color: #8a8a92; }
        QLabel[role="tile-caption"] { color: #c8c8ce; }
        QFrame[role="tile"] { background: #2c2c30; border: 1px solid #3c3c42; border-radius: 6px; }
        QLabel[role="tile-picture"] { background: #222225; border-radius: 4px; color: #77777e; }
        QPushButton { background: #3c3c42; border: 1px solid #505057; border-radius: 5px;
            padding: 4px 12px; }
        QPushButton:hover { background: #46464d; }
        QPushButton:pressed { background: #2f4f8f; }
        QPushButton:disabled { background: #34343a; color: #7c7c84; border-color: #424248; }
        QPushButton:focus { border-color: #9cb8ff; }
        QPushButton#generate { background: #2f5fcf; color: white; font-weight: 600;
            padding: 6px 14px; border-radius: 6px; }
        QPushButton#generate:disabled { background: #3a3a40; color: #8a8a92; }
        QPushButton#generate:focus { border: 2px solid #b8ccff; }
        """
    )
