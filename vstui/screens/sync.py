"""Sync a folder into a store: choose the folder and options, review the plan, confirm,
watch the uploads, then follow the batch in the monitor.

The work is :mod:`vstui.sync`'s (the engine ``vstui sync`` uses): this module only asks,
shows and reports. In read-only mode the plan is still shown (a dry run: it only reads);
applying it is refused.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

from rich.table import Table
from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.markup import escape
from textual.widgets import Button, Checkbox, Header, Input, Label, ProgressBar, Static
from textual_autocomplete import PathAutoComplete, TargetState
from textual_autocomplete._autocomplete import AutoCompleteList

from .. import fmt, sync
from ..api import VectorStore
from ..session import RememberedBatch
from ..sync import KINDS, Item, Options, Plan, Report, SyncError
from ..synced import SyncedSummary, scan
from ..text import clean
from ..widgets.footer import FitFooter
from ..widgets.safe import SafeInput, SafeLines, SafeStatic
from ..widgets.table import Column, VirtualTable
from .base import VstuiScreen, describe_error
from .dialogs import ConfirmScreen, Dialog
from .tables import TableScreen

STATE_KEY = "sync_folders"  # the last folder and options, per account and store
CONCURRENCY = 8
PROGRESS_INTERVAL = 0.1  # seconds between progress messages from the worker


# -- the request: folder and options ---------------------------------------------------------


@dataclass(frozen=True)
class SyncRequest:
    root: Path  # resolved
    options: Options
    shown: str = ""  # the folder as typed
    text: dict[str, Any] = field(default_factory=dict)  # the fields, remembered for next time


def _words(text: str, what: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError as exc:
        raise SyncError(f"{what}: {exc} (quote words that contain spaces)") from None


def parse_request(
    path: str, include: str, exclude: str, attrs: str, chunking: str, delete: bool
) -> SyncRequest:
    """The dialog's fields as a request; :class:`SyncError` says what is wrong."""
    if not path.strip():
        raise SyncError("Enter the folder to sync.")
    root = Path(path.strip()).expanduser()
    if not root.is_dir():
        raise SyncError(f"{path.strip()!r} is not a folder.")
    options = Options(
        include=tuple(_words(include, "Include")),
        exclude=tuple(_words(exclude, "Exclude")),
        attributes=sync.parse_attrs(_words(attrs, "Attributes")),
        chunking=sync.parse_chunking(chunking.strip() or None),
        delete=delete,
    )
    options.validate()
    text = {
        "path": str(root.resolve()),
        "include": include,
        "exclude": exclude,
        "attributes": attrs,
        "chunking": chunking.strip(),
        "delete": delete,
    }
    return SyncRequest(root.resolve(), options, path.strip(), text)


def _state_key(account: str, store_id: str) -> str:
    return f"{account}|{store_id}"


def remembered(screen: VstuiScreen, store_id: str) -> dict[str, Any]:
    saved = screen.session.state.get(STATE_KEY, {})
    value = saved.get(_state_key(screen.session.account_key, store_id)) if saved else None
    return value if isinstance(value, dict) else {}


def remember(screen: VstuiScreen, store_id: str, text: dict[str, Any]) -> None:
    saved = dict(screen.session.state.get(STATE_KEY, {}) or {})
    saved[_state_key(screen.session.account_key, store_id)] = text
    screen.session.state.set(STATE_KEY, saved)


class _SafeCompletions(SafeLines, AutoCompleteList):
    """The completion list shows local file names: every painted line is cleaned."""


class LocalPathComplete(PathAutoComplete):
    """Tab completes folders and files (``~`` is the home folder); names shown cleaned."""

    def compose(self) -> ComposeResult:
        options = _SafeCompletions()
        options.can_focus = False
        yield options

    def _listen_to_messages(self, event: events.Event) -> None:
        # Enter submits the dialog (the folder as typed); only Tab completes.
        if isinstance(event, events.Key) and event.key == "enter":
            self.action_hide()
            return
        super()._listen_to_messages(event)

    def get_candidates(self, target_state: TargetState) -> Any:
        typed = target_state.text[: target_state.cursor_position]
        if typed.startswith("~"):
            typed = os.path.expanduser(typed)
        return super().get_candidates(TargetState(typed, len(typed)))


