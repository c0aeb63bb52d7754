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
from typing import Any, Literal, Protocol, TypeVar

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


def _created(item: Identified) -> int | None:
    """``item.created_at`` when it is a number of seconds, else None (ordering unprovable)."""
    value = getattr(item, "created_at", None)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value)


class _TwoEnds:
    """What the two walks of :func:`walk_both_ends` have proven so far (guarded by ``lock``).

    The asc walk has seen every item created before ``edge["asc"]`` (the last it saw) and
    the desc walk every item created after ``edge["desc"]``, *if* the server really sorts
    each walk by ``created_at`` in the order asked. So the list is whole once
    ``edge["asc"] > edge["desc"]``, and only while that proof holds (``proven``): both first
    pages differ, every page keeps its walk's order, every item has a ``created_at``.
    Otherwise the asc walk alone goes on to ``has_more: false``.
    """

    def __init__(self, results: queue.Queue[list[Any] | BaseException | None]) -> None:
        self.lock = threading.Lock()
        self.results = results
        self.seen: dict[str, Order] = {}
        self.first: dict[Order, tuple[list[str], bool]] = {}
        self.edge: dict[Order, int] = {}
        self.proven = True
        self.desc_active = True
        self.finished = False  # the consumer was given its last word (None or an error)

    def needed(self, order: Order) -> bool:
        return not self.finished and (order == "asc" or self.desc_active)

    def unproven(self, why: str) -> None:
        if self.proven:
            log.info("walking from both ends is not safe here (%s): one walk to the end", why)
        self.proven = False
        self.desc_active = False

    def take(self, order: Order, page: Page[I]) -> None:
        """Record one page of ``order``'s walk and hand its new items to the consumer."""
        if not self.needed(order):
            return
        if order not in self.first:
            self.first[order] = ([item.id for item in page.data], page.has_more)
            self._compare_first_pages()
        fresh: list[I] = []
        touched = False
        for item in page.data:
            created = _created(item)
            if created is None:
                self.unproven("an item has no created_at")
            else:
                last = self.edge.get(order)
                wrong = last is not None and (created < last if order == "asc" else created > last)
                if wrong:
                    self.unproven(f"the {order} walk is not in {order} order")
                self.edge[order] = created
            who = self.seen.get(item.id)
            if who is None:
                self.seen[item.id] = order
                fresh.append(item)
            elif who != order:
                touched = True
        if fresh:
            self.results.put(fresh)
        if touched:
            # the walks overlap; if they meet inside a group created in the same second,
            # the asc walk alone goes past it (the two orders may break ties differently)
            self.desc_active = False
        asc, desc = self.edge.get("asc"), self.edge.get("desc")
        if self.proven and asc is not None and desc is not None and asc > desc:
            self.finish(None)

    def _compare_first_pages(self) -> None:
        if len(self.first) < 2:
            return
        (asc, more), (desc, _) = self.first["asc"], self.first["desc"]
        if more and asc == desc:
            self.unproven("the server answers both orders with the same page")

    def finish(self, last: BaseException | None) -> None:
        if not self.finished:
            self.finished = True
            self.results.put(last)


def walk_both_ends(
    fetch: Callable[[Order, str | None], Page[I]], *, what: str = ""
) -> Iterator[list[I]]:
    """Walk a list from both ends at once (asc and desc concurrently); every item once.

    Yields batches of items as pages arrive. The walks stop where they are *proven* to
    meet (see :class:`_TwoEnds`): a server that ignores ``order`` (answers the same page to
    both) or sends items out of order falls back to one strict walk to the end, so the
    listing is never cut short. Each walk is strict (:func:`iter_pages`): a repeated cursor
    or id raises :class:`IncompleteListingError` naming ``what``.
    """
    results: queue.Queue[list[Any] | BaseException | None] = queue.Queue()
    state = _TwoEnds(results)

    def walk(order: Order) -> None:
        try:
            pages = iter_pages(lambda after: fetch(order, after), strict=True, what=what)
            for page in pages:
                with state.lock:
                    state.take(order, page)
                    if not state.needed(order):
                        return
            with state.lock:  # this walk reached has_more: false on its own: the list is whole
                state.finish(None)
        except BaseException as exc:  # handed to the consumer thread
            with state.lock:
                if state.needed(order):
                    state.finish(exc)

    for order in ("asc", "desc"):
        threading.Thread(target=walk, args=(order,), daemon=True, name=f"walk-{order}").start()
    try:
        while True:
            item = results.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        with state.lock:  # an abandoned walk stops fetching
            state.finished = True
