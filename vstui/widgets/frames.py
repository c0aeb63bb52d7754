"""One frame per key: every widget a key changed is painted in the same frame."""

from __future__ import annotations

from textual.screen import Screen
from textual.widget import Widget


def same_frame(screen: Screen[object]) -> None:
    """Hand every repaint the screen's widgets have asked for so far to the screen now.

    Textual (8.2.8, pinned) delivers a widget's repaint when that widget's own message
    loop next goes idle, a few turns of the event loop later, and the screen paints as
    soon as its own queue is empty. After a key changed several widgets (the table, its
    scrollbar, the status line, the detail line), some were painted in one frame and the
    rest in the next, 17 ms later: two frames' work where one does, and a status line a
    frame behind its table. Called at the end of a handler, this posts each pending
    repaint before the screen's queue can empty, so the next frame has them all.
    """
    for widget in screen.walk_children(Widget):
        # (A widget's scrollbars are not among the children walked.)
        for part in (widget, widget._vertical_scrollbar, widget._horizontal_scrollbar):
            if part is not None and (part._repaint_required or part._layout_required):
                part._check_refresh()
