"""The store list: every vector store in the account, streamed in page by page."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from rich.style import Style
from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Header, Static

from .. import fmt, prefetch
from ..api import VectorStore
from ..refresh import STORE_BUDGET, Polled, Rotation, changed, poll_stores
from ..widgets import palette
from ..widgets.footer import FitFooter
from ..widgets.safe import SafeStatic
from ..widgets.table import Column, VirtualTable, id_column
from .base import RowBuffer, StoreRef, freeze_rows
from .tables import TableScreen

STATUS_FILTERS: list[tuple[str, str | None]] = [
    ("all", None),
    ("expired", "expired"),
    ("in progress", "in_progress"),
    ("completed", "completed"),
]


def files_cell(store: VectorStore, failed_style: Any) -> Text:
    if not store.counts_reported:
        return Text("?")  # the server reports no file counts
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
    MUTATING = frozenset({"delete", "cleanup_expired", "cleanup_orphans", "create"})

    DEFAULT_CSS = """
    StoreListScreen #status {
        width: 1fr;
    }
    """

    # The shared keys (/, f, s/S, space/a/A, ctrl+d, y, c, q…) come from TableScreen.
    BINDINGS = [
        Binding("r,ctrl+r", "refresh", "Refresh", show=False),
        Binding("n", "create", "New store", key_display="n"),
        Binding("X", "cleanup_expired", "Clean up"),
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
        self._expired: set[str] = set()  # kept per row as rows arrive, never recounted
        # Stores the server answered 404 for since the last full listing: greyed, "gone".
        self.gone: set[str] = set()
        self._rotation = Rotation(STORE_BUDGET)
        self._age = ""

    # -- layout ----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="bar"):
            yield SafeStatic("", id="status", markup=False)
        yield self.filter_input()
        self._table: VirtualTable[VectorStore] = VirtualTable(
            self._columns(), row_key=lambda s: s.id, id="stores", empty_text=""
        )
        yield self._table
        yield self.detail_line()
        yield FitFooter(show_command_palette=False)

    @property
    def table(self) -> VirtualTable[VectorStore]:
        return self._table  # (read for every cell drawn: no query)

    def _columns(self) -> list[Column[VectorStore]]:
        now = self.session.now

        def name(store: VectorStore) -> Text | str:
            if store.id in self.gone:
                return Text(store.display_name, style=self.table.muted_style() + Style(strike=True))
            return store.display_name

        def status(store: VectorStore) -> Text:
            if store.id in self.gone:
                return Text("gone", style=self.table.muted_style())
            return Text(store.status, style=self.table.status_style(store.status))

        def expires(store: VectorStore) -> Text:
            policy = store.expires_after
            if store.expires_at is None and policy is not None and not store.is_expired:
                return Text(fmt.policy_expiry(policy.days, policy.anchor, short=True))
            label = fmt.store_expiry(store, now(), self.session.service.capabilities, short=True)
            style = self.table.status_style("expired") if store.is_expired else ""
            return Text(label, style=style)

        def counts(s: VectorStore) -> tuple[int, ...]:
            c = s.file_counts
            return (c.completed, c.in_progress, c.failed, c.cancelled, c.total)

        return [
            Column(
                "name",
                "Name",
                22,
                name,
                lambda s: s.display_name.lower(),
                min_width=12,
                max_width=64,
                priority=1,
                grow=True,
                export=lambda s: s.name or "",
            ),
            # narrow terminals keep the name readable; the detail line has the ID
            id_column(lambda: self.table, priority=5),
            Column("status", "Status", 11, status, lambda s: s.status, priority=1),
            Column(
                "files",
                "Files",
                10,
                lambda s: files_cell(s, self.table.status_style("failed")),
                lambda s: (s.file_counts.total, s.file_counts.failed),
                min_width=9,
                max_width=20,
                priority=2,
                grow=True,
                export=counts,
                export_keys=(
                    "files_completed",
                    "files_in_progress",
                    "files_failed",
                    "files_cancelled",
                    "files_total",
                ),
            ),
            Column(
                "usage",
                "Usage",
                8,
                lambda s: fmt.usage(s, self.session.service.capabilities, short=True),
                lambda s: s.usage_bytes,
                "right",
                priority=3,
                export=lambda s: s.usage_bytes,
            ),
            Column(
                "created",
                "Created",
                9,
                lambda s: fmt.short_relative(s.created_at, now()),
                lambda s: (s.created_at, s.id),  # ties: by ID, whatever order pages came in
                min_width=8,  # "13mo ago" whole (7 cut it to "13mo a…")
                priority=4,
                export=lambda s: fmt.iso(s.created_at),
            ),
            Column(
                "active",
                "Active",
                8,
                lambda s: fmt.short_relative(s.last_active_at, now()),
                lambda s: s.last_active_at or 0,
                min_width=8,
                priority=6,
                export=lambda s: fmt.iso(s.last_active_at),
            ),
            Column(
                "expires",
                "Expires",
                14,
                expires,
                lambda s: (s.expires_at is None, s.expires_at or 0),
                min_width=9,
                priority=3,
                export=lambda s: fmt.iso(s.expires_at),
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
        self._buffer = RowBuffer(self, self._stores_arrived, table=self.table)
        self.action_refresh()
        self.start_auto_refresh()

    # -- loading ---------------------------------------------------------------------------

    def _fetch(self, emit: Callable[[list[VectorStore]], None]) -> set[str]:
        """Every page, emitted as it arrives; returns the IDs listed (kept here in the
        worker: a set of 100,000 IDs growing on the UI thread would cost a frame each
        time it doubles)."""
        seen: set[str] = set()
        service = self.session.service
        pages = prefetch.take(service.settings) or service.walk_stores_both_ends()
        for page in pages:
            seen.update(store.id for store in page)
            emit(page)
        return seen

    def action_refresh(self) -> None:
        """Fetch every page again. Rows already shown stay until the last page says
        which are gone; new and changed rows appear as their page arrives."""
        self.fetching = True
        self.load_error = None
        self._buffer.reset()
        self.cancel_auto_refresh()
        self.run_stream(
            "stores", self._fetch, self._buffer.push, self._stores_done, self._stores_failed
        )
        self._update_empty()
        self._update_status()

    def _stores_arrived(self, stores: list[VectorStore]) -> None:
        if self.gone:  # listed again: not gone (add_rows paints these rows anew)
            self.gone.difference_update(s.id for s in stores)
        self.table.add_rows(stores)
        self._count(stores)
        self._update_empty()
        self._update_status()

    def _stores_done(self, seen: set[str]) -> None:
        """Every page arrived (``seen``: the IDs they held): rows not listed are gone."""
        self._buffer.flush()
        self.fetching = False
        gone = [s.id for s in self.table.rows if s.id not in seen]
        if gone:
            self.table.remove_rows(gone)
            self._expired.difference_update(gone)
        if self.gone:  # every store still there was listed: none is gone any more
            self.gone.clear()
            self.table.refresh_rows()
        self.mark_fresh()
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

    # -- auto-refresh (see VstuiScreen.start_auto_refresh) --------------------------------

    def live_poll_ready(self) -> bool:
        return not self.fetching

    def _on_screen_ids(self) -> list[str]:
        table = self.table
        top = int(table.scroll_offset.y)
        height = max(1, table.scrollable_content_region.height - 1)
        return [s.id for s in table.view[top : top + height] if s.id not in self.gone]

    def live_poll(self) -> None:
        """The newest page (new stores), stores ingesting and, in turn, those on screen."""
        ingesting = [
            s.id
            for s in self.table.rows
            if s.id not in self.gone
            and (s.status == "in_progress" or s.file_counts.in_progress > 0)
        ]
        ids = self._rotation.pick(ingesting, self._on_screen_ids())
        self.run_io(
            "auto",
            partial(poll_stores, self.session.service, ids, newest=True),
            self._polled,
            lambda _error: self.refresh_finished(failed=True),
        )

    def _polled(self, polled: Polled) -> None:
        fresh: list[VectorStore] = list(polled.stores.values())
        gone = set(polled.gone)
        if polled.newest is not None:
            fresh.extend(polled.newest)
            gone |= self._missing_from_newest(polled.newest)
        seen = {s.id for s in fresh}
        gone -= seen
        revived = self.gone & seen  # a 404 that was only a moment's doubt
        self.gone -= revived
        fresh = [s for s in fresh if changed(self.table.get(s.id), s)]
        if fresh:
            self.table.add_rows(fresh)
            self._count(fresh)
        if gone - self.gone or revived:
            self.gone |= gone
            self.table.refresh_rows()
        self.refresh_finished(poll_after_ms=polled.poll_after_ms, rate_limited=polled.rate_limited)
        self._update_empty()
        self._update_status()

    def _missing_from_newest(self, newest: list[VectorStore]) -> set[str]:
        """Stores the newest page should hold (created after its oldest) but does not."""
        if not newest:
            return {s.id for s in self.table.rows} if not self.fetching else set()
        ids = {s.id for s in newest}
        oldest = min(s.created_at for s in newest)
        full = len(newest) >= 100
        return {
            s.id for s in self.table.rows if s.id not in ids and (s.created_at > oldest or not full)
        }

    def show_data_age(self) -> None:
        age = self.data_age()
        if age != self._age:
            self._age = age
            self._update_status()

    @property
    def expired_count(self) -> int:
        """Expired stores still there (gone ones left out): kept per row, never recounted."""
        return len(self._expired) - len(self._expired & self.gone)

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

    def _update_status(self) -> None:
        table = self.table
        shown, total = table.shown_count, table.row_count
        parts = [fmt.plural(total, "store")]
        if self.fetching:
            parts[0] += f" {palette.SPINNER[self._spin]} loading{' more' if total else ''}…"
        if table.filtering:
            parts.append(f"{shown:,} shown so far, filtering…")
        elif shown != total:
            parts.append(f"{shown:,} shown")
        label, _ = STATUS_FILTERS[self.status_index]
        if label != "all":
            parts.append(f"status: {label}")
        if self.text_filter:
            parts.append(f"filter: {self.text_filter!r}")
        if table.marked:
            parts.append(f"{len(table.marked):,} marked")
        if self.gone:
            parts.append(f"{len(self.gone):,} gone")
        expired = hint = ""
        if self.expired_count:
            expired = f"{self.expired_count:,} expired"
            hint = "" if self.session.read_only else " (X to clean up)"
        age = self._age if self._age and not self.fetching else ""
        status = self.query_one("#status", Static)
        # What does not fit goes first (the line is cut at its end): the hint, then the
        # data's age ("updated 4s" had lost its "ago" at 80 columns).
        room = status.content_region.width if status.size else 1 << 16  # (not laid out yet)
        variants = (
            " · ".join(part for part in (*parts, full, self.load_error, when) if part)
            for full, when in ((expired + hint, age), (expired, age), (expired, ""))
        )
        status.update(fmt.first_fitting(variants, room))

    def on_resize(self, event: events.Resize) -> None:
        # (Textual calls the other classes' on_resize too.)
        self._update_status()

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

    def filter_fields(self, store: VectorStore) -> tuple[str, ...]:
        metadata = " ".join(f"{k}={v}" for k, v in (store.metadata or {}).items())
        return (store.id, store.display_name, store.status, metadata)

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

    # -- rows ------------------------------------------------------------------------------

    @on(VirtualTable.Selected, "#stores")
    def _open(self, event: VirtualTable.Selected) -> None:
        from .store_detail import StoreDetailScreen

        self.app.push_screen(StoreDetailScreen(event.row.id, event.row))

    def marks_changed(self) -> None:
        self._update_status()

    def row_title(self, store: VectorStore) -> str:
        return f"Store {store.display_name} ({store.id})"

    def action_create(self) -> None:
        from functools import partial

        from .create_store import CreateStoreScreen, NewStore

        def done(form: NewStore | None) -> None:
            if form is not None:
                self.run_io(
                    "created",
                    partial(self.session.service.create_store, **form.as_kwargs()),
                    self._created,
                    lambda error: self.notify_error(error, title="Could not create the store"),
                )

        self.app.push_screen(CreateStoreScreen(), done)

    def _created(self, store: VectorStore) -> None:
        self.table.add_rows([store])
        self._count([store])
        self._update_status()
        index = next((i for i, s in enumerate(self.table.view) if s.id == store.id), None)
        if index is not None:
            self.table.cursor = index
        self.notify(f"Created {store.display_name} ({store.id})", title="Created", timeout=5)

    # -- cleanup (see screens/cleanup.py) --------------------------------------------------

    def action_delete(self) -> None:
        """One store: a short confirm; several: the review screen with a typed count."""
        from .cleanup import CleanupScreen
        from .store_detail import confirm_delete_store

        stores = self.chosen_rows()
        if not stores:
            self.notify("Nothing to delete: mark stores with space first.", severity="warning")
            return
        if len(stores) == 1:
            confirm_delete_store(self, stores[0], self._deleted_one)
            return
        self.app.push_screen(CleanupScreen(stores=stores, title="Delete stores"))

    def _deleted_one(self, store_id: str) -> None:
        self.table.remove_rows([store_id])
        self._expired.discard(store_id)
        self._update_status()

    def action_cleanup_expired(self) -> None:
        from .cleanup import CleanupScreen

        self.app.push_screen(CleanupScreen(expired=True, title="Clean up expired stores"))

    def action_cleanup_orphans(self) -> None:
        from .cleanup import CleanupScreen

        self.app.push_screen(CleanupScreen(orphans_only=True, title="Delete orphaned files"))
