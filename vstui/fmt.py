"""Formatting for people: sizes, relative times, counts. Pure functions, no UI."""

from __future__ import annotations

import datetime as dt

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


def _span(seconds: float) -> str:
    seconds = abs(seconds)
    for limit, unit, size in (
        (60, "second", 1),
        (3600, "minute", 60),
        (86400, "hour", 3600),
        (86400 * 60, "day", 86400),
        (86400 * 730, "month", 86400 * 30),
    ):
        if seconds < limit:
            count = int(seconds // size)
            return f"{count} {unit}{'' if count == 1 else 's'}"
    years = int(seconds // (86400 * 365))
    return f"{years} year{'' if years == 1 else 's'}"


_SHORT = (
    (60, "s", 1),
    (3600, "m", 60),
    (86400, "h", 3600),
    (86400 * 60, "d", 86400),
    (86400 * 730, "mo", 86400 * 30),
)


def _short_span(seconds: float) -> str:
    seconds = abs(seconds)
    for limit, unit, size in _SHORT:
        if seconds < limit:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds // (86400 * 365))}y"


def short_relative(when: float | None, now: float) -> str:
    """'3d ago', 'in 2h', 'now': for table columns."""
    if when is None:
        return "—"
    delta = when - now
    if abs(delta) < 45:
        return "now"
    return f"in {_short_span(delta)}" if delta > 0 else f"{_short_span(delta)} ago"


def short_expiry(expires_at: int | None, status: str, now: float) -> str:
    if expires_at is None:
        return "expired" if status == "expired" else "never"
    if status == "expired" or expires_at <= now:
        return (
            f"expired {_short_span(now - expires_at)} ago" if expires_at < now - 45 else "expired"
        )
    return short_relative(expires_at, now)


def relative(when: float | None, now: float) -> str:
    """'3 days ago', 'in 2 hours', 'just now'."""
    if when is None:
        return "—"
    delta = when - now
    if abs(delta) < 45:
        return "just now"
    return f"in {_span(delta)}" if delta > 0 else f"{_span(delta)} ago"


def expiry(expires_at: int | None, status: str, now: float) -> str:
    """'in 3 days', 'expired 2 days ago', or 'never'."""
    if expires_at is None:
        return "expired" if status == "expired" else "never"
    if status == "expired" or expires_at <= now:
        return f"expired {_span(now - expires_at)} ago" if expires_at < now - 45 else "expired"
    return relative(expires_at, now)


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
