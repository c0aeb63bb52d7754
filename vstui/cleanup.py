"""Clean-up: plan what goes (expired or chosen stores, the files they leave behind), then
delete it concurrently, safely, and report. No UI: the TUI and ``vstui cleanup`` share it.

Safety rules:
- a file still attached to any store that is not being deleted is never deleted: every
  listing this depends on must be complete (:mod:`vstui.listing`), or the file plan is
  refused; and before each wave of file deletions the surviving stores are checked again;
- a store that reports no file counts gives nothing to check its listing against: files
  are then deleted only when the caller says so (``trust_unverified``), and the report
  names those stores (``Report.unverified``);
- only files with purpose ``assistants`` are ever considered;
- nothing is deleted twice: IDs are de-duplicated, 404 counts as "already gone" (and so
  does a 400 when reading the object again also fails as not found), and
  "retry failed" retries only what failed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal

from . import fmt, listing
from .api import APIError, FileObject, VectorStore, VectorStoresService
from .api.errors import VstuiError

GB = 1024**3
FREE_BYTES = GB  # the first GB of vector storage is free
Kind = Literal["store", "file"]


def describe_unverified(stores: Sequence[VectorStore], shown: int = 3) -> str:
    """One sentence: which stores' file listings no count can verify, and what that risks."""
    ids = ", ".join(s.id for s in stores[:shown])
    if len(stores) > shown:
        ids += f" and {len(stores) - shown:,} more"
    verb = "reports" if len(stores) == 1 else "report"
    return (
        f"{fmt.plural(len(stores), 'store')} ({ids}) {verb} no file counts, so nothing "
        "proves their file listings complete: a file a page left out would look orphaned"
    )


@dataclass
class Plan:
    stores: list[VectorStore]
    files: list[FileObject]
    account_usage_bytes: int
    price_per_gb_day: float
    include_files: bool
    # what every store held when planned: the file phase re-checks against it cheaply
    holdings: listing.Holdings | None = field(default=None, repr=False, compare=False)
    # why files were left out of a plan that wanted them (an incomplete listing), if they were
    files_refused: str = ""
    usage_reported: bool = True  # False: the server reports no usage, the saving is unknown
    # sentences about what this server does not report and what that means for the plan
    notes: list[str] = field(default_factory=list)
    # every store whose file listing no count could verify (null file_counts), when files
    # were planned; see :meth:`unverified`
    uncounted: list[VectorStore] = field(default_factory=list)

    def unverified(self, deleted: Sequence[VectorStore] | None = None) -> list[VectorStore]:
        """The uncounted stores the file plan's safety rests on: every one that survives
        (all but ``deleted``, by default the plan's stores). Deleting ``files`` then needs
        ``trust_unverified``; with none, every file listing was checked against a count."""
        if not self.files:
            return []  # no file would be deleted: nothing rests on them
        gone = {s.id for s in (self.stores if deleted is None else deleted)}
        return [s for s in self.uncounted if s.id not in gone]

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
            "estimated_saving_per_day": (
                round(self.saving_per_day, 6) if self.usage_reported else None
            ),
            "usage_reported": self.usage_reported,
            "notes": self.notes,
            "unverified_stores": [s.id for s in self.unverified()],
        }


Progress = Callable[[str], None]


class UnknownStores(VstuiError):
    """Stores asked for by ID that the account does not have."""

    def __init__(self, ids: Sequence[str]) -> None:
        super().__init__(f"no such store: {', '.join(ids)}")
        self.ids = list(ids)


