"""A footer that never cuts a key in half: keys that do not fit are left out whole.

The order of a screen's ``BINDINGS`` is its priority order: on a narrow terminal the
footer drops keys from the end (every key stays listed in the help, ``?``, which is
always first), but keeps the app's Quit key last so it is never the one that goes.
"""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.widget import Widget
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

# Kept however narrow the terminal: how to get help and how to leave.
_KEEP = frozenset({"app.help", "help", "app.quit", "quit"})


def key_width(key: FooterKey, compact: bool) -> int:
    """Cells one key takes in the footer, margins included (Textual's footer CSS)."""
    from rich.cells import cell_len

    if not key.description:
        return cell_len(key.key_display) + (1 if compact else 0)
    # compact: "k desc" and a margin of 1; otherwise " k " and "desc ", no margin
    return cell_len(key.key_display) + cell_len(key.description) + (2 if compact else 3)


def fit_keys(widths: list[int], keep: list[bool], room: int) -> list[bool]:
    """Which keys to show: drop from the end (skipping kept ones) until the rest fit."""
    shown = [True] * len(widths)
    total = sum(widths)
    for i in reversed(range(len(widths))):
        if total <= room:
            break
        if not keep[i]:
            shown[i] = False
            total -= widths[i]
    return shown


class FitFooter(Footer):
    """:class:`Footer` whose keys fit its width; see the module docstring."""

    def compose(self) -> ComposeResult:
        items: list[Widget] = list(super().compose())
        keys = [w for w in items if isinstance(w, FooterKey)]
        room = self.size.width or self.app.size.width
        widths = [key_width(k, self.compact) for k in keys]
        shown = fit_keys(widths, [k.action in _KEEP for k in keys], room)
        dropped = {id(k) for k, show in zip(keys, shown, strict=True) if not show}
        self.styles.grid_size_columns = len(items) - len(dropped)
        for widget in items:
            if id(widget) not in dropped:
                yield widget

    def _refit(self) -> None:
        if self.is_attached:
            self.call_after_refresh(self.recompose)

    def on_resize(self, event: events.Resize) -> None:
        self._refit()

    def watch_compact(self, compact: bool) -> None:
        self._refit()
