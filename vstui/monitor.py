"""Batch tracking for the monitor: what to poll, rates and ETAs. No UI.

The poll itself (:func:`poll`) runs in a worker thread and only reads; the tracker is
updated on the UI thread from its result, so nothing here needs a lock.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from .api import APIError, FileBatch, RateLimitError, VectorStore, VectorStoresService

RATE_WINDOW = 120.0  # seconds of samples used for files/minute


@dataclass
class Tracked:
    store_id: str
    batch_id: str
    batch: FileBatch | None = None
    error: str | None = None
    samples: deque[tuple[float, int]] = field(default_factory=lambda: deque(maxlen=120))

    @property
    def status(self) -> str:
        if self.batch is None:
            return "error" if self.error else "loading"
        return self.batch.status

    @property
    def terminal(self) -> bool:
        return self.batch is not None and self.batch.is_terminal

    @property
    def done(self) -> int:
        if self.batch is None:
            return 0
        c = self.batch.file_counts
        return c.completed + c.failed + c.cancelled

    def record(self, batch: FileBatch, now: float) -> None:
        self.batch = batch
        self.error = None
        self.samples.append((now, self.done))
        while self.samples and now - self.samples[0][0] > RATE_WINDOW and len(self.samples) > 2:
            self.samples.popleft()

    def rate_per_minute(self) -> float | None:
        if len(self.samples) < 2:
            return None
        (t0, d0), (t1, d1) = self.samples[0], self.samples[-1]
        if t1 <= t0:
            return None
        return (d1 - d0) * 60.0 / (t1 - t0)

    def eta_seconds(self) -> float | None:
        if self.batch is None or self.terminal:
            return None
        rate = self.rate_per_minute()
        if not rate:
            return None
        return self.batch.file_counts.in_progress / rate * 60.0


@dataclass
class PollResult:
    batches: dict[str, FileBatch | APIError]
    stores: dict[str, VectorStore]
    scanned: list[VectorStore] | None
    poll_after_ms: int | None
    rate_limited: bool


def _with_counts(service: VectorStoresService, store: VectorStore) -> VectorStore:
    """``store`` with file counts: a server that reports none has its files listed instead
    (the monitor then follows the store's files, as it would a batch)."""
    if store.counts_reported:
        return store
    counts, _ = service.store_counts(store)
    return store.model_copy(update={"file_counts": counts})


def poll(
    service: VectorStoresService,
    batches: Iterable[Tracked],
    store_ids: Iterable[str],
    *,
    rescan: bool,
) -> PollResult:
    """Fetch every unfinished batch, every store still ingesting and, on ``rescan``, the
    whole store list (to find stores that started ingesting)."""
    results: dict[str, FileBatch | APIError] = {}
    suggested: list[int] = []
    rate_limited = False
    limited_before = service.stats.rate_limited
    for tracked in batches:
        try:
            batch = service.retrieve_batch(tracked.store_id, tracked.batch_id)
        except RateLimitError as error:
            rate_limited = True
            results[tracked.batch_id] = error
            continue
        except APIError as error:
            results[tracked.batch_id] = error
            continue
        if batch.poll_after_ms is not None:
            suggested.append(batch.poll_after_ms)
        results[tracked.batch_id] = batch
    stores: dict[str, VectorStore] = {}
    for store_id in store_ids:
        try:
            stores[store_id] = _with_counts(service, service.retrieve_store(store_id))
        except RateLimitError:
            rate_limited = True
        except APIError:
            continue
    scanned = None
    if rescan:
        try:
            scanned = [
                _with_counts(service, s) if s.status == "in_progress" else s
                for page in service.walk_stores_both_ends()
                for s in page
            ]
        except RateLimitError:
            rate_limited = True
        except APIError:
            scanned = None
    # 429s the service waited out still mean "poll less often".
    rate_limited = rate_limited or service.stats.rate_limited > limited_before
    return PollResult(
        batches=results,
        stores=stores,
        scanned=scanned,
        poll_after_ms=min(suggested) if suggested else None,
        rate_limited=rate_limited,
    )
