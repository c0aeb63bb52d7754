"""The batch monitor: live progress of every batch the app knows and every store ingesting."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.markup import escape
from textual.timer import Timer
from textual.widgets import Header, Label, Static

from .. import fmt
from ..api import FileBatch, FileCounts, NotFoundError, VectorStore
from ..monitor import Monitor, PollResult, Tracked, poll
from ..session import RememberedBatch
from ..widgets import palette
from ..widgets.bars import stacked
from ..widgets.footer import FitFooter
from ..widgets.safe import SafeStatic
from ..widgets.table import Column, VirtualTable
from .dialogs import ConfirmScreen, PromptScreen
from .tables import STATUS_FILTERS, TableScreen

R = TypeVar("R")


def count_column(
    key: str,
    header: str,
    width: int,
    counts: Callable[[R], FileCounts],
    field: str,
    priority: int = 4,
) -> Column[R]:
    """A right-aligned column of one file count (``completed``, ``failed``…)."""

    def value(row: R) -> int:
        number: int = getattr(counts(row), field)
        return number

    return Column(
        key, header, width, lambda row: str(value(row)), value, "right", priority=priority
    )


def store_counts(store: VectorStore) -> FileCounts:
    return store.file_counts


def batch_id(tracked: Tracked) -> str:
    return tracked.batch_id


def muted(table: VirtualTable[Any], text: str) -> Text:
    return Text(text, style=table.muted_style())


def parse_batch_reference(text: str, default_store: str | None) -> tuple[str, str] | str:
    """'vs_x vsfb_y', 'vs_x/vsfb_y' or (with a current store) 'vsfb_y' → (store, batch)."""
    parts = [p for p in re.split(r"[\s/,]+", text.strip()) if p]
    if len(parts) == 2:
        return parts[0], parts[1]
    if len(parts) == 1 and default_store:
        return default_store, parts[0]
    if len(parts) == 1 and parts[0].startswith("vs_"):
        return "That is a store ID: add the batch ID after it ('STORE_ID BATCH_ID')."
    if len(parts) == 1 and not parts[0].startswith("vsfb_"):
        return "Not a batch ID (they start with vsfb_): paste 'STORE_ID BATCH_ID'."
    if len(parts) == 1:
        return "The API needs the store too: paste 'STORE_ID BATCH_ID'."
    return "Paste a batch ID, or 'STORE_ID BATCH_ID'."


class BatchMonitorScreen(TableScreen):
    TITLE = "Batch monitor"
    HELP = (
        "Live ingestion: every batch vstui knows (opened here, created from the app, or "
        "remembered from earlier runs) and every store with files in progress. Polling "
        "follows the server's suggested interval, backs off on 429, and pauses while this "
        "screen is hidden."
    )
    AUTO_FOCUS = "#batches"
    MUTATING = frozenset({"cancel_batch"})

    DEFAULT_CSS = """
    BatchMonitorScreen .section {
        height: 1;
        background: $panel;
        padding: 0 1;
        text-style: bold;
    }
    BatchMonitorScreen #batches {
        height: 1fr;
    }
    BatchMonitorScreen #ingesting {
        height: 1fr;
    }
    BatchMonitorScreen #poll-status {
        height: 1;
        padding: 0 1;
        color: $text-muted;
    }
    """

    # The shared keys (/, f, s/S, space/a/A, ctrl+d, y, c, q…) come from TableScreen;
    # they act on the table that has focus (tab switches).
    BINDINGS = [
        Binding("o", "open_batch", "Open batch ID"),
        Binding("x", "cancel_batch", "Cancel batch"),
        # (Batches cannot be deleted: the shared ctrl+d cancels the marked ones here.)
        Binding("ctrl+d", "delete", "Cancel marked"),
        Binding("delete,backspace", "forget", "Forget"),
        Binding("F", "failed_files", "Failed files"),
        Binding("r", "poll_now", "Poll now"),
        Binding("c", "copy_id", "Copy ID", show=False),
        Binding("tab", "app.focus_next", "Next table", show=False),
    ]

    def __init__(self, store_id: str | None = None) -> None:
        super().__init__()
        self.context_store = store_id
        self.paused = False
        self.monitor = Monitor()
        self._timer: Timer | None = None
        self.status_index = 0

    EMPTY_BATCHES = "No batches yet. Press o to open one by its ID."
    EMPTY_STORES = "No store has files in progress."

    # -- layout ----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        yield self.filter_input()
        yield Label("Batches", classes="section", id="batches-title")
        yield VirtualTable(
            self._batch_columns(),
            row_key=lambda t: t.batch_id,
            id="batches",
            empty_text=self.EMPTY_BATCHES,
        )
        yield Label("Stores ingesting", classes="section", id="ingesting-title")
        yield VirtualTable(
            self._store_columns(),
            row_key=lambda s: s.id,
            id="ingesting",
            empty_text=self.EMPTY_STORES,
        )
        yield self.detail_line()
        yield SafeStatic("", id="poll-status")
        yield FitFooter(show_command_palette=False)

    @property
    def batches(self) -> VirtualTable[Tracked]:
        return self.query_one("#batches", VirtualTable)

    @property
    def stores(self) -> VirtualTable[VectorStore]:
        return self.query_one("#ingesting", VirtualTable)

    @property
    def table(self) -> VirtualTable[Any]:
        """The table the shared keys act on: the one with focus (else the batches)."""
        return self.stores if self.focused is self.stores else self.batches

    def filter_fields(self, row: Any) -> tuple[str, ...]:
        if isinstance(row, Tracked):
            return (row.batch_id, row.store_id, self.monitor.store_name(row.store_id), row.status)
        return (row.id, row.display_name, row.status)

    def extra_predicate(self) -> Callable[[Any], bool] | None:
        _, status = STATUS_FILTERS[self.status_index]
        if status is None:
            return None
        return lambda row: row.status == status

    def apply_filter(self) -> None:
        # One filter for both tables: the same text and status apply to each.
        text = self.text_predicate()
        extra = self.extra_predicate()
        predicate = text or extra
        if text is not None and extra is not None:

            def predicate(row: Any) -> bool:
                return extra(row) and text(row)

        for table in (self.batches, self.stores):
            table.set_filter(predicate)
        self.filters_changed()

    def action_status_filter(self) -> None:
        self.status_index = (self.status_index + 1) % len(STATUS_FILTERS)
        self.apply_filter()
        self.notify(f"Status: {STATUS_FILTERS[self.status_index][0]}", timeout=1.5)

    def row_json(self, row: Any) -> Any:
        if isinstance(row, Tracked):
            if row.batch is None:
                return {"id": row.batch_id, "vector_store_id": row.store_id}
            return row.batch.model_dump(mode="json", by_alias=True)
        return super().row_json(row)

    def row_id(self, row: Any) -> str:
        return row.batch_id if isinstance(row, Tracked) else str(row.id)

    def _bar(self, table: VirtualTable[Any], counts: FileCounts | None) -> Text:
        return stacked(counts or FileCounts(), 16, table.bar_styles())

    def _batch_columns(self) -> list[Column[Tracked]]:
        def counts(t: Tracked) -> FileCounts:
            return t.batch.file_counts if t.batch else FileCounts()

        def status(t: Tracked) -> Text:
            return Text(t.status, style=self.batches.status_style(t.status))

        def rate(t: Tracked) -> str:
            value = t.rate_per_minute()
            return "—" if value is None else f"{value:.1f}/min"

        def eta(t: Tracked) -> str:
            if t.gone:
                return "—"
            if t.terminal:
                return "done"
            return fmt.duration(t.eta_seconds())

        return [
            Column(
                "store",
                "Store",
                18,
                lambda t: self.monitor.store_name(t.store_id),
                lambda t: self.monitor.store_name(t.store_id),
                min_width=10,
                max_width=40,
                priority=1,
                grow=True,
            ),
            Column(
                "batch",
                "Batch ID",
                36,
                lambda t: muted(self.batches, t.batch_id),
                batch_id,
                min_width=10,
                max_width=40,
                priority=2,
                grow=True,
            ),
            Column("status", "Status", 11, status, lambda t: t.status, priority=1),
            Column(
                "progress",
                "Progress",
                16,
                lambda t: self._bar(self.batches, counts(t)),
                lambda t: t.done,
                priority=3,
            ),
            Column(
                "done",
                "Done",
                7,
                lambda t: f"{t.done}/{counts(t).total}",
                lambda t: t.done,
                "right",
                priority=2,
            ),
            count_column("completed", "✓", 4, counts, "completed"),
            count_column("failed", palette.FAILED_MARK, 4, counts, "failed"),
            count_column("cancelled", "⊘", 3, counts, "cancelled"),
            count_column("running", palette.PENDING_MARK, 4, counts, "in_progress"),
            Column(
                "rate", "Rate", 9, rate, lambda t: t.rate_per_minute() or 0.0, "right", priority=5
            ),
            Column("eta", "ETA", 7, eta, lambda t: t.eta_seconds() or 0.0, "right", priority=3),
        ]

    def _store_columns(self) -> list[Column[VectorStore]]:
        def status(s: VectorStore) -> Text:
            return Text(s.status, style=self.stores.status_style(s.status))

        return [
            Column(
                "name",
                "Store",
                22,
                lambda s: s.display_name,
                lambda s: s.display_name.lower(),
                min_width=10,
                max_width=48,
                priority=1,
                grow=True,
            ),
            Column(
                "id",
                "ID",
                27,
                lambda s: muted(self.stores, s.id),
                lambda s: s.id,
                min_width=14,
                max_width=40,
                priority=3,
                grow=True,
            ),
            Column("status", "Status", 11, status, lambda s: s.status, priority=1),
            Column(
                "progress",
                "Progress",
                16,
                lambda s: self._bar(self.stores, s.file_counts),
                lambda s: s.file_counts.completed,
                priority=3,
            ),
            count_column("running", "In progress", 11, store_counts, "in_progress", 2),
            count_column("completed", "Completed", 9, store_counts, "completed", 2),
            count_column("failed", "Failed", 6, store_counts, "failed", 2),
            count_column("total", "Total", 6, store_counts, "total", 2),
        ]

    def on_mount(self) -> None:
        super().on_mount()
        self.title = "vstui · Batch monitor"
        # Fixed orders: results arrive from concurrent walks in no particular order.
        self.batches.sort_by("store")
        self.stores.sort_by("name")
        for remembered in self.session.state.batches(self.session.account_key):
            self._track(remembered.store_id, remembered.batch_id)
        self.batches.focus()
        self._poll_now()

    # -- tracking --------------------------------------------------------------------------

    def _track(self, store_id: str, batch_id: str) -> Tracked:
        tracked, new = self.monitor.track(store_id, batch_id)
        if new:
            self.batches.add_rows([tracked])
        return tracked

    def track(self, store_id: str, batch_id: str, batch: FileBatch | None = None) -> None:
        """Follow a batch (and remember it for the next run); ``batch``: as just read."""
        tracked = self._track(store_id, batch_id)
        if batch is not None and tracked.batch is None:
            tracked.batch = batch
            self.batches.add_rows([tracked])  # (its row, drawn again)
        self.session.state.remember_batch(
            self.session.account_key, RememberedBatch(store_id, batch_id)
        )
        self._poll_now()

    # -- polling (never overlapping, paused while hidden; the rules are in Monitor) --------

    def _schedule(self, delay: float) -> None:
        if self.paused or self._timer is not None:
            return
        self._timer = self.set_timer(delay, self._poll_now)

    def _poll_now(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if self.paused:
            return
        plan = self.monitor.begin(self.session.now())
        if plan is None:
            return
        self.run_io(
            "poll",
            partial(poll, self.session.service, plan),
            self._polled,
            self._poll_failed,
        )
        self._update_status()

    def _polled(self, result: PollResult) -> None:
        applied = self.monitor.apply(result, self.session.now())
        for notice in applied.notices:
            self.notify(
                notice.message,
                title=notice.title,
                severity="warning" if notice.warning else "information",
                timeout=notice.timeout,
            )
        for store in applied.stores_done:
            self.session.store_changed(store.id, store)
        self.stores.set_rows(self.monitor.ingesting.values())
        self.batches.refresh_rows()
        self.batches.add_rows([])  # re-sort with fresh numbers
        self._schedule(self.monitor.next_delay())
        self._update_status()

    def _poll_failed(self, error: BaseException) -> None:
        self.notify_error(error, title="Polling failed")
        self._schedule(self.monitor.failed())
        self._update_status()

    def filters_changed(self) -> None:
        self._update_empty()

    def _update_empty(self) -> None:
        """Rows hidden by the filter are not "no rows" (each table has its own text)."""
        filtered = bool(self.text_filter) or STATUS_FILTERS[self.status_index][1] is not None
        for table, empty in ((self.batches, self.EMPTY_BATCHES), (self.stores, self.EMPTY_STORES)):
            hidden = filtered and table.row_count
            table.empty_text = "Nothing matches the filter. Escape clears it." if hidden else empty

    def _update_status(self) -> None:
        self._update_empty()
        monitor = self.monitor
        running = monitor.running
        state = "polling…" if monitor.polling else f"next poll in {monitor.interval:.0f}s"
        if self.paused:
            state = "paused"
        if not running and not monitor.ingesting and not monitor.polling:
            state = f"idle · checking for new ingestion every {monitor.rescan_every:.0f}s"
        gone = sum(1 for t in monitor.tracked.values() if t.gone)
        missing = f"{gone:,} not found (delete forgets) · " if gone else ""
        self.query_one("#poll-status", Static).update(
            f"{fmt.plural(running, 'batch', 'batches')} running · {missing}"
            f"{fmt.plural(len(monitor.ingesting), 'store')} ingesting · {state}"
        )

    def on_screen_suspend(self, event: events.ScreenSuspend) -> None:
        self.paused = True
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    def on_screen_resume(self, event: events.ScreenResume) -> None:
        # Batches created elsewhere in the app while this screen was hidden.
        for remembered in self.session.state.batches(self.session.account_key):
            self._track(remembered.store_id, remembered.batch_id)
        if self.paused:
            self.paused = False
            self.monitor.poll_everything()
            self._poll_now()

    def action_poll_now(self) -> None:
        self.monitor.poll_everything()
        self._poll_now()

    # -- actions ---------------------------------------------------------------------------

    def action_open_batch(self) -> None:
        def validate(text: str) -> str | None:
            parsed = parse_batch_reference(text, self.context_store)
            return parsed if isinstance(parsed, str) else None

        def done(text: str | None) -> None:
            if text:
                parsed = parse_batch_reference(text, self.context_store)
                if not isinstance(parsed, str):
                    self._open_checked(*parsed)

        hint = "The API has no list of batches: paste 'STORE_ID BATCH_ID'"
        if self.context_store:
            hint += f" (or just the batch ID, for {self.context_store})"
        self.app.push_screen(
            PromptScreen("Open a batch", placeholder="vs_… vsfb_…", hint=hint, validate=validate),
            done,
        )

    def _open_checked(self, store_id: str, batch_id: str) -> None:
        """Follow a batch typed in, once the server knows it: a typo is said at once
        (it was listed as "not found" until forgotten with delete). Other errors leave
        it to the polling, which retries."""

        def failed(error: BaseException) -> None:
            if isinstance(error, NotFoundError):
                self.notify(
                    f"No batch {batch_id} in store {store_id}: nothing was added.",
                    title="Batch not found",
                    severity="error",
                    timeout=8,
                )
            else:
                self.track(store_id, batch_id)

        self.run_io(
            f"open {store_id} {batch_id}",  # (one key for all: a second open dropped the first)
            partial(self.session.service.retrieve_batch, store_id, batch_id),
            lambda batch: self.track(store_id, batch_id, batch),
            failed,
        )

    def _selected_batch(self) -> Tracked | None:
        if self.focused is self.batches or self.focused is not self.stores:
            return self.batches.current
        return None

    @on(VirtualTable.Selected, "#batches")
    def _open_batch_files(self, event: VirtualTable.Selected) -> None:
        from .file_list import FileListScreen

        tracked: Tracked = event.row
        self.app.push_screen(FileListScreen(tracked.store_id, batch_id=tracked.batch_id))

    @on(VirtualTable.Selected, "#ingesting")
    def _open_store_files(self, event: VirtualTable.Selected) -> None:
        from .file_list import FileListScreen

        store: VectorStore = event.row
        self.app.push_screen(FileListScreen(store.id, store=store, status="in_progress"))

    def action_failed_files(self) -> None:
        from .file_list import FileListScreen

        tracked = self._selected_batch()
        if tracked is not None:
            self.app.push_screen(
                FileListScreen(tracked.store_id, batch_id=tracked.batch_id, status="failed")
            )

    def action_copy_id(self) -> None:
        """Copy the batch ID (or, in the stores table, the store ID)."""
        if self.focused is self.stores and self.stores.current is not None:
            value = self.stores.current.id
        elif (tracked := self._selected_batch()) is not None:
            value = tracked.batch_id
        else:
            return
        self.app.copy_to_clipboard(value)
        self.notify(f"Copied {value}", timeout=2)

    def action_forget(self) -> None:
        tracked = self._selected_batch()
        if tracked is not None:
            self.batches.remove_rows([tracked.batch_id])
            self.monitor.forget(tracked.batch_id)
            self.session.state.forget_batch(self.session.account_key, tracked.batch_id)
            self._update_status()

    def action_delete(self) -> None:
        """ctrl+d cancels (batches cannot be deleted): every marked running batch, or else
        the one under the cursor. (x cancels the one under the cursor.)"""
        marked = self.batches.marked_rows if self._selected_batch() is not None else []
        if len(marked) > 1:
            self._cancel_marked()
        else:
            self._cancel_one(marked[0] if marked else self._selected_batch())

    def action_cancel_batch(self) -> None:
        self._cancel_one(self._selected_batch())

    def _cancel_one(self, tracked: Tracked | None) -> None:
        if tracked is None:
            self.notify("Select a batch first.", severity="warning")
            return
        if tracked.terminal:
            self.notify(f"{tracked.batch_id} is already {tracked.status}.", severity="warning")
            return

        def done(confirmed: bool | None) -> None:
            if confirmed:
                self.run_io(
                    "cancelled",
                    partial(self.session.service.cancel_batch, tracked.store_id, tracked.batch_id),
                    self._cancelled,
                    lambda error: self.notify_error(error, title="Cancel failed"),
                )

        running = tracked.batch.file_counts.in_progress if tracked.batch else 0
        self.app.push_screen(
            ConfirmScreen(
                f"Cancel {tracked.batch_id}?",
                f"Stop processing the batch [b]{escape(tracked.batch_id)}[/b] in "
                f"{escape(self.monitor.store_name(tracked.store_id))}?\n\n"
                f"{fmt.plural(running, 'file')} still in progress will be cancelled; "
                "files already processed stay.",
                confirm_label="Cancel batch",
                cancel_label="Keep running",
            ),
            done,
        )

    def _cancel_marked(self) -> None:
        """ctrl+d with marked batches: one confirm, then every marked running batch."""
        marked: list[Tracked] = self.batches.marked_rows
        running = [t for t in marked if not t.terminal]
        if not running:
            self.notify("None of the marked batches is running.", severity="warning")
            return
        finished = len(marked) - len(running)
        files = sum(t.batch.file_counts.in_progress for t in running if t.batch is not None)
        count = fmt.plural(len(running), "running batch", "running batches")
        skipped = (
            f"\n\n{finished} marked already finished and stay as they are." if finished else ""
        )

        service = self.session.service

        def cancel_all() -> tuple[list[FileBatch], list[tuple[str, BaseException]]]:
            done: list[FileBatch] = []
            failed: list[tuple[str, BaseException]] = []
            for tracked in running:
                try:
                    done.append(service.cancel_batch(tracked.store_id, tracked.batch_id))
                except Exception as error:  # reported per batch; the others still go
                    failed.append((tracked.batch_id, error))
            return done, failed

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.run_io(
                    "cancelled",
                    cancel_all,
                    self._cancelled_many,
                    lambda error: self.notify_error(error, title="Cancel failed"),
                )

        self.app.push_screen(
            ConfirmScreen(
                f"Cancel {count}?",
                f"Stop processing {count} ({fmt.plural(files, 'file')} still in progress)? "
                f"Files already processed stay.{skipped}",
                confirm_label=f"Cancel {count}",
                cancel_label="Keep running",
            ),
            confirmed,
        )

    def _cancelled_many(
        self, outcome: tuple[list[FileBatch], list[tuple[str, BaseException]]]
    ) -> None:
        done, failed = outcome
        for batch in done:
            tracked = self.batches.get(batch.id)
            if tracked is not None:
                tracked.record(batch, self.session.now())
        self.batches.clear_marks()
        self.batches.refresh_rows()
        self.marks_changed()
        if done:
            self.notify(f"Cancelling {fmt.plural(len(done), 'batch', 'batches')}…", timeout=3)
        for batch_id, error in failed:
            self.notify_error(error, title=f"Cancel {batch_id} failed")
        self.monitor.poll_everything()

    def _cancelled(self, batch: FileBatch) -> None:
        tracked = self.batches.get(batch.id)
        if tracked is not None:
            tracked.record(batch, self.session.now())
            self.batches.refresh_rows()
        self.notify(f"Cancelling {batch.id}…", timeout=3)
        self.monitor.poll_everything()
        self._poll_now()
