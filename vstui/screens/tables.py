"""What list screens share: one key map (k9s/lazygit), the `/` text filter (`!` inverts,
k9s-style), marks, sorting, raw JSON, a detail line for cut cells, and saving the table."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel
from textual import events, on
from textual.binding import Binding, BindingType
from textual.widgets import Input

from ..widgets.filter_input import FILTER_BINDING, FilterInput, open_filter
from ..widgets.frames import same_frame
from ..widgets.safe import SafeStatic
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


# The status filter every table of files or batches cycles through with `f` (label, API value).
STATUS_FILTERS: list[tuple[str, str | None]] = [
    ("all", None),
    ("in progress", "in_progress"),
    ("completed", "completed"),
    ("failed", "failed"),
    ("cancelled", "cancelled"),
]


def sort_next(screen: VstuiScreen, table: VirtualTable[Any]) -> None:
    """``s``: sort by the next sortable column. The header shows it (▲/▼, or … while a
    big sort is built); only a column hidden at this width is announced (a toast would
    cost a frame)."""
    said = table.sort_announcement(table.cycle_sort())
    if said:
        screen.notify(said, timeout=1.5)


def reverse_sort(table: VirtualTable[Any]) -> None:
    """``S``: reverse the sort (sorting by the first column when there is none)."""
    if table.sorting[0] is None:
        table.cycle_sort()
    # The sort being built, if any (``s`` then ``S`` before a big sort is ready).
    column, reverse = table.sorting
    table.sort_by(column, not reverse)


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
    TableScreen #detail {
        height: auto;
        max-height: 3;
        padding: 0 1;
        background: $panel;
        color: $text-muted;
    }
    """

    # The keys every table screen answers to (the table adds j/k/g/G/pgup/pgdn/enter).
    # A screen adds its own keys in its BINDINGS and implements the hooks below.
    BINDINGS: ClassVar[list[BindingType]] = [
        FILTER_BINDING,
        Binding("f", "status_filter", "Status"),
        Binding("s", "sort", "Sort", show=False),
        Binding("S", "reverse", "Reverse sort", show=False),
        Binding("space", "mark", "Mark"),
        Binding("a", "mark_all", "Mark all", show=False),
        Binding("A", "clear_marks", "Clear marks", show=False),
        Binding("ctrl+d", "delete", "Delete"),
        Binding("y", "raw_json", "Raw JSON", show=False),
        Binding("c", "copy_id", "Copy ID", show=False),
        Binding("q", "back", "Back (quit on the first screen)", show=False),
        Binding("escape", "clear_filter", "Clear filter / back", show=False),
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
        return FilterInput(placeholder=self.FILTER_PLACEHOLDER, id="filter")

    def detail_line(self) -> SafeStatic:
        """The full values of the cursor row's cells that are cut short or hidden."""
        return SafeStatic("", id="detail", markup=False)

    def filter_fields(self, row: Any) -> Iterable[str]:
        """The texts `/` searches in a row: name, ID, status, attributes, errors."""
        raise NotImplementedError

    # -- hooks ------------------------------------------------------------------------------

    def marks_changed(self) -> None:
        """Called after marks changed: update status lines."""
        self.filters_changed()

    def row_json(self, row: Any) -> Any:
        """What ``y`` shows for a row: the object as the server sent it."""
        if isinstance(row, BaseModel):
            return row.model_dump(mode="json", by_alias=True)
        return row

    def row_id(self, row: Any) -> str:
        return str(getattr(row, "id", ""))

    def row_title(self, row: Any) -> str:
        return self.row_id(row)

    def action_status_filter(self) -> None:
        self.notify("This list has no status filter; / filters by text.", timeout=3)

    def action_delete(self) -> None:
        self.notify("Nothing can be deleted from this list.", timeout=3)

    # -- shared actions ---------------------------------------------------------------------

    def action_sort(self) -> None:
        sort_next(self, self.table)

    def action_reverse(self) -> None:
        reverse_sort(self.table)

    def action_mark(self) -> None:
        self.table.toggle_mark()
        self.table.action_cursor(1)
        self.marks_changed()

    def action_mark_all(self) -> None:
        self.table.mark_all_visible()
        self.marks_changed()

    def action_clear_marks(self) -> None:
        self.table.clear_marks()
        self.marks_changed()

    def chosen_rows(self) -> list[Any]:
        """The marked rows, or else the one under the cursor."""
        table = self.table
        if table.marked:
            return table.marked_rows
        return [table.current] if table.current is not None else []

    def action_copy_id(self) -> None:
        row = self.table.current
        if row is not None:
            self.app.copy_to_clipboard(self.row_id(row))
            self.notify(f"Copied {self.row_id(row)}", timeout=2)

    def action_raw_json(self) -> None:
        from .dialogs import JsonScreen

        row = self.table.current
        if row is not None:
            self.app.push_screen(JsonScreen(self.row_title(row), self.row_json(row)))

    def action_back(self) -> None:
        """``q``: back to the screen below; on the first screen, quit (as lazygit)."""
        if self.is_modal_or_nested:
            self.app.pop_screen()
        else:
            self.app.exit()

    @on(VirtualTable.Filtered)
    def _filtered(self, event: VirtualTable.Filtered) -> None:
        self.filters_changed()  # the count is final
        same_frame(self)

    @on(VirtualTable.Highlighted)
    def _show_detail(self, event: VirtualTable.Highlighted) -> None:
        self.update_detail()
        same_frame(self)

    def update_detail(self) -> None:
        for detail in self.query("#detail").results(SafeStatic):
            detail.update(self.table.detail_line())

    def on_resize(self, event: events.Resize) -> None:
        # (Textual also calls VstuiScreen.on_resize: handlers run for every class.)
        self.call_after_refresh(self.update_detail)

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
        # The row under the cursor changed: its detail line goes into this frame too (the
        # Highlighted message comes after the frame, and then finds it up to date).
        self.update_detail()

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
        open_filter(self, self.query_one("#filter", Input))

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
        same_frame(self)

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
        if self.app.is_web:  # `vstui serve`: the browser downloads it, nothing lands on the server
            self._download_table(path.name)
            return
        try:
            rows = self.table.export_rows()
            with path.open("w", newline="", encoding="utf-8") as handle:
                csv.writer(handle).writerows(rows)
        except OSError as exc:
            self.notify(f"Could not save the table: {exc}", severity="error")
            return
        self.notify(f"Saved {len(rows) - 1:,} rows to {path}", title="Saved", timeout=6)

    def _download_table(self, filename: str) -> None:
        buffer = io.StringIO()
        rows = self.table.export_rows()
        csv.writer(buffer).writerows(rows)
        buffer.seek(0)
        self.app.deliver_text(buffer, save_filename=filename, mime_type="text/csv")
        self.notify(
            f"Your browser downloads {len(rows) - 1:,} rows as {filename} "
            "(allow pop-ups for this page if nothing appears).",
            title="Download",
            timeout=8,
        )
