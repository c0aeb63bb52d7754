"""The `/` filter box of list screens."""

from __future__ import annotations

from textual.widgets import Input


class FilterInput(Input):
    """An ``Input`` whose keystrokes repaint only itself.

    Textual's ``Input`` sizes its scrollable area to the text typed, so every keystroke
    changes that size and lays out the whole screen again (on a 100,000-row table, a
    large part of a frame). Here the area is at least as wide as the box: typing a
    filter that fits changes nothing outside the box.
    """

    @property
    def content_width(self) -> int:
        return max(super().content_width, self.scrollable_content_region.width)
