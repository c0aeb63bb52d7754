"""Widgets: the virtual table and the file-count bars."""
