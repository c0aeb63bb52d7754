"""Create a store (``n`` on the store list): name, expiry, metadata, chunking, files."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widget import Widget
from textual.widgets import Button, Input, Label, Select

from ..api import limits
from .dialogs import Dialog, DialogBox, whole_number

_FILE_ID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")


@dataclass(frozen=True)
class NewStore:
    """What the form describes, as ``create_store`` takes it."""

    name: str | None
    expires_after: dict[str, Any] | None
    metadata: dict[str, str] | None
    chunking_strategy: dict[str, Any] | None
    file_ids: list[str]

    def as_kwargs(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "expires_after": self.expires_after,
            "metadata": self.metadata,
            "chunking_strategy": self.chunking_strategy,
            "file_ids": self.file_ids or None,
        }


def parse_metadata(text: str) -> dict[str, str] | None:
    """``key=value`` pairs separated by commas or new lines; ValueError names the pair."""
    pairs: dict[str, str] = {}
    for part in re.split(r"[,\n]", text):
        if not part.strip():
            continue
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"Metadata: {part.strip()!r} is not key=value.")
        if key.strip() in pairs:
            raise ValueError(f"Metadata: key {key.strip()!r} appears twice.")
        pairs[key.strip()] = value.strip()
    return pairs or None


class FormError(ValueError):
    """Every field the API would refuse, as (field id, sentence) pairs, in form order."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__(" ".join(message for _, message in problems))
        self.problems = problems


def read_form(
    name: str, days: str, metadata: str, chunking: str, size: str, overlap: str, files: str
) -> NewStore:
    """The form's fields as a :class:`NewStore`; :class:`FormError` naming every field
    that is not what the API accepts (the same limits the API documents)."""
    problems: list[tuple[str, str]] = []
    expires = None
    if days.strip():
        number = whole_number(days)
        if number is None or not limits.EXPIRY_DAYS_MIN <= number <= limits.EXPIRY_DAYS_MAX:
            problems.append(
                (
                    "days",
                    f"Expiry: a whole number of days from {limits.EXPIRY_DAYS_MIN} to "
                    f"{limits.EXPIRY_DAYS_MAX}, or empty for never.",
                )
            )
        else:
            expires = {"anchor": "last_active_at", "days": number}
    meta = None
    try:
        meta = parse_metadata(metadata)
    except ValueError as exc:
        problems.append(("metadata", str(exc)))
    else:
        problem = limits.check_metadata(meta)
        if problem:
            problems.append(("metadata", problem[1]))
    strategy: dict[str, Any] | None = None
    if chunking == "static":
        numbers = [whole_number(size), whole_number(overlap)]
        if None in numbers:
            field = "size" if numbers[0] is None else "overlap"
            problems.append(
                (field, "Static chunking: chunk size and overlap are whole numbers of tokens.")
            )
        else:
            strategy = {
                "type": "static",
                "static": {
                    "max_chunk_size_tokens": numbers[0],
                    "chunk_overlap_tokens": numbers[1],
                },
            }
            problem = limits.check_chunking_strategy(strategy)
            if problem:
                problems.append(("overlap" if "overlap" in problem[0] else "size", problem[1]))
    elif chunking == "auto":
        strategy = {"type": "auto"}
    ids = [i for i in re.split(r"[\s,]+", files.strip()) if i]
    bad = [i for i in ids if not _FILE_ID.match(i)]
    if bad:
        problems.append(("files", f"Not a file ID: {bad[0]!r}."))
    elif len(ids) > limits.STORE_FILE_IDS_MAX:
        problems.append(("files", f"At most {limits.STORE_FILE_IDS_MAX} file IDs."))
    elif len(set(ids)) != len(ids):
        problems.append(("files", "A file ID appears twice."))
    if problems:
        raise FormError(problems)
    return NewStore(name.strip() or None, expires, meta, strategy, ids)


_ERROR_ROW = {"size": "sizes", "overlap": "sizes"}  # the chunk sizes share one message row


