"""A store's files (or one batch's), joined with the Files API for names and sizes."""

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
from textual.markup import escape
from textual.widgets import Header, Static

from .. import fmt
from ..api import NotFoundError, VectorStore, VectorStoreFile, limits
from ..api.models import FileContentPage, ListPage
from ..api.paging import Order
from ..refresh import FILE_BUDGET, Polled, Rotation, changed, poll_store_files
from ..widgets.footer import FitFooter
from ..widgets.safe import SafeStatic
from ..widgets.table import Column, VirtualTable, id_column
from .base import RowBuffer, StoreRef, freeze_rows
from .dialogs import ConfirmScreen, PairsEditor, TextPager, format_pairs
from .tables import STATUS_FILTERS, TableScreen


class FileListScreen(TableScreen):
    TITLE = "Files"
    HELP = (
        "The files attached to a store (or to one batch), with names and sizes from the "
        "Files API. Detach a file, delete it everywhere, edit its attributes or read its "
        "parsed content."
    )
    AUTO_FOCUS = "#files"
    MUTATING = frozenset({"detach", "delete", "edit_attributes"})

    DEFAULT_CSS = """
    FileListScreen #banner {
        display: none;
        height: auto;
        padding: 0 1;
        background: $error 30%;
        text-style: bold;
    }
    FileListScreen.gone #banner {
        display: block;
    }
    """

    # The shared keys (/, f, s/S, space/a/A, ctrl+d, y, c, q…) come from TableScreen.
    BINDINGS = [
        Binding("v", "view", "Content"),
        Binding("e", "edit_attributes", "Attributes"),
        Binding("d", "detach", "Detach"),
        Binding("u", "sync", "Sync"),
        Binding("b", "app.batches", "Batches", show=False),
        Binding("r", "reload", "Refresh", show=False),
    ]

    def __init__(
        self,
        store_id: str,
        *,
        store: VectorStore | None = None,
        batch_id: str | None = None,
        status: str | None = None,
    ) -> None:
        super().__init__()
        self.store_id = store_id
        self.store = store
        self.batch_id = batch_id
        self.filter_index = next(
            (i for i, (_, value) in enumerate(STATUS_FILTERS) if value == status), 0
        )
        # Pages are still arriving (not Textual's ``loading``, which hides the screen).
        self.fetching = False
        self.load_failed = False
        # The store is gone (404): banner, actions off. Files gone: greyed rows.
        self.gone = False
        self.gone_files: set[str] = set()
        self._rotation = Rotation(FILE_BUDGET)
        self._names_asked: set[str] = set()
        self._age = ""

    def compose(self) -> ComposeResult:
        yield Header()
        yield SafeStatic("", id="banner", markup=False)
        with Horizontal(id="bar"):
            yield SafeStatic("", id="status", markup=False)
        yield self.filter_input()
        self._table: VirtualTable[VectorStoreFile] = VirtualTable(
            self._columns(), row_key=lambda f: f.id, id="files", empty_text=""
        )
        yield self._table
        yield self.detail_line()
        yield FitFooter(show_command_palette=False)

    @property
    def table(self) -> VirtualTable[VectorStoreFile]:
        return self._table  # (read for every cell drawn: no query)

    def file_name(self, f: VectorStoreFile) -> str:
        info = self.session.files.get(f.id)
        if info is not None:
            return info.filename
        return "…" if not self.session.files.loaded else "(deleted file)"

    def _name_cell(self, f: VectorStoreFile) -> Text | str:
        if f.id in self.gone_files or self.gone:
            return Text(self.file_name(f), style=self.table.muted_style() + Style(strike=True))
        return self.file_name(f)

    def _file_size(self, f: VectorStoreFile) -> int:
        info = self.session.files.get(f.id)
        return info.bytes if info is not None else -1

    def _columns(self) -> list[Column[VectorStoreFile]]:
        now = self.session.now

        def status(f: VectorStoreFile) -> Text:
            if f.id in self.gone_files or self.gone:
                return Text("gone", style=self.table.muted_style())
            return Text(f.status, style=self.table.status_style(f.status))

        def error(f: VectorStoreFile) -> Text:
            if f.last_error is None:
                return Text("")
            return Text(
                f"{f.last_error.code}: {f.last_error.message}",
                style=self.table.status_style("failed"),
            )

        def attributes(f: VectorStoreFile) -> Text:
            pairs = format_pairs(f.attributes).replace("\n", " ")
            return Text(pairs, style=self.table.muted_style())

        def size(f: VectorStoreFile) -> str:
            value = self._file_size(f)
            return fmt.human_bytes(value) if value >= 0 else "—"

        return [
            Column(
                "name",
                "File name",
                24,
                self._name_cell,
                lambda f: self.file_name(f).lower(),
                min_width=12,
                max_width=40,
                priority=1,
                grow=True,
            ),
            Column("status", "Status", 11, status, lambda f: f.status, priority=1),
            Column(
                "usage",
                "Usage",
                8,
                lambda f: fmt.file_usage(f, self.session.service.capabilities, short=True),
                lambda f: f.usage_bytes,
                "right",
                priority=3,
                export=lambda f: f.usage_bytes,
            ),
            Column(
                "size",
                "Size",
                8,
                size,
                self._file_size,
                "right",
                priority=4,
                export=lambda f: self._file_size(f) if self._file_size(f) >= 0 else None,
            ),
            Column(
                "created",
                "Created",
                9,
                lambda f: fmt.short_relative(f.created_at, now()),
                lambda f: (f.created_at, f.id),  # ties: by ID, whatever order pages came in
                min_width=8,  # "13mo ago" whole
                priority=4,
                export=lambda f: fmt.iso(f.created_at),
            ),
            Column(
                "error",
                "Last error",
                44,
                error,
                lambda f: f.last_error.code if f.last_error else "",
                min_width=12,
                priority=2,
                grow=True,
            ),
            Column(
                "attributes",
                "Attributes",
                20,
                attributes,
                lambda f: format_pairs(f.attributes),
                min_width=12,
                max_width=36,
                priority=5,
                grow=True,
            ),
            id_column(lambda: self.table, "File ID"),
            Column(
                "chunking",
                "Chunking",
                14,
                lambda f: f.chunking_strategy.describe() if f.chunking_strategy else "—",
                lambda f: f.chunking_strategy.describe() if f.chunking_strategy else "",
                priority=6,
            ),
        ]

    def store_in_view(self) -> StoreRef:
        return StoreRef(self.store_id, self.store)

    def on_mount(self) -> None:
        super().on_mount()
        where = self.store.display_name if self.store else self.store_id
        self.title = f"vstui · Files · {where}" + (
            f" · batch {self.batch_id}" if self.batch_id else ""
        )
        self.table.sort_by("created", reverse=True)
        self.table.focus()
        self._buffer = RowBuffer(self, self._files_arrived, table=self.table)
        if not self.session.files.loaded:
            self._load_names()
        self.action_refresh()
        self.start_auto_refresh()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if self.gone and action in self.MUTATING | {"view"}:
            return False
        return super().check_action(action, parameters)

    # -- auto-refresh: the store's counts, and every file still in progress ---------------

    def live_poll_ready(self) -> bool:
        return not self.fetching and not self.gone

    def live_poll(self) -> None:
        busy = [
            f.id
            for f in self.table.rows
            if f.status == "in_progress" and f.id not in self.gone_files
        ]
        ids = self._rotation.pick(busy, [])
        self.run_io(
            "auto",
            partial(poll_store_files, self.session.service, self.store_id, ids),
            self._polled,
            lambda _error: self.refresh_finished(failed=True),
        )

    def _polled(self, polled: Polled) -> None:
        self.refresh_finished(poll_after_ms=polled.poll_after_ms, rate_limited=polled.rate_limited)
        if self.store_id in polled.gone:
            self._store_gone()
            return
        updated = [f for f in polled.files.values() if changed(self.table.get(f.id), f)]
        if updated:
            self.table.add_rows(updated)
        new_gone = (polled.gone - {self.store_id}) - self.gone_files
        if new_gone:
            self.gone_files |= new_gone
            self.table.refresh_rows()
        store = polled.stores.get(self.store_id)
        if store is not None:
            before = self.store
            self._store_refreshed(store)
            if self._files_changed(before, store):
                self.action_refresh()  # files attached or detached elsewhere: list again
                return
        self._update_status()

    def _files_changed(self, before: VectorStore | None, store: VectorStore) -> bool:
        """Files attached or detached since the last look (counts only: no listing)."""
        if self.batch_id or self.status_filter is not None:
            return False
        if before is None:  # opened by ID: compare with what the listing found
            return store.file_counts.total != self.table.row_count
        return store.file_counts.total != before.file_counts.total

    def _store_gone(self) -> None:
        if self.gone:
            return
        self.gone = True
        self.add_class("gone")
        where = self.store.display_name if self.store else self.store_id
        self.query_one("#banner", Static).update(
            f"The store {where} ({self.store_id}) is gone: the server no longer has it (404). "
            "The files below are how they were last seen. Escape goes back."
        )
        self.session.store_changed(self.store_id, None)
        self.table.refresh_rows()
        self.refresh_bindings()
        self._update_status()

    def show_data_age(self) -> None:
        age = self.data_age()
        if age != self._age:
            self._age = age
            self._update_status()

    # -- loading ---------------------------------------------------------------------------

    @property
    def status_filter(self) -> str | None:
        return STATUS_FILTERS[self.filter_index][1]

    def _fetch(self, emit: Callable[[list[VectorStoreFile]], None]) -> set[str]:
        """Every page, walked from both ends at once as stores are: the newest and the
        oldest files arrive first, each page is shown as it arrives. Returns the IDs
        listed (gathered here in the worker, not on the UI thread)."""
        service = self.session.service
        status, store_id, batch_id = self.status_filter, self.store_id, self.batch_id

        def page(order: Order, after: str | None) -> ListPage[VectorStoreFile]:
            if batch_id:
                return service.list_batch_files(
                    store_id, batch_id, filter=status, order=order, after=after
                )
            return service.list_store_files(store_id, filter=status, order=order, after=after)

        seen: set[str] = set()
        for files in service.walk_both_ends(page):
            seen.update(file.id for file in files)
            emit(files)
        return seen

    def action_reload(self) -> None:
        """``r``: the file names too (files created or deleted since), then every page."""
        self._names_asked.clear()
        self._load_names()
        self.action_refresh()

    def action_refresh(self, *, keep_rows: bool = True) -> None:
        """Fetch every page again. Rows already shown stay (unless the status filter
        changed) until the last page says which are gone."""
        self.fetching = True
        self.load_failed = False
        self._buffer.reset()
        self.cancel_auto_refresh()
        if not keep_rows:
            self.table.set_rows([])
        self.run_stream(
            "files", self._fetch, self._buffer.push, self._files_done, self._files_failed
        )
        self._update_empty()
        self._update_status()

    def _files_arrived(self, files: list[VectorStoreFile]) -> None:
        self.gone_files.difference_update(f.id for f in files)
        self.table.add_rows(files)
        cache = self.session.files
        unknown = {f.id for f in files if cache.get(f.id) is None} - self._names_asked
        if cache.loaded and unknown:
            # A file created after the names were listed: list them again, once.
            self._names_asked |= unknown
            self._load_names()
        self._update_empty()
        self._update_status()

    def _files_done(self, seen: set[str]) -> None:
        """Every page arrived (``seen``: the IDs they held): rows not listed are gone."""
        self._buffer.flush()
        self.fetching = False
        gone = [f.id for f in self.table.rows if f.id not in seen]
        if gone:
            self.table.remove_rows(gone)
        self.gone_files.clear()
        self.mark_fresh()
        self._update_empty()
        self._update_status()
        freeze_rows()

    def _files_failed(self, error: BaseException) -> None:
        self._buffer.flush()  # what did arrive is shown, even when a later page fails
        self.fetching = False
        if isinstance(error, NotFoundError) and not self.batch_id:
            self._store_gone()
            return
        self.load_failed = True
        self.notify_error(error, title="Loading files failed")
        self._update_empty()
        self._update_status()

    def _load_names(self) -> None:
        self.run_io(
            "names",
            partial(self.session.files.load, self.session.service),
            lambda _count: self.table.resort(),  # names sort and filter the rows
            lambda error: self.notify_error(error, title="Loading file names failed"),
        )

    def _update_empty(self) -> None:
        label = STATUS_FILTERS[self.filter_index][0]
        if self.fetching:
            self.table.empty_text = "Loading…"
        elif self.load_failed and not self.table.row_count:
            self.table.empty_text = "Could not load the files. Press r to retry."
        elif self.table.row_count:  # only the text filter hides files that are there
            self.table.empty_text = "No file matches the filter. Escape clears it."
        elif label == "all":
            self.table.empty_text = "No files in this store. Attach some with the API or SDK."
        else:
            self.table.empty_text = f"No {label} files. Press f to change the status filter."

    def _update_status(self) -> None:
        parts = [fmt.plural(self.table.row_count, "file")]
        if self.fetching:
            parts[0] += " · loading more…" if self.table.row_count else " · loading…"
        label = STATUS_FILTERS[self.filter_index][0]
        parts.append(f"status: {label}")
        shown = self.table.shown_count
        if self.table.filtering:
            parts.append(f"{shown:,} shown so far, filtering…")
        elif shown != self.table.row_count:
            parts.append(f"{shown:,} shown")
        if self.text_filter:
            parts.append(f"filter: {self.text_filter!r}")
        if self.table.marked:
            parts.append(f"{len(self.table.marked):,} marked")
        if self.batch_id:
            parts.append(f"batch {self.batch_id}")
        store = f"store {self.store.display_name}" if self.store is not None else ""
        gone = f"{len(self.gone_files):,} gone" if self.gone_files else ""
        age = self._age if not self.fetching else ""
        status = self.query_one("#status", Static)
        # What does not fit goes first (the line is cut at its end, as the store list's):
        # the store's name (the header has it too), then the data's age.
        room = status.content_region.width if status.size else 1 << 16  # (not laid out yet)
        variants = (
            " · ".join(part for part in (*parts, *extra) if part)
            for extra in ((store, gone, age), ("", gone, age), ("", gone, ""))
        )
        status.update(fmt.first_fitting(variants, room))

    def on_resize(self, event: events.Resize) -> None:
        # (Textual calls the other classes' on_resize too.) The line is fitted again.
        self._update_status()

    def filter_fields(self, f: VectorStoreFile) -> tuple[str, ...]:
        error = f"{f.last_error.code} {f.last_error.message}" if f.last_error else ""
        return (f.id, self.file_name(f), f.status, error, format_pairs(f.attributes))

    def marks_changed(self) -> None:
        self._update_status()

    def row_title(self, f: VectorStoreFile) -> str:
        return f"File {self.file_name(f)} ({f.id})"

    def filters_changed(self) -> None:
        self._update_status()

    def action_status_filter(self) -> None:
        self.filter_index = (self.filter_index + 1) % len(STATUS_FILTERS)
        self.action_refresh(keep_rows=False)

    # -- content ---------------------------------------------------------------------------

    @on(VirtualTable.Selected, "#files")
    def _selected(self) -> None:
        self.action_view()

    def action_view(self) -> None:
        row = self.table.current
        if row is None:
            return
        name = self.file_name(row)
        if row.status == "failed" and row.last_error is not None:
            # Nothing was parsed: what the server said went wrong is what there is to read.
            error = row.last_error
            self.app.push_screen(
                TextPager(f"{name} — last error", f"{error.code}\n\n{error.message}")
            )
            return

        def show(page: FileContentPage) -> None:
            text = page.text or (
                "(no parsed content: the file has not finished processing, or failed)"
            )
            self.app.push_screen(TextPager(f"{name} — parsed content", text))

        self.run_io(
            "content",
            partial(self.session.service.store_file_content, self.store_id, row.id),
            show,
        )

    # -- sync a folder (batches the monitor follows) ----------------------------------------

    def action_sync(self) -> None:
        from .sync import start_sync

        start_sync(self, self.store_id, self.store, self._synced)

    def _synced(self, report: object) -> None:
        if report is not None:
            self._load_names()
            self.action_refresh()

    # -- changes ---------------------------------------------------------------------------

    def _gone(self, names: dict[str, str], done: str) -> None:
        """Files detached or deleted (``names``: ID → file name, read before they went):
        one notice (``done``, with ``{what}``) naming the file, or counting them."""
        self.table.remove_rows(list(names))
        if len(names) == 1:
            [(file_id, name)] = names.items()
            what = f"{name} ({file_id})"
        else:
            what = fmt.plural(len(names), "file")
        self.notify(done.format(what=what), timeout=4)
        self._update_status()
        # The store's counts and usage changed: refresh it for the screens below.
        self.run_io(
            "store",
            partial(self.session.service.retrieve_store, self.store_id),
            self._store_refreshed,
            lambda _error: None,  # only a courtesy; the list below refreshes with r
        )

    def _store_refreshed(self, store: VectorStore) -> None:
        self.store = store
        self.session.store_changed(store.id, store)

    def _confirm_then(
        self,
        key: str,
        fn: Callable[[str], str],
        report: str,
        title: str,
        body: str,
        label: str,
    ) -> None:
        """Ask about the marked rows (or the current one); on yes, run ``fn(file_id)`` for
        each in a worker as ``key``, then ``report`` what was done. One file: y/n;
        several: type their count."""
        rows = self.chosen_rows()
        if not rows:
            return
        if len(rows) == 1:
            name = self.file_name(rows[0])
            what, ids = escape(name), rows[0].id
            require = None
        else:
            name = fmt.plural(len(rows), "file")
            what, ids = name, ", ".join(r.id for r in rows[:3]) + (", …" if len(rows) > 3 else "")
            require = str(len(rows))
        file_ids = [r.id for r in rows]

        names = {r.id: self.file_name(r) for r in rows}  # (a deleted file's name goes)

        def run_all() -> tuple[list[str], tuple[str, BaseException] | None]:
            # One refused stops the rest (an expired key would refuse them all); the ones
            # done before it are done, and said so.
            done: list[str] = []
            for file_id in file_ids:
                try:
                    done.append(fn(file_id))
                except Exception as error:
                    return done, (file_id, error)
            return done, None

        def finished(result: tuple[list[str], tuple[str, BaseException] | None]) -> None:
            done_ids, failure = result
            if done_ids:
                self._gone({file_id: names[file_id] for file_id in done_ids}, report)
            if failure is not None:
                file_id, error = failure
                left = len(file_ids) - len(done_ids) - 1
                self.notify_error(
                    error,
                    title=f"Failed at {names[file_id]} ({file_id})"
                    + (f"; {fmt.plural(left, 'file')} not tried" if left else ""),
                )

        def done(confirmed: bool | None) -> None:
            if confirmed:
                self.run_io(key, run_all, finished)

        self.app.push_screen(
            ConfirmScreen(
                title.format(name=name),
                body.format(
                    name=what,
                    id=escape(ids),
                    also="It also leaves" if len(rows) == 1 else "They also leave",
                    attached="it is attached to" if len(rows) == 1 else "they are attached to",
                ),
                confirm_label=label,
                require_text=require,
            ),
            done,
        )

    def action_detach(self) -> None:
        self._confirm_then(
            "detached",
            self._detach_io,
            "Detached {what} from this store.",
            "Detach {name}?",
            "Remove [b]{name}[/b] ({id}) from this store?\n\n"
            "The files stay in the Files API and in any other store.",
            "Detach",
        )

    def _detach_io(self, file_id: str) -> str:
        service = self.session.service
        service.delete_gone_ok(  # already detached: what the user asked for
            lambda: service.delete_store_file(self.store_id, file_id),
            lambda: service.retrieve_store_file(self.store_id, file_id),
        )
        return file_id

    def action_delete(self) -> None:
        self._confirm_then(
            "file_deleted",
            self._delete_file,
            "Deleted {what} from the Files API and every store.",
            "Delete {name} everywhere?",
            "Delete [b]{name}[/b] ({id}) from the Files API?\n\n"
            "{also} [b]every other store[/b] {attached}. "
            "This cannot be undone.",
            "Delete file",
        )

    def _delete_file(self, file_id: str) -> str:
        service = self.session.service
        service.delete_gone_ok(  # already gone: what the user asked for
            lambda: service.delete_file(file_id), lambda: service.retrieve_file(file_id)
        )
        self.session.files.forget(file_id)
        # The attachment can outlive the file: detach it here too, so `r` does not bring
        # the row back as "(deleted file)".
        service.delete_gone_ok(
            lambda: service.delete_store_file(self.store_id, file_id),
            lambda: service.retrieve_store_file(self.store_id, file_id),
        )
        return file_id

    def action_edit_attributes(self) -> None:
        row = self.table.current
        if row is None:
            return

        def check(values: dict[str, Any]) -> str | None:
            problem = limits.check_attributes(values)
            return problem[1] if problem else None

        def done(values: dict[str, Any] | None) -> None:
            if values is not None:
                self.run_io(
                    "attributes",
                    partial(
                        self.session.service.update_store_file,
                        self.store_id,
                        row.id,
                        attributes=values,
                    ),
                    self._attributes_saved,
                    self._attributes_failed,
                )

        self.app.push_screen(
            PairsEditor(
                f"Attributes of {self.file_name(row)}",
                row.attributes,
                typed=True,
                check=check,
                hint="A row per key, with its type (text, number or boolean); at most 16. "
                "ctrl+n adds a row; ctrl+s saves.",
            ),
            done,
        )

    def _attributes_saved(self, updated: VectorStoreFile) -> None:
        self.table.add_rows([updated])
        self.notify(f"Saved attributes of {self.file_name(updated)}", timeout=3)

    def _attributes_failed(self, error: BaseException) -> None:
        self.notify_error(error, title="Saving attributes failed; nothing was changed")
