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


def typing_in_a_box(screen: Screen[Any]) -> bool:
    """Whether the focused widget takes ``/`` as text (an Input, an editable TextArea)."""
    focused = screen.focused
    if isinstance(focused, TextArea):
        return not focused.read_only
    return isinstance(focused, Input)


def focus_box_at_once(screen: Screen[Any], box: Input, screen_class: str = "") -> None:
    """Give ``box`` the next key at once (and ``screen_class`` to ``screen``, which shows it):
    the action of a priority ``/`` binding (filter boxes, the help and pager searches).

    ``Widget.focus`` moves focus only after the keys already queued, which went to the
    widget focused before (the table: ``s`` sorted, ``d`` ...). A ``/`` typed into a text
    box stays text (a read-only TextArea takes no text: ``/`` opens the box there).
    """
    if typing_in_a_box(screen):
        raise SkipAction
    if screen_class:
        screen.add_class(screen_class)
    screen.set_focus(box)


def open_filter(screen: Screen[Any], box: Input) -> None:
    """Show the filter box and give it the next key at once."""
    focus_box_at_once(screen, box, "filtering")


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
