"""Observable state and actions (QtCore/QtGui only, never widgets)."""
