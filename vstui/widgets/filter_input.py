"""The `/` filter box of list screens."""

from __future__ import annotations

from typing import Any

from textual.actions import SkipAction
from textual.binding import Binding
from textual.geometry import Size
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Input, TextArea

# `/` is read before the keys typed after it (a priority binding is handled as the key is
# read, not after it has gone round the focused widget and back), so the box has focus
# when the next key is read: "/docs" typed or pasted in one burst filters on "docs".
FILTER_BINDING = Binding("slash", "filter", "Filter", priority=True)


def open_filter(screen: Screen[Any], box: Input) -> None:
    """Show the filter box and give it the next key at once.

    ``Widget.focus`` moves focus only after the keys already queued, which went to the
    table instead (``s`` sorted, ``d`` ...). A ``/`` typed into a text box stays text.
    """
    if isinstance(screen.focused, Input | TextArea):
        raise SkipAction
    screen.add_class("filtering")
    screen.set_focus(box)


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