def build_plan(
    service: VectorStoresService,
    *,
    expired: bool = False,
    store_ids: Sequence[str] | None = None,
    include_files: bool = False,
    orphans_only: bool = False,
    price_per_gb_day: float = 0.10,
    progress: Progress | None = None,
    concurrency: int = 8,
) -> Plan:
    """What a clean-up would delete. Reads only.

    Raises :class:`UnknownStores` for IDs the account does not have, and
    :class:`~vstui.listing.IncompleteListing` when any listing the file plan depends on
    is not complete: orphan detection then refuses for the whole run, it never guesses.
    """
    all_stores = listing.all_stores(service, progress)
    usage = sum(s.usage_bytes for s in all_stores)
    wanted = list(dict.fromkeys(store_ids or ()))
    missing = [sid for sid in wanted if sid not in {s.id for s in all_stores}]
    if missing:
        raise UnknownStores(missing)
    if orphans_only:
        targets: list[VectorStore] = []
    else:
        targets = [s for s in all_stores if (expired and s.is_expired) or s.id in wanted]
    files: list[FileObject] = []
    holdings: listing.Holdings | None = None
    if include_files or orphans_only:
        target_ids = {s.id for s in targets}
        attached = listing.attachments(
            service, all_stores, concurrency=concurrency, progress=progress
        )
        holdings = listing.Holdings(concurrency=concurrency)
        holdings.seed(all_stores, attached)
        kept = set().union(*(ids for sid, ids in attached.items() if sid not in target_ids))
        # orphans: every assistants file attached to nothing (no candidate list)
        candidates = None if orphans_only else set().union(*(attached[s.id] for s in targets))
        if progress is not None:
            progress("listing files")
        for f in listing.assistants_files(service):
            if f.id in kept:
                continue
            if candidates is None or f.id in candidates:
                files.append(f)
    caps = service.capabilities
    usage_reported = caps.usage is not False and all(caps.usage_known(s) for s in all_stores)
    notes: list[str] = []
    if not usage_reported:
        notes.append(
            "Usage is not reported by this server: sizes and the saving are unknown, not zero."
        )
    uncounted: list[VectorStore] = []
    if include_files or orphans_only:
        uncounted = sorted(
            (s for s in all_stores if not s.counts_reported), key=lambda s: s.created_at
        )
    return Plan(
        stores=sorted(targets, key=lambda s: s.created_at),
        files=sorted(files, key=lambda f: f.created_at),
        account_usage_bytes=usage,
        price_per_gb_day=price_per_gb_day,
        include_files=include_files or orphans_only,
        holdings=holdings,
        usage_reported=usage_reported,
        notes=notes,
        uncounted=uncounted,
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
    interrupted: bool = False  # stopped by the user (Stop, SIGINT, SIGTERM) before the end
    # stores whose file listings no count could verify, trusted because the caller said so
    # (their IDs): a file one of them held but did not list may have been deleted
    unverified: list[str] = field(default_factory=list)

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
            "interrupted": self.interrupted,
            "unverified_stores": self.unverified,
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
    retrieve: Callable[[], object]
    delete: Callable[[str], object]
    if kind == "store":
        delete, retrieve = service.delete_store, lambda: service.retrieve_store(obj_id)
    else:
        delete, retrieve = service.delete_file, lambda: service.retrieve_file(obj_id)
    try:
        delete(obj_id)
    except APIError as error:
        # 404, or a 400 (some servers' "not found") that reading it again confirms
        try:
            gone = service.confirm_gone(error, retrieve)
        except Exception:  # the check itself failed: the deletion stays failed
            gone = False
        if gone:
            return Outcome(kind, obj_id, name, "already gone")
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
        return _record(tally, outcome, on_progress)

    if not tasks:
        return outcomes
    with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="delete") as pool:
        outcomes.extend(pool.map(work, tasks))
    return outcomes


def _record(
    tally: Tally, outcome: Outcome, on_progress: Callable[[Tally, Outcome], None] | None
) -> Outcome:
    with tally.lock:
        if outcome.result == "failed":
            tally.failed += 1
        else:
            tally.done += 1
    if on_progress is not None:
        on_progress(tally, outcome)
    return outcome


def delete_files(
    service: VectorStoresService,
    tasks: Sequence[Task],
    holdings: listing.Holdings,
    *,
    concurrency: int,
    tally: Tally,
    on_progress: Callable[[Tally, Outcome], None] | None = None,
    cancelled: threading.Event | None = None,
    trust_unverified: bool = False,
    trusted: list[str] | None = None,
) -> list[Outcome]:
    """Delete files in waves of at most ``concurrency``; before each wave, check what
    every store holds right now (:meth:`Holdings.refresh`): a file found attached is kept
    and reported as skipped. If the check cannot be completed, nothing more is deleted;
    nor when a store reports no file counts (its listing cannot be verified) unless
    ``trust_unverified``; the IDs of the stores so trusted are added to ``trusted``.

    Every path that deletes files goes through here: ``execute``, ``retry_failed``, and so
    the clean-up screen and ``vstui cleanup``.
    """
    outcomes: list[Outcome] = []
    size = max(1, concurrency)
    for start in range(0, len(tasks), size):
        rest = tasks[start:]
        reason = ""
        if cancelled is not None and cancelled.is_set():
            reason = "stopped by the user"
        else:
            try:
                attached = holdings.refresh(service)
            except (APIError, listing.IncompleteListing) as error:
                detail = error.summary if isinstance(error, APIError) else str(error)
                reason = f"not deleted: could not re-check which stores hold it ({detail})"
            else:
                uncounted = holdings.unverified()
                if uncounted and not trust_unverified:
                    reason = f"not deleted: {describe_unverified(uncounted)}"
                elif trusted is not None:
                    trusted.extend(s.id for s in uncounted if s.id not in trusted)
        if reason:
            outcomes.extend(
                _record(tally, Outcome("file", fid, name, "failed", reason), on_progress)
                for _, fid, name in rest
            )
            break
        wave = tasks[start : start + size]
        go: list[Task] = []
        for task in wave:
            if task[1] in attached:
                kept = Outcome("file", task[1], task[2], "skipped", "attached to a store again")
                outcomes.append(_record(tally, kept, on_progress))
            else:
                go.append(task)
        outcomes.extend(_run(service, go, concurrency, tally, on_progress, cancelled))
    return outcomes


