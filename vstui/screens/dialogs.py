"""Modal dialogs: confirm, prompt, key/value editor, help, raw JSON and a text pager.

Every dialog is a :class:`DialogBox`: it sizes to its content, scrolls inside when the
terminal is small, and keeps its buttons and key hints docked at the bottom, visible."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Literal

from rich.text import Text
from textual import on
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Input, Label, Select, Static, TextArea

from ..text import clean, clean_block
from ..widgets.filter_input import FILTER_BINDING, focus_box_at_once
from ..widgets.safe import SafeInput, SafeStatic, SafeTextArea

Validator = Callable[[str], str | None]


class DialogBox(VerticalScroll):
    """A dialog's frame: as tall as its content, at most the screen; scrolls inside."""


class Dialog(ModalScreen[Any]):
    DEFAULT_CSS = """
    Dialog {
        align: center middle;
        background: $background 60%;
    }
    Dialog > DialogBox {
        width: 72;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        border: thick $primary;
        background: $surface;
        padding: 0 2;
    }
    Dialog.danger > DialogBox {
        border: thick $error;
    }
    Dialog .title {
        text-style: bold;
        width: 100%;
        margin: 1 0;
    }
    Dialog Label, Dialog Static {
        width: 100%;
    }
    Dialog .error {
        color: $error;
        height: auto;
    }
    Dialog .hint {
        color: $text-muted;
        height: auto;
    }
    Dialog .keys {
        dock: bottom;
        color: $text-muted;
        height: auto;
        width: 100%;
        text-align: right;
    }
    Dialog Horizontal.buttons {
        dock: bottom;
        height: auto;
        padding: 1 0 0 0;
        align-horizontal: right;
        background: $surface;
    }
    Dialog Button {
        margin-left: 2;
    }
    Dialog TextArea {
        height: 12;
    }
    """
    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        # Read as they arrive (priority), so focus has moved before the next key is read:
        # "name<Tab>400" typed fast or pasted put "400" in the name field.
        Binding("tab", "focus_step(1)", "Next field", show=False, priority=True),
        Binding("shift+tab", "focus_step(-1)", "Previous field", show=False, priority=True),
    ]

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_focus_step(self, step: int) -> None:
        focused = self.focused
        if isinstance(focused, TextArea) and focused.tab_behavior == "indent":
            raise SkipAction  # (a tab typed into the text)
        if any(
            getattr(complete, "target", None) is focused for complete in self.query("AutoComplete")
        ):
            raise SkipAction  # Tab completes there (the completer reads it from the box)
        if step > 0:
            self.focus_next()
        else:
            self.focus_previous()


class ConfirmScreen(Dialog):
    """Yes/no, or — for big deletions — type a word or number to confirm."""

    def __init__(
        self,
        title: str,
        body: str,
        *,
        confirm_label: str = "Delete",
        cancel_label: str = "Cancel",
        danger: bool = True,
        require_text: str | None = None,
    ) -> None:
        super().__init__(classes="danger" if danger else "")
        self.title_text = title
        self.body = body
        self.confirm_label = confirm_label
        self.cancel_label = cancel_label
        self.require_text = require_text

    def compose(self) -> ComposeResult:
        with DialogBox():
            yield Label(clean(self.title_text), classes="title", markup=False)
            yield SafeStatic(self.body)
            if self.require_text is not None:
                yield Label(f"Type {self.require_text} to confirm:", classes="hint")
                yield Input(id="confirm-text")
            yield Label("", classes="error", id="error", markup=False)
            with Horizontal(classes="buttons"):
                yield Button(self.cancel_label, id="cancel")
                yield Button(self.confirm_label, id="confirm", variant="error")
            if self.require_text is None:
                keys = f"y: {self.confirm_label} · n or escape: {self.cancel_label}"
            else:
                keys = f"enter: {self.confirm_label} · escape: {self.cancel_label}"
            yield Label(keys, classes="keys", markup=False)

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("y", "yes", "Yes"),
        Binding("n", "cancel", "No"),
    ]

    def on_mount(self) -> None:
        if self.require_text is not None:
            self.query_one(Input).focus()
        else:
            self.query_one("#cancel", Button).focus()

    def action_yes(self) -> None:
        # With a typed confirmation, y is a letter for the input, never a yes.
        if self.require_text is None:
            self._confirm()

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(False)

    @on(Button.Pressed, "#confirm")
    @on(Input.Submitted)
    def _confirm(self) -> None:
        if self.require_text is not None:
            typed = self.query_one(Input).value.strip()
            if typed != self.require_text:
                self.query_one("#error", Label).update(
                    f"That is not {self.require_text}. Nothing was deleted."
                )
                return
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)


