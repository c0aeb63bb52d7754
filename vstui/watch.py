"""Follow ingestion until nothing is in progress: a store, or one of its file batches. No UI
(``vstui watch`` is ``commands/watch.py``; ``vstui sync --wait`` uses it too).

A result's exit code: 0 every file completed, 1 any failed or was cancelled (listed with
their ``last_error``), 124 the timeout was reached. Polls at the server's
``openai-poll-after-ms`` (1 s when it sends none).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from .api import FileCounts, VectorStoresService

DEFAULT_POLL_MS = 1000
MIN_POLL_MS = 50
MAX_POLL_MS = 30_000
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_TIMEOUT = 0, 1, 2, 124


@dataclass
class Failure:
    file_id: str
    status: str
    code: str
    message: str


@dataclass
class WatchResult:
    target: str
    counts: FileCounts
    status: str
    timed_out: bool = False
    failures: list[Failure] = field(default_factory=list)
    polls: int = 0
    seconds: float = 0.0
    counted: bool = False  # the server reports no file counts: counted from the store's files

    @property
    def exit_code(self) -> int:
        if self.timed_out:
            return EXIT_TIMEOUT
        return EXIT_FAILED if self.failures or self.counts.failed or self.counts.cancelled else 0

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "status": self.status,
            "timed_out": self.timed_out,
            "counts": self.counts.model_dump(),
            "failed": [
                {"file_id": f.file_id, "status": f.status, "code": f.code, "message": f.message}
                for f in self.failures
            ],
            "polls": self.polls,
            "counts_from_files": self.counted,
            "seconds": round(self.seconds, 3),
            "exit_code": self.exit_code,
        }


Update = Callable[[FileCounts, str], None]


def watch(
    service: VectorStoresService,
    store_id: str,
    batch_id: str | None = None,
    *,
    timeout: float | None = None,
    only: Collection[str] | None = None,
    on_update: Update | None = None,
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
) -> WatchResult:
    """Poll a store (or one batch) until nothing is in progress, or until ``timeout``.

    ``only`` narrows the failures listed to these file IDs (``sync --wait``: this run's).
    """
    started = monotonic()
    target = batch_id or store_id
    polls = 0
    counted = False
    while True:
        polls += 1
        if batch_id is not None:
            batch = service.retrieve_batch(store_id, batch_id)
            counts, status, poll_ms = batch.file_counts, batch.status, batch.poll_after_ms
            busy = status in ("in_progress", "cancelling") or counts.in_progress > 0
        else:
            store = service.retrieve_store(store_id)
            status, poll_ms = store.status, store.poll_after_ms
            # a server without file counts: follow the store's files instead
            counts, counted = service.store_counts(store)
            busy = counts.in_progress > 0
        if on_update is not None:
            on_update(counts, status)
        elapsed = monotonic() - started
        if not busy:
            break
        wait_s = min(MAX_POLL_MS, max(MIN_POLL_MS, poll_ms or DEFAULT_POLL_MS)) / 1000
        if timeout is not None and elapsed + wait_s > timeout:
            if elapsed < timeout:
                sleep(timeout - elapsed)
            return WatchResult(
                target, counts, status, True, polls=polls, seconds=timeout, counted=counted
            )
        sleep(wait_s)
    result = WatchResult(
        target, counts, status, polls=polls, seconds=monotonic() - started, counted=counted
    )
    if counts.failed or counts.cancelled:
        for state in ("failed", "cancelled"):
            if batch_id is not None:
                files = service.iter_batch_files(store_id, batch_id, filter=state)
            else:
                files = service.iter_store_files(store_id, filter=state)
            seen: set[str] = set()
            for f in files:
                if (only is not None and f.id not in only) or f.id in seen:
                    continue
                seen.add(f.id)
                error = f.last_error
                result.failures.append(
                    Failure(
                        f.id,
                        f.status,
                        error.code if error else state,
                        error.message if error else "",
                    )
                )
        if only is not None and not result.failures:
            # Failures from before this run are not this run's to report.
            result.counts = result.counts.model_copy(update={"failed": 0, "cancelled": 0})
    return result


def resolve(service: VectorStoresService, target: str, store: str | None) -> tuple[str, str | None]:
    """(store ID, batch ID or None) for ``STORE|BATCH [--store STORE]``."""
    from .sync import SyncError, find_store

    if target.startswith("vsfb_"):
        if store is None:
            raise SyncError(
                "A batch is read through its store: add --store STORE (ID or exact name)."
            )
        found = find_store(service, store)
        if found is None:
            raise SyncError(f"There is no store {store!r}.")
        return found.id, target
    found = find_store(service, target)
    if found is None:
        raise SyncError(f"There is no store {target!r}.")
    return found.id, None
