"""Modal dialogs: confirm, prompt, key=value editor, help and a text pager."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Input, Label, Static, TextArea

from ..text import clean, clean_block
from ..widgets.safe import SafeInput, SafeStatic, SafeTextArea

Validator = Callable[[str], str | None]


class Dialog(ModalScreen[Any]):
    DEFAULT_CSS = """
    Dialog {
        align: center middle;
        background: $background 60%;
    }
    Dialog > Vertical {
        width: 72;
        height: auto;
        max-height: 90%;
        border: thick $primary;
        background: $surface;
        padding: 1 2;
    }
    Dialog.danger > Vertical {
        border: thick $error;
    }
    Dialog .title {
        text-style: bold;
        margin-bottom: 1;
    }
    Dialog .error {
        color: $error;
        height: auto;
    }
    Dialog .hint {
        color: $text-muted;
    }
    Dialog Horizontal.buttons {
        height: auto;
        margin-top: 1;
        align-horizontal: right;
    }
    Dialog Button {
        margin-left: 2;
    }
    Dialog TextArea {
        height: 12;
    }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmScreen(Dialog):
    """Yes/no, or — for big deletions — type a word or number to confirm."""

    def __init__(
        self,
        title: str,
        body: str,
        *,
        confirm_label: str = "Delete",
        danger: bool = True,
        require_text: str | None = None,
    ) -> None:
        super().__init__(classes="danger" if danger else "")
        self.title_text = title
        self.body = body
        self.confirm_label = confirm_label
        self.require_text = require_text

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(clean(self.title_text), classes="title", markup=False)
            yield SafeStatic(self.body)
            if self.require_text is not None:
                yield Label(f"Type {self.require_text} to confirm:", classes="hint")
                yield Input(id="confirm-text")
            yield Label("", classes="error", id="error", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button(self.confirm_label, id="confirm", variant="error")

    def on_mount(self) -> None:
        if self.require_text is not None:
            self.query_one(Input).focus()
        else:
            self.query_one("#cancel", Button).focus()

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
    """One line of input, validated before it is accepted."""

    def __init__(
        self,
        title: str,
        *,
        value: str = "",
        placeholder: str = "",
        hint: str = "",
        validate: Validator | None = None,
    ) -> None:
        super().__init__()
        self.title_text = title
        self.value = value
        self.placeholder = placeholder
        self.hint = hint
        self.validate = validate

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(clean(self.title_text), classes="title", markup=False)
            yield SafeInput(value=self.value, placeholder=self.placeholder)
            if self.hint:
                yield Label(self.hint, classes="hint")
            yield Label("", classes="error", id="error", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("OK", id="ok", variant="primary")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#ok")
    @on(Input.Submitted)
    def _ok(self) -> None:
        value = self.query_one(Input).value
        try:
            problem = self.validate(value) if self.validate else None
        except ValueError:  # a validator tripped on odd input: refuse it, never crash
            problem = "That is not a valid value; check it and try again."
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


def parse_pairs(text: str, *, typed: bool) -> dict[str, Any]:
    """``key=value`` lines → dict. With ``typed``, true/false and numbers become JSON values
    (quote a value to keep it a string: ``version="2"``)."""
    result: dict[str, Any] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if "=" not in line:
            raise ValueError(f"Line {number}: expected key=value, got {line!r}.")
        key, value = (part.strip() for part in line.split("=", 1))
        if not key:
            raise ValueError(f"Line {number}: the key is empty.")
        if key in result:
            raise ValueError(f"Line {number}: key {key!r} appears twice.")
        if typed:
            result[key] = _typed(value)
        else:
            result[key] = value[1:-1] if len(value) >= 2 and value[0] == value[-1] == '"' else value
    return result


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
    lines = []
    for key, value in (values or {}).items():
        if isinstance(value, bool):
            lines.append(f"{key}={'true' if value else 'false'}")
        elif isinstance(value, str) and _typed(value) != value:
            lines.append(f'{key}="{value}"')
        else:
            lines.append(f"{key}={value}")
    return "\n".join(lines)


class PairsEditor(Dialog):
    """Edit metadata or attributes as ``key=value`` lines; validated before saving."""

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
        with Vertical():
            yield Label(clean(self.title_text), classes="title", markup=False)
            yield SafeTextArea(format_pairs(self.values), id="pairs", soft_wrap=False)
            yield Label(self.hint, classes="hint")
            yield Label("", classes="error", id="error", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Save", id="save", variant="primary")

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        try:
            values = parse_pairs(self.query_one(TextArea).text, typed=self.typed)
        except ValueError as exc:
            self.query_one("#error", Label).update(str(exc))
            return
        problem = self.check(values)
        if problem:
            self.query_one("#error", Label).update(problem)
            return
        self.dismiss(values)

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "save", "Save"),
    ]


class HelpScreen(Dialog):
    """The keys of the screen underneath, with what they do."""

    DEFAULT_CSS = """
    HelpScreen > Vertical {
        width: 80;
    }
    HelpScreen VerticalScroll {
        height: auto;
        max-height: 30;
    }
    """
    BINDINGS = [
        Binding("escape,question_mark,q", "cancel", "Close"),
    ]

    def __init__(self, screen: Screen[Any]) -> None:
        super().__init__()
        self.target = screen

    def compose(self) -> ComposeResult:
        target = self.target
        title = getattr(target, "TITLE", None) or "vstui"
        help_text = getattr(target, "HELP", "")
        rows = Text()
        seen: set[str] = set()

        # This screen's own keys first, then the focused widget's, then the app's.
        def rank(active: Any) -> int:
            if active.node is target:
                return 0
            return 2 if active.node is self.app else 1

        for active in sorted(target.active_bindings.values(), key=rank):
            binding = active.binding
            if not binding.description or binding.action in seen:
                continue
            seen.add(binding.action)
            label = binding.key_display or self.app.get_key_display(binding)
            rows.append(f"{label:>12}  ", style="bold")
            rows.append(binding.description)
            if not active.enabled:
                rows.append("  (unavailable here)", style="dim")
            rows.append("\n")
        with Vertical():
            yield Label(f"Help — {title}", classes="title", markup=False)
            if help_text:
                yield Static(help_text + "\n")
            with VerticalScroll():
                yield Static(rows)
            yield Label(
                "ctrl+p: every action by name · escape: back · ctrl+q: quit", classes="hint"
            )


class TextPager(Screen[None]):
    """A scrollable, read-only view of a long text (a file's parsed content)."""

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
    """
    BINDINGS = [Binding("escape,q", "app.pop_screen", "Back")]

    def __init__(self, title: str, text: str) -> None:
        super().__init__()
        self.title_text = title
        self.text = text

    def compose(self) -> ComposeResult:
        from textual.widgets import Footer, Header

        yield Header()
        yield Label(clean(self.title_text), id="pager-title", markup=False)
        yield SafeTextArea(
            clean_block(self.text), read_only=True, soft_wrap=True, show_line_numbers=True
        )
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        self.title = "vstui · Content"
        self.query_one(TextArea).focus()
