"""Clean-up: review what will go, confirm by typing the count, watch it go, read the report."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

from rich.markup import escape
from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Checkbox, Header, Input, ProgressBar, Static

from .. import fmt
from ..api import FileObject, VectorStore
from ..cleanup import (
    Outcome,
    Plan,
    Report,
    Tally,
    build_plan,
    describe_unverified,
    execute,
    retry_failed,
)
from ..listing import IncompleteListing
from ..widgets.filter_input import FILTER_BINDING, FilterInput, open_filter
from ..widgets.footer import FitFooter
from ..widgets.frames import same_frame
from ..widgets.safe import SafeStatic
from ..widgets.table import Column, VirtualTable, id_column
from .base import VstuiScreen
from .dialogs import ConfirmScreen
from .tables import TableScreen, reverse_sort, sort_next, text_predicate

# A deletion's progress, sent from the worker: (done, failed, remaining, total, rate), outcome.
Progress = tuple[tuple[int, int, int, int, float], Outcome]


@dataclass
class Item:
    kind: str  # "store" or "file"
    id: str
    name: str
    size: int
    detail: str
    outcome: str = ""
    reason: str = ""
    source: Any = None  # the store or file object, for Enter and y


class SummaryBox(VerticalScroll):
    """The explanation above the table: on a short terminal it shrinks so that rows stay
    in view, and scrolls (focusable only then: tab reaches it, arrows scroll it)."""

    def allow_focus(self) -> bool:
        return self.max_scroll_y > 0


# Table rows kept in view however short the terminal: the summary gives way first.
MIN_TABLE_ROWS = 4


class CleanupScreen(VstuiScreen):
    TITLE = "Clean-up"
    HELP = (
        "Review what will be deleted, then confirm by typing the count. Deletions run "
        "concurrently, honour rate limits, treat 404 as already gone, and end with a report; "
        "'Retry failed' retries only what failed. A file still attached to any store that is "
        "not being deleted is never deleted: every store's file listing must be complete, "
        "and stores are checked again before each wave of file deletions. When a store "
        "reports no file counts its listing cannot be verified, and files are deleted only "
        "after you accept that risk by typing trust."
    )
    AUTO_FOCUS = "#plan"
    MUTATING = frozenset({"delete", "retry"})

    DEFAULT_CSS = """
    CleanupScreen #summary-box {
        height: auto;
    }
    CleanupScreen #summary {
        height: auto;
        padding: 1 2 0 2;
    }
    CleanupScreen #filter {
        display: none;
        height: 3;
        border: tall $accent;
    }
    CleanupScreen.filtering #filter {
        display: block;
    }
    CleanupScreen #with-files {
        margin: 0 2;
    }
    CleanupScreen #progress-row {
        height: auto;
        padding: 0 2;
        display: none;
    }
    CleanupScreen.running #progress-row, CleanupScreen.finished #progress-row {
        display: block;
    }
    CleanupScreen #progress {
        width: auto;
    }
    CleanupScreen.finished #progress {
        display: none;
    }
    CleanupScreen #progress-text {
        height: auto;
        width: 1fr;
    }
    CleanupScreen #buttons {
        height: auto;
        padding: 0 2;
        align-horizontal: right;
    }
    CleanupScreen #buttons Button {
        margin-left: 2;
    }
    CleanupScreen #retry, CleanupScreen #stop {
        display: none;
    }
    CleanupScreen.can-retry #retry {
        display: block;
    }
    CleanupScreen.running #stop {
        display: block;
    }
    CleanupScreen.running #go, CleanupScreen.finished #go {
        display: none;
    }
    """

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("space", "exclude", "Exclude/include"),
        replace(FILTER_BINDING, show=False),
        Binding("ctrl+d", "delete", "Delete…"),
        Binding("R", "retry", "Retry failed"),
        Binding("o", "toggle_files", "Orphaned files"),
        Binding("s", "sort", "Sort", show=False),
        Binding("S", "reverse", "Reverse sort", show=False),
        Binding("y", "raw_json", "Raw JSON", show=False),
        Binding("q", "back", "Back", show=False),
    ]

    def action_raw_json(self) -> None:
        from .dialogs import JsonScreen

        item = self.table.current
        if item is not None and item.source is not None:
            data = item.source.model_dump(mode="json", by_alias=True)
            self.app.push_screen(JsonScreen(f"{item.kind.title()} {item.id}", data))

    @on(VirtualTable.Selected)
    def _open_item(self, event: VirtualTable.Selected) -> None:
        """Enter: a store opens its detail; a file shows what the server said about it."""
        item = event.row
        if item.kind == "store" and isinstance(item.source, VectorStore):
            from .store_detail import StoreDetailScreen

            self.app.push_screen(StoreDetailScreen(item.id, item.source))
        else:
            self.action_raw_json()

    def __init__(
        self,
        *,
        stores: list[VectorStore] | None = None,
        expired: bool = False,
        orphans_only: bool = False,
        title: str = "Clean-up",
    ) -> None:
        super().__init__()
        self.chosen = stores
        self.expired = expired
        self.orphans_only = orphans_only
        self.heading = title
        self.plan: Plan | None = None
        self._stores: dict[str, VectorStore] = {}  # the plan's stores by ID
        self.report: Report | None = None
        self.running = False
        self._stop = threading.Event()
        # Rows the user left out with space (a store left out keeps its files too).
        self.excluded: set[str] = set()
        self.scanning_files = False
        # The user typed the word that accepts deleting files on unverified listings.
        self.trusted = False

    def compose(self) -> ComposeResult:
        yield Header()
        with SummaryBox(id="summary-box"):
            yield SafeStatic("Scanning the account…", id="summary")
        yield Checkbox("Also delete the orphaned files", id="with-files")
        yield FilterInput(placeholder=TableScreen.FILTER_PLACEHOLDER, id="filter")
        yield VirtualTable(self._columns(), row_key=lambda i: i.id, id="plan", empty_text="")
        with Horizontal(id="progress-row"):
            yield ProgressBar(id="progress", show_eta=False)
            yield SafeStatic("", id="progress-text")
        with Horizontal(id="buttons"):
            yield Button("Stop", id="stop", variant="warning")
            yield Button("Retry failed", id="retry", variant="primary")
            yield Button("Delete…", id="go", variant="error")
            yield Button("Close", id="close")
        yield FitFooter(show_command_palette=False)

    @property
    def table(self) -> VirtualTable[Item]:
        return self.query_one("#plan", VirtualTable)

    def _columns(self) -> list[Column[Item]]:
        def outcome(item: Item) -> Text:
            styles = {
                "deleted": self.table.status_style("completed"),
                "already gone": self.table.muted_style(),
                "failed": self.table.status_style("failed"),
                "skipped": self.table.status_style("in_progress"),
            }
            if not item.outcome and (why := self._left_out_label(item)):
                return Text(why, style=self.table.muted_style())  # left out: never "pending"
            label = item.outcome or ("pending" if self.running else "")
            if item.reason:
                label += f": {item.reason}"
            return Text(label, style=styles.get(item.outcome, ""))

        def size(item: Item) -> str:
            if item.kind == "store" and isinstance(item.source, VectorStore):
                # A 0 this server does not report is unknown, not empty (as the store list).
                return fmt.usage(item.source, self.session.service.capabilities, short=True)
            return fmt.human_bytes(item.size)

        return [
            Column("kind", "Kind", 5, lambda i: i.kind, lambda i: i.kind, priority=2),
            Column(
                "name",
                "Name",
                24,
                lambda i: i.name or "(unnamed)",
                lambda i: i.name.lower(),
                min_width=12,
                max_width=48,
                priority=1,
                grow=True,
            ),
            id_column(lambda: self.table, width=28),
            Column(
                "size",
                "Size",
                9,
                size,
                lambda i: i.size,
                "right",
                priority=2,
                export=lambda i: i.size,
            ),
            Column(
                "detail",
                "Details",
                24,
                self._detail,
                self._detail,
                min_width=12,
                priority=4,
                grow=True,
            ),
            Column(
                "outcome",
                "Outcome",
                20,
                outcome,
                lambda i: i.outcome,
                min_width=10,
                priority=1,
                grow=True,
            ),
        ]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if not super().check_action(action, parameters):
            return False
        if action == "retry":
            return self.report is not None and not self.report.ok and not self.running
        if action == "toggle_files" and (
            self.orphans_only or (self.plan is not None and bool(self.plan.files_refused))
        ):
            return False  # nothing to toggle: not advertised
        if action in ("delete", "toggle_files", "exclude"):
            return self.report is None and not self.running
        return True

    def on_mount(self) -> None:
        super().on_mount()
        self.title = f"vstui · {self.heading}"
        checkbox = self.query_one("#with-files", Checkbox)
        checkbox.display = not self.orphans_only
        self.table.loading = True
        self.run_stream("plan", self._build, self._scanning, self._planned, self._plan_failed)

    # -- planning --------------------------------------------------------------------------

    def _build(self, emit: Callable[[str], None], include_files: bool = False) -> Plan:
        """The plan; files (a scan of every store's files) only when they are wanted."""

        def plan(include_files: bool) -> Plan:
            return build_plan(
                self.session.service,
                expired=self.expired,
                store_ids=[s.id for s in self.chosen] if self.chosen else None,
                include_files=include_files,
                orphans_only=self.orphans_only,
                price_per_gb_day=self.session.storage_price_per_gb_day,
                progress=emit,
            )

        if not include_files and not self.orphans_only:
            return plan(include_files=False)  # deleting stores alone needs no file scan
        try:
            return plan(include_files=True)
        except IncompleteListing as error:
            if self.orphans_only:
                raise
            stores_only = plan(include_files=False)  # the stores can still go; no file will
            stores_only.files_refused = str(error)
            return stores_only

    def _scanning(self, progress: str) -> None:
        self.query_one("#summary", Static).update(f"Scanning the account… {progress}")

    def _planned(self, result: Plan) -> None:
        self.table.loading = False
        self.scanning_files = False
        self.plan = result
        self._stores = {s.id: s for s in result.stores}
        now = self.session.now()
        items = [self._store_item(s, now) for s in result.stores]
        items += [self._file_item(f) for f in result.files]
        self.table.set_rows(items)
        self._apply_file_choice()

    def _plan_failed(self, error: BaseException) -> None:
        self.table.loading = False
        self.notify_error(error, title="Could not build the plan; nothing was deleted")
        summary = Text("Could not scan the account. Nothing was deleted. ")
        if isinstance(error, IncompleteListing):
            summary = Text("Refusing to plan: a listing was incomplete. Nothing was deleted.\n")
            summary.append(str(error))  # server text: never markup
            summary.append("\n")
        summary.append("Press escape and try again.")
        self.query_one("#summary", Static).update(summary)

    @staticmethod
    def _store_item(store: VectorStore, now: float) -> Item:
        detail = fmt.plural(store.file_counts.total, "file")
        if store.is_expired:
            detail = f"{fmt.short_expiry(store.expires_at, store.status, now)} · {detail}"
        return Item("store", store.id, store.name or "", store.usage_bytes, detail, source=store)

    @staticmethod
    def _file_item(f: FileObject) -> Item:
        return Item("file", f.id, f.filename, f.bytes, "in no surviving store", source=f)

    @property
    def with_files(self) -> bool:
        return self.orphans_only or self.query_one("#with-files", Checkbox).value

    def _apply_file_choice(self) -> None:
        """What the list shows: files only when they are chosen, and the `/` text filter.
        Showing is all it does: what is deleted is every planned row not left out."""
        with_files = self.with_files
        text = text_predicate(self.text_filter, self._filter_fields) if self.text_filter else None
        if with_files and text is None:
            self.table.set_filter(None)
        else:
            self.table.set_filter(
                lambda i: (with_files or i.kind == "store") and (text is None or text(i))
            )
        self._summarise()

    def _filter_fields(self, item: Item) -> list[str]:
        return [item.kind, item.name, item.id, self._detail(item), item.outcome, item.reason]

    # `/` as on every table screen: it narrows what is shown, never what is deleted.
    text_filter = ""

    def action_filter(self) -> None:
        open_filter(self, self.query_one("#filter", Input))
        self.call_after_refresh(self._fit_summary)  # the filter box takes rows too

    @on(Input.Changed, "#filter")
    def _filter_typed(self, event: Input.Changed) -> None:
        self.text_filter = event.value.strip()
        self._apply_file_choice()
        same_frame(self)  # the rows and the summary in the key's frame

    @on(Input.Submitted, "#filter")
    def _filter_kept(self) -> None:
        if not self.text_filter:
            self.remove_class("filtering")
            self.call_after_refresh(self._fit_summary)
        self.table.focus()

    def _clear_filter(self) -> bool:
        """Escape first clears the filter (True), as on every table screen."""
        if not (self.text_filter or self.has_class("filtering")):
            return False
        self.query_one("#filter", Input).value = ""
        self.text_filter = ""
        self.remove_class("filtering")
        self._apply_file_choice()
        self.table.focus()
        return True

    @on(Checkbox.Changed, "#with-files")
    def _files_toggled(self) -> None:
        if self.running or self.report is not None:
            return
        plan = self.plan
        if self.with_files and plan is not None and not plan.include_files:
            # Files were not scanned yet (stores alone need no scan): scan them now.
            self.scanning_files = True
            self.query_one("#summary", Static).update("Scanning every store's files…")
            self.run_stream(
                "plan",
                partial(self._build, include_files=True),
                self._scanning,
                self._planned,
                self._plan_failed,
            )
            return
        self._apply_file_choice()

    # -- leaving rows out ------------------------------------------------------------------

    def _holder(self, item: Item) -> VectorStore | None:
        """The excluded store that holds file ``item`` (it is kept with it), if any."""
        if item.kind != "file" or self.plan is None or self.plan.holdings is None:
            return None
        held = self.plan.holdings.held
        for sid in sorted(self.excluded):  # (few: the rows the user left out)
            if item.id in held.get(sid, ()) and (store := self._stores.get(sid)) is not None:
                return store
        return None

    def _left_out(self, item: Item) -> str:
        """Why ``item`` will not be deleted: "excluded" (space), "store" (an excluded
        store holds it, so it is kept), or "" when it will be deleted."""
        if item.id in self.excluded:
            return "excluded"
        if self._holder(item) is not None:
            return "store"
        return ""

    def _left_out_label(self, item: Item) -> str:
        why = self._left_out(item)
        if why == "excluded":
            if self.report is None and not self.running:
                return "excluded (space includes)"
            return "excluded"
        if why == "store":
            return "kept: store kept"
        return ""

    def _detail(self, item: Item) -> str:
        store = self._holder(item)
        if store is not None:  # not "in no surviving store": its store survives
            return f"store kept: {store.name or store.id}"
        return item.detail

    def included_stores(self) -> list[VectorStore]:
        if self.plan is None:
            return []
        return [s for s in self.plan.stores if s.id not in self.excluded]

    def included_files(self) -> list[FileObject]:
        if self.plan is None or not self.with_files:
            return []
        items = {i.id: i for i in self.table.rows}
        return [f for f in self.plan.files if f.id in items and not self._left_out(items[f.id])]

    def unverified(self) -> list[VectorStore]:
        """Surviving stores whose file listings no count can verify, when files would go."""
        if self.plan is None or not self.included_files():
            return []
        return self.plan.unverified(self.included_stores())

    def action_exclude(self) -> None:
        item = self.table.current
        if item is None or self.running or self.report is not None:
            return
        self.excluded.symmetric_difference_update({item.id})
        self.table.refresh_rows()
        self.table.action_cursor(1)
        self._summarise()

    # Sorting only reorders the review list (the keys and the table's sort as on every
    # table screen); what is deleted is still every row not left out with space.
    def action_sort(self) -> None:
        sort_next(self, self.table)

    def action_reverse(self) -> None:
        reverse_sort(self.table)

    def action_toggle_files(self) -> None:
        refused = self.plan is not None and bool(self.plan.files_refused)
        if not self.orphans_only and not refused and not self.running and self.report is None:
            box = self.query_one("#with-files", Checkbox)
            box.value = not box.value

    def narrowed(self) -> Plan | None:
        """The plan as the user narrowed it: only what will actually be deleted (the
        rows not left out). Its sizes and saving are what the summary states."""
        if self.plan is None:
            return None
        return replace(self.plan, stores=self.included_stores(), files=self.included_files())

    def _left_out_counts(self) -> tuple[int, int, int]:
        """Rows left out: (excluded with space, files kept with an excluded store, the
        excluded stores that keep them)."""
        excluded = kept = 0
        holders: set[str] = set()
        for item in self.table.rows:
            if item.kind == "file" and not self.with_files:
                continue  # not offered for deletion: nothing is left out
            why = self._left_out(item)
            if why == "excluded":
                excluded += 1
            elif why == "store":
                kept += 1
                holders.add(self._holder(item).id)  # type: ignore[union-attr]
        return excluded, kept, len(holders)

    def _left_out_line(self, finished: bool) -> str:
        excluded, kept, holders = self._left_out_counts()
        if not excluded + kept:
            return ""
        reasons = [f"{excluded} excluded with space"] if excluded else []
        if kept:
            its = "its" if kept == 1 else "their"
            stores = "store is" if holders == 1 else "stores are"
            reasons.append(f"{fmt.plural(kept, 'file')} kept: {its} {stores} kept")
        rows = f"{fmt.plural(excluded + kept, 'row')} left out ({'; '.join(reasons)})"
        if finished:
            return f"{rows}: not deleted."
        return f"{rows}; [b]{fmt.plural(self._count(), 'item')}[/b] will be deleted."

    def _summarise(self) -> None:
        plan = self.plan
        if plan is None:
            return
        checkbox = self.query_one("#with-files", Checkbox)
        if plan.include_files:  # (short: it stays whole at 60 columns; the summary explains)
            checkbox.label = (
                f"Also delete the {fmt.plural(len(plan.files), 'orphaned file')} "
                f"({fmt.human_bytes(plan.file_bytes)})"
            )
        else:  # stores alone need no scan: the files are counted only when asked for
            checkbox.label = "Also delete the orphaned files (not scanned yet)"
        lines = []
        if plan.files_refused:
            checkbox.value = False
            checkbox.disabled = True
            checkbox.label = "Files: not planned (a listing was incomplete)"
            lines.append(
                "[b]No file will be deleted[/b]: a listing was incomplete — "
                f"{escape(plan.files_refused)}"
            )
        if self.report is not None:
            lines.extend(self._outcome_lines(self.report))
        else:
            lines.extend(self._plan_lines())
        lines.extend(escape(note) for note in plan.notes)  # what this server does not report
        if (unverified := self.unverified()) and self.report is None:
            accepted = (
                "You accepted that risk: the files will be deleted."
                if self.trusted
                else "To accept that risk, ctrl+d asks you to type trust."
            )
            lines.append(
                "[b]Files are not deleted on unverified listings[/b]: "
                f"{escape(describe_unverified(unverified))}. {accepted}"
            )
        if self.report is not None and self.report.unverified:
            lines.append(
                f"[b]Trusted unverified listings[/b] of "
                f"{fmt.plural(len(self.report.unverified), 'store')} "
                f"({escape(', '.join(self.report.unverified[:3]))}"
                f"{' …' if len(self.report.unverified) > 3 else ''}), as you confirmed."
            )
        if self.report is None and (hidden := self._hidden_by_filter()):
            lines.append(
                f"[b]{fmt.plural(hidden, 'row')} hidden by the filter will be deleted too[/b] "
                "(space on a row leaves it out; escape clears the filter)."
            )
        self.query_one("#summary", Static).update("\n".join(lines))
        self.call_after_refresh(self._fit_summary)

    def _plan_lines(self) -> list[str]:
        """What will be deleted: the rows not left out, their sizes, the saving."""
        chosen = self.narrowed()
        assert chosen is not None
        lines = []
        stores = fmt.plural(len(chosen.stores), "store")
        if not self.orphans_only and not chosen.usage_reported:
            lines.append(f"[b]{stores}[/b] to delete.")
        elif not self.orphans_only:
            lines.append(
                f"[b]{stores}[/b] to delete, using "
                f"[b]{fmt.human_bytes(chosen.store_bytes)}[/b] of vector storage "
                f"(the account uses {fmt.human_bytes(chosen.account_usage_bytes)})."
            )
            if chosen.account_usage_bytes <= 1024**3:
                lines.append(
                    "Estimated saving: $0.00 per day — the account's "
                    f"{fmt.human_bytes(chosen.account_usage_bytes)} is within the first free GB."
                )
            else:
                lines.append(
                    f"Estimated saving: [b]${chosen.saving_per_day:.2f} per day[/b] "
                    f"(${chosen.price_per_gb_day:.2f} per GB-day beyond the first free GB)."
                )
        if self.with_files:
            lines.append(
                f"[b]{fmt.plural(len(chosen.files), 'file')}[/b] "
                f"({fmt.human_bytes(chosen.file_bytes)}) attached to no surviving store will be "
                "deleted from the Files API; files any other store uses are kept."
            )
        if left_out := self._left_out_line(finished=False):
            lines.append(left_out)
        if not self._count():
            lines.append("Nothing to delete.")
        return lines

    def _outcome_lines(self, report: Report) -> list[str]:
        """What happened: deleted, already gone, failed, kept; and what was left out."""

        def counted(result: str) -> str:
            outcomes = report.of(result)
            stores = sum(1 for o in outcomes if o.kind == "store")
            files = len(outcomes) - stores
            parts = [fmt.plural(stores, "store")] if stores else []
            parts += [fmt.plural(files, "file")] if files else []
            return " and ".join(parts) or "nothing"

        deleted = counted("deleted")
        lines = [
            f"[b]Deleted {deleted}[/b]." if deleted != "nothing" else "[b]Nothing was deleted[/b]."
        ]
        if report.of("already gone"):
            lines.append(f"Already gone (someone deleted them first): {counted('already gone')}.")
        if report.of("skipped"):
            lines.append(f"Kept, attached to a store again: {counted('skipped')}.")
        if report.of("failed"):
            lines.append(f"[b]Failed: {counted('failed')}[/b] (see Outcome); R retries only these.")
        if report.interrupted:
            lines.append("Stopped by you: what was not sent yet was not deleted.")
        if left_out := self._left_out_line(finished=True):
            lines.append(left_out)
        return lines

    def _fit_summary(self) -> None:
        """Keep at least :data:`MIN_TABLE_ROWS` table rows in view: the summary above the
        table takes what the other parts leave, and scrolls when that is too little."""
        if not self.is_mounted:
            return
        box = self.query_one("#summary-box", SummaryBox)
        others = sum(
            widget.outer_size.height
            for widget in self.query("Header, #with-files, #filter, #progress-row, #buttons")
            if widget.display
        )
        others += sum(footer.outer_size.height for footer in self.query(FitFooter))
        room = self.size.height - others - (1 + MIN_TABLE_ROWS)  # the table's header too
        box.styles.max_height = max(2, room)

    def on_resize(self, event: events.Resize) -> None:
        super().on_resize(event)
        self.call_after_refresh(self._fit_summary)

    def _hidden_by_filter(self) -> int:
        """Rows that will be deleted but that the `/` filter does not show."""
        if not self.text_filter:
            return 0
        keep = text_predicate(self.text_filter, self._filter_fields)
        going = {s.id for s in self.included_stores()} | {f.id for f in self.included_files()}
        return sum(1 for i in self.table.rows if i.id in going and not keep(i))

    def _count(self) -> int:
        return len(self.included_stores()) + len(self.included_files())

    # -- deleting --------------------------------------------------------------------------

    @on(Button.Pressed, "#go")
    def action_delete(self) -> None:
        if self.plan is None or self.running or self.report is not None:
            return
        if self.scanning_files:
            self.notify("Still scanning the files; wait for the plan.", severity="warning")
            return
        count = self._count()
        if not count:
            self.notify("Nothing to delete.", severity="warning")
            return
        if (unverified := self.unverified()) and not self.trusted:
            self._ask_trust(unverified)
            return
        stores, files = len(self.included_stores()), len(self.included_files())
        what = " and ".join(
            x
            for x in (
                fmt.plural(stores, "store") if stores else "",
                fmt.plural(files, "file") if files else "",
            )
            if x
        )
        typed = str(stores) if stores else str(files)
        body = f"This deletes {what}. It cannot be undone."
        if unverified:
            body += (
                f"\n\nYou accepted that the listings of {fmt.plural(len(unverified), 'store')} "
                "cannot be verified."
            )
        if hidden := self._hidden_by_filter():
            body += f"\n\n{fmt.plural(hidden, 'of them is', 'of them are')} hidden by the filter."

        def done(confirmed: bool | None) -> None:
            if confirmed:
                self._start()

        self.app.push_screen(
            ConfirmScreen(f"Delete {what}?", body, require_text=typed, confirm_label="Delete"),
            done,
        )

    def _ask_trust(self, unverified: list[VectorStore]) -> None:
        """Deleting files on listings no count can verify: a deliberate word, never a y."""
        files = len(self.included_files())
        body = (
            f"{escape(describe_unverified(unverified))}.\n\n"  # IDs are server text
            f"The {fmt.plural(files, 'file')} planned here look attached to no store only "
            "because those listings did not show them. Nothing else confirms it.\n\n"
            + (
                "Cancel and press o to delete the stores alone, or accept the risk."
                if self.included_stores()
                else "Cancel to keep them, or accept the risk."
            )
        )

        def done(accepted: bool | None) -> None:
            if accepted:
                self.trusted = True
                self._summarise()
                self.action_delete()  # now the usual confirmation
            else:
                self.notify("Nothing was deleted.", severity="warning")

        self.app.push_screen(
            ConfirmScreen(
                "Delete files on unverified listings?",
                body,
                require_text="trust",
                confirm_label="Accept the risk",
            ),
            done,
        )

    def _start(self, retry: bool = False) -> None:
        assert self.plan is not None
        self.running = True
        self._stop.clear()
        self.add_class("running")
        self.remove_class("can-retry", "finished")  # (a retry: "finished" hid the bar)
        self.call_after_refresh(self._fit_summary)  # the progress row takes rows too
        self.refresh_bindings()
        total = len(self.report.of("failed")) if retry and self.report else self._count()
        bar = self.query_one("#progress", ProgressBar)
        bar.update(total=total, progress=0)
        if retry and self.report is not None:
            for item in self.table.rows:
                if item.outcome == "failed":
                    item.outcome, item.reason = "", ""
            self.run_stream(
                "run",
                partial(self._retry, self.report),
                self._progressed,
                self._ran,
                self._run_failed,
            )
        else:
            self.run_stream(
                "run",
                partial(self._execute, self.included_stores(), self.included_files()),
                self._progressed,
                self._ran,
                self._run_failed,
            )
        self.table.refresh_rows()

    def _progress(self, emit: Callable[[Progress], None]) -> Callable[[Tally, Outcome], None]:
        def report(tally: Tally, outcome: Outcome) -> None:
            snapshot = (tally.done, tally.failed, tally.remaining, tally.total, tally.rate)
            # If the screen is gone, the deletion still finishes and is reported.
            with contextlib.suppress(Exception):
                emit((snapshot, outcome))

        return report

    def _execute(
        self,
        stores: list[VectorStore],
        files: list[FileObject],
        emit: Callable[[Progress], None],
    ) -> Report:
        return execute(
            self.session.service,
            stores,
            files,
            concurrency=self.session.cleanup_concurrency,
            on_progress=self._progress(emit),
            cancelled=self._stop,
            holdings=self.plan.holdings if self.plan is not None else None,
            trust_unverified=self.trusted,
        )

    def _retry(self, report: Report, emit: Callable[[Progress], None]) -> Report:
        return retry_failed(
            self.session.service,
            report,
            concurrency=self.session.cleanup_concurrency,
            on_progress=self._progress(emit),
            cancelled=self._stop,
            trust_unverified=self.trusted,
        )

    def _progressed(self, progress: Progress) -> None:
        (done, failed, remaining, _total, rate), outcome = progress
        self._mark(outcome)
        self.query_one("#progress", ProgressBar).update(progress=done + failed)
        self.query_one("#progress-text", Static).update(
            f"done {done} · failed {failed} · remaining {remaining} · {rate:.1f}/s"
        )

    def _ran(self, report: Report) -> None:
        self.report = report
        self.running = False
        self.remove_class("running")
        self.add_class("finished")
        for outcome in report.outcomes:
            self._mark(outcome)
            if outcome.kind == "store" and outcome.result in ("deleted", "already gone"):
                self.session.store_changed(outcome.id, None)
            if outcome.kind == "file" and outcome.result in ("deleted", "already gone"):
                self.session.files.forget(outcome.id)
        self.set_class(not report.ok, "can-retry")
        self.refresh_bindings()
        self.query_one("#progress-text", Static).update(
            f"{report.summary()} in {report.seconds:.1f}s"
        )
        self._summarise()
        self.notify(
            f"Clean-up finished: {report.summary()}.",
            title="Clean-up",
            severity="information" if report.ok else "error",
            timeout=10,
        )

    def _run_failed(self, error: BaseException) -> None:
        self.running = False
        self.remove_class("running")
        self.add_class("finished", "can-retry")
        self.notify_error(error, title="Clean-up stopped")

    def _mark(self, outcome: Outcome) -> None:
        item = self.table.get(outcome.id)
        if item is not None:
            item.outcome, item.reason = outcome.result, outcome.reason
            self.table.refresh_rows()

    @on(Button.Pressed, "#retry")
    def action_retry(self) -> None:
        if self.report is not None and not self.report.ok and not self.running:
            self._start(retry=True)

    @on(Button.Pressed, "#stop")
    def _stop_pressed(self) -> None:
        self._stop.set()
        self.notify("Stopping: deletions already sent finish; the rest are reported as stopped.")

    @on(Button.Pressed, "#close")
    def action_back(self) -> None:
        if self._clear_filter():
            return
        if self.running:
            self.notify(
                "Deletion in progress: wait for the report, or press Stop.", severity="warning"
            )
            return
        self.app.pop_screen()
