"""Cursor paging: every page of a list, and a walk from both ends at once.

The cursor for the next page is the id of the last item of the page, as the official SDK
does. A page's ``last_id`` is only a cross-check: some servers (llama-stack) answer the
last id of the whole list there, and trusting it would end the walk after one page.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Literal, Protocol, TypeVar

from .errors import IncompleteListingError

log = logging.getLogger(__name__)

Order = Literal["asc", "desc"]


class Identified(Protocol):
    """Anything listed by the API: it has an id."""

    @property
    def id(self) -> str: ...


I_co = TypeVar("I_co", bound=Identified, covariant=True)
I = TypeVar("I", bound=Identified)  # noqa: E741


class Page(Protocol[I_co]):
    """One page of a list (``ListPage`` is one)."""

    @property
    def data(self) -> Sequence[I_co]: ...

    @property
    def has_more(self) -> bool: ...

    @property
    def last_id(self) -> str | None: ...


P = TypeVar("P", bound=Page[Identified])

_warned_last_id = threading.Event()

LastIdMismatch = Callable[[str, str], None]
"""Told ``(last_id, cursor)`` when a page's ``last_id`` is not its last item's id."""


def _log_once(last_id: str, cursor: str) -> None:
    if _warned_last_id.is_set():
        return
    _warned_last_id.set()
    log.warning(
        "the server's last_id (%r) is not the id of the page's last item (%r); "
        "paging by the last item",
        last_id[:80],
        cursor[:80],
    )


def next_cursor(page: Page[Identified], on_mismatch: LastIdMismatch | None = None) -> str | None:
    """The ``after`` cursor for the page following ``page``, or None when it is the last."""
    if not page.has_more or not page.data:
        return None
    cursor = page.data[-1].id
    if page.last_id is not None and page.last_id != cursor:
        (on_mismatch or _log_once)(page.last_id, cursor)
    return cursor


def iter_pages(
    fetch: Callable[[str | None], P],
    *,
    strict: bool = False,
    what: str = "",
    on_last_id_mismatch: LastIdMismatch | None = None,
) -> Iterator[P]:
    """Yield every page, following ``after`` cursors until ``has_more`` is false.

    A server that hands out a cursor twice would loop forever: the walk stops there (and
    logs it). With ``strict`` (for listings a deletion depends on) a repeated cursor, an
    id listed again on a later page or a page that says there is more but holds nothing
    raise :class:`IncompleteListingError` (naming the listing ``what``) instead: the
    caller must not treat the list as whole. An id repeated *within* one page (a server
    that lists a file attached twice twice) hides nothing and is allowed.
    """
    after: str | None = None
    cursors: set[str] = set()
    ids: set[str] = set()
    while True:
        page = fetch(after)
        if strict:
            _check_whole(page, ids, what)
        yield page
        cursor = next_cursor(page, on_last_id_mismatch)
        if cursor is None:
            if strict and page.has_more:
                raise IncompleteListingError(
                    "the server said the list goes on but sent an empty page; "
                    "the list may be incomplete",
                    what=what,
                )
            return
        if cursor in cursors:
            if strict:
                raise IncompleteListingError(
                    f"the server repeated the cursor {cursor[:80]!r}; the list may be incomplete",
                    what=what,
                )
            log.warning("the server repeated the cursor %r; stopping the listing", cursor[:80])
            return
        cursors.add(cursor)
        after = cursor


def _check_whole(page: Page[Identified], ids: set[str], what: str) -> None:
    fresh = {item.id for item in page.data}
    again = fresh & ids
    if again:
        first = min(again)
        raise IncompleteListingError(
            f"the server listed {first[:80]!r} on two pages; the list may be incomplete",
            what=what,
        )
    ids |= fresh


def walk_both_ends(fetch: Callable[[Order, str | None], Page[I]]) -> Iterator[list[I]]:
    """Walk a list from both ends at once (asc and desc concurrently).

    Yields batches of items as pages arrive and stops where the two walks meet; every
    item is yielded exactly once.
    """
    results: queue.Queue[list[I] | BaseException | None] = queue.Queue()
    seen: set[str] = set()
    lock = threading.Lock()
    met = threading.Event()

    def walk(order: Order) -> None:
        try:
            for page in iter_pages(lambda after: fetch(order, after)):
                fresh: list[I] = []
                with lock:
                    for item in page.data:
                        if item.id in seen:
                            met.set()
                            continue
                        seen.add(item.id)
                        fresh.append(item)
                if fresh:
                    results.put(fresh)
                if met.is_set():
                    break
            results.put(None)
        except BaseException as exc:  # handed to the consumer thread
            met.set()
            results.put(exc)

    for order in ("asc", "desc"):
        threading.Thread(target=walk, args=(order,), daemon=True, name=f"walk-{order}").start()
    done = 0
    error: BaseException | None = None
    while done < 2:
        item = results.get()
        if item is None:
            done += 1
        elif isinstance(item, BaseException):
            done += 1
            error = error or item
        elif error is None:
            yield item
    if error is not None:
        raise error