class PromptScreen(Dialog):
    """One line of input, validated before it is accepted. A message goes as soon as the
    input changes; with ``live`` the input is validated as it is typed."""

    def __init__(
        self,
        title: str,
        *,
        value: str = "",
        placeholder: str = "",
        hint: str = "",
        validate: Validator | None = None,
        live: bool = False,
    ) -> None:
        super().__init__()
        self.title_text = title
        self.value = value
        self.placeholder = placeholder
        self.hint = hint
        self.validate = validate
        self.live = live

    def compose(self) -> ComposeResult:
        with DialogBox():
            yield Label(clean(self.title_text), classes="title", markup=False)
            yield SafeInput(value=self.value, placeholder=self.placeholder, select_on_focus=False)
            if self.hint:
                yield Label(self.hint, classes="hint")
            yield Label("", classes="error", id="error", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("OK", id="ok", variant="primary")
            yield Label("enter: OK · escape: Cancel", classes="keys")

    def on_mount(self) -> None:
        field = self.query_one(Input)
        field.focus()
        field.cursor_position = len(field.value)  # type after the name, never over it

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)

    def problem(self, value: str) -> str | None:
        """Why ``value`` is refused; None when it is accepted."""
        try:
            return self.validate(value) if self.validate else None
        except ValueError:  # a validator tripped on odd input: refuse it, never crash
            return "That is not a valid value; check it and try again."

    @on(Input.Changed)
    def _edited(self, event: Input.Changed) -> None:
        # The message was about what was there before (a refused value, a server's reply).
        problem = self.problem(event.value) if self.live else None
        self.query_one("#error", Label).update(problem or "")

    @on(Button.Pressed, "#ok")
    @on(Input.Submitted)
    def _ok(self) -> None:
        value = self.query_one(Input).value
        problem = self.problem(value)
        if problem:
            self.query_one("#error", Label).update(problem)
            return
        self.dismiss(value)


def whole_number(text: str) -> int | None:
    """``text`` as a whole number of plain ASCII digits; None otherwise.

    (``str.isdigit`` accepts ``²`` and other digits ``int`` refuses.)
    """
    text = text.strip()
    if not text or len(text) > 18 or not text.isascii() or not text.isdigit():
        return None
    return int(text)


def _typed(value: str) -> Any:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    if value in ("true", "false"):
        return value == "true"
    try:
        number = json.loads(value)
    except ValueError:
        return value
    if isinstance(number, float) and not math.isfinite(number):
        return value  # 1e999, NaN: not a JSON number the API accepts; kept as text
    return number if isinstance(number, int | float) and not isinstance(number, bool) else value


def format_pairs(values: dict[str, Any] | None) -> str:
    """``key=value`` lines, for showing attributes in tables (display only, never parsed)."""
    lines = []
    for key, value in (values or {}).items():
        if isinstance(value, bool):
            lines.append(f"{key}={'true' if value else 'false'}")
        elif isinstance(value, str) and _typed(value) != value:
            lines.append(f'{key}="{value}"')
        else:
            lines.append(f"{key}={value}")
    return "\n".join(lines)


