"""Create a store (``n`` on the store list): name, expiry, metadata, chunking, files."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
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


def read_form(
    name: str, days: str, metadata: str, chunking: str, size: str, overlap: str, files: str
) -> NewStore:
    """The form's fields as a :class:`NewStore`; ValueError with a sentence when one is
    not what the API accepts (the same limits the API documents)."""
    expires = None
    if days.strip():
        number = whole_number(days)
        if number is None or not limits.EXPIRY_DAYS_MIN <= number <= limits.EXPIRY_DAYS_MAX:
            raise ValueError(
                f"Expiry: a whole number of days from {limits.EXPIRY_DAYS_MIN} to "
                f"{limits.EXPIRY_DAYS_MAX}, or empty for never."
            )
        expires = {"anchor": "last_active_at", "days": number}
    meta = parse_metadata(metadata)
    problem = limits.check_metadata(meta)
    if problem:
        raise ValueError(problem[1])
    strategy: dict[str, Any] | None = None
    if chunking == "static":
        numbers = [whole_number(size), whole_number(overlap)]
        if None in numbers:
            raise ValueError("Static chunking: chunk size and overlap are whole numbers of tokens.")
        strategy = {
            "type": "static",
            "static": {"max_chunk_size_tokens": numbers[0], "chunk_overlap_tokens": numbers[1]},
        }
        problem = limits.check_chunking_strategy(strategy)
        if problem:
            raise ValueError(problem[1])
    elif chunking == "auto":
        strategy = {"type": "auto"}
    ids = [i for i in re.split(r"[\s,]+", files.strip()) if i]
    bad = [i for i in ids if not _FILE_ID.match(i)]
    if bad:
        raise ValueError(f"Not a file ID: {bad[0]!r}.")
    if len(ids) > limits.STORE_FILE_IDS_MAX:
        raise ValueError(f"At most {limits.STORE_FILE_IDS_MAX} file IDs.")
    if len(set(ids)) != len(ids):
        raise ValueError("A file ID appears twice.")
    return NewStore(name.strip() or None, expires, meta, strategy, ids)


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
    CreateStoreScreen.auto #static-sizes {
        display: none;
    }
    """
    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "create", "Create"),
    ]

    def compose(self) -> ComposeResult:
        with DialogBox():
            yield Label("Create a vector store", classes="title")
            with Horizontal(classes="field"):
                yield Label("Name")
                yield Input(placeholder="optional", id="name")
            with Horizontal(classes="field"):
                yield Label("Expire after")
                yield Input(placeholder="days without activity, 1–365; empty: never", id="days")
            with Horizontal(classes="field"):
                yield Label("Metadata")
                yield Input(placeholder="team=docs, env=prod", id="metadata")
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
            with Horizontal(classes="field"):
                yield Label("File IDs")
                yield Input(placeholder="optional: file-abc… file-def…", id="files")
            yield Label(
                f"Chunk size {limits.CHUNK_SIZE_MIN}–{limits.CHUNK_SIZE_MAX} tokens, overlap at "
                "most half of it; metadata at most 16 pairs. Checked before anything is sent.",
                classes="hint",
            )
            yield Label("", classes="error", id="error", markup=False)
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
        except ValueError as exc:
            self.query_one("#error", Label).update(str(exc))
            return
        self.dismiss(form)
