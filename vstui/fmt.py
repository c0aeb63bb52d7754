"""Formatting for people: sizes, relative times, counts. Pure functions, no UI."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .api import Capabilities, VectorStore, VectorStoreFile

_UNITS = ("B", "KB", "MB", "GB", "TB", "PB")


def human_bytes(size: int | None) -> str:
    """1536 → '1.5 KB' (powers of 1024, as storage is billed)."""
    if size is None:
        return "—"
    value = float(size)
    for unit in _UNITS:
        if abs(value) < 1024 or unit == _UNITS[-1]:
            if unit == "B":
                return f"{int(value)} B"
            return f"{value:.1f} {unit}" if value < 100 else f"{value:.0f} {unit}"
        value /= 1024
    return f"{size} B"  # pragma: no cover


_LONG = (
    (60, "second", 1),
    (3600, "minute", 60),
    (86400, "hour", 3600),
    (86400 * 60, "day", 86400),
    (86400 * 730, "month", 86400 * 30),
)
_SHORT_UNITS = {"second": "s", "minute": "m", "hour": "h", "day": "d", "month": "mo"}


def _span(seconds: float, short: bool = False) -> str:
    """A duration in the largest sensible unit, rounded to the nearest: 47.99 hours is
    '2 days' (or '2d' when short)."""
    seconds = abs(seconds)
    unit, count = "year", round(seconds / (86400 * 365))
    for limit, name, size in _LONG:
        nearest = round(seconds / size)
        if nearest * size < limit:
            unit, count = name, nearest
            break
    if short:
        return f"{count}{_SHORT_UNITS.get(unit, 'y')}"
    return f"{count} {unit}{'' if count == 1 else 's'}"


def relative(when: float | None, now: float, short: bool = False) -> str:
    """'3 days ago', 'in 2 hours', 'just now' (short: '3d ago', 'in 2h', 'now')."""
    if when is None:
        return "—"
    delta = when - now
    if abs(delta) < 45:
        return "now" if short else "just now"
    span = _span(delta, short)
    return f"in {span}" if delta > 0 else f"{span} ago"


def expiry(expires_at: int | None, status: str, now: float, short: bool = False) -> str:
    """'in 3 days', 'expired 2 days ago', or 'never'."""
    if expires_at is None:
        return "expired" if status == "expired" else "never"
    if status == "expired" or expires_at <= now:
        if expires_at < now - 45:
            return f"expired {_span(now - expires_at, short)} ago"
        return "expired"
    return relative(expires_at, now, short)


def policy_expiry(days: int, anchor: str = "last_active_at", short: bool = False) -> str:
    """A policy whose ``expires_at`` the server has not set: '30 days after last active'."""
    after = "last active" if anchor == "last_active_at" else anchor.replace("_", " ")
    if short:
        return f"{days}d idle" if anchor == "last_active_at" else f"{days}d policy"
    return f"{days} day{'' if days == 1 else 's'} after {after}"


def short_relative(when: float | None, now: float) -> str:
    return relative(when, now, short=True)


def short_expiry(expires_at: int | None, status: str, now: float) -> str:
    return expiry(expires_at, status, now, short=True)


def timestamp(when: float | None) -> str:
    """An absolute UTC time, for detail views."""
    if when is None:
        return "—"
    moment = dt.datetime.fromtimestamp(when, dt.UTC)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m {seconds % 60:02d}s"
    return f"{seconds // 3600}h {seconds % 3600 // 60:02d}m"


def plural(count: int, noun: str, plural_form: str | None = None) -> str:
    word = noun if count == 1 else (plural_form or noun + "s")
    return f"{count:,} {word}"


# -- values a server may not report (OpenAI-compatible servers: see vstui.api.capabilities) --

NOT_REPORTED = "not reported by this server"
NOT_REPORTED_SHORT = "unknown"  # fits a narrow table cell; details say the sentence


def usage(store: VectorStore, caps: Capabilities | None = None, short: bool = False) -> str:
    """The store's usage ('1.5 KB'), or 'not reported by this server' when its 0 cannot be
    believed (0 with completed files, or a server seen never to report usage)."""
    if caps is not None and not caps.usage_known(store):
        return NOT_REPORTED_SHORT if short else NOT_REPORTED
    return human_bytes(store.usage_bytes)


def file_usage(f: VectorStoreFile, caps: Capabilities | None = None, short: bool = False) -> str:
    """A store file's usage, or 'not reported by this server' for a completed file with 0
    on a server seen never to report usage."""
    unreported = caps is not None and caps.usage is False
    if unreported and f.usage_bytes == 0 and f.status == "completed":
        return NOT_REPORTED_SHORT if short else NOT_REPORTED
    return human_bytes(f.usage_bytes)


def store_expiry(
    store: VectorStore, now: float, caps: Capabilities | None = None, short: bool = False
) -> str:
    """Like :func:`expiry`, but a store with an expiry policy and no ``expires_at`` is
    'not reported by this server', never 'never'."""
    if caps is not None and not caps.expiry_known(store) and store.status != "expired":
        return NOT_REPORTED_SHORT if short else NOT_REPORTED
    return expiry(store.expires_at, store.status, now, short)


def iso(timestamp: float | None) -> str:
    """A Unix timestamp as ISO 8601 UTC (``2026-11-22T02:13:20Z``); '' for none."""
    if timestamp is None:
        return ""
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- one line that fits -----------------------------------------------------------------------


def first_fitting(variants: Iterable[str], room: int) -> str:
    """The first of ``variants`` (longest first) that fits in ``room`` cells, else the last
    (the terminal cuts it): lines give up their least useful parts rather than their end."""
    from rich.cells import cell_len

    text = ""
    for text in variants:
        if cell_len(text) <= room:
            break
    return text


HEADER_SIDES = 18  # Textual's header: its icon (8) and the space it keeps for a clock (10)
HEADER_JOIN = " — "  # between the title and the sub-title (App.format_title)


def header_room(width: int, other: str) -> int:
    """Cells left in a header ``width`` columns wide for the title or the sub-title when
    the ``other`` one takes what it needs."""
    from rich.cells import cell_len

    return width - HEADER_SIDES - cell_len(HEADER_JOIN) - cell_len(other)


def header_sub_title(
    title: str, label: str, host: str, masked_key: str, read_only: bool, width: int
) -> str:
    """ "account · host · key" for a header ``width`` columns wide after ``title``: the
    parts that do not fit go first (the label's "(…)", then the host, then the label);
    "[READ-ONLY]" and the masked key stay. The header cuts what is too long at its end,
    which cut the key to "sk-……" on an 80-column terminal."""
    short = label.split(" (", 1)[0] if label.endswith(")") else label
    prefix = "[READ-ONLY] " if read_only else ""
    variants = (
        (label, host, masked_key),
        (short, host, masked_key),
        (short, masked_key),
        (masked_key,),
    )
    return first_fitting(
        (prefix + " · ".join(parts) for parts in variants), header_room(width, title)
    )
