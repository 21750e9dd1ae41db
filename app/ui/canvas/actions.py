"""The canvas's commands as QActions with their shortcuts, for its keyboard, toolbars and
the editor's menus.

The actions are added to the canvas with the WidgetWithChildrenShortcut context, so they
fire while the canvas has the focus and two canvases in one window do not fight over a key.
An editor that wants them window-wide can add them to its menus and change the context.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence

from app.ui.canvas.icons import icon
from app.ui.canvas.tools import ToolKind

if TYPE_CHECKING:
    from app.ui.canvas.view import MaskCanvas

TOOLS: tuple[tuple[ToolKind, str, str], ...] = (
    (ToolKind.BRUSH, "Brush", "B"),
    (ToolKind.ERASER, "Eraser", "E"),
    (ToolKind.RECTANGLE, "Rectangle", "M"),
    (ToolKind.ELLIPSE, "Ellipse", "O"),
    (ToolKind.LASSO, "Lasso", "L"),
    (ToolKind.POLYGON, "Polygon", "P"),
    (ToolKind.PAN, "Hand", "H"),
    (ToolKind.REGION, "Region", "C"),
)

TOOL_HINTS = {
    ToolKind.BRUSH: "paint the area to edit; right-drag erases, Shift+click draws a line",
    ToolKind.ERASER: "remove paint; right-drag paints",
    ToolKind.RECTANGLE: "drag a rectangle; Shift for a square, right-drag or Alt subtracts",
    ToolKind.ELLIPSE: "drag an ellipse; Shift for a circle, right-drag or Alt subtracts",
    ToolKind.LASSO: "draw around an area freehand; right-drag or Alt subtracts",
    ToolKind.POLYGON: "click the corners; double-click or Enter closes, Esc cancels",
    ToolKind.PAN: "drag to move the view (also Space+drag or the middle button)",
    ToolKind.REGION: "crop to mask: drag inside the dashed frame to move the region sent, "
    "a corner or an edge to resize it",
}


def _shortcut_text(action: QAction) -> str:
    keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
    return f" ({keys})" if keys else ""


class CanvasActions(QObject):
    """Named QActions of one canvas: ``tool.<kind>``, ``undo``, ``redo``, ``paste``,
    ``brush.smaller|larger|softer|harder|swap|pressure``, ``mask.invert|clear|fill``,
    ``view.fit|actual|zoom_in|zoom_out|outline``."""

    def __init__(self, canvas: MaskCanvas) -> None:
        super().__init__(canvas)
        self._canvas = canvas
        self._actions: dict[str, QAction] = {}
        self.tool_group = QActionGroup(self)
        self.tool_group.setExclusive(True)
        self._build()
        for action in self._actions.values():
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            canvas.addAction(action)
        canvas.tool_changed.connect(self._on_tool_changed)
        canvas.overlay_changed.connect(self._on_overlay_changed)
        self._on_tool_changed(canvas.tool.value)

    def __getitem__(self, name: str) -> QAction:
        return self._actions[name]

    def names(self) -> list[str]:
        return list(self._actions)

    def __iter__(self) -> Iterator[QAction]:
        return iter(self._actions.values())

    def _add(
        self,
        name: str,
        text: str,
        shortcuts: list[QKeySequence | QKeySequence.StandardKey | str] | None = None,
        slot: Callable[..., object] | None = None,
        *,
        icon_name: str | None = None,
        hint: str = "",
    ) -> QAction:
        action = QAction(text, self)
        if shortcuts:
            action.setShortcuts([QKeySequence(s) for s in shortcuts])
        if icon_name:
            action.setIcon(icon(icon_name))
        action.setToolTip(f"{text}{_shortcut_text(action)}" + (f": {hint}" if hint else ""))
        if slot is not None:
            action.triggered.connect(slot)
        self._actions[name] = action
        return action

    def _build(self) -> None:
        canvas = self._canvas
        document, brush = canvas.document, canvas.brush
        for kind, text, key in TOOLS:
            action = self._add(
                f"tool.{kind.value}",
                text,
                [key],
                lambda _checked=False, kind=kind: canvas.set_tool(kind),
                icon_name=kind.value,
                hint=TOOL_HINTS[kind],
            )
            action.setCheckable(True)
            self.tool_group.addAction(action)

        stack = document.undo_stack
        undo = stack.createUndoAction(self, "Undo")
        undo.setShortcuts(QKeySequence.keyBindings(QKeySequence.StandardKey.Undo))
        undo.setIcon(icon("undo"))
        redo = stack.createRedoAction(self, "Redo")
        redo.setShortcuts(QKeySequence.keyBindings(QKeySequence.StandardKey.Redo))
        redo.setIcon(icon("redo"))
        self._actions["undo"], self._actions["redo"] = undo, redo
        self._add("paste", "Paste image", [QKeySequence.StandardKey.Paste], canvas.paste)

        self._add("brush.smaller", "Smaller brush", ["["], brush.shrink)
        self._add("brush.larger", "Larger brush", ["]"], brush.grow)
        self._add(
            "brush.softer",
            "Softer brush",
            ["{", "Shift+["],
            lambda: brush.set_hardness(round(brush.hardness - 0.25, 2)),
        )
        self._add(
            "brush.harder",
            "Harder brush",
            ["}", "Shift+]"],
            lambda: brush.set_hardness(round(brush.hardness + 0.25, 2)),
        )
        self._add("brush.swap", "Swap brush and eraser", ["X"], canvas.swap_brush_and_eraser)
        pressure = self._add(
            "brush.pressure",
            "Pen pressure sets the size",
            None,
            brush.set_pressure_size,
            hint="with a tablet, pressing harder paints a larger dab",
        )
        pressure.setCheckable(True)
        pressure.setChecked(brush.pressure_size)
        brush.changed.connect(lambda: pressure.setChecked(brush.pressure_size))

        self._add(
            "mask.invert", "Invert mask", ["Ctrl+Shift+I"], document.invert, icon_name="invert"
        )
        self._add("mask.clear", "Clear mask", ["Ctrl+D"], document.clear, icon_name="clear")
        self._add("mask.fill", "Fill mask", ["Ctrl+A"], document.fill, icon_name="fill")

        self._add("view.fit", "Fit to window", ["Ctrl+0"], canvas.fit, icon_name="fit")
        self._add("view.actual", "Actual pixels (100 %)", ["Ctrl+1"], canvas.actual_size)
        self._add(
            "view.zoom_in", "Zoom in", [QKeySequence.StandardKey.ZoomIn, "Ctrl+="], canvas.zoom_in
        )
        self._add("view.zoom_out", "Zoom out", [QKeySequence.StandardKey.ZoomOut], canvas.zoom_out)
        outline = self._add(
            "view.outline",
            "Show outline",
            ["Q"],
            canvas.set_outline_mode,
            icon_name="outline",
            hint="marching ants around what will be edited, instead of the colour fill",
        )
        outline.setCheckable(True)
        outline.setIconText("Outline")  # what a toolbar button shows

    def _on_tool_changed(self, kind: str) -> None:
        self._actions[f"tool.{kind}"].setChecked(True)

    def _on_overlay_changed(self) -> None:
        self._actions["view.outline"].setChecked(self._canvas.outline_mode)
