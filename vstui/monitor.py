"""The batch monitor's rules, without a screen: what to poll, how often, what changed.

:class:`Monitor` decides (:meth:`Monitor.begin`) what the next poll fetches, and applies
its result (:meth:`Monitor.apply`): progress, rates and ETAs, which batches and stores
finished, and when to poll next (the server's ``openai-poll-after-ms``, doubled on 429,
rarer rescans on big accounts). The poll itself (:func:`poll`) runs in a worker thread and
only reads; the monitor is changed on the UI thread only, so nothing here needs a lock.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from .api import (
    APIError,
    FileBatch,
    NotFoundError,
    RateLimitError,
    VectorStore,
    VectorStoresService,
)

RATE_WINDOW = 120.0  # seconds of samples used for files/minute
DEFAULT_INTERVAL = 2.0
MAX_INTERVAL = 60.0
RESCAN_EVERY = 30.0  # seconds between full store-list scans, for a small account
RESCAN_PER_STORE = 0.03  # …plus this per known store: 10,000 stores → every 5.5 minutes


@dataclass
class Tracked:
    store_id: str
    batch_id: str
    batch: FileBatch | None = None
    error: str | None = None
    gone: bool = False  # the server answered 404: shown with the reason, never polled again
    samples: deque[tuple[float, int]] = field(default_factory=lambda: deque(maxlen=120))

    @property
    def status(self) -> str:
        if self.gone:
            return "not found"
        if self.batch is None:
            return "error" if self.error else "loading"
        return self.batch.status

    @property
    def terminal(self) -> bool:
        return self.gone or (self.batch is not None and self.batch.is_terminal)

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
        """Files per minute, for a batch still running only."""
        if self.terminal or len(self.samples) < 2:
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


@dataclass(frozen=True)
class Notice:
    """Something worth telling the user (a batch or store finished)."""

    title: str
    message: str
    warning: bool = False
    timeout: float | None = None  # seconds on screen; None: the app's default


@dataclass(frozen=True)
class PollPlan:
    """What the next poll fetches."""

    batches: list[Tracked]
    store_ids: list[str]
    rescan: bool


@dataclass
class Applied:
    """What a poll changed: what to tell the user, and stores whose counts changed."""

    notices: list[Notice] = field(default_factory=list)
    stores_done: list[VectorStore] = field(default_factory=list)


class Monitor:
    """Every batch followed and every store ingesting, and when to poll next."""

    def __init__(self) -> None:
        self.tracked: dict[str, Tracked] = {}
        self.ingesting: dict[str, VectorStore] = {}
        self.names: dict[str, str] = {}
        self.interval = DEFAULT_INTERVAL
        self.last_rescan: float | None = None
        self.polling = False

    # -- what is followed ------------------------------------------------------------------

    def track(self, store_id: str, batch_id: str) -> tuple[Tracked, bool]:
        """Follow a batch; returns it and whether it is new."""
        existing = self.tracked.get(batch_id)
        if existing is not None:
            return existing, False
        tracked = self.tracked[batch_id] = Tracked(store_id, batch_id)
        return tracked, True

    def forget(self, batch_id: str) -> None:
        self.tracked.pop(batch_id, None)

    def store_name(self, store_id: str) -> str:
        return self.names.get(store_id, store_id)

    @property
    def running(self) -> int:
        return sum(1 for t in self.tracked.values() if not t.terminal)

    @property
    def busy(self) -> bool:
        return bool(self.running or self.ingesting)

    @property
    def rescan_every(self) -> float:
        """Finding new ingestion costs a full listing: rarer on big accounts."""
        return RESCAN_EVERY + RESCAN_PER_STORE * len(self.names)

    # -- polling ---------------------------------------------------------------------------

    def begin(self, now: float) -> PollPlan | None:
        """Start a poll (None while one is running: polls never overlap)."""
        if self.polling:
            return None
        self.polling = True
        rescan = self.last_rescan is None or now - self.last_rescan >= self.rescan_every
        if rescan:
            self.last_rescan = now
        return PollPlan(
            batches=[t for t in self.tracked.values() if not t.terminal],
            store_ids=list(self.ingesting),
            rescan=rescan,
        )

    def failed(self) -> float:
        """The poll failed as a whole: back off. Returns the delay to the next poll."""
        self.polling = False
        self.interval = min(MAX_INTERVAL, self.interval * 2)
        return self.interval

    def next_delay(self) -> float:
        return self.interval if self.busy else self.rescan_every

    def apply(self, result: PollResult, now: float) -> Applied:
        """Take a poll's result: progress, finished batches and stores, the next interval."""
        self.polling = False
        applied = Applied()
        for batch_id, outcome in result.batches.items():
            tracked = self.tracked.get(batch_id)
            if tracked is None:  # forgotten while the poll ran
                continue
            if isinstance(outcome, NotFoundError):
                tracked.gone = True
                tracked.error = outcome.summary
                applied.notices.append(
                    Notice(
                        "Batch not found",
                        f"{batch_id} in {self.store_name(tracked.store_id)}: "
                        f"{outcome.summary}. It is no longer polled; press delete to forget it.",
                        warning=True,
                        timeout=10,
                    )
                )
                continue
            if isinstance(outcome, APIError):
                tracked.error = outcome.summary
                continue
            was_running = tracked.batch is not None and not tracked.terminal
            tracked.record(outcome, now)
            if was_running and tracked.terminal:
                applied.notices.append(self._batch_finished(tracked))
        stores = dict(result.stores)
        if result.scanned is not None:
            self.names.update({s.id: s.display_name for s in result.scanned})
            fresh = {s.id: s for s in result.scanned if s.file_counts.in_progress > 0}
            for store_id, store in list(self.ingesting.items()):
                if store_id not in fresh and store_id not in stores:
                    stores[store_id] = store
            self.ingesting.update(fresh)
        for store_id, store in stores.items():
            self.names[store_id] = store.display_name
            if store.file_counts.in_progress > 0:
                self.ingesting[store_id] = store
            elif store_id in self.ingesting:
                del self.ingesting[store_id]
                counts = store.file_counts
                applied.notices.append(
                    Notice(
                        "Store ready",
                        f"{store.display_name} finished ingesting: {counts.completed} "
                        f"completed, {counts.failed} failed, {counts.cancelled} cancelled "
                        f"of {counts.total}.",
                        warning=bool(counts.failed or counts.cancelled),
                    )
                )
                applied.stores_done.append(store)
        if result.rate_limited:
            self.interval = min(MAX_INTERVAL, self.interval * 2)
        else:
            suggested = (result.poll_after_ms or 0) / 1000
            self.interval = max(DEFAULT_INTERVAL, suggested)
        return applied

    def _batch_finished(self, tracked: Tracked) -> Notice:
        assert tracked.batch is not None
        c = tracked.batch.file_counts
        return Notice(
            "Batch finished",
            f"{tracked.batch_id} in {self.store_name(tracked.store_id)} {tracked.status}: "
            f"{c.completed} completed, {c.failed} failed, {c.cancelled} cancelled.",
            warning=bool(c.failed or c.cancelled),
            timeout=8,
        )
