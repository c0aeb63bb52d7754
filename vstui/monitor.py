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
    VectorStoreFile,
    VectorStoresService,
)
from .api.models import ListPage

RATE_WINDOW = 120.0  # seconds of samples used for files/minute
DEFAULT_INTERVAL = 2.0
MAX_INTERVAL = 60.0
RESCAN_EVERY = 30.0  # seconds between full store-list scans, for a small account
RESCAN_PER_STORE = 0.03  # …plus this per known store: 10,000 stores → every 5.5 minutes
MAX_RATE = 2.0  # requests per second the monitor spends at most while following work
MAX_STALE = 600.0  # a running batch is read at least this often, whatever its store says


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
    requests: int = 0  # requests made, except the one-time ones learning a batch's files
    running_files: dict[str, frozenset[str]] = field(default_factory=dict)


def _in_progress_ids(pages: Iterable[ListPage[VectorStoreFile]]) -> frozenset[str]:
    return frozenset(f.id for page in pages for f in page.data)


def _store_running_pages(
    service: VectorStoresService, store_id: str
) -> list[ListPage[VectorStoreFile]]:
    def page(after: str | None) -> ListPage[VectorStoreFile]:
        return service.list_store_files(store_id, filter="in_progress", after=after)

    return list(service.iter_pages(page))


def _batch_running_pages(
    service: VectorStoresService, tracked: Tracked
) -> list[ListPage[VectorStoreFile]]:
    def page(after: str | None) -> ListPage[VectorStoreFile]:
        return service.list_batch_files(
            tracked.store_id, tracked.batch_id, filter="in_progress", after=after
        )

    return list(service.iter_pages(page))


def _with_counts(service: VectorStoresService, store: VectorStore) -> VectorStore:
    """``store`` with file counts: a server that reports none has its files listed instead
    (the monitor then follows the store's files, as it would a batch)."""
    counts, listed = service.store_counts(store)
    return store.model_copy(update={"file_counts": counts}) if listed else store