# -- the structured key/value editor: one row of inputs per key ------------------------------

Kind = Literal["text", "number", "boolean"]
KINDS: tuple[Kind, ...] = ("text", "number", "boolean")


@dataclass(frozen=True)
class PairRow:
    """One row of the editor as typed: the key, the value's text and (attributes) its type.
    Nothing is trimmed or unquoted: what is in the inputs is what is saved."""

    key: str
    text: str
    kind: Kind = "text"


def rows_from_values(values: dict[str, Any] | None) -> list[PairRow]:
    """What the editor shows for ``values``; :func:`values_from_rows` gives them back."""
    rows = []
    for key, value in (values or {}).items():
        if isinstance(value, bool):
            rows.append(PairRow(key, "true" if value else "false", "boolean"))
        elif isinstance(value, int | float):
            rows.append(PairRow(key, json.dumps(value), "number"))
        else:
            rows.append(PairRow(key, str(value), "text"))
    return rows


def values_from_rows(rows: list[PairRow]) -> dict[str, Any]:
    """The rows as a dict; a row with neither key nor value is ignored. Raises ValueError
    naming the row for an empty or repeated key, or a value that is not of its type."""
    result: dict[str, Any] = {}
    for number, row in enumerate(rows, start=1):
        if row.key == "" and row.text == "":
            continue
        if row.key == "":
            raise ValueError(f"Row {number}: the key is empty.")
        if row.key in result:
            raise ValueError(f"Row {number}: key {row.key!r} appears twice.")
        if row.kind == "boolean":
            if row.text not in ("true", "false"):
                raise ValueError(f"Row {number}: a boolean is true or false, not {row.text!r}.")
            result[row.key] = row.text == "true"
        elif row.kind == "number":
            try:
                value = json.loads(row.text)
            except ValueError:
                value = None
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or (isinstance(value, float) and not math.isfinite(value))
            ):
                # (1e999 and NaN parse, but no JSON number the API accepts carries them)
                raise ValueError(f"Row {number}: {row.text!r} is not a number.")
            result[row.key] = value
        else:
            result[row.key] = row.text
    return result


def same_values(a: dict[str, Any] | None, b: dict[str, Any] | None) -> bool:
    """Equal keys and values of the same types (``1``, ``1.0`` and ``True`` differ)."""
    a, b = a or {}, b or {}
    return a.keys() == b.keys() and all(type(a[k]) is type(b[k]) and a[k] == b[k] for k in a)


class PairRowWidget(Horizontal):
    """Inputs for one key and its value, a type (attributes only) and a remove button."""

    DEFAULT_CSS = """
    PairRowWidget {
        height: auto;
        margin-bottom: 1;
    }
    PairRowWidget .key {
        width: 24;
        margin-right: 1;
    }
    PairRowWidget .value {
        width: 1fr;
    }
    PairRowWidget Select {
        width: 12;
        margin-left: 1;
    }
    PairRowWidget Button {
        min-width: 3;
        width: 3;
        margin-left: 1;
    }
    """

    def __init__(self, row: PairRow, *, typed: bool) -> None:
        super().__init__()
        self.row = row
        self.typed = typed

    def compose(self) -> ComposeResult:
        row = self.row
        yield SafeInput(
            row.key, placeholder="key", classes="key", compact=True, select_on_focus=False
        )
        yield SafeInput(
            row.text, placeholder="value", classes="value", compact=True, select_on_focus=False
        )
        if self.typed:
            options = [(kind, kind) for kind in KINDS]
            yield Select(options, value=row.kind, allow_blank=False, compact=True)
        yield Button("✕", classes="remove", tooltip="Remove this row", compact=True)

    def read(self) -> PairRow:
        key = self.query_one(".key", Input).value
        text = self.query_one(".value", Input).value
        kind: Kind = "text"
        if self.typed:
            chosen = self.query_one(Select).value
            kind = next((k for k in KINDS if k == chosen), "text")
        return PairRow(key, text, kind)


