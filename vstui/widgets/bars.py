"""File-count bars: a stacked bar (store detail) and a text progress bar (batch monitor)."""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.color import Color
from textual.reactive import reactive
from textual.widget import Widget

from ..api import FileCounts

SEGMENTS = (
    ("completed", "bar--completed", "completed"),
    ("failed", "bar--failed", "failed"),
    ("cancelled", "bar--cancelled", "cancelled"),
    ("in_progress", "bar--in-progress", "in progress"),
)
# Work still to do is drawn light, so a bar never looks finished before it is.
GLYPHS = {"bar--in-progress": "░", "bar--cancelled": "▒"}


def stacked(counts: FileCounts, width: int, styles: dict[str, Style]) -> Text:
    """A bar ``width`` cells wide, each status a share of it, in the theme's colours."""
    total = counts.total
    text = Text()
    if width <= 0:
        return text
    if not total:
        return Text("░" * width, style=styles.get("empty", Style()))
    used = 0
    shares = []
    for field, key, _ in SEGMENTS:
        value = getattr(counts, field)
        cells = round(width * value / total)
        if value and not cells:
            cells = 1
        shares.append((cells, key))
        used += cells
    # Give rounding error to the largest share so the bar is exactly `width`.
    largest = max(range(len(shares)), key=lambda i: shares[i][0])
    cells, key = shares[largest]
    shares[largest] = (max(0, cells + width - used), key)
    for cells, key in shares:
        if cells:
            text.append(GLYPHS.get(key, "█") * cells, style=styles.get(key, Style()))
    return text


class StackedBar(Widget):
    """File counts as one bar plus a legend."""

    COMPONENT_CLASSES = {
        "bar--completed",
        "bar--in-progress",
        "bar--failed",
        "bar--cancelled",
        "bar--empty",
    }
    DEFAULT_CSS = """
    StackedBar {
        height: 2;
    }
    StackedBar > .bar--completed { color: $success; }
    StackedBar > .bar--in-progress { color: $warning; }
    StackedBar > .bar--failed { color: $error; }
    StackedBar > .bar--cancelled { color: $text-muted; }
    StackedBar > .bar--empty { color: $panel; }
    """

    counts: reactive[FileCounts] = reactive(FileCounts, always_update=True)

    def styles_map(self) -> dict[str, Style]:
        names = ["bar--completed", "bar--in-progress", "bar--failed", "bar--cancelled"]
        styles = {name: self.get_component_rich_style(name, partial=True) for name in names}
        variables = self.app.get_css_variables()
        muted = Color.parse(variables["surface"]).blend(Color.parse(variables["foreground"]), 0.6)
        styles["bar--cancelled"] = Style(color=muted.rich_color)
        styles["empty"] = self.get_component_rich_style("bar--empty", partial=True)
        return styles

    def render(self) -> Text:
        styles = self.styles_map()
        counts = self.counts
        bar = stacked(counts, max(10, self.size.width), styles)
        legend = Text()
        for field, key, label in SEGMENTS:
            value = getattr(counts, field)
            if legend:
                legend.append("   ")
            legend.append(GLYPHS.get(key, "█") + " ", style=styles[key])
            legend.append(f"{value:,} {label}")
        legend.append(f"   of {counts.total:,}")
        return bar + Text("\n") + legend
