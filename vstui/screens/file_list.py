"""A store's files (or one batch's), joined with the Files API for names and sizes."""

from __future__ import annotations

import contextlib
import glob
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.markup import escape
from textual.widgets import Footer, Header, Static

from .. import fmt
from ..api import FileBatch, NotFoundError, VectorStore, VectorStoreFile, limits
from ..api.models import FileContentPage, ListPage
from ..api.paging import Order
from ..session import RememberedBatch
from ..widgets.safe import SafeStatic
from ..widgets.table import Column, VirtualTable
from .base import RowBuffer, StoreRef, freeze_rows
from .dialogs import ConfirmScreen, PairsEditor, PromptScreen, TextPager, format_pairs
from .tables import TableScreen

MAX_UPLOAD_BYTES = 512 * 1024 * 1024


def local_files(text: str) -> list[Path] | str:
    """The files a path, folder or glob names; or a sentence saying what is wrong."""
    pattern = str(Path(text.strip()).expanduser()) if text.strip() else ""
    if not pattern:
        return "Enter a file, a folder or a glob."
    base = Path(pattern)
    if base.is_dir():
        found = sorted(p for p in base.iterdir() if p.is_file() and not p.name.startswith("."))
    else:
        found = sorted(Path(p) for p in glob.glob(pattern) if Path(p).is_file())
    if not found:
        return f"No file matches {text.strip()!r}."
    if len(found) > limits.BATCH_FILES_MAX:
        return f"{len(found)} files: a batch takes at most {limits.BATCH_FILES_MAX}."
    too_big = [p.name for p in found if p.stat().st_size > MAX_UPLOAD_BYTES]
    if too_big:
        return f"Larger than 512 MB, the upload limit: {', '.join(too_big[:3])}."
    return found


FILE_FILTERS: list[tuple[str, str | None]] = [
    ("all", None),
    ("in progress", "in_progress"),
    ("completed", "completed"),
    ("failed", "failed"),
    ("cancelled", "cancelled"),
]