class PairsEditor(Dialog):
    """Edit metadata or attributes: a row of inputs per key; validated before saving.
    Saving with no change dismisses with ``None``: nothing is sent."""

    DEFAULT_CSS = """
    PairsEditor > DialogBox {
        width: 90;
    }
    PairsEditor #rows {
        height: auto;
    }
    PairsEditor #add-row {
        height: auto;
    }
    PairsEditor #add {
        margin-left: 0;
    }
    PairsEditor .hint {
        width: 100%;
    }
    """
    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "save", "Save"),
        Binding("ctrl+n", "add_row", "Add row"),
    ]

    def __init__(
        self,
        title: str,
        values: dict[str, Any] | None,
        *,
        typed: bool,
        check: Callable[[dict[str, Any]], str | None],
        hint: str,
    ) -> None:
        super().__init__()
        self.title_text = title
        self.values = values
        self.typed = typed
        self.check = check
        self.hint = hint

    def compose(self) -> ComposeResult:
        with DialogBox():
            yield Label(clean(self.title_text), classes="title", markup=False)
            with Vertical(id="rows"):
                for row in rows_from_values(self.values) or [PairRow("", "")]:
                    yield PairRowWidget(row, typed=self.typed)
            with Horizontal(id="add-row"):
                yield Button("+ Add row", id="add")
            yield Label(self.hint, classes="hint", markup=False)
            yield Label("", classes="error", id="error", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Save", id="save", variant="primary")
            yield Label("ctrl+s: Save · ctrl+n: Add row · escape: Cancel", classes="keys")

    def on_mount(self) -> None:
        self.query(Input).first().focus()

    @property
    def rows(self) -> list[PairRow]:
        return [widget.read() for widget in self.query(PairRowWidget)]

    @on(Button.Pressed, "#add")
    async def action_add_row(self) -> None:
        widget = PairRowWidget(PairRow("", ""), typed=self.typed)
        container = self.query_one("#rows", Vertical)
        await container.mount(widget)
        widget.query_one(".key", Input).focus()
        self.call_after_refresh(widget.scroll_visible, animate=False)

    @on(Button.Pressed, ".remove")
    def _remove(self, event: Button.Pressed) -> None:
        event.stop()
        row = next((a for a in event.button.ancestors if isinstance(a, PairRowWidget)), None)
        if row is not None:
            row.remove()

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        try:
            values = values_from_rows(self.rows)
        except ValueError as exc:
            self.query_one("#error", Label).update(str(exc))
            return
        if same_values(values, self.values):
            self.notify("No changes; nothing was saved.", timeout=3)
            self.dismiss(None)
            return
        problem = self.check(values)
        if problem:
            self.query_one("#error", Label).update(problem)
            return
        self.dismiss(values)


@dataclass(frozen=True)
class HelpEntry:
    """One action and every key bound to it."""

    keys: str
    description: str
    where: str
    enabled: bool = True


def help_entries(screen: Screen[Any]) -> list[HelpEntry]:
    """Every binding with a description that is active on ``screen`` (its own, the
    focused widget's, the app's), one entry per action with all of its keys: generated
    from the bindings themselves, so help never drifts from what the keys do."""
    app = screen.app
    order = {"screen": 0, "widget": 1, "app": 2}
    grouped: dict[tuple[str, str], list[Any]] = {}
    for active in screen.active_bindings.values():
        binding = active.binding
        if not binding.description:
            continue
        grouped.setdefault((binding.action, binding.description), []).append(active)
    entries = []
    for (_action, description), actives in grouped.items():
        node = actives[0].node
        where = "screen" if node is screen else "app" if node is app else "widget"
        keys = []
        for active in actives:
            label = active.binding.key_display or app.get_key_display(active.binding)
            if label not in keys:
                keys.append(label)
        enabled = any(active.enabled for active in actives)
        entries.append(HelpEntry(" ".join(keys), description, where, enabled))
    entries.sort(key=lambda e: order[e.where])
    return entries


class HelpScreen(Dialog):
    """The keys of the screen underneath, with what they do: scrollable and searchable."""

    DEFAULT_CSS = """
    HelpScreen > DialogBox {
        width: 84;
        height: 100%;
        max-height: 44;
    }
    HelpScreen #help-search {
        margin-bottom: 1;
    }
    HelpScreen #help-rows {
        height: auto;
    }
    """
    BINDINGS = [
        Binding("escape,question_mark,q", "cancel", "Close"),
        replace(FILTER_BINDING, action="search", description="Search keys", show=False),
    ]

    def __init__(self, screen: Screen[Any]) -> None:
        super().__init__()
        self.target = screen
        self.entries = help_entries(screen)

    def compose(self) -> ComposeResult:
        target = self.target
        title = getattr(target, "TITLE", None) or "vstui"
        help_text = getattr(target, "HELP", "")
        with DialogBox():
            yield Label(f"Help — {title}", classes="title", markup=False)
            if help_text:
                yield Static(help_text + "\n", markup=False)
            session = getattr(self.app, "session", None)
            caps = getattr(getattr(session, "service", None), "capabilities", None)
            if caps is not None and caps.missing():  # e.g. "Server: no batches, no usage"
                yield Label(caps.describe() + "\n", id="server-caps", markup=False)
            yield Input(placeholder="/ search the keys", id="help-search")
            yield Static(self._rows(""), id="help-rows")
            yield Label(
                "ctrl+p: every action by name · : jump · escape: back · ctrl+q: quit",
                classes="keys",
            )

    def on_mount(self) -> None:
        self.query_one(DialogBox).focus()

    def _rows(self, needle: str) -> Text:
        needle = needle.strip().lower()
        rows = Text()
        headings = {"screen": "This screen", "widget": "The list", "app": "Everywhere"}
        last = None
        for entry in self.entries:
            if needle and needle not in f"{entry.keys} {entry.description}".lower():
                continue
            if entry.where != last:
                rows.append(("\n" if last else "") + headings[entry.where] + "\n", style="italic")
                last = entry.where
            rows.append(f"{entry.keys:>14}  ", style="bold")
            rows.append(entry.description)
            if not entry.enabled:
                rows.append("  (unavailable here)", style="dim")
            rows.append("\n")
        if not rows.plain:
            rows.append(f"No key matches {needle!r}.", style="dim")
        return rows

    def action_search(self) -> None:
        focus_box_at_once(self, self.query_one("#help-search", Input))

    @on(Input.Changed, "#help-search")
    def _searched(self, event: Input.Changed) -> None:
        self.query_one("#help-rows", Static).update(self._rows(event.value))

    def action_cancel(self) -> None:
        field = self.query_one("#help-search", Input)
        if field.has_focus and field.value:
            field.value = ""
            return
        self.dismiss(None)


class JsonScreen(Dialog):
    """An object as the server sent it, syntax-highlighted; ``c`` copies it."""

    DEFAULT_CSS = """
    JsonScreen > DialogBox {
        width: 100;
        height: auto;
    }
    """
    BINDINGS = [
        Binding("escape,q,y", "cancel", "Close"),
        Binding("c", "copy", "Copy JSON"),
    ]

    def __init__(self, title: str, data: Any) -> None:
        super().__init__()
        self.title_text = title
        self.json = json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False)

    def compose(self) -> ComposeResult:
        from rich.syntax import Syntax

        with DialogBox():
            yield Label(clean(self.title_text), classes="title", markup=False)
            yield Static(
                Syntax(
                    clean_block(self.json),
                    "json",
                    theme="ansi_dark",
                    background_color="default",
                    word_wrap=True,
                ),
                id="json",
            )
            yield Label("c: copy · escape: close", classes="keys")

    def on_mount(self) -> None:
        self.query_one(DialogBox).focus()

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(self.json)
        self.notify("Copied the JSON", timeout=2)


