"""The store list: every vector store in the account, streamed in page by page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Footer, Header, Static

from .. import fmt, prefetch
from ..api import VectorStore
from ..widgets import palette
from ..widgets.safe import SafeStatic
from ..widgets.table import Column, VirtualTable
from .base import RowBuffer, StoreRef, freeze_rows
from .tables import TableScreen

STATUS_FILTERS: list[tuple[str, str | None]] = [
    ("all", None),
    ("expired", "expired"),
    ("in progress", "in_progress"),
    ("completed", "completed"),
]


def files_cell(store: VectorStore, failed_style: Any) -> Text:
    counts = store.file_counts
    text = Text(f"{counts.completed}/{counts.total}")
    if counts.failed:
        text.append(f" {palette.FAILED_MARK}{counts.failed}", style=failed_style)
    if counts.in_progress:
        text.append(f" {palette.PENDING_MARK}{counts.in_progress}")
    return text


class StoreListScreen(TableScreen):
    TITLE = "Stores"
    HELP = (
        "Every vector store in the account. Rows stream in page by page; sort, filter "
        "(/text, or /!text to hide matches) and open a store with Enter. Mark stores with "
        "space to act on several at once; ctrl+s saves the table as CSV."
    )
    AUTO_FOCUS = "#stores"
    MUTATING = frozenset({"delete_marked", "cleanup_expired", "cleanup_orphans"})

    DEFAULT_CSS = """
    StoreListScreen #status {
        width: 1fr;
    }
    """

    BINDINGS = [
        Binding("f", "status_filter", "Status"),
        Binding("s", "sort", "Sort"),
        Binding("S", "reverse", "Reverse", show=False),
        Binding("r,ctrl+r", "refresh", "Refresh"),
        Binding("c", "copy_id", "Copy ID"),
        Binding("space", "mark", "Mark"),
        Binding("a", "mark_all", "Mark all", show=False),
        Binding("A", "clear_marks", "Clear marks", show=False),
        Binding("ctrl+d", "delete_marked", "Delete"),
        Binding("X", "cleanup_expired", "Clean up expired"),
        Binding("O", "cleanup_orphans", "Orphaned files", show=False),
        Binding("b", "app.batches", "Batches"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.status_index = 0
        # Pages are still arriving. (Not ``loading``: that is Textual's own flag, which
        # would hide the whole screen under a spinner until the last page.)
        self.fetching = False
        self.load_error: str | None = None
        self._spin = 0
        self._seen: set[str] = set()
        self._expired: set[str] = set()  # kept per row as rows arrive, never recounted

    # -- layout ----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="bar"):
            yield SafeStatic("", id="status", markup=False)
        yield self.filter_input()
        yield VirtualTable(self._columns(), row_key=lambda s: s.id, id="stores", empty_text="")
        yield Footer(show_command_palette=False)

    @property
    def table(self) -> VirtualTable[VectorStore]:
        return self.query_one("#stores", VirtualTable)

    def _columns(self) -> list[Column[VectorStore]]:
        now = self.session.now

        def status(store: VectorStore) -> Text:
            return Text(store.status, style=self.table.status_style(store.status))

        def expires(store: VectorStore) -> Text:
            label = fmt.short_expiry(store.expires_at, store.status, now())
            style = self.table.status_style("expired") if store.is_expired else ""
            return Text(label, style=style)

        return [
            Column("name", "Name", 22, lambda s: s.display_name, lambda s: s.display_name.lower()),
            Column(
                "id", "ID", 27, lambda s: Text(s.id, style=self.table.muted_style()), lambda s: s.id
            ),
            Column("status", "Status", 11, status, lambda s: s.status),
            Column(
                "files",
                "Files",
                10,
                lambda s: files_cell(s, self.table.status_style("failed")),
                lambda s: (s.file_counts.total, s.file_counts.failed),
            ),
            Column(
                "usage",
                "Usage",
                8,
                lambda s: fmt.human_bytes(s.usage_bytes),
                lambda s: s.usage_bytes,
                "right",
            ),
            Column(
                "created",
                "Created",
                9,
                lambda s: fmt.short_relative(s.created_at, now()),
                lambda s: s.created_at,
            ),
            Column(
                "active",
                "Active",
                8,
                lambda s: fmt.short_relative(s.last_active_at, now()),
                lambda s: s.last_active_at or 0,
            ),
            Column(
                "expires",
                "Expires",
                14,
                expires,
                lambda s: (s.expires_at is None, s.expires_at or 0),
            ),
        ]

    def selected_store(self) -> StoreRef | None:
        store = self.table.current
        return StoreRef(store.id, store) if store is not None else None

    def on_mount(self) -> None:
        super().on_mount()
        self.title = "vstui · Stores"
        self.table.sort_by("created", reverse=True)
        self.table.focus()
        self.set_interval(0.1, self._tick)
        self._buffer = RowBuffer(self, self._stores_arrived)
        self.action_refresh()

    # -- loading ---------------------------------------------------------------------------

    def _fetch(self, emit: Callable[[list[VectorStore]], None]) -> int:
        total = 0
        service = self.session.service
        pages = prefetch.take(service.settings) or service.walk_stores_both_ends()
        for page in pages:
            total += len(page)
            emit(page)
        return total

    def action_refresh(self) -> None:
        """Fetch every page again. Rows already shown stay until the last page says
        which are gone; new and changed rows appear as their page arrives."""
        self.fetching = True
        self.load_error = None
        self._seen = set()
        self._buffer.reset()
        self.run_stream(
            "stores", self._fetch, self._buffer.push, self._stores_done, self._stores_failed
        )
        self._update_empty()
        self._update_status()

    def _stores_arrived(self, stores: list[VectorStore]) -> None:
        self._seen.update(s.id for s in stores)
        self.table.add_rows(stores)
        self._count(stores)
        self._update_empty()
        self._update_status()

    def _stores_done(self, total: int) -> None:
        self._buffer.flush()
        self.fetching = False
        gone = [s.id for s in self.table.rows if s.id not in self._seen]
        if gone:
            self.table.remove_rows(gone)
            self._expired.difference_update(gone)
        self._update_empty()
        self._update_status()
        freeze_rows()

    def _stores_failed(self, error: BaseException) -> None:
        self._buffer.flush()  # what did arrive is shown, even when a later page fails
        self.fetching = False
        self.notify_error(error, title="Loading stores failed")
        self.load_error = "a page failed to load — press r to retry"
        self._update_empty()
        self._update_status()

    def _tick(self) -> None:
        if self.fetching:
            self._spin = (self._spin + 1) % len(palette.SPINNER)
            self._update_status()

    @property
    def expired_count(self) -> int:
        return len(self._expired)

    def _count(self, stores: list[VectorStore]) -> None:
        """Counts over every row, updated by the rows that changed (O(page), not O(n))."""
        for store in stores:
            if store.is_expired:
                self._expired.add(store.id)
            else:
                self._expired.discard(store.id)

    def _update_empty(self) -> None:
        if self.fetching:
            self.table.empty_text = "Loading…"
        elif self.load_error and not self.table.row_count:
            self.table.empty_text = "Could not load the stores. Press r to retry."
        elif not self.table.row_count:
            self.table.empty_text = "This account has no vector stores yet."
        else:
            self.table.empty_text = "No store matches the filter. Escape clears it."
        self.table.refresh_rows()

    def _update_status(self) -> None:
        table = self.table
        shown, total = table.shown_count, table.row_count
        parts = [fmt.plural(total, "store")]
        if self.fetching:
            parts[0] += f" {palette.SPINNER[self._spin]} loading{' more' if total else ''}…"
        if shown != total:
            parts.append(f"{shown:,} shown")
        label, _ = STATUS_FILTERS[self.status_index]
        if label != "all":
            parts.append(f"status: {label}")
        if self.text_filter:
            parts.append(f"filter: {self.text_filter!r}")
        if table.marked:
            parts.append(f"{len(table.marked):,} marked")
        if self.expired_count:
            parts.append(f"{self.expired_count:,} expired (X to clean up)")
        if self.load_error:
            parts.append(self.load_error)
        self.query_one("#status", Static).update(" · ".join(parts))

    # -- returning from other screens ------------------------------------------------------

    def on_screen_resume(self, event: events.ScreenResume) -> None:
        changes = self.session.take_store_changes()
        if not changes:
            return
        removed = [sid for sid, store in changes.items() if store is None]
        updated = [store for store in changes.values() if store is not None]
        if removed:
            self.table.remove_rows(removed)
            self._expired.difference_update(removed)
        if updated:
            self.table.add_rows(updated)
            self._count(updated)
        self._update_status()

    # -- filtering and sorting -------------------------------------------------------------

    def filter_fields(self, store: VectorStore) -> tuple[str, str]:
        return (store.id, store.display_name)

    def extra_predicate(self) -> Callable[[VectorStore], bool] | None:
        _, status = STATUS_FILTERS[self.status_index]
        if status is None:
            return None
        return lambda store: store.status == status

    def extra_key(self) -> object:
        return self.status_index

    def filters_changed(self) -> None:
        self._update_empty()
        self._update_status()

    def action_status_filter(self) -> None:
        self.status_index = (self.status_index + 1) % len(STATUS_FILTERS)
        self.apply_filter()

    def action_sort(self) -> None:
        label = self.table.cycle_sort()
        self.notify(f"Sorted by {label}", timeout=1.5)

    def action_reverse(self) -> None:
        self.table.sort_by(self.table.sort_column, not self.table.sort_reverse)

    # -- rows ------------------------------------------------------------------------------

    @on(VirtualTable.Selected, "#stores")
    def _open(self, event: VirtualTable.Selected) -> None:
        from .store_detail import StoreDetailScreen

        self.app.push_screen(StoreDetailScreen(event.row.id, event.row))

    def action_copy_id(self) -> None:
        store = self.table.current
        if store is not None:
            self.app.copy_to_clipboard(store.id)
            self.notify(f"Copied {store.id}", timeout=2)

    def action_mark(self) -> None:
        self.table.toggle_mark()
        self.table.action_cursor(1)
        self._update_status()

    def action_mark_all(self) -> None:
        self.table.mark_all_visible()
        self._update_status()

    def action_clear_marks(self) -> None:
        self.table.clear_marks()
        self._update_status()

    # -- cleanup (see screens/cleanup.py) --------------------------------------------------

    def action_delete_marked(self) -> None:
        from .cleanup import CleanupScreen

        stores = self.table.marked_rows or ([self.table.current] if self.table.current else [])
        if not stores:
            self.notify("Nothing to delete: mark stores with space first.", severity="warning")
            return
        self.app.push_screen(CleanupScreen(stores=stores, title="Delete stores"))

    def action_cleanup_expired(self) -> None:
        from .cleanup import CleanupScreen

        self.app.push_screen(CleanupScreen(expired=True, title="Clean up expired stores"))

    def action_cleanup_orphans(self) -> None:
        from .cleanup import CleanupScreen

        self.app.push_screen(CleanupScreen(orphans_only=True, title="Delete orphaned files"))
