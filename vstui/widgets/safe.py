"""Widgets that show untrusted text safely: ``SafeStatic``, ``SafeLabel``, ``SafeDataTable``.

Text is cleaned when it is set (so it is measured as shown), and every painted line
passes a last check: a control or bidi character that slipped through inside some other
renderable (a rich ``Table`` of server fields, say) is escaped there, never sent to the
terminal. A screen opts in with a one-line change: ``SafeStatic`` for ``Static``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.segment import Segment
from rich.text import Text
from textual.app import App
from textual.content import Content
from textual.notifications import SeverityLevel
from textual.widgets import DataTable, Input, Label, Static, TextArea

from ..text import clean, clean_block, is_clean

if TYPE_CHECKING:
    from textual.geometry import Region
    from textual.strip import Strip


def clean_rich(value: Text, *, block: bool = False) -> Text:
    """A copy of ``value`` with its text cleaned and its styles kept."""
    cleaner = clean_block if block else clean
    plain = value.plain
    if cleaner(plain) == plain:
        return value
    offsets = sorted({s.start for s in value.spans} | {s.end for s in value.spans})
    out = Text(
        style=value.style,
        justify=value.justify,
        overflow=value.overflow,
        no_wrap=value.no_wrap,
        end=value.end,
    )
    for part in value.divide(offsets) if offsets else [value]:
        piece = Text(cleaner(part.plain), style=part.style)
        for span in part.spans:
            piece.stylize(span.style)
        out.append_text(piece)
    return out


def clean_content(value: Any, *, block: bool = True) -> Any:
    """Strings, rich ``Text`` and textual ``Content`` cleaned; other renderables as they are."""
    if isinstance(value, str):
        return clean_block(value) if block else clean(value)
    if isinstance(value, Text):
        return clean_rich(value, block=block)
    if isinstance(value, Content) and not is_clean(value.plain):
        return Content(clean_block(value.plain) if block else clean(value.plain))
    return value


def clean_strip(strip: Strip) -> Strip:
    """The last check on a painted line: escape anything a terminal would act on."""
    segments = list(strip)
    if all(is_clean(segment.text) for segment in segments):
        return strip
    from textual.strip import Strip

    fixed = [
        Segment(text if is_clean(text) else clean(text), style, control)
        for text, style, control in segments
    ]
    return Strip(fixed).crop(0, strip.cell_length)


class SafeLines:
    """Mixin: every line a widget paints passes :func:`clean_strip`."""

    def render_lines(self, crop: Region) -> list[Strip]:
        lines: list[Strip] = super().render_lines(crop)  # type: ignore[misc]
        return [clean_strip(line) for line in lines]


class SafeStatic(SafeLines, Static):
    """A ``Static`` for server data: newlines kept, controls escaped, the key masked.

    ``block=False`` shows one line (line breaks as ``⏎``).
    """

    def __init__(self, content: Any = "", *, block: bool = True, **kwargs: Any) -> None:
        self._block = block
        self._shown: Any = _NOTHING
        super().__init__(clean_content(content, block=block), **kwargs)

    def update(self, content: Any = "", *, layout: bool | None = None) -> None:
        """Show ``content``. By default (``layout=None``) the same content again costs
        nothing, and the screen is laid out again only when the widget's size would
        change: a status line updated on every key repaints one line, not the screen."""
        cleaned = clean_content(content, block=self._block)
        if layout is not None:
            self._shown = cleaned
            super().update(cleaned, layout=layout)
            return
        if _same(cleaned, self._shown):
            return
        self._shown = cleaned
        before = self._measure()
        super().update(cleaned, layout=False)
        if before is None or self._measure() != before:
            self.refresh(layout=True)

    def _measure(self) -> tuple[int, int] | None:
        """The content size this widget would ask for now (None: not laid out yet)."""
        if not self.is_mounted or not self.size:
            return None
        width = self.content_size.width
        container, viewport = self.container_size, self.app.size
        styles = self.styles
        auto_width = styles.width is not None and styles.width.is_auto
        auto_height = styles.height is None or styles.height.is_auto
        return (
            self.get_content_width(container, viewport) if auto_width else 0,
            self.get_content_height(container, viewport, width) if auto_height else 0,
        )


_NOTHING = object()


def _same(a: Any, b: Any) -> bool:
    """Whether two contents would paint the same (strings, ``Text`` and ``Content``).

    Their own ``==`` is not enough: ``Text`` leaves out its base style and justification,
    ``Content`` compares its plain text only (a status turning red would not be shown)."""
    if type(a) is not type(b) or not isinstance(a, str | Text | Content):
        return False
    if isinstance(a, Text):
        return _text_look(a) == _text_look(b)
    if isinstance(a, Content):
        return bool(a.plain == b.plain and a.spans == b.spans)
    return bool(a == b)


def _text_look(text: Text) -> tuple[Any, ...]:
    return (
        text.plain,
        text.spans,
        text.style,
        text.justify,
        text.overflow,
        text.no_wrap,
        text.end,
    )


class SafeLabel(SafeLines, Label):
    """A ``Label`` for server data (one line unless the text has line breaks of its own)."""

    def __init__(self, content: Any = "", **kwargs: Any) -> None:
        super().__init__(clean_content(content), **kwargs)

    def update(self, content: Any = "", *, layout: bool = True) -> None:
        super().update(clean_content(content), layout=layout)


class SafeDataTable(SafeLines, DataTable[Any]):
    """A ``DataTable`` whose cells are cleaned as they are added (strings never as markup)."""

    def add_row(self, *cells: Any, **kwargs: Any) -> Any:
        return super().add_row(*(_cell(c) for c in cells), **kwargs)


def _cell(value: Any) -> Any:
    if isinstance(value, str):
        return Text(clean(value))
    return clean_content(value, block=False)


class SafeInput(SafeLines, Input):
    """An ``Input`` that may be pre-filled with server text (a store's name)."""


class SafeTextArea(SafeLines, TextArea):
    """A ``TextArea`` that may show server text (metadata values, parsed content)."""


class SafeApp(App[None]):
    """Notifications and the header show untrusted text: cleaned here, once, for every screen."""

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """Every notification, the screens' too: never markup, controls escaped, key masked."""
        super().notify(
            clean_block(message),
            title=clean(title),
            severity=severity,
            timeout=timeout,
            markup=False,
        )

    def format_title(self, title: str, sub_title: str) -> Content:
        """The header: titles quote store names, so they are cleaned like any server text.
        The sub-title (fitted to the width: the masked key at least) stays whole; a title
        too long for it (a store's name) is cut, not the key at the end of the line."""
        from rich.cells import cell_len, set_cell_size

        from ..fmt import header_room

        title, sub_title = clean(title), clean(sub_title)
        if sub_title:
            room = header_room(self.size.width, sub_title)
            if cell_len(title) > room:
                title = set_cell_size(title, max(room - 1, 0)).rstrip() + "…"
        return super().format_title(title, sub_title)