class CreateStoreScreen(Dialog):
    """The form; dismisses with a :class:`NewStore`, or None when cancelled."""

    DEFAULT_CSS = """
    CreateStoreScreen > DialogBox {
        width: 84;
    }
    CreateStoreScreen .field {
        height: auto;
    }
    CreateStoreScreen .field Label {
        width: 14;
        padding-top: 1;
    }
    CreateStoreScreen .field Input, CreateStoreScreen .field Select {
        width: 1fr;
    }
    CreateStoreScreen #static-sizes Input {
        width: 1fr;
    }
    CreateStoreScreen.auto #static-sizes, CreateStoreScreen.auto #sizes-error {
        display: none;
    }
    CreateStoreScreen .field-error {
        padding-left: 14;
        display: none;
    }
    CreateStoreScreen .field-error.shown {
        display: block;
    }
    """
    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "create", "Create"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._checked: dict[str | None, str] = {}  # each field's value when last checked

    def compose(self) -> ComposeResult:
        with DialogBox():
            yield Label("Create a vector store", classes="title")
            with Horizontal(classes="field"):
                yield Label("Name")
                yield Input(placeholder="optional", id="name")
            with Horizontal(classes="field"):
                yield Label("Expire after")
                yield Input(placeholder="days without activity, 1–365; empty: never", id="days")
            yield Label("", classes="error field-error", id="days-error", markup=False)
            with Horizontal(classes="field"):
                yield Label("Metadata")
                yield Input(placeholder="team=docs, env=prod", id="metadata")
            yield Label("", classes="error field-error", id="metadata-error", markup=False)
            with Horizontal(classes="field"):
                yield Label("Chunking")
                yield Select(
                    [
                        ("auto (the API's default)", "default"),
                        ("auto", "auto"),
                        ("static", "static"),
                    ],
                    value="default",
                    allow_blank=False,
                    id="chunking",
                )
            with Horizontal(classes="field", id="static-sizes"):
                yield Label("")
                yield Input(
                    "800",
                    placeholder=f"chunk size {limits.CHUNK_SIZE_MIN}–{limits.CHUNK_SIZE_MAX}",
                    id="size",
                )
                yield Input("400", placeholder="overlap ≤ half the size", id="overlap")
            yield Label("", classes="error field-error", id="sizes-error", markup=False)
            with Horizontal(classes="field"):
                yield Label("File IDs")
                yield Input(placeholder="optional: file-abc… file-def…", id="files")
            yield Label("", classes="error field-error", id="files-error", markup=False)
            yield Label(
                f"Chunk size {limits.CHUNK_SIZE_MIN}–{limits.CHUNK_SIZE_MAX} tokens, overlap at "
                "most half of it; metadata at most 16 pairs. Checked before anything is sent.",
                classes="hint",
            )
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Create", id="create", variant="primary")
            yield Label("ctrl+s: Create · escape: Cancel", classes="keys")

    def on_mount(self) -> None:
        self.add_class("auto")
        self.query_one("#name", Input).focus()

    @on(Select.Changed, "#chunking")
    def _chunking(self, event: Select.Changed) -> None:
        self.set_class(event.value != "static", "auto")

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#create")
    @on(Input.Submitted)
    def action_create(self) -> None:
        def value(selector: str) -> str:
            return self.query_one(selector, Input).value

        try:
            form = read_form(
                value("#name"),
                value("#days"),
                value("#metadata"),
                str(self.query_one("#chunking", Select).value),
                value("#size"),
                value("#overlap"),
                value("#files"),
            )
        except FormError as exc:
            self._show_problems(exc.problems)
            return
        self._show_problems([])
        self.dismiss(form)

    def _show_problems(self, problems: list[tuple[str, str]]) -> None:
        """Each problem under its field, all at once; the first field gets focus, with its
        message in view (the dialog scrolls inside on a small terminal)."""
        self._checked = {box.id: box.value for box in self.query(Input)}
        messages: dict[str, list[str]] = {}
        for name, message in problems:
            messages.setdefault(_ERROR_ROW.get(name, name), []).append(message)
        for label in self.query(".field-error").results(Label):
            text = " ".join(messages.get((label.id or "").removesuffix("-error"), []))
            label.update(text)
            label.set_class(bool(text), "shown")
        if problems:
            first = problems[0][0]
            field = self.query_one(f"#{first}", Input)
            label = self.query_one(f"#{_ERROR_ROW.get(first, first)}-error", Label)
            field.focus(scroll_visible=False)
            self.call_after_refresh(self._scroll_into_view, field, label)

    def _scroll_into_view(self, field: Input, label: Label) -> None:
        """Scroll the dialog so the field's row and its message show, above the buttons."""
        row = field.parent
        assert isinstance(row, Widget)
        region = row.virtual_region_with_margin.union(label.virtual_region_with_margin)
        self.query_one(DialogBox).scroll_to_region(
            region, spacing=label.dock_gutter, animate=False, immediate=True
        )

    @on(Input.Changed)
    def _edited(self, event: Input.Changed) -> None:
        """A field's message goes as soon as the field is edited."""
        if self._checked.get(event.input.id) == event.value:
            return  # the value the message is about (a change that arrived late)
        row = _ERROR_ROW.get(event.input.id or "", event.input.id)
        for label in self.query(f"#{row}-error").results(Label):
            label.update("")
            label.remove_class("shown")
