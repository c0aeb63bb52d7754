"""Auto-refresh without a screen: when to poll next, and what one poll re-reads.

A poll re-reads what can change without re-listing the account: the newest page of
stores (new stores appear), a few stores by ID (those on screen, those ingesting, the one
open) and, for a store's files, the files still ``in_progress``. The next poll is
scheduled only after the last one finished (:class:`Pacer`), at the user's interval or
the server's ``openai-poll-after-ms`` when that is longer, and doubled after a 429.
Polls run in a worker thread and only read; nothing here touches the UI.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from .api import (
    APIError,
    NotFoundError,
    RateLimitError,
    VectorStore,
    VectorStoreFile,
    VectorStoresService,
)
from .api.models import APIModel

DEFAULT_SECONDS = 5.0
MAX_DELAY = 120.0
# Stores re-read by ID per poll, beyond the newest page: 1 + 3 requests every 5 s is
# 48 a minute at most, whatever the size of the account.
STORE_BUDGET = 3
FILE_BUDGET = 8


class Pacer:
    """When the next poll is due. ``interval`` 0 turns auto-refresh off."""

    def __init__(self, interval: float) -> None:
        self.interval = max(0.0, interval)
        self.delay = self.interval

    @property
    def enabled(self) -> bool:
        return self.interval > 0

    def done(self, *, poll_after_ms: int | None = None, rate_limited: bool = False) -> float:
        """A poll finished: the delay to the next one."""
        if rate_limited:
            self.delay = min(MAX_DELAY, max(self.delay, self.interval) * 2)
        else:
            self.delay = max(self.interval, (poll_after_ms or 0) / 1000)
        return self.delay

    def failed(self) -> float:
        """A poll failed as a whole: back off."""
        return self.done(rate_limited=True)


@dataclass
class Polled:
    """What one poll read. ``gone``: IDs the server answered 404 for."""

    newest: list[VectorStore] | None = None
    stores: dict[str, VectorStore] = field(default_factory=dict)
    files: dict[str, VectorStoreFile] = field(default_factory=dict)
    gone: set[str] = field(default_factory=set)
    errors: list[APIError] = field(default_factory=list)
    poll_after_ms: int | None = None
    rate_limited: bool = False

    def _suggest(self, value: int | None) -> None:
        if value is not None:
            self.poll_after_ms = max(self.poll_after_ms or 0, value)


def _remember_error(polled: Polled, error: APIError) -> None:
    if isinstance(error, RateLimitError):
        polled.rate_limited = True
    polled.errors.append(error)


def poll_stores(service: VectorStoresService, store_ids: Iterable[str], *, newest: bool) -> Polled:
    """The newest page of stores (``newest``) and each of ``store_ids`` by ID."""
    polled = Polled()
    limited_before = service.stats.rate_limited
    if newest:
        try:
            page = service.list_stores(limit=100, order="desc")
            polled.newest = list(page.data)
            polled._suggest(page.poll_after_ms)
        except APIError as error:
            _remember_error(polled, error)
    for store_id in store_ids:
        if polled.rate_limited:
            break
        try:
            store = service.retrieve_store(store_id)
        except NotFoundError:
            polled.gone.add(store_id)
            continue
        except APIError as error:
            _remember_error(polled, error)
            continue
        polled.stores[store_id] = store
        polled._suggest(store.poll_after_ms)
    polled.rate_limited = polled.rate_limited or service.stats.rate_limited > limited_before
    return polled


def poll_store_files(
    service: VectorStoresService, store_id: str, file_ids: Iterable[str]
) -> Polled:
    """The store itself (its counts; 404: the store is gone) and each of ``file_ids``."""
    polled = poll_stores(service, [store_id], newest=False)
    if store_id in polled.gone:
        return polled
    limited_before = service.stats.rate_limited
    for file_id in file_ids:
        if polled.rate_limited:
            break
        try:
            item = service.retrieve_store_file(store_id, file_id)
        except NotFoundError:
            polled.gone.add(file_id)
            continue
        except APIError as error:
            _remember_error(polled, error)
            continue
        polled.files[file_id] = item
        polled._suggest(item.poll_after_ms)
    polled.rate_limited = polled.rate_limited or service.stats.rate_limited > limited_before
    return polled


def changed(before: APIModel | None, after: APIModel) -> bool:
    """Whether ``after`` differs from ``before`` in anything the server said (request IDs
    and poll hints aside): unchanged rows are not redrawn."""
    return before is None or before.model_dump() != after.model_dump()


class Rotation:
    """Picks which rows to re-read this poll: the urgent ones first (ingesting), then the
    rest in turn, so every row on screen is re-read within a few polls."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self._turn = {"urgent": 0, "others": 0}

    def _take(self, which: str, ids: Sequence[str], room: int) -> list[str]:
        if room <= 0 or not ids:
            return []
        start = self._turn[which] % len(ids)
        ordered = [*ids[start:], *ids[:start]][:room]
        self._turn[which] = start + len(ordered)
        return ordered

    def pick(self, urgent: Sequence[str], others: Sequence[str]) -> list[str]:
        urgent = list(dict.fromkeys(urgent))
        chosen = self._take("urgent", urgent, self.budget)
        taken = set(chosen)
        rest = [i for i in dict.fromkeys(others) if i not in taken and i not in set(urgent)]
        return chosen + self._take("others", rest, self.budget - len(chosen))
