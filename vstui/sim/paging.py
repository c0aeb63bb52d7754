"""Cursor paging over sorted records, and the list envelope the API answers with."""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from typing import Any, TypeVar

T = TypeVar("T")


def paginate(
    items: Sequence[T],
    keys: Sequence[tuple[int, int]],
    *,
    order: str,
    after: tuple[int, int] | None,
    before: tuple[int, int] | None,
    limit: int,
) -> tuple[list[T], bool]:
    """Cursor paging over ``items`` sorted ascending by ``keys``."""
    if order == "asc":
        lo = bisect.bisect_right(keys, after) if after else 0
        hi = bisect.bisect_left(keys, before) if before else len(keys)
        if before is not None and after is None:
            start = max(lo, hi - limit)
            return list(items[start:hi]), start > lo
        end = min(hi, lo + limit)
        return list(items[lo:end]), end < hi
    hi = bisect.bisect_left(keys, after) if after else len(keys)
    lo = bisect.bisect_right(keys, before) if before else 0
    if before is not None and after is None:
        end = min(hi, lo + limit)
        return list(reversed(items[lo:end])), end < hi
    start = max(lo, hi - limit)
    return list(reversed(items[start:hi])), start > lo


def list_body(items: list[dict[str, Any]], has_more: bool) -> dict[str, Any]:
    """``{"object": "list", "data": ..., "first_id", "last_id", "has_more"}``."""
    return {
        "object": "list",
        "data": items,
        "first_id": items[0]["id"] if items else None,
        "last_id": items[-1]["id"] if items else None,
        "has_more": has_more,
    }