class SyncSetupScreen(Dialog):
    """The folder (Tab completes) and the options that matter; checked before planning."""

    DEFAULT_CSS = """
    SyncSetupScreen > Vertical {
        width: 84;
        max-width: 100%;
        padding: 0 1;
    }
    SyncSetupScreen .field {
        color: $text-muted;
    }
    SyncSetupScreen Horizontal.pair {
        height: auto;
    }
    SyncSetupScreen Horizontal.pair Input {
        width: 1fr;
        margin-right: 1;
    }
    SyncSetupScreen Checkbox {
        margin: 1 0 0 0;
    }
    """

    def __init__(self, store_name: str, *, on_server: bool, values: dict[str, Any]) -> None:
        super().__init__()
        self.store_name = store_name
        self.on_server = on_server
        self.values = values

    def compose(self) -> ComposeResult:
        v = self.values
        where = "on the server " if self.on_server else ""
        with Vertical():
            yield Label(
                clean(f"Sync a folder {where}into {self.store_name}"),
                classes="title",
                markup=False,
            )
            hint = "Tab completes folders and files"
            if self.on_server:
                hint += " on the server running vstui, not on your computer"
            yield Label(f"Folder ({hint})", classes="field", markup=False)
            yield SafeInput(
                value=str(v.get("path", "")), placeholder="~/docs", id="path", compact=True
            )
            yield Label(
                "Include / exclude (gitignore patterns, space-separated)",
                classes="field",
                markup=False,
            )
            with Horizontal(classes="pair"):
                yield SafeInput(
                    value=str(v.get("include", "")),
                    placeholder="include: *.md guides/",
                    id="include",
                    compact=True,
                )
                yield SafeInput(
                    value=str(v.get("exclude", "")),
                    placeholder="exclude: drafts/",
                    id="exclude",
                    compact=True,
                )
            yield Label(
                "Attributes for new and changed files (key=value, space-separated)",
                classes="field",
                markup=False,
            )
            yield SafeInput(
                value=str(v.get("attributes", "")),
                placeholder="team=docs lang=en",
                id="attributes",
                compact=True,
            )
            yield Label("Chunking (empty: the API's default)", classes="field", markup=False)
            yield SafeInput(
                value=str(v.get("chunking", "")),
                placeholder="auto, or static:MAX_TOKENS:OVERLAP such as static:800:400",
                id="chunking",
                compact=True,
            )
            yield Checkbox(
                "Detach files whose source is gone (--delete)",
                value=bool(v.get("delete", False)),
                id="delete",
                compact=True,
            )
            yield Label("Nothing changes yet: the next screen shows the plan.", classes="hint")
            yield Label("", classes="error", id="error", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Plan", id="ok", variant="primary")
        yield LocalPathComplete("#path", folder_prefix=Content(""), file_prefix=Content(""))

    def on_mount(self) -> None:
        self.query_one("#path", Input).focus()

    def request(self) -> SyncRequest:
        def value(name: str) -> str:
            return self.query_one(f"#{name}", Input).value

        return parse_request(
            value("path"),
            value("include"),
            value("exclude"),
            value("attributes"),
            value("chunking"),
            self.query_one("#delete", Checkbox).value,
        )

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#ok")
    @on(Input.Submitted)
    def _ok(self) -> None:
        try:
            request = self.request()
        except SyncError as exc:
            self.query_one("#error", Label).update(str(exc))
            return
        self.dismiss(request)


class SyncConfirm(ConfirmScreen):
    """Yes/no with ``y`` and ``n`` too (a typed count when files would be removed)."""

    BINDINGS: ClassVar[list[Any]] = [
        Binding("y", "yes", "Yes", show=False),
        Binding("n", "cancel", "No", show=False),
    ]

    def action_yes(self) -> None:
        if self.require_text is None:
            self.dismiss(True)


def start_sync(
    screen: VstuiScreen,
    store_id: str,
    store: VectorStore | None,
    on_done: Callable[[Report | None], None],
) -> None:
    """Ask for the folder and options, then push the plan screen (``u`` on a store)."""
    name = store.display_name if store is not None else store_id

    def chosen(request: SyncRequest | None) -> None:
        if request is None:
            return
        remember(screen, store_id, request.text)
        screen.app.push_screen(SyncScreen(store_id, request, store=store), on_done)

    screen.app.push_screen(
        SyncSetupScreen(name, on_server=screen.app.is_web, values=remembered(screen, store_id)),
        chosen,
    )


# -- the plan, the run, the report -----------------------------------------------------------


@dataclass
class Row:
    item: Item
    outcome: str = ""
    reason: str = ""

    @property
    def key(self) -> str:
        return self.item.rel


@dataclass(frozen=True)
class Snapshot:
    """The engine's progress, copied on the worker thread (its object keeps changing)."""

    stage: str
    files_done: int
    files_total: int
    bytes_done: int
    bytes_total: int
    rate: float
    eta: float | None
    message: str
    uploaded: tuple[str, ...]  # paths uploaded since the last snapshot


KIND_FILTERS: list[str | None] = [None, *KINDS]
NOTES = {
    "new": "upload and attach",
    "changed": "upload; replaces the old version once processed",
    "unchanged": "nothing to do",
    "removed": "kept (tick --delete to detach them)",
    "skipped": "not sent (the reason is in Details)",
}


class SyncScreen(TableScreen):
    TITLE = "Sync"
    HELP = (
        "What a sync of the folder would change in the store: new files, changed ones (new "
        "content: the old version is detached only after the new one completed), unchanged "
        "ones, files whose source is gone, and files skipped with the reason. Apply uploads "
        "and attaches as batches the monitor follows; Stop starts no new upload and reports "
        "what was done. In read-only mode this is a dry run."
    )
    AUTO_FOCUS = "#plan"
    MUTATING = frozenset({"apply"})

    DEFAULT_CSS = """
    SyncScreen #summary {
        height: auto;
        padding: 0 1;
    }
    SyncScreen #counts {
        height: auto;
        padding: 0 1;
    }
    SyncScreen #progress-row {
        height: auto;
        padding: 0 1;
        display: none;
    }
    SyncScreen.running #progress-row, SyncScreen.finished #progress-row {
        display: block;
    }
    SyncScreen #progress {
        width: 40;
    }
    SyncScreen #progress-text {
        height: auto;
        width: 1fr;
    }
    SyncScreen #buttons {
        height: auto;
        padding: 0 1;
        align-horizontal: right;
    }
    SyncScreen #buttons Button {
        margin-left: 2;
    }
    SyncScreen #stop, SyncScreen #monitor {
        display: none;
    }
    SyncScreen.running #stop, SyncScreen.finished #monitor {
        display: block;
    }
    SyncScreen.running #apply, SyncScreen.finished #apply {
        display: none;
    }
    """

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("a", "apply", "Apply…"),
        Binding("x", "stop", "Stop"),
        Binding("f", "kind_filter", "Kind"),
        Binding("s", "sort", "Sort", show=False),
        Binding("b", "app.batches", "Batches"),
    ]

    def __init__(self, store_id: str, request: SyncRequest, *, store: VectorStore | None) -> None:
        super().__init__()
        self.store_id = store_id
        self.store = store
        self.request = request
        self.plan: Plan | None = None
        self.report: Report | None = None
        self.running = False
        self.kind_index = 0
        self._stop = threading.Event()

    def compose(self) -> ComposeResult:
        yield Header()
        yield SafeStatic("", id="summary")
        yield SafeStatic("", id="counts")
        yield self.filter_input()
        yield VirtualTable(self._columns(), row_key=lambda r: r.key, id="plan", empty_text="")
        with Horizontal(id="progress-row"):
            yield ProgressBar(id="progress", show_eta=False)
            yield SafeStatic("", id="progress-text")
        with Horizontal(id="buttons"):
            yield Button("Stop", id="stop", variant="warning", compact=True)
            yield Button("Batch monitor", id="monitor", compact=True)
            yield Button("Apply…", id="apply", variant="primary", compact=True)
            yield Button("Close", id="close", compact=True)
        yield FitFooter(show_command_palette=False)

    @property
    def table(self) -> VirtualTable[Row]:
        return self.query_one("#plan", VirtualTable)

    def _columns(self) -> list[Column[Row]]:
        order = {kind: i for i, kind in enumerate(KINDS)}

        def kind(row: Row) -> Text:
            styles = {
                "new": "completed",
                "changed": "in_progress",
                "removed": "failed" if self.request.options.delete else "",
                "skipped": "cancelled",
            }
            status = styles.get(row.item.kind, "")
            return Text(row.item.kind, style=self.table.status_style(status) if status else "")

        def detail(row: Row) -> Text:
            if row.outcome:
                label = row.outcome + (f": {row.reason}" if row.reason else "")
                status = {"failed": "failed", "stopped": "cancelled"}.get(row.outcome, "completed")
                return Text(label, style=self.table.status_style(status))
            reason = row.item.reason
            if row.item.kind == "removed" and not self.request.options.delete:
                reason = "source is gone; kept"
            style = self.table.muted_style() if row.item.kind == "unchanged" else ""
            return Text(reason, style=style)

        return [
            Column("kind", "Kind", 9, kind, lambda r: (order[r.item.kind], r.item.rel)),
            Column(
                "size",
                "Size",
                9,
                lambda r: fmt.human_bytes(r.item.bytes),
                lambda r: r.item.bytes,
                "right",
            ),
            Column("path", "Path", 34, lambda r: r.item.rel, lambda r: r.item.rel),
            Column("detail", "Details", 20, detail, lambda r: r.outcome or r.item.reason),
        ]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "apply" and self.session.read_only:
            return True  # shown, then refused with the reason (the plan is a dry run)
        if action == "apply":
            return self.plan is not None and not self.running and self.report is None
        if action == "stop":
            return self.running
        return super().check_action(action, parameters)

    def on_mount(self) -> None:
        super().on_mount()
        where = self.store.display_name if self.store else self.store_id
        self.title = f"vstui · Sync · {where}"
        self.table.sort_by("kind")
        self.table.loading = True
        self.query_one("#apply", Button).disabled = True
        self._summary(Text.assemble(self._heading(), "\nPlanning…"))
        self.run_stream("plan", self._build, self._planning, self._planned, self._plan_failed)

    # -- planning --------------------------------------------------------------------------

    def _build(self, emit: Callable[[str], None]) -> Plan:
        return sync.build_plan(
            self.session.service,
            self.request.root,
            self.store_id,
            self.request.options,
            concurrency=CONCURRENCY,
            progress=emit,
        )

    def _summary(self, text: str | Text) -> None:
        self.query_one("#summary", Static).update(text)

    def _heading(self) -> Text:
        where = self.store.display_name if self.store else self.store_id
        text = Text("Sync ")
        text.append(self.request.shown or str(self.request.root), style="bold")
        text.append(" → store ")
        text.append(where, style="bold")
        text.append(f" ({self.store_id})")
        return text

    def _planning(self, progress: str) -> None:
        self._summary(Text.assemble(self._heading(), f"\nPlanning: {progress}…"))

    def _planned(self, plan: Plan) -> None:
        self.table.loading = False
        self.plan = plan
        self.store = plan.store
        self.table.set_rows(Row(item) for item in plan.items)
        self.table.empty_text = "The folder has no files to sync, and the store none from it."
        self._show_plan()
        self.refresh_bindings()

    def _plan_failed(self, error: BaseException) -> None:
        self.table.loading = False
        message = str(error) if isinstance(error, SyncError) else None
        if message is None:
            self.notify_error(error, title="Could not build the plan; nothing was changed")
            message = describe_error(error)
        self.table.empty_text = "No plan."
        self._summary(
            Text.assemble(
                self._heading(),
                "\nCould not build the plan; nothing was changed: ",
                message,
                "\nPress escape to go back.",
            )
        )

    def _show_plan(self) -> None:
        plan = self.plan
        assert plan is not None
        counts = plan.counts()
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold")
        grid.add_column(justify="right")
        grid.add_column(justify="right")
        grid.add_column(style="dim")
        for kind in KINDS:
            c = counts[kind]
            note = NOTES[kind]
            if kind == "removed" and plan.options.delete:
                note = "detach (delete when no other store holds them)"
                if plan.uncounted and not plan.options.trust_unverified:
                    note = "detach (their file objects are kept: see above)"
            grid.add_row(kind, fmt.plural(c["files"], "file"), fmt.human_bytes(c["bytes"]), note)
        if plan.duplicates:
            grid.add_row("stale", fmt.plural(len(plan.duplicates), "version"), "", "detach")
        self.query_one("#counts", Static).update(grid)
        heading = self._heading()
        if plan.store.is_expired:
            heading.append("\nThis store has expired: the API refuses new files. Nothing to apply.")
        elif not plan.has_work:
            heading.append("\nNothing to do: the store is in step with the folder.")
        elif self.session.read_only:
            heading.append("\nRead-only: this plan is a dry run; nothing will be changed.")
        else:
            uploads = len(plan.uploads)
            heading.append(
                f"\nPress a to apply: {fmt.plural(uploads, 'upload')} "
                f"({fmt.human_bytes(plan.upload_bytes)})."
            )
        if plan.has_work and (sentence := plan.unverified_sentence(sync.TUI_REMEDY)):
            heading.append(f"\n{sentence}")  # store IDs: server text, painted as plain text
        self._summary(heading)
        self.query_one("#apply", Button).disabled = not self._can_apply

    @property
    def _can_apply(self) -> bool:
        plan = self.plan
        return plan is not None and plan.has_work and not plan.store.is_expired

    @on(VirtualTable.Selected, "#plan")
    def _row_selected(self, event: VirtualTable.Selected) -> None:
        """Enter on a row: its path and the whole reason, which the column may cut."""
        row: Row = event.row
        detail = row.outcome + (f": {row.reason}" if row.reason else "") or row.item.reason
        self.notify(detail or row.item.kind, title=row.item.rel, timeout=8)

    # -- filtering -------------------------------------------------------------------------

    def filter_fields(self, row: Row) -> tuple[str, ...]:
        return (row.item.rel, row.item.kind, row.item.reason, row.outcome)

    def extra_predicate(self) -> Callable[[Row], bool] | None:
        wanted = KIND_FILTERS[self.kind_index]
        return None if wanted is None else (lambda row: row.item.kind == wanted)

    def action_kind_filter(self) -> None:
        self.kind_index = (self.kind_index + 1) % len(KIND_FILTERS)
        self.apply_filter()
        self.notify(f"Showing {KIND_FILTERS[self.kind_index] or 'every kind'}", timeout=1.5)

    # -- applying --------------------------------------------------------------------------

    @on(Button.Pressed, "#apply")
    def action_apply(self) -> None:
        plan = self.plan
        if self.session.read_only:
            self.refuse_read_only("Applying a sync")
            return
        if plan is None or self.running or self.report is not None:
            return
        if not self._can_apply:
            self.notify("Nothing to apply (see the summary above).", timeout=4)
            return
        uploads = plan.uploads
        new, changed = len(plan.of("new")), len(plan.of("changed"))
        removed = len(plan.of("removed")) if plan.options.delete else 0
        where = self.store.display_name if self.store else self.store_id
        lines = [
            f"Upload {fmt.plural(len(uploads), 'file')} ({fmt.human_bytes(plan.upload_bytes)})"
            f" to {where}: {new} new, {changed} changed.",
        ]
        if changed:
            lines.append("A changed file's old version is detached once the new one completed.")
        if plan.duplicates:
            lines.append(f"Detach {fmt.plural(len(plan.duplicates), 'stale version')}.")
        unverified = plan.unverified_sentence(sync.TUI_REMEDY)
        if removed:
            lines.append(
                f"Detach {fmt.plural(removed, 'file')} whose source is gone"
                + (
                    "."
                    if unverified
                    else ", and delete each from the Files API when no other store holds it."
                )
            )
        if unverified:
            lines.append(unverified)
        count = len(uploads) + len(plan.duplicates) + removed
        if not removed:
            lines.append("Press y to go ahead, n to go back.")

        def done(confirmed: bool | None) -> None:
            if confirmed:
                self._start()

        self.app.push_screen(
            SyncConfirm(
                f"Sync {fmt.plural(count, 'change')} into {where}?",
                "\n".join(escape(line) for line in lines),
                confirm_label="Remove and upload" if removed else "Upload",
                danger=bool(removed),
                require_text=str(count) if removed else None,
            ),
            done,
        )

    def _start(self) -> None:
        assert self.plan is not None
        self.running = True
        self._stop.clear()
        self.add_class("running")
        self.refresh_bindings()
        bar = self.query_one("#progress", ProgressBar)
        bar.update(total=max(1, len(self.plan.uploads)), progress=0)
        for row in self.table.rows:
            if row.item.kind in ("new", "changed"):
                row.outcome = "pending"
        self.table.refresh_rows()
        self._progress_text("starting…")
        self.run_stream("run", self._execute, self._progressed, self._ran, self._run_failed)

    def _execute(self, emit: Callable[[Snapshot], None]) -> Report:
        assert self.plan is not None
        uploaded: list[str] = []
        last = [0.0]
        planned = {item.rel for item in self.plan.uploads}

        def on_progress(p: sync.Progress) -> None:
            if p.stage == "upload" and p.message in planned:
                uploaded.append(p.message)
            now = time.monotonic()
            final = p.stage != "upload" or p.files_done == p.files_total
            if not final and now - last[0] < PROGRESS_INTERVAL:
                return
            last[0] = now
            snapshot = Snapshot(
                p.stage,
                p.files_done,
                p.files_total,
                p.bytes_done,
                p.bytes_total,
                p.rate,
                p.eta,
                p.message,
                tuple(uploaded),
            )
            uploaded.clear()
            # If the screen is gone the sync still finishes (and attaches what it uploaded).
            with contextlib.suppress(Exception):
                emit(snapshot)

        return sync.execute(
            self.session.service,
            self.plan,
            concurrency=CONCURRENCY,
            on_progress=on_progress,
            cancelled=self._stop,
            sleep=self._pause,
        )

    def _pause(self, seconds: float) -> None:
        """The engine's waits end early when Stop is pressed."""
        self._stop.wait(seconds)

    def _progress_text(self, text: str | Text) -> None:
        self.query_one("#progress-text", Static).update(text)

    def _progressed(self, p: Snapshot) -> None:
        self.query_one("#progress", ProgressBar).update(progress=p.files_done)
        for rel in p.uploaded:
            row = self.table.get(rel)
            if row is not None:
                row.outcome = "uploaded"
        if p.uploaded:
            self.table.refresh_rows()
        eta = fmt.duration(p.eta) if p.eta is not None else "—"
        line = (
            f"uploaded {p.files_done:,}/{p.files_total:,} files · "
            f"{fmt.human_bytes(p.bytes_done)} of {fmt.human_bytes(p.bytes_total)} · "
            f"{fmt.human_bytes(int(p.rate))}/s · ETA {eta}"
        )
        if p.stage != "upload" and p.message:
            line += f"\n{p.message}"
        if self._stop.is_set():
            line += "\nStopping: no new upload starts; what was uploaded is attached."
        self._progress_text(line)

    def _ran(self, report: Report) -> None:
        self.report = report
        self.running = False
        self.remove_class("running")
        self.add_class("finished")
        self.refresh_bindings()
        for batch in report.batches:
            self.session.state.remember_batch(
                self.session.account_key, RememberedBatch(report.store_id, batch)
            )
        if report.uploaded:
            self.session.files.loaded = False  # new names to fetch
        self._mark(report)
        state = "stopped" if report.interrupted else "finished"
        line = f"Sync {state}: {report.summary()} in {report.seconds:.1f}s."
        if report.one_by_one:
            line += "\nThis server has no file batches: files were attached one by one."
        if report.unattached:
            line += (
                f"\n{fmt.plural(len(report.unattached), 'file')} uploaded but not attached "
                "(the clean-up's orphaned files removes them)."
            )
        if report.interrupted:
            line += "\nSync again (u) to finish: it picks up where this stopped."
        self._progress_text(Text(line))  # the report names server text: never markup
        heading = self._heading()
        heading.append(f"\nSync {state}. Press b for the batch monitor, escape to go back.")
        if sentence := report.unverified_sentence(sync.TUI_KEPT_REMEDY):
            heading.append(f"\n{sentence}")  # full width: the progress row is narrow
        self._summary(heading)
        message = f"Sync {state}: {report.summary()}."
        if report.one_by_one:
            message += " Attached one by one (this server has no file batches)."
        if report.kept_unverified:
            message += (
                f" {fmt.plural(len(report.kept_unverified), 'detached file')} kept: no file "
                "counts verify the listings (see the report)."
            )
        if report.batches:
            message += " Press b to follow ingestion in the batch monitor."
        self.notify(
            message,
            title="Sync",
            severity="information" if report.ok else "warning",
            timeout=10,
        )

    def _mark(self, report: Report) -> None:
        attached = set(report.attached.values())
        replaced = set(report.replaced)
        failed = dict(report.failed)
        kept = set(report.kept_unverified)
        for row in self.table.rows:
            rel = row.item.rel
            # an old version detached but its file object kept (unverified listings)
            unverified = (
                "file kept: unverified listings" if kept & {f.id for f in row.item.old} else ""
            )
            if rel in failed:
                row.outcome, row.reason = "failed", failed[rel]
            elif rel in replaced:
                row.outcome, row.reason = "replaced", unverified
            elif rel in attached:
                row.outcome, row.reason = "attached", ""
            elif row.outcome in ("pending", "uploaded") and report.interrupted:
                why = "not uploaded" if row.outcome == "pending" else "not attached"
                row.outcome, row.reason = "stopped", why
            elif row.item.kind == "removed" and self.request.options.delete:
                gone = {f.id for f in row.item.old} & set(report.detached)
                if gone:
                    row.outcome, row.reason = "detached", unverified
        self.table.refresh_rows()

    def _run_failed(self, error: BaseException) -> None:
        self.running = False
        self.remove_class("running")
        self.add_class("finished")
        self.refresh_bindings()
        self.notify_error(error, title="Sync stopped")
        self._progress_text("Sync stopped by an error; run it again to converge.")

    @on(Button.Pressed, "#stop")
    def action_stop(self) -> None:
        if self.running and not self._stop.is_set():
            self._stop.set()
            self.notify(
                "Stopping: uploads in flight finish and are attached; no new one starts.",
                timeout=5,
            )

    def on_unmount(self) -> None:
        # The app is quitting: start no new upload (those in flight finish and are attached).
        self._stop.set()

    @on(Button.Pressed, "#monitor")
    async def _monitor(self) -> None:
        await self.run_action("app.batches")

    @on(Button.Pressed, "#close")
    def action_back(self) -> None:
        if self.running:
            self.notify("The sync is running: wait for the report, or press x to stop.")
            return
        if self.text_filter or self.has_class("filtering"):
            self.action_clear_filter()
            return
        self.dismiss(self.report)


