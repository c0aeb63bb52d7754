"""Listings a deletion may rely on: complete, or an error that says why not.

A listing is complete only when it ran to ``has_more: false`` with no repeated cursor and
no repeated id; a store's file listing must also hold at least the ``file_counts.total``
the server reports (a store still ingesting can grow: it is listed again). A store whose
counts are null or zero is listed anyway. The cursor is the id of the last item of each
page; ``last_id`` is only a cross-check (a disagreement is logged once, never trusted).

No UI here: :mod:`vstui.cleanup` uses it for planning and for re-checking before each wave
of file deletions.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from .api import APIError, FileObject, VectorStore, VectorStoresService, paging
from .api.errors import IncompleteListingError
from .api.models import APIModel, ListPage

log = logging.getLogger(__name__)

M = TypeVar("M", bound=APIModel)
Progress = Callable[[str], None]

RELIST_ATTEMPTS = 3
_warned: set[str] = set()
_warned_lock = threading.Lock()


IncompleteListing = IncompleteListingError
"""The one error for a listing a deletion depends on that could not be read completely
(``what`` names the listing, ``reason`` says why); raised by the paging layer."""


def _warn_once(kind: str, message: str) -> None:
    with _warned_lock:
        if kind in _warned:
            return
        _warned.add(kind)
    log.warning(message)


def walk(
    fetch: Callable[[str | None], ListPage[M]],
    what: str,
    *,
    kind: str | None = None,
    on_page: Callable[[list[M]], None] | None = None,
) -> list[M]:
    """Every item of a cursor-paged list, or :class:`IncompleteListing`. ``what`` names
    the listing in errors; ``kind`` groups listings for the once-only ``last_id`` warning.

    Built on :func:`vstui.api.paging.iter_pages` with ``strict``; an item a page lists
    twice (a file attached twice, on some servers) is kept once.
    """

    def mismatch(last_id: str, cursor: str) -> None:
        _warn_once(
            kind or what,
            f"{what}: the page's last_id {last_id[:80]!r} is not its last item {cursor[:80]!r}; "
            "following the last item",
        )

    items: dict[str, M] = {}
    pages = paging.iter_pages(
        fetch,  # type: ignore[type-var]  # every listed model has an id
        strict=True,
        what=what,
        on_last_id_mismatch=mismatch,
    )
    for page in pages:
        for item in page.data:
            items.setdefault(item.id, item)  # type: ignore[attr-defined]
        if on_page is not None:
            on_page(page.data)
    return list(items.values())


def all_stores(service: VectorStoresService, progress: Progress | None = None) -> list[VectorStore]:
    """Every store of the account, complete."""
    seen = 0

    def page_done(data: list[VectorStore]) -> None:
        nonlocal seen
        seen += len(data)
        if progress is not None:
            progress(f"scanning stores: {seen:,}")

    return walk(
        lambda after: service.list_stores(after=after), "the store listing", on_page=page_done
    )


def assistants_files(service: VectorStoresService) -> list[FileObject]:
    """Every Files API file with purpose ``assistants``, complete."""
    return walk(
        lambda after: service.list_files(purpose="assistants", after=after),
        "the Files API listing",
    )


def store_file_ids(service: VectorStoresService, store: VectorStore) -> set[str]:
    """IDs of every file attached to ``store``; complete or :class:`IncompleteListing`."""
    what = f"store {store.id} file listing"
    current = store
    listed = 0
    for _ in range(RELIST_ATTEMPTS):
        try:
            files = walk(
                lambda after: service.list_store_files(store.id, after=after),
                what,
                kind="store files",
            )
        except APIError as error:
            if not service.is_missing(error):
                raise
            if service.confirm_gone(error, lambda: service.retrieve_store(store.id)):
                return set()  # the store is gone: it holds nothing
            raise IncompleteListing(
                "the store exists but its files could not be listed", what=what
            ) from None
        listed = len(files)
        if not current.counts_reported or listed >= current.file_counts.total:
            return {f.id for f in files}
        current = service.retrieve_store(store.id)  # still ingesting? read the count again
        if not current.counts_reported or listed >= current.file_counts.total:
            return {f.id for f in files}
    raise IncompleteListing(
        f"listed {listed} files but the store reports {current.file_counts.total} "
        f"({RELIST_ATTEMPTS} attempts)",
        what=what,
    )


def attachments(
    service: VectorStoresService,
    stores: Sequence[VectorStore],
    *,
    concurrency: int = 8,
    progress: Progress | None = None,
) -> dict[str, set[str]]:
    """File IDs held by each store, every listing complete, or :class:`IncompleteListing`
    naming the stores that could not be listed and why."""
    result: dict[str, set[str]] = {}
    problems: list[str] = []
    lock = threading.Lock()
    done = 0

    def one(store: VectorStore) -> None:
        nonlocal done
        try:
            ids = store_file_ids(service, store)
        except (IncompleteListing, APIError) as error:
            text = error.reason if isinstance(error, IncompleteListing) else error.summary
            with lock:
                problems.append(f"store {store.id} ({store.display_name}): {text}")
            return
        with lock:
            result[store.id] = ids
            done += 1
            finished = done
        if progress is not None and (finished % 10 == 0 or finished == len(stores)):
            progress(f"reading file lists: {finished}/{len(stores)} stores")

    if stores:
        workers = max(1, min(concurrency, len(stores)))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="list") as pool:
            list(pool.map(one, stores))
    if problems:
        problems.sort()
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        raise IncompleteListing(
            "; ".join(problems[:3]) + more, what=f"{len(problems)} of {len(stores)} stores"
        )
    return result


def _changed(before: VectorStore, now: VectorStore) -> bool:
    return (
        not now.counts_reported
        or not before.counts_reported
        or before.file_counts != now.file_counts
        or before.usage_bytes != now.usage_bytes
        or before.last_active_at != now.last_active_at
    )


class Holdings:
    """What every store holds, kept current cheaply: each :meth:`refresh` lists the stores
    once and re-lists the files only of stores that are new, whose counts, usage or
    ``last_active_at`` changed, or whose counts the server does not report."""

    def __init__(self, *, concurrency: int = 8) -> None:
        self.concurrency = concurrency
        self.stores: dict[str, VectorStore] = {}
        self.held: dict[str, set[str]] = {}
        self.relisted = 0  # store file listings read by refresh (for tests and reports)

    def seed(self, stores: Iterable[VectorStore], held: dict[str, set[str]]) -> None:
        """Start from a complete reading (the plan's) instead of reading everything again."""
        for store in stores:
            if store.id in held:
                self.stores[store.id] = store
                self.held[store.id] = set(held[store.id])

    def refresh(self, service: VectorStoresService) -> set[str]:
        """IDs of every file attached to some store right now."""
        current = all_stores(service)
        stale = [s for s in current if s.id not in self.stores or _changed(self.stores[s.id], s)]
        fresh = attachments(service, stale, concurrency=self.concurrency)
        self.relisted += len(stale)
        self.held = {s.id: fresh.get(s.id, self.held.get(s.id, set())) for s in current}
        self.stores = {s.id: s for s in current}
        return self.attached()

    def attached(self) -> set[str]:
        return set().union(*self.held.values()) if self.held else set()

    def unverified(self) -> list[VectorStore]:
        """Stores, as last read, whose file listings no count can verify (the server sends
        no ``file_counts``): a listing that silently left an item out would look complete."""
        return [s for s in self.stores.values() if not s.counts_reported]