def execute(
    service: VectorStoresService,
    stores: Sequence[VectorStore],
    files: Sequence[FileObject] = (),
    *,
    concurrency: int = 8,
    on_progress: Callable[[Tally, Outcome], None] | None = None,
    cancelled: threading.Event | None = None,
    holdings: listing.Holdings | None = None,
    trust_unverified: bool = False,
) -> Report:
    """Delete the stores, then the files no surviving store holds. Every item once.

    ``holdings`` is the plan's reading of what each store holds (``plan.holdings``); without
    it the first file wave reads every store's files again. Files are deleted while a
    surviving store reports no file counts only with ``trust_unverified`` (the plan says
    which: :meth:`Plan.unverified`); otherwise they fail with the reason.
    """
    started = time.monotonic()
    requests_before = service.stats.requests
    limited_before = service.stats.rate_limited
    store_tasks: list[Task] = list({s.id: ("store", s.id, s.name or "") for s in stores}.values())
    file_tasks: list[Task] = list({f.id: ("file", f.id, f.filename) for f in files}.values())
    tally = Tally(total=len(store_tasks) + len(file_tasks))
    outcomes = _run(service, store_tasks, concurrency, tally, on_progress, cancelled)
    trusted: list[str] = []
    if file_tasks:
        outcomes += delete_files(
            service,
            file_tasks,
            holdings or listing.Holdings(concurrency=concurrency),
            concurrency=concurrency,
            tally=tally,
            on_progress=on_progress,
            cancelled=cancelled,
            trust_unverified=trust_unverified,
            trusted=trusted,
        )
    return Report(
        outcomes=outcomes,
        seconds=time.monotonic() - started,
        requests=service.stats.requests - requests_before,
        rate_limited=service.stats.rate_limited - limited_before,
        interrupted=cancelled is not None and cancelled.is_set(),
        unverified=trusted,
    )


def retry_failed(
    service: VectorStoresService,
    report: Report,
    *,
    concurrency: int = 8,
    on_progress: Callable[[Tally, Outcome], None] | None = None,
    cancelled: threading.Event | None = None,
    trust_unverified: bool = False,
) -> Report:
    """Retry only what failed; keep every other outcome as it was. Files are re-checked
    exactly as in :func:`execute` (a file may have come back into use meanwhile), and
    ``trust_unverified`` means what it means there."""
    failed = report.of("failed")
    store_tasks: list[Task] = [(o.kind, o.id, o.name) for o in failed if o.kind == "store"]
    file_tasks: list[Task] = [(o.kind, o.id, o.name) for o in failed if o.kind == "file"]
    tally = Tally(total=len(store_tasks) + len(file_tasks))
    started = time.monotonic()
    again = _run(service, store_tasks, concurrency, tally, on_progress, cancelled)
    trusted = list(report.unverified)
    if file_tasks:
        again += delete_files(
            service,
            file_tasks,
            listing.Holdings(concurrency=concurrency),
            concurrency=concurrency,
            tally=tally,
            on_progress=on_progress,
            cancelled=cancelled,
            trust_unverified=trust_unverified,
            trusted=trusted,
        )
    kept = [o for o in report.outcomes if o.result != "failed"]
    return Report(
        outcomes=kept + again,
        seconds=report.seconds + time.monotonic() - started,
        requests=report.requests,
        rate_limited=report.rate_limited,
        interrupted=cancelled is not None and cancelled.is_set(),
        unverified=trusted,
    )
