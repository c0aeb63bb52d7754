"""``vstui cleanup``: the clean-up without the TUI, for cron and scripts (the plan and the
deletions are ``vstui/cleanup.py``'s, shared with the clean-up screen).

The plan and the result go to stdout (``--json``: one object); progress goes to stderr.
Exit codes: 0 everything planned is gone, 1 something failed (or a listing the plan depends
on was incomplete: nothing is deleted), 2 refused or bad usage (also: files would be deleted
on listings no count can verify, without ``--trust-unverified-listings``), 130 interrupted
(SIGINT or SIGTERM: no new deletion starts, those in flight finish, and the report says what
was done).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
import threading
from collections.abc import Iterator
from types import FrameType
from typing import Any, TextIO

from .. import accounts, fmt
from ..api import APIError, VectorStoresService
from ..cleanup import (
    Outcome,
    Plan,
    Report,
    Tally,
    UnknownStores,
    build_plan,
    describe_unverified,
    execute,
)
from ..listing import IncompleteListing
from ..text import safe_stream
from .console import confirm

INTERRUPTED = 130


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "cleanup",
        help="delete expired stores (and the files they leave behind) without the TUI",
        description="Plan and carry out a clean-up. Nothing is deleted without --yes or a "
        "typed confirmation on a terminal.",
        epilog="Exit codes: 0 done, 1 something failed (or a listing the plan needs was "
        "incomplete: nothing is deleted), 2 refused or bad usage (or files would be deleted "
        "on unverified listings without --trust-unverified-listings), 130 interrupted.",
    )
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--expired", action="store_true", help="delete every expired store")
    what.add_argument(
        "--orphans", action="store_true", help="delete assistants files attached to no store"
    )
    what.add_argument("--store", action="append", metavar="ID", help="delete this store (repeat)")
    p.add_argument(
        "--delete-files", action="store_true", help="also delete files left attached to no store"
    )
    p.add_argument(
        "--trust-unverified-listings",
        action="store_true",
        help="delete files even when a store reports no file counts (e.g. llama-stack), so "
        "its file listing cannot be shown complete: if the server leaves a file out of a page, "
        "a file that store holds is deleted. Without it such a run is refused (exit 2)",
    )
    p.add_argument("--dry-run", action="store_true", help="print the plan and change nothing")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p.add_argument(
        "--concurrency",
        type=int,
        default=None,
        metavar="N",
        help="parallel deletions, 1-64 (config: cleanup_concurrency; default 8)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    p.set_defaults(run=run, doing="running the clean-up")


def run(args: argparse.Namespace) -> int:
    concurrency = args.concurrency
    if concurrency is not None and not 1 <= concurrency <= 64:
        return accounts.fail(f"--concurrency must be between 1 and 64 (got {concurrency}).")
    return accounts.run_connected(
        args,
        lambda account: run_with(
            args,
            account.service,
            price_per_gb_day=account.config.storage_price_per_gb_day,
            default_concurrency=account.config.cleanup_concurrency,
            read_only=account.read_only,
        ),
    )


def _print_plan(plan: Plan, out: TextIO) -> None:
    size = fmt.human_bytes(plan.store_bytes) if plan.usage_reported else fmt.NOT_REPORTED
    print(f"Stores to delete: {len(plan.stores)} ({size})", file=out)
    for store in plan.stores:
        usage = fmt.human_bytes(store.usage_bytes) if plan.usage_reported else "?"
        files = f"{store.file_counts.total} files" if store.counts_reported else "? files"
        print(
            f"  {store.id}  {store.display_name[:40]:40}  {store.status:10} {usage:>9}  {files}",
            file=out,
        )
    if plan.include_files:
        print(
            f"Files to delete (attached to no surviving store): {len(plan.files)} "
            f"({fmt.human_bytes(plan.file_bytes)})",
            file=out,
        )
        for f in plan.files:
            print(f"  {f.id}  {f.filename[:50]:50} {fmt.human_bytes(f.bytes):>9}", file=out)
    if plan.usage_reported:
        print(
            f"Estimated vector storage saving: ${plan.saving_per_day:.4f}/day "
            f"(${plan.price_per_gb_day:.2f} per GB-day beyond the first free GB)",
            file=out,
        )
    else:
        print(f"Estimated vector storage saving: unknown (usage {fmt.NOT_REPORTED})", file=out)
    for note in plan.notes:
        print(f"Note: {note}", file=out)
    if unverified := plan.unverified():
        print(
            f"Unverified: {describe_unverified(unverified)}. Deleting the files needs "
            "--trust-unverified-listings.",
            file=out,
        )


class _Stop(threading.Event):
    """Set by SIGINT/SIGTERM. Before deleting starts the run is abandoned at once
    (KeyboardInterrupt); once it has, only the event is set: no new deletion starts,
    those in flight finish and the report is printed."""

    deleting = False


@contextlib.contextmanager
def _stop_on_signals(stop: _Stop) -> Iterator[None]:
    def handler(signum: int, frame: FrameType | None) -> None:
        if stop.is_set():
            return
        stop.set()
        if not stop.deleting:
            raise KeyboardInterrupt

    if threading.current_thread() is not threading.main_thread():
        yield  # signals are delivered to the main thread only; nothing to install
        return
    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def run_with(
    args: argparse.Namespace,
    service: VectorStoresService,
    *,
    price_per_gb_day: float = 0.10,
    default_concurrency: int = 8,
    read_only: bool = False,
    stdin: TextIO | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
    stop: _Stop | None = None,
) -> int:
    stop = stop or _Stop()
    # The printing helper: every line cleaned of controls, the key masked (JSON stays exact).
    out, err = safe_stream(out or sys.stdout), safe_stream(err or sys.stderr)
    try:
        with _stop_on_signals(stop):
            return _run(
                args,
                service,
                price_per_gb_day=price_per_gb_day,
                default_concurrency=default_concurrency,
                read_only=read_only,
                stdin=stdin or sys.stdin,
                out=out,
                err=err,
                stop=stop,
            )
    except KeyboardInterrupt:
        if args.json:
            json.dump({"dry_run": bool(args.dry_run), "interrupted": True}, out)
            out.write("\n")
        else:
            print("Interrupted before anything was deleted.", file=out)
        return INTERRUPTED


def _refused(
    args: argparse.Namespace,
    out: TextIO,
    err: TextIO,
    message: str,
    code: int,
    **extra: Any,
) -> int:
    """Say why nothing was deleted: a sentence on stderr and, with ``--json``, one object on
    stdout too (a script always gets an answer to parse; ``extra`` goes into it)."""
    print(f"vstui cleanup: {message}", file=err)
    if args.json:
        json.dump({"ok": False, "dry_run": bool(args.dry_run), "error": message, **extra}, out)
        out.write("\n")
    return code


def _unverified_refusal(args: argparse.Namespace, plan: Plan) -> str:
    """Why files are not deleted without ``--trust-unverified-listings``, and what to do."""
    what = describe_unverified(plan.unverified())
    stores_alone = "; or leave out --delete-files to delete the stores alone" if plan.stores else ""
    return (
        f"refusing to delete {fmt.plural(len(plan.files), 'file')}: {what}. Nothing was "
        "deleted. To delete them anyway, accepting that risk, add --trust-unverified-listings"
        f"{stores_alone}."
    )


def _run(
    args: argparse.Namespace,
    service: VectorStoresService,
    *,
    price_per_gb_day: float = 0.10,
    default_concurrency: int = 8,
    read_only: bool = False,
    stdin: TextIO,
    out: TextIO,
    err: TextIO,
    stop: _Stop,
) -> int:
    concurrency = args.concurrency or default_concurrency
    if concurrency < 1 or concurrency > 64:
        print("vstui cleanup: --concurrency must be between 1 and 64.", file=err)
        return 2
    try:
        plan = build_plan(
            service,
            expired=args.expired,
            store_ids=args.store,
            include_files=args.delete_files,
            orphans_only=args.orphans,
            price_per_gb_day=price_per_gb_day,
            progress=lambda text: print(f"… {text}", file=err),
            concurrency=concurrency,
        )
    except UnknownStores as error:
        return _refused(args, out, err, f"{error}. Nothing was deleted.", 2)
    except IncompleteListing as error:
        message = f"refusing to plan file deletions: {error}. Nothing was deleted."
        return _refused(args, out, err, message, 1)
    except APIError as error:
        return _refused(args, out, err, f"could not build the plan: {error.summary}", 1)
    total = len(plan.stores) + len(plan.files)
    if args.dry_run or total == 0:
        if args.json:
            json.dump({"dry_run": args.dry_run, "plan": plan.to_json()}, out)
            out.write("\n")
        else:
            _print_plan(plan, out)
            print(
                "Dry run: nothing was changed." if args.dry_run else "Nothing to delete.", file=out
            )
        return 0
    if read_only:
        print("vstui cleanup: this profile is read-only; nothing was deleted.", file=err)
        return 2
    if not args.json:
        _print_plan(plan, out)
        out.flush()
    trust = bool(getattr(args, "trust_unverified_listings", False))
    if plan.unverified() and not trust:
        message = _unverified_refusal(args, plan)
        return _refused(
            args,
            out,
            err,
            message,
            2,
            unverified_stores=[s.id for s in plan.unverified()],
            plan=plan.to_json(),
        )
    if not args.yes:
        confirmed = confirm(total, stdin, err)
        if confirmed is None:
            print(
                "vstui cleanup: refusing to delete without confirmation: there is no terminal "
                "to ask. Add --yes (or --dry-run to only see the plan).",
                file=err,
            )
            return 2
        if not confirmed:
            print("vstui cleanup: not confirmed; nothing was deleted.", file=err)
            return 2

    def progress(tally: Tally, outcome: Outcome) -> None:
        finished = tally.done + tally.failed
        if outcome.result == "failed" or finished % 25 == 0 or tally.remaining == 0:
            line = (
                f"[{finished}/{tally.total}] done {tally.done} · failed {tally.failed} · "
                f"remaining {tally.remaining} · {tally.rate:.1f}/s"
            )
            if outcome.result == "failed":
                line += f" — {outcome.kind} {outcome.id}: {outcome.reason}"
            print(line, file=err)

    stop.deleting = True
    if stop.is_set():  # interrupted while asking: nothing was deleted
        raise KeyboardInterrupt
    print(f"… deleting {fmt.plural(total, 'item')}", file=err)
    report: Report = execute(
        service,
        plan.stores,
        plan.files,
        concurrency=concurrency,
        on_progress=progress,
        cancelled=stop,
        holdings=plan.holdings,
        trust_unverified=trust,
    )
    if args.json:
        result = {"dry_run": False, "plan": plan.to_json(), "result": report.to_json()}
        result["interrupted"] = report.interrupted
        result["trusted_unverified_listings"] = trust
        json.dump(result, out)
        out.write("\n")
    else:
        print(f"Result: {report.summary()} in {report.seconds:.1f}s.", file=out)
        if report.unverified:
            print(
                f"Trusted unverified listings (--trust-unverified-listings) of "
                f"{fmt.plural(len(report.unverified), 'store')}: "
                f"{', '.join(report.unverified[:10])}"
                f"{' …' if len(report.unverified) > 10 else ''}; a file one of them held but "
                "did not list would have been deleted.",
                file=out,
            )
        for outcome in report.of("skipped"):
            print(f"  kept {outcome.kind} {outcome.id}: {outcome.reason}", file=out)
        for outcome in report.of("failed"):
            print(f"  failed {outcome.kind} {outcome.id}: {outcome.reason}", file=out)
        if report.interrupted:
            print("Interrupted: no new deletion was started after the signal.", file=out)
    if report.interrupted:
        return INTERRUPTED
    return 0 if report.ok else 1
