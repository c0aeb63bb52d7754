"""The `/` filter box of list screens."""

from __future__ import annotations

from textual.geometry import Size
from textual.widget import Widget
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

    def on_resize(self) -> None:
        # The area the first keystroke would set (from nothing to the box's width), set
        # now that the box has a size, quietly: laid out with the box, not by the first
        # key (which laid out the whole screen again: about 50 ms on a big table).
        self.set_reactive(Widget.virtual_size, Size(self.content_width, 1))
