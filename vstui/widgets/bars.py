"""File-count bars: a stacked bar (store detail) and a text progress bar (batch monitor)."""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from ..api import FileCounts
from . import palette

SEGMENTS = (
    ("completed", "bar--completed", "completed"),
    ("failed", "bar--failed", "failed"),
    ("cancelled", "bar--cancelled", "cancelled"),
    ("in_progress", "bar--in-progress", "in progress"),
)
GLYPHS = {
    "bar--in-progress": palette.BAR_PENDING,
    "bar--cancelled": palette.BAR_CANCELLED,
    "bar--failed": palette.BAR_FAILED,
}


def stacked(counts: FileCounts, width: int, styles: dict[str, Style]) -> Text:
    """A bar ``width`` cells wide, each status a share of it, in the theme's colours."""
    total = counts.total
    text = Text()
    if width <= 0:
        return text
    if not total:
        return Text(palette.BAR_PENDING * width, style=styles.get("empty", Style()))
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
            text.append(GLYPHS.get(key, palette.BAR_DONE) * cells, style=styles.get(key, Style()))
    return text


class StackedBar(Widget):
    """File counts as one bar plus a legend."""

    DEFAULT_CSS = """
    StackedBar {
        height: 2;
    }
    """

    counts: reactive[FileCounts] = reactive(FileCounts, always_update=True)

    def styles_map(self) -> dict[str, Style]:
        variables = self.app.get_css_variables()
        styles = palette.bar_styles(variables, muted_blend=palette.BAR_MUTED_BLEND)
        styles["empty"] = palette.colour_style(variables, "panel")
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
            legend.append(GLYPHS.get(key, palette.BAR_DONE) + " ", style=styles[key])
            legend.append(f"{value:,} {label}")
        legend.append(f"   of {counts.total:,}")
        return bar + Text("\n") + legend
