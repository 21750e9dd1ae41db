"""Qt infrastructure that is neither state nor a widget: how the process runs Qt."""
