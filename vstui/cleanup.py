"""Clean-up: plan what goes (expired or chosen stores, the files they leave behind), then
delete it concurrently, safely, and report. No UI: the TUI and ``vstui cleanup`` share it.

Safety rules:
- a file still attached to any store that is not being deleted is never deleted (checked
  when planning, and again right before the files go);
- only files with purpose ``assistants`` are ever considered;
- nothing is deleted twice: IDs are de-duplicated, 404 counts as "already gone", and
  "retry failed" retries only what failed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal

from .api import APIError, FileObject, NotFoundError, VectorStore, VectorStoresService

GB = 1024**3
FREE_BYTES = GB  # the first GB of vector storage is free
Kind = Literal["store", "file"]


@dataclass
class Plan:
    stores: list[VectorStore]
    files: list[FileObject]
    account_usage_bytes: int
    price_per_gb_day: float
    include_files: bool

    @property
    def store_bytes(self) -> int:
        return sum(s.usage_bytes for s in self.stores)

    @property
    def file_bytes(self) -> int:
        return sum(f.bytes for f in self.files)

    @property
    def saving_per_day(self) -> float:
        """Vector storage is billed per GB-day beyond the first free GB."""
        before = max(0, self.account_usage_bytes - FREE_BYTES)
        after = max(0, self.account_usage_bytes - self.store_bytes - FREE_BYTES)
        return (before - after) / GB * self.price_per_gb_day

    def to_json(self) -> dict[str, Any]:
        return {
            "stores": [
                {
                    "id": s.id,
                    "name": s.name,
                    "status": s.status,
                    "usage_bytes": s.usage_bytes,
                    "files": s.file_counts.total,
                    "expires_at": s.expires_at,
                }
                for s in self.stores
            ],
            "files": [{"id": f.id, "filename": f.filename, "bytes": f.bytes} for f in self.files],
            "store_bytes": self.store_bytes,
            "file_bytes": self.file_bytes,
            "account_usage_bytes": self.account_usage_bytes,
            "price_per_gb_day": self.price_per_gb_day,
            "estimated_saving_per_day": round(self.saving_per_day, 6),
        }


Progress = Callable[[str], None]


def _attached(
    service: VectorStoresService, stores: Iterable[VectorStore], progress: Progress | None
) -> dict[str, set[str]]:
    """File IDs attached to each store (one listing per store page, not per file)."""
    result: dict[str, set[str]] = {}
    stores = [s for s in stores if s.file_counts.total > 0]
    for i, store in enumerate(stores, start=1):
        result[store.id] = {f.id for f in service.iter_store_files(store.id)}
        if progress is not None and (i % 10 == 0 or i == len(stores)):
            progress(f"reading file lists: {i}/{len(stores)} stores")
    return result


def build_plan(
    service: VectorStoresService,
    *,
    expired: bool = False,
    store_ids: Sequence[str] | None = None,
    include_files: bool = False,
    orphans_only: bool = False,
    price_per_gb_day: float = 0.10,
    progress: Progress | None = None,
) -> Plan:
    """What a clean-up would delete. Reads only."""
    all_stores: list[VectorStore] = []
    for page in service.walk_stores_both_ends():
        all_stores.extend(page)
        if progress is not None:
            progress(f"scanning stores: {len(all_stores):,}")
    usage = sum(s.usage_bytes for s in all_stores)
    wanted = set(store_ids or ())
    if orphans_only:
        targets: list[VectorStore] = []
    else:
        targets = [s for s in all_stores if (expired and s.is_expired) or s.id in wanted]
    files: list[FileObject] = []
    if include_files or orphans_only:
        target_ids = {s.id for s in targets}
        survivors = [s for s in all_stores if s.id not in target_ids]
        attached = _attached(service, all_stores, progress)
        kept = set().union(*(attached.get(s.id, set()) for s in survivors))
        if orphans_only:
            candidates = None  # every assistants file attached to nothing
        else:
            candidates = set().union(*(attached.get(s.id, set()) for s in targets))
        if progress is not None:
            progress("listing files")
        for f in service.iter_files(purpose="assistants"):
            if f.id in kept:
                continue
            if candidates is None or f.id in candidates:
                files.append(f)
    return Plan(
        stores=sorted(targets, key=lambda s: s.created_at),
        files=sorted(files, key=lambda f: f.created_at),
        account_usage_bytes=usage,
        price_per_gb_day=price_per_gb_day,
        include_files=include_files or orphans_only,
    )


@dataclass
class Outcome:
    kind: Kind
    id: str
    name: str
    result: Literal["deleted", "already gone", "failed", "skipped"]
    reason: str = ""


@dataclass
class Report:
    outcomes: list[Outcome] = field(default_factory=list)
    seconds: float = 0.0
    requests: int = 0
    rate_limited: int = 0

    def of(self, result: str) -> list[Outcome]:
        return [o for o in self.outcomes if o.result == result]

    @property
    def ok(self) -> bool:
        return not self.of("failed")

    def summary(self) -> str:
        parts = [
            f"{len(self.of('deleted'))} deleted",
            f"{len(self.of('already gone'))} already gone",
            f"{len(self.of('failed'))} failed",
        ]
        skipped = self.of("skipped")
        if skipped:
            parts.append(f"{len(skipped)} kept (attached again)")
        return ", ".join(parts)

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "deleted": [o.id for o in self.of("deleted")],
            "already_gone": [o.id for o in self.of("already gone")],
            "skipped": [o.id for o in self.of("skipped")],
            "failed": [{"id": o.id, "kind": o.kind, "reason": o.reason} for o in self.of("failed")],
            "seconds": round(self.seconds, 3),
            "requests": self.requests,
            "rate_limited": self.rate_limited,
        }


@dataclass
class Tally:
    """Live counts while deleting (shared by worker threads)."""

    total: int
    done: int = 0
    failed: int = 0
    started: float = field(default_factory=time.monotonic)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def remaining(self) -> int:
        return self.total - self.done - self.failed

    @property
    def rate(self) -> float:
        elapsed = time.monotonic() - self.started
        return (self.done + self.failed) / elapsed if elapsed > 0 else 0.0


Task = tuple[Kind, str, str]


def _delete_one(service: VectorStoresService, task: Task) -> Outcome:
    kind, obj_id, name = task
    try:
        if kind == "store":
            service.delete_store(obj_id)
        else:
            service.delete_file(obj_id)
    except NotFoundError:
        return Outcome(kind, obj_id, name, "already gone")
    except APIError as error:
        return Outcome(kind, obj_id, name, "failed", str(error))
    except Exception as error:  # a bug or a network oddity: reported, never silent
        return Outcome(kind, obj_id, name, "failed", f"{type(error).__name__}: {error}")
    return Outcome(kind, obj_id, name, "deleted")


def _run(
    service: VectorStoresService,
    tasks: Sequence[Task],
    concurrency: int,
    tally: Tally,
    on_progress: Callable[[Tally, Outcome], None] | None,
    cancelled: threading.Event | None,
) -> list[Outcome]:
    outcomes: list[Outcome] = []

    def work(task: Task) -> Outcome:
        if cancelled is not None and cancelled.is_set():
            outcome = Outcome(task[0], task[1], task[2], "failed", "stopped by the user")
        else:
            outcome = _delete_one(service, task)
        with tally.lock:
            if outcome.result == "failed":
                tally.failed += 1
            else:
                tally.done += 1
        if on_progress is not None:
            on_progress(tally, outcome)
        return outcome

    with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="delete") as pool:
        outcomes.extend(pool.map(work, tasks))
    return outcomes


def verify_orphans(service: VectorStoresService, files: Sequence[FileObject]) -> set[str]:
    """IDs among ``files`` that are attached to some store right now."""
    stores = [s for page in service.walk_stores_both_ends() for s in page]
    attached = _attached(service, stores, None)
    wanted = {f.id for f in files}
    return {fid for ids in attached.values() for fid in ids if fid in wanted}


def execute(
    service: VectorStoresService,
    stores: Sequence[VectorStore],
    files: Sequence[FileObject] = (),
    *,
    concurrency: int = 8,
    on_progress: Callable[[Tally, Outcome], None] | None = None,
    cancelled: threading.Event | None = None,
) -> Report:
    """Delete the stores, then the files no surviving store holds. Every item once."""
    started = time.monotonic()
    requests_before = service.stats.requests
    limited_before = service.stats.rate_limited
    store_tasks: list[Task] = list({s.id: ("store", s.id, s.name or "") for s in stores}.values())
    file_tasks: list[Task] = list({f.id: ("file", f.id, f.filename) for f in files}.values())
    tally = Tally(total=len(store_tasks) + len(file_tasks))
    outcomes = _run(service, store_tasks, concurrency, tally, on_progress, cancelled)
    if file_tasks:
        try:
            still_attached = verify_orphans(service, files)
        except APIError as error:
            still_attached = set()
            reason = f"could not re-check attachments: {error}"
            outcomes.extend(
                Outcome("file", fid, name, "failed", reason) for _, fid, name in file_tasks
            )
            file_tasks = []
        skipped = [t for t in file_tasks if t[1] in still_attached]
        file_tasks = [t for t in file_tasks if t[1] not in still_attached]
        for _, fid, name in skipped:
            outcome = Outcome("file", fid, name, "skipped", "attached to a store again")
            outcomes.append(outcome)
            with tally.lock:
                tally.done += 1
            if on_progress is not None:
                on_progress(tally, outcome)
        outcomes.extend(_run(service, file_tasks, concurrency, tally, on_progress, cancelled))
    return Report(
        outcomes=outcomes,
        seconds=time.monotonic() - started,
        requests=service.stats.requests - requests_before,
        rate_limited=service.stats.rate_limited - limited_before,
    )


def retry_failed(
    service: VectorStoresService,
    report: Report,
    *,
    concurrency: int = 8,
    on_progress: Callable[[Tally, Outcome], None] | None = None,
) -> Report:
    """Retry only what failed; keep every other outcome as it was."""
    failed = report.of("failed")
    tasks: list[Task] = [(o.kind, o.id, o.name) for o in failed]
    tally = Tally(total=len(tasks))
    started = time.monotonic()
    again = _run(service, tasks, concurrency, tally, on_progress, None)
    kept = [o for o in report.outcomes if o.result != "failed"]
    return Report(
        outcomes=kept + again,
        seconds=report.seconds + time.monotonic() - started,
        requests=report.requests,
        rate_limited=report.rate_limited,
    )
