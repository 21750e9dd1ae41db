"""The parameter panel, generated from the field schema."""

from app.ui.params.editors import FieldEditor, editor_for
from app.ui.params.panel import ParameterPanel

__all__ = ["FieldEditor", "ParameterPanel", "editor_for"]
