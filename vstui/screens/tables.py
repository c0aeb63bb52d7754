"""What list screens share: `/` text filter (`!` inverts, k9s-style) and saving the table."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, ClassVar

from textual import on
from textual.binding import Binding, BindingType
from textual.widgets import Input

from ..widgets.table import VirtualTable
from .base import VstuiScreen


def text_predicate(needle: str, fields: Callable[[Any], Iterable[str]]) -> Callable[[Any], bool]:
    """Rows whose fields contain ``needle`` (case-insensitive); ``!needle`` keeps the rest."""
    invert = needle.startswith("!")
    wanted = needle[1:].lower() if invert else needle.lower()

    def keep(row: Any) -> bool:
        hit = any(wanted in value.lower() for value in fields(row))
        return hit != invert

    return keep


class TableScreen(VstuiScreen):
    """A screen around one :class:`VirtualTable` (``self.table``) with a filter input."""

    FILTER_PLACEHOLDER: ClassVar[str] = "filter — !text excludes · Enter keeps it, Escape clears"

    DEFAULT_CSS = """
    TableScreen #bar {
        height: 1;
        background: $panel;
        padding: 0 1;
    }
    TableScreen #filter {
        display: none;
        height: 3;
        border: tall $accent;
    }
    TableScreen.filtering #filter {
        display: block;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "filter", "Filter"),
        Binding("escape", "clear_filter", "Clear filter", show=False),
        Binding("ctrl+s", "save_table", "Save table", show=False),
    ]

    text_filter = ""
    _applied: tuple[str, object] | None = None  # (text, extra_key) the table shows
    _filter_pending = False

    @property
    def table(self) -> VirtualTable[Any]:
        raise NotImplementedError

    def on_mount(self) -> None:
        super().on_mount()
        if type(self).filter_fields is not TableScreen.filter_fields:
            # Each row's search text is made once, as the row arrives, not per keystroke.
            self.table.search_fields = self.filter_fields

    def filter_input(self) -> Input:
        return Input(placeholder=self.FILTER_PLACEHOLDER, id="filter")

    def filter_fields(self, row: Any) -> Iterable[str]:
        """The texts `/` searches in a row."""
        raise NotImplementedError

    def extra_predicate(self) -> Callable[[Any], bool] | None:
        """Another condition rows must meet (a status filter), or None."""
        return None

    def filters_changed(self) -> None:
        """Called after the table's filter changed: update status lines."""

    def apply_filter(self) -> None:
        """Filter the table by the text and the extra predicate. When only the text grew
        (and does not invert), the table narrows the rows it shows instead of testing
        every row again."""
        extra = self.extra_predicate()
        needle = self.text_filter if self.text_filter != "!" else ""
        previous = self._applied
        narrower = (
            previous is not None
            and previous[1] == self.extra_key()
            and not needle.startswith("!")
            and not previous[0].startswith("!")
            and previous[0].lower() in needle.lower()
        )
        self._applied = (needle, self.extra_key())
        table = self.table
        if table.search_fields is None:
            table.search_fields = self.filter_fields
        table.set_filter(extra, text=needle, narrower=narrower, cache_key=self._applied)
        self.filters_changed()

    def extra_key(self) -> object:
        """What identifies the extra predicate (the status filter chosen): a filter is
        only narrowed when this did not change."""
        return None

    def text_predicate(self) -> Callable[[Any], bool] | None:
        needle = self.text_filter
        if not needle or needle == "!":
            return None
        return text_predicate(needle, self.filter_fields)

    def action_filter(self) -> None:
        self.add_class("filtering")
        self.query_one("#filter", Input).focus()

    @on(Input.Changed, "#filter")
    def _filter_typed(self, event: Input.Changed) -> None:
        # Keystrokes that arrive together filter once: the filter runs after the
        # messages already queued (the other keys) have been handled.
        self.text_filter = event.value.strip()
        if not self._filter_pending:
            self._filter_pending = True
            self.call_later(self._filter_now)

    def _filter_now(self) -> None:
        self._filter_pending = False
        self.apply_filter()

    @on(Input.Submitted, "#filter")
    def _filter_kept(self) -> None:
        if not self.text_filter:
            self.remove_class("filtering")
        self.table.focus()

    def action_clear_filter(self) -> None:
        if self.text_filter or self.has_class("filtering"):
            self.query_one("#filter", Input).value = ""
            self.text_filter = ""
            self.remove_class("filtering")
            self.apply_filter()
            self.table.focus()
        elif self.is_modal_or_nested:
            self.app.pop_screen()

    @property
    def is_modal_or_nested(self) -> bool:
        """Escape goes back, except on the first screen."""
        return len(self.app.screen_stack) > 2

    def action_save_table(self) -> None:
        """Save what the table shows (filtered and sorted) as CSV in the current folder."""
        stamp = dt.datetime.fromtimestamp(self.session.now(), dt.UTC).strftime("%Y%m%d-%H%M%S")
        name = (self.TITLE or "table").lower().replace(" ", "-")
        path = Path.cwd() / f"vstui-{name}-{stamp}.csv"
        try:
            rows = self.table.export_rows()
            with path.open("w", newline="", encoding="utf-8") as handle:
                csv.writer(handle).writerows(rows)
        except OSError as exc:
            self.notify(f"Could not save the table: {exc}", severity="error")
            return
        self.notify(f"Saved {len(rows) - 1:,} rows to {path}", title="Saved", timeout=6)