def poll(
    service: VectorStoresService,
    batches: Iterable[Tracked] | PollPlan,
    store_ids: Iterable[str] = (),
    *,
    rescan: bool = False,
) -> PollResult:
    """Fetch what a :class:`PollPlan` asks (or the batches and stores given).

    The stores come first. Each batch the plan names is read (and, the first time, the
    IDs of its files still in progress are listed). Each *watched* batch (its running
    files known) is read only when its store's read says it may have moved: the store's
    ``in_progress`` reached 0 (one final read), or it changed, and a listing of the
    store's files in progress holds none of the batch's files any more (the batch is
    done: a final read) or fewer (its progress is updated from that, without a read). A
    store that could not be read has its batches read. On ``rescan``, the whole store
    list too (to find stores that started ingesting)."""
    watched: list[tuple[Tracked, frozenset[str]]] = []
    previous: dict[str, int] = {}
    learn: set[str] = set()
    if isinstance(batches, PollPlan):
        plan = batches
        batches, store_ids, rescan = plan.batches, plan.store_ids, plan.rescan
        watched, previous, learn = plan.watched, plan.previous, set(plan.learn)
    results: dict[str, FileBatch | APIError] = {}
    running_files: dict[str, frozenset[str]] = {}
    suggested: list[int] = []
    rate_limited = False
    requests = 0
    limited_before = service.stats.rate_limited
    stores: dict[str, VectorStore] = {}
    for store_id in store_ids:
        requests += 1
        try:
            stores[store_id] = _with_counts(service, service.retrieve_store(store_id))
        except RateLimitError:
            rate_limited = True
        except APIError:
            continue
    wanted = list(batches)
    listed: dict[str, frozenset[str] | None] = {}
    for tracked, files in watched:
        store = stores.get(tracked.store_id)
        if store is None:
            wanted.append(tracked)  # the store said nothing: read the batch itself
            continue
        running = store.file_counts.in_progress
        if running == 0:
            wanted.append(tracked)  # nothing runs there any more: one final read each
            continue
        if previous.get(tracked.store_id) == running:
            continue  # unchanged: its batches cannot have moved much
        if tracked.store_id not in listed:
            try:
                pages = _store_running_pages(service, tracked.store_id)
                requests += len(pages)
                listed[tracked.store_id] = _in_progress_ids(pages)
            except APIError:
                listed[tracked.store_id] = None
        now_running = listed[tracked.store_id]
        left = files & now_running if now_running is not None else files
        if now_running is None or not left:
            wanted.append(tracked)  # finished (or unknown): read it
        elif len(left) < len(files) and tracked.batch is not None:
            running_files[tracked.batch_id] = left
            counts = tracked.batch.file_counts
            moved = counts.in_progress - len(left)
            results[tracked.batch_id] = tracked.batch.model_copy(
                update={
                    "file_counts": counts.model_copy(
                        update={"in_progress": len(left), "completed": counts.completed + moved}
                    )
                }
            )
    for tracked in wanted:
        learning = tracked.batch_id in learn
        requests += 0 if learning else 1
        try:
            batch = service.retrieve_batch(tracked.store_id, tracked.batch_id)
            if learning and not batch.is_terminal:
                pages = _batch_running_pages(service, tracked)
                running_files[tracked.batch_id] = _in_progress_ids(pages)
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
    scanned: list[VectorStore] | None = None
    if rescan:
        try:
            scanned = []
            for page in service.walk_stores_both_ends():
                requests += 1
                scanned.extend(
                    _with_counts(service, s) if s.status == "in_progress" else s for s in page
                )
        except RateLimitError:
            rate_limited = True
            scanned = None
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
        requests=requests,
        running_files=running_files,
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
    """What the next poll fetches: ``batches`` always (learning the running files of
    those in ``learn``); each of ``watched`` (a batch and the IDs of its files still
    running) only when its store's read, compared with ``previous`` (store ID →
    ``in_progress`` at its last read), says so (see :func:`poll`)."""

    batches: list[Tracked]
    store_ids: list[str]
    rescan: bool
    watched: list[tuple[Tracked, frozenset[str]]] = field(default_factory=list)
    previous: dict[str, int] = field(default_factory=dict)
    learn: list[str] = field(default_factory=list)


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
        # One store is read per poll, the least recently read first, polls spread evenly
        # over the interval; its batches are read only when its counts say they moved.
        self.store_read_at: dict[str, float] = {}
        self.store_running: dict[str, int] = {}  # in_progress at the store's last read
        self.running_files: dict[str, frozenset[str]] = {}  # batch id → its files running
        self.last_requests = 0
        self._full = False

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
        self.running_files.pop(batch_id, None)

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

    def units(self) -> list[str]:
        """Stores to read: those with a running batch, and those ingesting."""
        stores = {t.store_id: None for t in self.tracked.values() if not t.terminal}
        stores.update(dict.fromkeys(self.ingesting))
        return list(stores)

    def begin(self, now: float) -> PollPlan | None:
        """Start a poll (None while one is running: polls never overlap).

        A poll reads one store, the one read least recently, and of its running batches:
        those never read (or whose last read failed), those not read for
        :data:`MAX_STALE`, a store's only batch, and the rest only if the store's read
        says they may have moved or finished (see :func:`poll`)."""
        if self.polling:
            return None
        self.polling = True
        rescan = self.last_rescan is None or now - self.last_rescan >= self.rescan_every
        if rescan:
            self.last_rescan = now
        units = self.units()
        if not units:
            return PollPlan(batches=[], store_ids=[], rescan=rescan)
        full, self._full = self._full, False
        chosen = min(units, key=lambda s: self.store_read_at.get(s, float("-inf")))
        # Stores never read yet are all read at once (the monitor just opened), and all of
        # them on "poll now"; after that, one store per poll.
        store_ids = [s for s in units if full or s == chosen or s not in self.store_read_at]
        running = [t for t in self.tracked.values() if not t.terminal and t.store_id in store_ids]
        always: list[Tracked] = []
        watched: list[tuple[Tracked, frozenset[str]]] = []
        for tracked in running:
            read_at = tracked.samples[-1][0] if tracked.samples else None
            files = self.running_files.get(tracked.batch_id)
            if (
                full
                or files is None
                or tracked.error is not None
                or read_at is None
                or now - read_at >= MAX_STALE
            ):
                always.append(tracked)
            else:
                watched.append((tracked, files))
        return PollPlan(
            batches=always,
            store_ids=store_ids,
            rescan=rescan,
            watched=watched,
            previous={s: self.store_running[s] for s in store_ids if s in self.store_running},
            learn=[t.batch_id for t in always if t.batch_id not in self.running_files],
        )

    def poll_everything(self) -> None:
        """Make the next poll read every store and every running batch ("poll now")."""
        self._full = True

    def failed(self) -> float:
        """The poll failed as a whole: back off. Returns the delay to the next poll."""
        self.polling = False
        self.interval = min(MAX_INTERVAL, self.interval * 2)
        return self.interval

    def next_delay(self) -> float:
        """Until the next poll: each store is read once an interval, the reads spread
        evenly across it, and never more than :data:`MAX_RATE` requests a second."""
        if not self.busy:
            return self.rescan_every
        spread = self.interval / max(1, len(self.units()))
        return max(spread, self.last_requests / MAX_RATE)

    def apply(self, result: PollResult, now: float) -> Applied:
        """Take a poll's result: progress, finished batches and stores, the next interval."""
        self.polling = False
        self.last_requests = result.requests
        applied = Applied()
        for store_id, store in result.stores.items():
            self.store_running[store_id] = store.file_counts.in_progress
            self.store_read_at[store_id] = now
        self.running_files.update(result.running_files)
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
