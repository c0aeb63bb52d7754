"""One palette: the theme colour and glyph of every status, for every screen and widget.

Colours come from the current theme's CSS variables (``app.get_css_variables()``), so
every theme, built-in or from a file, colours statuses the same way.
"""

from __future__ import annotations

from collections.abc import Mapping

from rich.style import Style
from textual.color import Color, ColorParseError

# Status → theme variable. Anything not listed is drawn in the normal text colour.
STATUS_VARIABLES: dict[str, str] = {
    "expired": "error",
    "failed": "error",
    "in_progress": "warning",
    "cancelling": "warning",
    "completed": "success",
}
BOLD_STATUSES = frozenset({"expired"})  # what must stand out
MUTED_STATUSES = frozenset({"cancelled"})  # what no longer matters

# Glyphs.
BAR_DONE = "█"
BAR_PENDING = "░"  # work still to do is drawn light, so a bar never looks finished early
BAR_CANCELLED = "▒"
BAR_FAILED = "✗"  # a shape of its own, not only a colour (completed is BAR_DONE)
FAILED_MARK = "✗"
PENDING_MARK = "…"
SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"

# How far secondary text is blended from the surface towards the foreground.
MUTED_BLEND = 0.65
BAR_MUTED_BLEND = 0.6


def colour_style(variables: Mapping[str, str], variable: str, *, bold: bool = False) -> Style:
    """A rich style in the theme's ``variable`` colour (``error``, ``success``…)."""
    value = variables.get(variable)
    if not value:
        return Style(bold=bold) if bold else Style()
    try:
        return Style(color=Color.parse(value).rich_color, bold=bold or None)
    except ColorParseError:
        return Style(bold=bold) if bold else Style()


def muted_style(variables: Mapping[str, str], blend: float = MUTED_BLEND) -> Style:
    """Secondary text: the theme's foreground blended towards the surface.

    (``$text-muted`` carries alpha, which a rich style cannot blend by itself.)
    """
    try:
        fg = Color.parse(variables.get("foreground", "#c0c0c0"))
        bg = Color.parse(variables.get("surface", variables.get("background", "#000000")))
    except ColorParseError:
        return Style(dim=True)
    return Style(color=bg.blend(fg, blend).rich_color)


def status_style(variables: Mapping[str, str], status: str) -> Style:
    """The theme's style for a status: expired and failed stand out, cancelled recedes."""
    if status in MUTED_STATUSES:
        return muted_style(variables)
    variable = STATUS_VARIABLES.get(status)
    if variable is None:
        return Style()
    return colour_style(variables, variable, bold=status in BOLD_STATUSES)


def bar_styles(
    variables: Mapping[str, str], *, muted_blend: float = MUTED_BLEND
) -> dict[str, Style]:
    """Styles for :func:`vstui.widgets.bars.stacked`, keyed by segment."""
    return {
        "bar--completed": status_style(variables, "completed"),
        "bar--in-progress": status_style(variables, "in_progress"),
        "bar--failed": status_style(variables, "failed"),
        "bar--cancelled": muted_style(variables, muted_blend),
        "empty": muted_style(variables),
    }