class FileListScreen(TableScreen):
    TITLE = "Files"
    HELP = (
        "The files attached to a store (or to one batch), with names and sizes from the "
        "Files API. Detach a file, delete it everywhere, edit its attributes or read its "
        "parsed content."
    )
    AUTO_FOCUS = "#files"
    MUTATING = frozenset({"detach", "delete_file", "edit_attributes", "upload"})

    BINDINGS = [
        Binding("escape", "clear_filter", "Back"),
        Binding("f", "status_filter", "Status"),
        Binding("v", "view", "Content"),
        Binding("a", "edit_attributes", "Attributes"),
        Binding("d", "detach", "Detach"),
        Binding("ctrl+d", "delete_file", "Delete file"),
        Binding("u", "upload", "Upload"),
        Binding("b", "app.batches", "Batches", show=False),
        Binding("s", "sort", "Sort", show=False),
        Binding("r", "refresh", "Refresh"),
        Binding("c", "copy_id", "Copy ID", show=False),
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
            (i for i, (_, value) in enumerate(FILE_FILTERS) if value == status), 0
        )
        # Pages are still arriving (not Textual's ``loading``, which hides the screen).
        self.fetching = False
        self.load_failed = False
        self._seen: set[str] = set()

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="bar"):
            yield SafeStatic("", id="status", markup=False)
        yield self.filter_input()
        yield VirtualTable(self._columns(), row_key=lambda f: f.id, id="files", empty_text="")
        yield Footer(show_command_palette=False)

    @property
    def table(self) -> VirtualTable[VectorStoreFile]:
        return self.query_one("#files", VirtualTable)

    def file_name(self, f: VectorStoreFile) -> str:
        info = self.session.files.get(f.id)
        if info is not None:
            return info.filename
        return "…" if not self.session.files.loaded else "(deleted file)"

    def _file_size(self, f: VectorStoreFile) -> int:
        info = self.session.files.get(f.id)
        return info.bytes if info is not None else -1

    def _columns(self) -> list[Column[VectorStoreFile]]:
        now = self.session.now

        def status(f: VectorStoreFile) -> Text:
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
            Column("name", "File name", 24, self.file_name, lambda f: self.file_name(f).lower()),
            Column("status", "Status", 11, status, lambda f: f.status),
            Column(
                "usage",
                "Usage",
                8,
                lambda f: fmt.human_bytes(f.usage_bytes),
                lambda f: f.usage_bytes,
                "right",
            ),
            Column("size", "Size", 8, size, self._file_size, "right"),
            Column(
                "created",
                "Created",
                9,
                lambda f: fmt.short_relative(f.created_at, now()),
                lambda f: f.created_at,
            ),
            Column(
                "error",
                "Last error",
                28,
                error,
                lambda f: f.last_error.code if f.last_error else "",
            ),
            Column(
                "attributes", "Attributes", 20, attributes, lambda f: format_pairs(f.attributes)
            ),
            Column(
                "id",
                "File ID",
                27,
                lambda f: Text(f.id, style=self.table.muted_style()),
                lambda f: f.id,
            ),
            Column(
                "chunking",
                "Chunking",
                14,
                lambda f: f.chunking_strategy.describe() if f.chunking_strategy else "—",
                lambda f: f.chunking_strategy.describe() if f.chunking_strategy else "",
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
        self._buffer = RowBuffer(self, self._files_arrived)
        if not self.session.files.loaded:
            self._load_names()
        self.action_refresh()

    # -- loading ---------------------------------------------------------------------------

    @property
    def status_filter(self) -> str | None:
        return FILE_FILTERS[self.filter_index][1]

    def _fetch(self, emit: Callable[[list[VectorStoreFile]], None]) -> int:
        """Every page, walked from both ends at once as stores are: the newest and the
        oldest files arrive first, each page is shown as it arrives."""
        service = self.session.service
        status, store_id, batch_id = self.status_filter, self.store_id, self.batch_id

        def page(order: Order, after: str | None) -> ListPage[VectorStoreFile]:
            if batch_id:
                return service.list_batch_files(
                    store_id, batch_id, filter=status, order=order, after=after
                )
            return service.list_store_files(store_id, filter=status, order=order, after=after)

        total = 0
        for files in service.walk_both_ends(page):
            total += len(files)
            emit(files)
        return total

    def action_refresh(self, *, keep_rows: bool = True) -> None:
        """Fetch every page again. Rows already shown stay (unless the status filter
        changed) until the last page says which are gone."""
        self.fetching = True
        self.load_failed = False
        self._seen = set()
        self._buffer.reset()
        if not keep_rows:
            self.table.set_rows([])
        self.run_stream(
            "files", self._fetch, self._buffer.push, self._files_done, self._files_failed
        )
        self._update_empty()
        self._update_status()

    def _files_arrived(self, files: list[VectorStoreFile]) -> None:
        self._seen.update(f.id for f in files)
        self.table.add_rows(files)
        self._update_empty()
        self._update_status()

    def _files_done(self, total: int) -> None:
        self._buffer.flush()
        self.fetching = False
        gone = [f.id for f in self.table.rows if f.id not in self._seen]
        if gone:
            self.table.remove_rows(gone)
        self._update_empty()
        self._update_status()
        freeze_rows()

    def _files_failed(self, error: BaseException) -> None:
        self._buffer.flush()  # what did arrive is shown, even when a later page fails
        self.fetching = False
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
        label = FILE_FILTERS[self.filter_index][0]
        if self.fetching:
            self.table.empty_text = "Loading…"
        elif self.load_failed:
            self.table.empty_text = "Could not load the files. Press r to retry."
        elif label == "all":
            self.table.empty_text = "No files in this store. Attach some with the API or SDK."
        else:
            self.table.empty_text = f"No {label} files. Press f to change the status filter."
        self.table.refresh_rows()

    def _update_status(self) -> None:
        parts = [fmt.plural(self.table.row_count, "file")]
        if self.fetching:
            parts[0] += " · loading more…" if self.table.row_count else " · loading…"
        label = FILE_FILTERS[self.filter_index][0]
        parts.append(f"status: {label}")
        shown = self.table.shown_count
        if shown != self.table.row_count:
            parts.append(f"{shown:,} shown")
        if self.text_filter:
            parts.append(f"filter: {self.text_filter!r}")
        if self.batch_id:
            parts.append(f"batch {self.batch_id}")
        if self.store is not None:
            parts.append(f"store {self.store.display_name}")
        self.query_one("#status", Static).update(" · ".join(parts))

    def filter_fields(self, f: VectorStoreFile) -> tuple[str, ...]:
        error = f.last_error.code if f.last_error else ""
        return (f.id, self.file_name(f), f.status, error, format_pairs(f.attributes))

    def filters_changed(self) -> None:
        self._update_status()

    def action_status_filter(self) -> None:
        self.filter_index = (self.filter_index + 1) % len(FILE_FILTERS)
        self.action_refresh(keep_rows=False)

    def action_sort(self) -> None:
        self.notify(f"Sorted by {self.table.cycle_sort()}", timeout=1.5)

    def action_copy_id(self) -> None:
        row = self.table.current
        if row is not None:
            self.app.copy_to_clipboard(row.id)
            self.notify(f"Copied {row.id}", timeout=2)

    # -- content ---------------------------------------------------------------------------

    @on(VirtualTable.Selected, "#files")
    def _selected(self) -> None:
        self.action_view()

    def action_view(self) -> None:
        row = self.table.current
        if row is None:
            return
        name = self.file_name(row)

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

    # -- upload and attach (a batch the monitor follows) ------------------------------------

    def action_upload(self) -> None:
        def validate(text: str) -> str | None:
            found = local_files(text)
            return found if isinstance(found, str) else None

        def done(text: str | None) -> None:
            if text:
                found = local_files(text)
                if not isinstance(found, str):
                    self.run_stream(
                        "uploaded",
                        partial(self._upload, found),
                        self.query_one("#status", Static).update,
                        self._uploaded,
                        self._upload_failed,
                    )

        self.app.push_screen(
            PromptScreen(
                "Upload files and attach them to this store",
                placeholder="a file, a folder, or a glob such as docs/*.md",
                hint="Each file is uploaded (purpose assistants), then all are attached as "
                f"one batch (at most {limits.BATCH_FILES_MAX}) that the batch monitor follows.",
                validate=validate,
            ),
            done,
        )

    def _upload(self, paths: list[Path], emit: Callable[[str], None]) -> FileBatch:
        service = self.session.service
        file_ids = []
        for i, path in enumerate(paths, start=1):
            emit(f"uploading {i}/{len(paths)}: {path.name}")
            file_ids.append(service.upload_file(path.name, path.read_bytes()).id)
        emit(f"attaching {len(file_ids)} files as a batch…")
        return service.create_batch(self.store_id, file_ids=file_ids)

    def _uploaded(self, batch: FileBatch) -> None:
        self.session.state.remember_batch(
            self.session.account_key, RememberedBatch(self.store_id, batch.id)
        )
        self.session.files.loaded = False  # new names to fetch
        self.notify(
            f"Batch {batch.id} created with {fmt.plural(batch.file_counts.total, 'file')}. "
            "Press b to watch it in the batch monitor.",
            title="Upload",
            timeout=8,
        )
        self._load_names()
        self.action_refresh()

    def _upload_failed(self, error: BaseException) -> None:
        self.notify_error(error, title="Upload failed")
        self._update_status()

    # -- changes ---------------------------------------------------------------------------

    def _gone(self, file_id: str, message: str) -> None:
        self.table.remove_rows([file_id])
        self.notify(message, timeout=4)
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
        on_result: Callable[[str], None],
        title: str,
        body: str,
        label: str,
    ) -> None:
        """Ask about the current row; on yes, run ``fn(file_id)`` in a worker as ``key``."""
        row = self.table.current
        if row is None:
            return
        name = self.file_name(row)

        def done(confirmed: bool | None) -> None:
            if confirmed:
                self.run_io(key, partial(fn, row.id), on_result)

        self.app.push_screen(
            ConfirmScreen(
                title.format(name=name),
                body.format(name=escape(name), id=escape(row.id)),
                confirm_label=label,
            ),
            done,
        )

    def action_detach(self) -> None:
        self._confirm_then(
            "detached",
            self._detach_io,
            lambda file_id: self._gone(file_id, f"Detached {file_id}"),
            "Detach {name}?",
            "Remove [b]{name}[/b] ({id}) from this store?\n\n"
            "The file stays in the Files API and in any other store.",
            "Detach",
        )

    def _detach_io(self, file_id: str) -> str:
        with contextlib.suppress(NotFoundError):  # already detached: what the user asked for
            self.session.service.delete_store_file(self.store_id, file_id)
        return file_id

    def action_delete_file(self) -> None:
        self._confirm_then(
            "file_deleted",
            self._delete_file,
            lambda file_id: self._gone(
                file_id, f"Deleted {file_id} from the Files API and every store"
            ),
            "Delete {name} everywhere?",
            "Delete the file [b]{name}[/b] ({id}) from the Files API?\n\n"
            "It also leaves [b]every other store[/b] it is attached to. This cannot be undone.",
            "Delete file",
        )

    def _delete_file(self, file_id: str) -> str:
        with contextlib.suppress(NotFoundError):  # already gone: what the user asked for
            self.session.service.delete_file(file_id)
        self.session.files.forget(file_id)
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
