"""One store: every field the API returns, and what can be done to it."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.markup import escape
from textual.widget import Widget
from textual.widgets import DataTable, Header, Input, Label, Static

from .. import fmt
from ..api import NotFoundError, VectorStore, limits
from ..refresh import Polled, changed, poll_stores
from ..text import clean
from ..widgets import palette
from ..widgets.bars import StackedBar
from ..widgets.footer import FitFooter
from ..widgets.safe import SafeDataTable, SafeStatic
from .base import StoreRef, VstuiScreen, describe_error
from .dialogs import ConfirmScreen, PairsEditor, PromptScreen, whole_number
from .sync import SyncedFrom, start_sync

DAY = 86400
# Actions that still make sense on a store the server no longer has.
GONE_ALLOWED = frozenset({"app.pop_screen", "pop_screen", "refresh", "copy_id", "batches"})


def expiry_policy(store: VectorStore) -> str:
    if store.expires_after is None:
        return "never expires"
    days = store.expires_after.days
    return f"expires {fmt.plural(days, 'day')} after {store.expires_after.anchor}"


def expires_label(store: VectorStore, now: float) -> str:
    """The "Expires at" field: a time, the policy when the server gave no time, or never."""
    policy = store.expires_after
    if store.expires_at is None and policy is not None and not store.is_expired:
        return f"not set by the server ({fmt.policy_expiry(policy.days, policy.anchor)})"
    expires = fmt.expiry(store.expires_at, store.status, now)
    return f"{fmt.timestamp(store.expires_at)} ({expires})"


def resulting_expiry(store: VectorStore | None, days: int) -> int | None:
    """When a ``days`` policy (anchor last_active_at) would expire ``store``."""
    if store is None:
        return None
    anchor = store.last_active_at or store.created_at
    return int(anchor + days * DAY)


def expiry_preview(store: VectorStore | None, value: str, now: float) -> tuple[str, bool]:
    """What the expiry dialog says about ``value`` as it is typed, and whether it is urgent
    (the store would expire at once or within a day: a second confirmation is needed)."""
    text = value.strip()
    if not text:
        return "No expiry: the store is kept until it is deleted.", False
    days = whole_number(text)
    if days is None or validate_days(text):
        return "", False
    expires_at = resulting_expiry(store, days)
    if expires_at is None:
        return f"Expires {fmt.plural(days, 'day')} after its last activity.", False
    when = fmt.timestamp(expires_at)
    if expires_at <= now:
        return (
            f"Expires at {when}, which is already past: the store would expire "
            "IMMEDIATELY and permanently (searches fail; removing the policy later does "
            "not bring it back).",
            True,
        )
    if expires_at - now < DAY:
        return (
            f"Expires at {when}, {fmt.relative(expires_at, now)}: within a day unless "
            "the store is used.",
            True,
        )
    return f"Expires at {when} ({fmt.relative(expires_at, now)}) unless it is used.", False


class ExpiryPrompt(PromptScreen):
    """The expiry dialog: the resulting ``expires_at`` is shown as the days are typed."""

    def __init__(self, store: VectorStore | None, now: float, value: str) -> None:
        super().__init__(
            "Expire after how many days without activity?",
            value=value,
            placeholder="1–365; empty for never",
            hint="Counted from last activity (anchor last_active_at).",
            validate=validate_days,
            live=True,
        )
        self.store = store
        self.now = now

    def on_mount(self) -> None:
        super().on_mount()
        error = self.query_one("#error")
        parent = error.parent
        assert isinstance(parent, Widget)
        parent.mount(SafeStatic("", id="preview", markup=False), before=error)
        self.call_after_refresh(self._preview, self.value)

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        self._preview(event.value)

    def _preview(self, value: str) -> None:
        text, urgent = expiry_preview(self.store, value, self.now)
        preview = self.query("#preview")
        if preview:
            widget = preview.first(Static)
            widget.update(Text(text, style="bold" if urgent else ""))
            widget.set_class(urgent, "urgent")


def validate_days(value: str) -> str | None:
    text = value.strip()
    if not text:
        return None
    days = whole_number(text)
    if days is None:
        return "Enter a whole number of days (1–365), or leave it empty for no expiry."
    problem = limits.check_expires_after({"anchor": "last_active_at", "days": days})
    return problem[1] if problem else None


class StoreDetailScreen(VstuiScreen):
    TITLE = "Store"
    HELP = "Everything about one store. Rename it, edit its metadata or expiry, or delete it."
    AUTO_FOCUS = None
    MUTATING = frozenset({"rename", "edit_metadata", "edit_expiry", "delete"})

    DEFAULT_CSS = """
    StoreDetailScreen VerticalScroll {
        padding: 1 2;
    }
    StoreDetailScreen .section {
        margin-top: 1;
        text-style: bold;
        color: $accent;
    }
    StoreDetailScreen #fields {
        height: auto;
    }
    StoreDetailScreen StackedBar {
        margin-top: 1;
        width: 100%;
    }
    StoreDetailScreen DataTable {
        height: auto;
        max-height: 20;
    }
    StoreDetailScreen #notice {
        color: $text-muted;
        height: auto;
    }
    StoreDetailScreen #banner {
        display: none;
        height: auto;
        padding: 0 1;
        background: $error 30%;
        text-style: bold;
    }
    StoreDetailScreen.gone #banner {
        display: block;
    }
    StoreDetailScreen.gone VerticalScroll {
        opacity: 60%;
    }
    """

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", show=False),
        Binding("f", "files", "Files"),
        Binding("b", "app.batches", "Batches"),
        Binding("s", "search", "Search"),
        Binding("u", "sync", "Sync"),
        Binding("e", "rename", "Rename"),
        Binding("m", "edit_metadata", "Metadata"),
        Binding("x", "edit_expiry", "Expiry"),
        Binding("ctrl+d", "delete", "Delete"),
        Binding("r", "refresh", "Refresh", show=False),
        Binding("c", "copy_id", "Copy ID", show=False),
        Binding("y", "raw_json", "Raw JSON", show=False),
        Binding("q", "app.pop_screen", "Back", show=False),
    ]

    def __init__(self, store_id: str, store: VectorStore | None = None) -> None:
        super().__init__()
        self.store_id = store_id
        self.store = store
        self.gone = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield SafeStatic("", id="banner", markup=False)
        with VerticalScroll():
            yield SafeStatic("", id="fields")
            yield Label("File counts", classes="section")
            yield StackedBar()
            yield Label("Metadata", classes="section")
            yield SafeDataTable(cursor_type="row", zebra_stripes=True, id="metadata")
            yield SafeStatic("", id="notice")
            yield SyncedFrom(self.store_id, id="synced")
        yield FitFooter(show_command_palette=False)

    def store_in_view(self) -> StoreRef:
        return StoreRef(self.store_id, self.store)

    def on_mount(self) -> None:
        super().on_mount()
        self.title = "vstui · Store"
        table = self.query_one(DataTable)
        table.add_columns("Key", "Value")
        if self.store is not None:
            self._show(self.store)
        self.action_refresh()
        self.query_one(SyncedFrom).load(self)
        self.start_auto_refresh()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if self.gone and action not in GONE_ALLOWED:
            return False
        return super().check_action(action, parameters)

    # -- auto-refresh: the open store, until it is gone --------------------------------------

    def live_poll_ready(self) -> bool:
        return not self.gone

    def live_poll(self) -> None:
        self.run_io(
            "auto",
            partial(poll_stores, self.session.service, [self.store_id], newest=False),
            self._polled,
            lambda _error: self.refresh_finished(failed=True),
        )

    def _polled(self, polled: Polled) -> None:
        store = polled.stores.get(self.store_id)
        if store is not None and changed(self.store, store):
            self._store_arrived(store)  # unchanged: nothing redrawn, the cursor stays
        elif self.store_id in polled.gone:
            self._mark_gone()
        self.refresh_finished(poll_after_ms=polled.poll_after_ms, rate_limited=polled.rate_limited)

    def _mark_gone(self, error: BaseException | None = None) -> None:
        """The server answered 404: say so, grey the fields, disable the actions."""
        if self.gone:
            return
        self.gone = True
        self.add_class("gone")
        name = self.store.display_name if self.store else self.store_id
        self.query_one("#banner", Static).update(
            f"{name} ({self.store_id}) is gone: the server no longer has it (404), so it was "
            "deleted or removed after expiring. What is shown is how it was last seen. "
            "Escape goes back."
        )
        self.session.store_changed(self.store_id, None)
        self.refresh_bindings()
        why = f": {describe_error(error)}" if error is not None else " (404)"
        self.notify(f"{name} no longer exists{why}", title="Store gone", severity="warning")

    def action_refresh(self) -> None:
        self.run_io(
            "store",
            partial(self.session.service.retrieve_store, self.store_id),
            self._store_arrived,
            self._store_failed,
        )

    def _store_arrived(self, store: VectorStore) -> None:
        self.store = store
        if self.gone:
            self.gone = False
            self.remove_class("gone")
            self.refresh_bindings()
        self._show(store)
        self.mark_fresh()
        self.session.store_changed(store.id, store)

    def _store_failed(self, error: BaseException) -> None:
        if isinstance(error, NotFoundError):
            self._mark_gone(error)
            return
        self.notify_error(error, title="Loading the store failed")
        if self.store is None:
            self.query_one("#fields", Static).update(
                Text(f"Could not load {self.store_id}. Press r to retry.", style="bold")
            )

    def _show(self, store: VectorStore) -> None:
        now = self.session.now()
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold", justify="right")
        grid.add_column()
        status = Text(store.status)
        status.stylize(palette.status_style(self.app.get_css_variables(), store.status))
        created = fmt.relative(store.created_at, now)
        active = fmt.relative(store.last_active_at, now)
        caps = self.session.service.capabilities
        rows: list[tuple[str, str | Text]] = [
            ("Name", Text(clean(store.display_name), style="bold")),  # one line, always
            ("ID", store.id),
            ("Description", store.description or "—"),
            ("Status", status),
            (
                "Usage",
                f"{fmt.human_bytes(store.usage_bytes)} ({store.usage_bytes:,} bytes)"
                if caps.usage_known(store)
                else fmt.NOT_REPORTED,
            ),
            ("Created", f"{fmt.timestamp(store.created_at)} ({created})"),
            ("Last active", f"{fmt.timestamp(store.last_active_at)} ({active})"),
            ("Expires at", expires_label(store, now)),
            ("Expiry policy", expiry_policy(store)),
        ]
        for label, value in rows:
            grid.add_row(label, value if isinstance(value, Text) else Text(value))
        self.query_one("#fields", Static).update(grid)
        bar = self.query_one(StackedBar)
        bar.counts = store.file_counts
        bar.display = store.counts_reported  # null counts are not zeros
        heading = "File counts" if store.counts_reported else f"File counts: {fmt.NOT_REPORTED}"
        self.query(".section").first(Label).update(heading)
        table = self.query_one(DataTable)
        table.clear()
        for key, value in sorted((store.metadata or {}).items()):
            table.add_row(Text(key), Text(value))
        self._show_notice()

    def _show_notice(self) -> None:
        store = self.store
        notice = "" if store is None or store.metadata else "No metadata. Press m to add some."
        age = self.data_age()
        if age:
            notice = f"{notice}\n{age.capitalize()}." if notice else f"{age.capitalize()}."
        self.query_one("#notice", Static).update(notice)

    def show_data_age(self) -> None:
        self._show_notice()

    # -- navigation ------------------------------------------------------------------------

    def action_files(self) -> None:
        from .file_list import FileListScreen

        self.app.push_screen(FileListScreen(self.store_id, store=self.store))

    def action_search(self) -> None:
        from .search import SearchScreen

        self.app.push_screen(SearchScreen(self.store_id, store=self.store))

    def action_sync(self) -> None:
        def done(report: object) -> None:
            self.action_refresh()
            self.query_one(SyncedFrom).load(self)

        start_sync(self, self.store_id, self.store, done)

    def action_copy_id(self) -> None:
        self.app.copy_to_clipboard(self.store_id)
        self.notify(f"Copied {self.store_id}", timeout=2)

    def action_raw_json(self) -> None:
        from .dialogs import JsonScreen

        if self.store is not None:
            data = self.store.model_dump(mode="json", by_alias=True)
            self.app.push_screen(JsonScreen(f"Store {self.store.display_name}", data))

    # -- changes ---------------------------------------------------------------------------

    def _save(self, **changes: Any) -> None:
        self.run_io(
            "saved",
            partial(self.session.service.modify_store, self.store_id, **changes),
            self._saved,
            lambda error: self.notify_error(error, title="Saving failed; nothing was changed"),
        )

    def _saved(self, store: VectorStore) -> None:
        self.notify(f"Saved {store.display_name}", timeout=3)
        self._store_arrived(store)

    def action_rename(self) -> None:
        current = self.store.name if self.store and self.store.name else ""

        def done(value: str | None) -> None:
            if value is not None and value != current:
                self._save(name=value.strip() or None)

        self.app.push_screen(
            PromptScreen("Rename store", value=current, placeholder="store name"), done
        )

    def action_edit_metadata(self) -> None:
        def check(values: dict[str, Any]) -> str | None:
            problem = limits.check_metadata(values)
            return problem[1] if problem else None

        def done(values: dict[str, Any] | None) -> None:
            if values is not None:
                self._save(metadata=values)

        self.app.push_screen(
            PairsEditor(
                "Edit metadata",
                dict(self.store.metadata or {}) if self.store else {},
                typed=False,
                check=check,
                hint="A row per key: at most 16, keys ≤ 64 chars, values ≤ 512, saved exactly "
                "as typed. ctrl+n adds a row; ctrl+s saves.",
            ),
            done,
        )

    def action_edit_expiry(self) -> None:
        days = ""
        if self.store and self.store.expires_after:
            days = str(self.store.expires_after.days)
        now = self.session.now()

        def done(value: str | None) -> None:
            if value is None:
                return
            text = value.strip()
            policy = {"anchor": "last_active_at", "days": int(text)} if text else None
            warning, urgent = expiry_preview(self.store, text, now)
            if not urgent:
                self._save(expires_after=policy)
                return

            def confirmed(yes: bool | None) -> None:
                if yes:
                    self._save(expires_after=policy)

            self.app.push_screen(
                ConfirmScreen(
                    "Expire this store so soon?",
                    escape(warning),
                    confirm_label="Set expiry",
                ),
                confirmed,
            )

        self.app.push_screen(ExpiryPrompt(self.store, now, days), done)

    def action_delete(self) -> None:
        store = self.store or VectorStore(id=self.store_id)
        confirm_delete_store(self, store, lambda _id: self._deleted())

    def _deleted(self) -> None:
        name = self.store.display_name if self.store else self.store_id
        self.notify(f"Deleted {name}", timeout=4)
        self.app.pop_screen()


def confirm_delete_store(
    screen: VstuiScreen, store: VectorStore, on_deleted: Callable[[str], None]
) -> None:
    """One store: a short confirm (y/n), then the DELETE; a 404 counts as deleted."""
    name = store.display_name
    body = (
        f"Delete the store [b]{escape(name)}[/b] ({escape(store.id)})?\n\n"
        "Its files stay in the Files API (and in other stores); use the clean-up to "
        "remove files left attached to no store."
    )

    def deleted(_result: object = None) -> None:
        screen.session.store_changed(store.id, None)
        on_deleted(store.id)

    def failed(error: BaseException) -> None:
        if isinstance(error, NotFoundError):
            deleted()  # already gone: the outcome the user wanted
            return
        screen.notify_error(error, title="Delete failed; the store is still there")

    def done(confirmed: bool | None) -> None:
        if confirmed:
            screen.run_io(
                "deleted", partial(screen.session.service.delete_store, store.id), deleted, failed
            )

    screen.app.push_screen(ConfirmScreen(f"Delete {name}?", body), done)