# -- the store detail's "Synced from" section --------------------------------------------------


class SyncedFrom(Vertical):
    """Which of a store's files came from a sync, from where, and when (hidden when none)."""

    DEFAULT_CSS = """
    SyncedFrom {
        height: auto;
        display: none;
    }
    SyncedFrom.found {
        display: block;
    }
    SyncedFrom #synced-title {
        margin-top: 1;
        text-style: bold;
        color: $accent;
    }
    SyncedFrom #synced-text {
        height: auto;
    }
    """

    def __init__(self, store_id: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.store_id = store_id

    def compose(self) -> ComposeResult:
        yield Label("Synced from", id="synced-title")
        yield SafeStatic("", id="synced-text")

    def load(self, screen: VstuiScreen) -> None:
        """Scan the newest files (a page for most stores) in ``screen``'s worker."""
        screen.run_io(
            "synced",
            partial(scan, screen.session.service, self.store_id),
            partial(self.show, screen),
            lambda _error: None,  # a courtesy: the fields above carry the errors
        )

    def show(self, screen: VstuiScreen, summary: SyncedSummary | None) -> None:
        self.set_class(summary is not None, "found")
        if summary is None:
            return
        now = screen.session.now()
        folder = f"{summary.folder}/" if summary.folder else "the synced folder itself"
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold", justify="right")
        grid.add_column()
        counted = fmt.plural(summary.files, "file")
        if not summary.complete:
            counted += f" among the newest {summary.scanned:,} files"
        grid.add_row(
            "Files", Text(f"{counted} with a sync path ({summary.attr_prefix}path attribute)")
        )
        grid.add_row("Common folder", Text(folder))
        grid.add_row(
            "Last sync",
            Text(f"{fmt.timestamp(summary.last_sync)} ({fmt.relative(summary.last_sync, now)})"),
        )
        grid.add_row("Latest", Text(", ".join(summary.latest)))
        local = remembered(screen, self.store_id).get("path")
        if isinstance(local, str) and local:
            grid.add_row("Folder here", Text(local))
        self.query_one("#synced-text", Static).update(grid)
