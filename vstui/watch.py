"""``vstui watch STORE|BATCH``: follow ingestion until nothing is in progress. No UI.

Exit codes: 0 every file completed, 1 any failed or was cancelled (listed with their
``last_error``), 2 bad usage, 124 ``--timeout`` reached. Polls at the server's
``openai-poll-after-ms`` (1 s when it sends none).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any, TextIO

from . import fmt
from .api import APIError, FileCounts, VectorStoresService

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
            counts, status, poll_ms = batch.file_counts, batch.status, batch._poll_after_ms
            busy = status in ("in_progress", "cancelling") or counts.in_progress > 0
        else:
            store = service.retrieve_store(store_id)
            status, poll_ms = store.status, store._poll_after_ms
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


# -- the command ----------------------------------------------------------------------------


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "watch",
        help="follow a store's or a batch's ingestion until nothing is in progress",
        description="Exit 0 when every file completed, 1 when any failed (listed with their "
        "last error), 124 on --timeout.",
    )
    p.add_argument("target", metavar="STORE|BATCH", help="store ID or exact name, or a batch ID")
    p.add_argument("--store", default=None, help="the batch's store (a batch is read through it)")
    p.add_argument("--timeout", type=float, default=None, metavar="SECONDS")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")


def printable(text: str) -> str:
    """Server text on a terminal: control characters (escape sequences) become '?'."""
    return "".join(ch if ch.isprintable() else "?" for ch in text)


def progress_line(counts: FileCounts, status: str, elapsed: float) -> str:
    total = counts.total or 1
    done = counts.completed + counts.failed + counts.cancelled
    width = 24
    filled = int(width * done / total)
    bar = "█" * filled + "░" * (width - filled)
    return (
        f"{bar} {done}/{counts.total} · completed {counts.completed} · failed {counts.failed}"
        f" · in progress {counts.in_progress} · {printable(status)} · {fmt.duration(elapsed)}"
    )


def redraw(err: TextIO, line: str) -> None:
    """Rewrite the terminal's last line, cut to its width so it never wraps."""
    width = shutil.get_terminal_size().columns - 1
    err.write("\r\x1b[2K" + line[: max(10, width)])
    err.flush()


def live_printer(err: TextIO) -> Update:
    """A progress line that redraws itself on a terminal and prints sparsely otherwise."""
    started = time.monotonic()
    last: list[str] = [""]
    tty = err.isatty()

    def update(counts: FileCounts, status: str) -> None:
        line = progress_line(counts, status, time.monotonic() - started)
        if tty:
            redraw(err, line)
        else:
            key = f"{counts.completed}/{counts.failed}/{counts.in_progress}/{status}"
            if key != last[0]:
                print(line, file=err)
            last[0] = key

    return update


def print_result(result: WatchResult, out: TextIO, err: TextIO, as_json: bool) -> None:
    if err.isatty():
        err.write("\n")
    if as_json:
        json.dump(result.to_json(), out)
        out.write("\n")
        return
    c = result.counts
    if result.timed_out:
        print(
            f"Timed out after {result.seconds:.0f}s: {c.in_progress} still in progress "
            f"({c.completed} completed, {c.failed} failed).",
            file=out,
        )
        return
    print(
        f"{printable(result.target)}: {printable(result.status)} — {c.completed} completed, "
        f"{c.failed} failed, {c.cancelled} cancelled of {c.total}.",
        file=out,
    )
    if result.counted:
        print("  (this server reports no file counts: counted from the store's files)", file=out)
    for f in result.failures:
        line = f"  {f.status} {f.file_id}: {f.code}: {f.message}"
        print(printable(line), file=out)


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


def run(
    args: argparse.Namespace,
    service: VectorStoresService,
    *,
    out: TextIO | None = None,
    err: TextIO | None = None,
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
) -> int:
    from .sync import SyncError

    out = out or sys.stdout
    err = err or sys.stderr
    if args.timeout is not None and args.timeout <= 0:
        print("vstui watch: --timeout must be a positive number of seconds.", file=err)
        return EXIT_USAGE
    try:
        store_id, batch_id = resolve(service, args.target, args.store)
        result = watch(
            service,
            store_id,
            batch_id,
            timeout=args.timeout,
            on_update=live_printer(err),
            sleep=sleep,
            monotonic=monotonic,
        )
    except SyncError as exc:
        print(f"vstui watch: {exc}", file=err)
        return EXIT_USAGE
    except APIError as error:
        print(f"vstui watch: {error.summary}", file=err)
        if "/file_batches/" in error.path and error.status in (404, 405):
            known = service.capabilities.batches is False
            print(
                "vstui watch: this server has no file batches; watch the store instead: "
                "vstui watch STORE"
                if known
                else "vstui watch: no such batch; if this server has no file batches "
                "(llama-stack), watch the store instead: vstui watch STORE",
                file=err,
            )
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("\nvstui watch: stopped; ingestion continues on the server.", file=err)
        return 130
    print_result(result, out, err, args.json)
    return result.exit_code