class TextPager(Screen[None]):
    """A scrollable, read-only view of a long text (a file's parsed content):
    ``/`` searches, ``n``/``N`` go to the next/previous match, ``g``/``G`` to the ends."""

    DEFAULT_CSS = """
    TextPager TextArea {
        height: 1fr;
        border: none;
    }
    TextPager #pager-title {
        height: 1;
        background: $panel;
        padding: 0 1;
        text-style: bold;
    }
    TextPager #pager-search {
        display: none;
        height: 3;
        border: tall $accent;
    }
    TextPager.searching #pager-search {
        display: block;
    }
    TextPager #pager-status {
        height: 1;
        padding: 0 1;
        color: $text-muted;
    }
    """
    BINDINGS = [
        Binding("escape,q", "back", "Back"),
        replace(FILTER_BINDING, action="search", description="Search"),
        Binding("n", "next_match(1)", "Next match"),
        Binding("N", "next_match(-1)", "Previous match"),
        Binding("g", "jump(0)", "Top", show=False),
        Binding("G", "jump(1)", "Bottom", show=False),
    ]

    def __init__(self, title: str, text: str) -> None:
        super().__init__()
        self.title_text = title
        self.text = clean_block(text)
        self.needle = ""
        self.match_index = -1

    def compose(self) -> ComposeResult:
        from textual.widgets import Header

        from ..widgets.footer import FitFooter

        yield Header()
        yield Label(clean(self.title_text), id="pager-title", markup=False)
        yield Input(placeholder="search — Enter finds, n/N next/previous", id="pager-search")
        yield SafeTextArea(self.text, read_only=True, soft_wrap=True, show_line_numbers=True)
        yield Label("", id="pager-status", markup=False)
        yield FitFooter(show_command_palette=False)

    def on_mount(self) -> None:
        self.title = "vstui · Content"
        self.query_one(TextArea).focus()

    @property
    def area(self) -> TextArea:
        return self.query_one(TextArea)

    def matches(self) -> list[tuple[int, int]]:
        """(row, column) of every case-insensitive occurrence of the search text."""
        if not self.needle:
            return []
        wanted = self.needle.lower()
        found = []
        for row, line in enumerate(self.area.document.lines):
            lowered = line.lower()
            start = lowered.find(wanted)
            while start >= 0:
                found.append((row, start))
                start = lowered.find(wanted, start + 1)
        return found

    def action_search(self) -> None:
        focus_box_at_once(self, self.query_one("#pager-search", Input), "searching")

    @on(Input.Submitted, "#pager-search")
    def _searched(self, event: Input.Submitted) -> None:
        self.needle = event.value
        self.match_index = -1
        self.remove_class("searching")
        self.area.focus()
        self.action_next_match(1)

    def action_next_match(self, step: int) -> None:
        from textual.widgets.text_area import Selection

        found = self.matches()
        status = self.query_one("#pager-status", Label)
        if not found:
            status.update(f"No match for {self.needle!r}." if self.needle else "")
            return
        self.match_index = (self.match_index + step) % len(found)
        row, column = found[self.match_index]
        self.area.selection = Selection((row, column), (row, column + len(self.needle)))
        self.area.scroll_cursor_visible(center=True)
        status.update(f"match {self.match_index + 1} of {len(found)} for {self.needle!r}")

    def action_jump(self, end: int) -> None:
        area = self.area
        if end:
            area.move_cursor(area.document.end)
        else:
            area.move_cursor((0, 0))
        area.scroll_cursor_visible()

    def action_back(self) -> None:
        if self.has_class("searching"):
            self.remove_class("searching")
            self.area.focus()
            return
        self.app.pop_screen()
