"""``vstui sync PATH STORE``: keep a store in step with a folder (plan, confirm, upload,
attach, replace), with progress on stderr and the plan and report on stdout.

Exit codes: 0 done, 1 something failed, 2 refused or bad usage, 130 interrupted (with
``--wait``, watch's codes: 1 a file failed to process, 124 timed out). The work itself is
``vstui/sync.py``'s.

A file object that sync detaches but keeps rather than deletes (another store holds it, a listing
could not be read, or one cannot be verified: a store reports no file counts and
``--trust-unverified-listings`` was not given) is not a failure: nothing was lost, the store
is in step with the folder and the report names the file and why (exit 0). The clean-up
refuses such a run with exit 2 because deleting is all it does; a sync has done its work.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from .. import accounts, fmt
from ..api import APIError, VectorStoresService
from ..sync import (
    DEFAULT_PREFIX,
    KINDS,
    Options,
    Plan,
    Progress,
    Report,
    SyncError,
    build_plan,
    execute,
    parse_attrs,
    parse_chunking,
)
from ..watch import watch
from .console import (
    add_wait_timeout,
    confirm,
    live_printer,
    print_watch_result,
    printable,
    redraw,
)


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "sync",
        help="keep a store in step with a folder: upload new and changed files, drop removed",
        description="Plan, then upload what is new or changed (and with --delete drop what "
        "was removed). Nothing changes without --yes or a typed confirmation on a terminal.",
        epilog="Exit codes: 0 done (also when --delete kept a file object rather than "
        "delete it: the report says which and why), 1 something failed, 2 refused or bad "
        "usage, 130 interrupted; with --wait, 1 also when a file failed to process and 124 on "
        "--timeout.",
    )
    p.add_argument("path", metavar="PATH", help="the folder to sync (walked recursively)")
    p.add_argument("store", metavar="STORE", help="store ID or exact name")
    p.add_argument("--create", action="store_true", help="create the store if it is missing")
    p.add_argument(
        "--include",
        action="append",
        default=[],
        metavar="GLOB",
        help="only files matching (gitignore syntax; repeat)",
    )
    p.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="GLOB",
        help="skip files matching (gitignore syntax; repeat)",
    )
    p.add_argument(
        "--attr",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="attribute for new and changed files (repeat)",
    )
    p.add_argument(
        "--attr-prefix",
        default=DEFAULT_PREFIX,
        metavar="PREFIX",
        help="prefix of the attributes that remember the source ('path', 'sha256')",
    )
    p.add_argument(
        "--chunking",
        default=None,
        metavar="auto|static:MAX_TOKENS:OVERLAP",
        help="chunking for new and changed files (MAX_TOKENS 100-4096, OVERLAP <= half)",
    )
    p.add_argument(
        "--delete",
        action="store_true",
        help="detach files whose source is gone (and delete them if no store holds them)",
    )
    p.add_argument(
        "--trust-unverified-listings",
        action="store_true",
        help="delete the files sync detaches (old versions; with --delete, removed files) even "
        "when a store reports no file counts (e.g. llama-stack), so its file listing cannot be "
        "shown complete: if the server leaves a file out of a page, a file that store holds is "
        "deleted. Without it such files are detached but kept, and the report names them",
    )
    p.add_argument("--dry-run", action="store_true", help="print the plan and change nothing")
    p.add_argument("--verbose", action="store_true", help="list every file in the plan")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p.add_argument(
        "--concurrency",
        type=int,
        default=16,
        metavar="N",
        help="parallel uploads, 1-64 (default 16)",
    )
    p.add_argument("--wait", action="store_true", help="then watch until ingestion finishes")
    add_wait_timeout(p, "with --wait: stop waiting after this long (exit 124)")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    p.set_defaults(run=run, doing="syncing a folder")


def run(args: argparse.Namespace) -> int:
    return accounts.run_connected(
        args, lambda account: run_with(args, account.service, read_only=account.read_only)
    )


def _print_plan(plan: Plan, out: TextIO, verbose: bool) -> None:
    name = printable(plan.store.name or "")
    where = "will be created" if plan.create_store else plan.store.id
    print(f"Sync {plan.root} → store {name!r} ({where})", file=out)
    counts = plan.counts()
    notes = {
        "removed": "" if plan.options.delete else "  (kept: add --delete to detach them)",
        "skipped": "  (see below)" if plan.of("skipped") else "",
    }
    for kind in KINDS:
        c = counts[kind]
        print(
            f"  {kind:10} {c['files']:>7,} files {fmt.human_bytes(c['bytes']):>10}"
            f"{notes.get(kind, '')}",
            file=out,
        )
    if plan.duplicates:
        print(f"  stale versions to drop: {len(plan.duplicates)}", file=out)
    if sentence := plan.unverified_sentence():
        print(printable(f"Unverified: {sentence}"), file=out)
    listed = plan.items if verbose else plan.of("skipped")
    if listed and not verbose:
        print("Skipped:", file=out)
    for item in listed:
        if not verbose and item.kind != "skipped":
            continue
        reason = f" — {item.reason}" if item.reason else ""
        prefix = f"  {item.kind:10} " if verbose else "  "
        print(printable(f"{prefix}{item.rel}{reason}"), file=out)


class _ProgressPrinter:
    """Files, bytes, rate and ETA on stderr: redrawn on a terminal, sparse otherwise."""

    def __init__(self, err: TextIO) -> None:
        self.err = err
        self.tty = err.isatty()
        self.last_step = -1

    def __call__(self, p: Progress) -> None:
        if p.stage == "upload":
            eta = fmt.duration(p.eta) if p.eta is not None else "—"
            line = (
                f"uploading {p.files_done:,}/{p.files_total:,} files · "
                f"{fmt.human_bytes(p.bytes_done)}/{fmt.human_bytes(p.bytes_total)} · "
                f"{fmt.human_bytes(int(p.rate))}/s · ETA {eta}"
            )
            step = p.files_done * 10 // max(1, p.files_total)
            if self.tty:
                redraw(self.err, line)
            elif step != self.last_step or p.files_done == p.files_total:
                print(line, file=self.err)
                self.last_step = step
            return
        if p.stage == "done":
            if self.tty:
                self.err.write("\n")
            return
        if self.tty:
            self.err.write("\n")
        print(printable(f"… {p.message}"), file=self.err)


def _print_report(report: Report, out: TextIO) -> None:
    state = "Interrupted" if report.interrupted else "Done"
    print(
        f"{state}: {report.summary()} in {report.seconds:.1f}s ({report.requests} requests).",
        file=out,
    )
    if report.one_by_one:
        print("  This server has no file batches: files were attached one by one.", file=out)
    for item, reason in report.failed:
        print(printable(f"  failed {item}: {reason}"), file=out)
    for file_id, reason in report.kept.items():
        print(printable(f"  kept file {file_id}: {reason}"), file=out)
    if sentence := report.unverified_sentence():
        print(printable(f"  {sentence}"), file=out)
    if report.unattached:
        print(
            "  uploaded but not attached (remove with `vstui cleanup --orphans`): "
            + ", ".join(report.unattached),
            file=out,
        )
    if report.interrupted:
        print("  Run the same command again to finish: it picks up where this stopped.", file=out)


def run_with(
    args: argparse.Namespace,
    service: VectorStoresService,
    *,
    read_only: bool = False,
    stdin: TextIO | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
    sleep: Callable[[float], None] = time.sleep,
    on_progress: Callable[[Progress], None] | None = None,
) -> int:
    """The command on a service already open (tests give one bound to the simulator)."""
    stdin = stdin or sys.stdin
    out = out or sys.stdout
    err = err or sys.stderr
    if not 1 <= args.concurrency <= 64:
        print("vstui sync: --concurrency must be between 1 and 64.", file=err)
        return 2
    try:
        options = Options(
            include=tuple(args.include),
            exclude=tuple(args.exclude),
            attributes=parse_attrs(args.attr),
            chunking=parse_chunking(args.chunking),
            prefix=args.attr_prefix,
            delete=args.delete,
            trust_unverified=bool(getattr(args, "trust_unverified_listings", False)),
        )
        plan = build_plan(
            service,
            Path(args.path).expanduser(),
            args.store,
            options,
            create=args.create,
            concurrency=args.concurrency,
            progress=lambda text: print(f"… {text}", file=err),
        )
    except SyncError as exc:
        print(f"vstui sync: {exc}", file=err)
        return 2
    except APIError as error:
        print(f"vstui sync: could not build the plan: {error.summary}", file=err)
        return 1
    except KeyboardInterrupt:
        print("\nvstui sync: stopped while planning; nothing was changed.", file=err)
        return 130
    payload: dict[str, Any] = {"dry_run": args.dry_run, "plan": plan.to_json(args.verbose)}

    def finish(code: int) -> int:
        if args.json:  # one object on stdout, whatever happened
            json.dump(payload, out)
            out.write("\n")
        return code

    work = plan.has_work or plan.create_store
    if args.dry_run or not work:
        if not args.json:
            _print_plan(plan, out, args.verbose)
            print("Dry run: nothing was changed." if args.dry_run else "Nothing to do.", file=out)
        if not args.dry_run and args.wait and not plan.create_store:
            return finish(_wait(args, service, plan.store.id, None, out, err, sleep, payload))
        return finish(0)
    if read_only:
        print("vstui sync: this profile is read-only; nothing was changed.", file=err)
        return 2
    if not args.json:
        _print_plan(plan, out, args.verbose)
        out.flush()
    if not args.yes:
        changes = len(plan.uploads) + len(plan.duplicates)
        if options.delete:
            changes += len(plan.of("removed"))
        changes = max(1, changes)
        confirmed = confirm(changes, stdin, err, action="apply")
        if confirmed is None:
            print(
                "vstui sync: refusing to change the store without confirmation: there is no "
                "terminal to ask. Add --yes (or --dry-run to only see the plan).",
                file=err,
            )
            return 2
        if not confirmed:
            print("vstui sync: not confirmed; nothing was changed.", file=err)
            return 2
    try:
        report = execute(
            service,
            plan,
            concurrency=args.concurrency,
            on_progress=on_progress or _ProgressPrinter(err),
            sleep=sleep,
        )
    except APIError as error:  # creating the store failed: nothing else happened
        print(f"vstui sync: {error.summary}", file=err)
        return 1
    payload["result"] = report.to_json()
    if not args.json:
        _print_report(report, out)
    if report.interrupted:
        return finish(130)
    if not report.ok:
        return finish(1)
    if args.wait:
        only = set(report.attached)
        return finish(_wait(args, service, report.store_id, only, out, err, sleep, payload))
    return finish(0)


def _wait(
    args: argparse.Namespace,
    service: VectorStoresService,
    store_id: str,
    only: set[str] | None,
    out: TextIO,
    err: TextIO,
    sleep: Callable[[float], None],
    payload: dict[str, Any],
) -> int:
    try:
        result = watch(
            service,
            store_id,
            timeout=args.wait_timeout,
            only=only,
            on_update=live_printer(err),
            sleep=sleep,
        )
    except APIError as error:
        print(f"vstui sync: {error.summary}", file=err)
        return 1
    except KeyboardInterrupt:
        print("\nvstui sync: stopped waiting; ingestion continues on the server.", file=err)
        return 130
    payload["watch"] = result.to_json()
    if not args.json:
        print_watch_result(result, out, err, as_json=False)
    elif err.isatty():
        err.write("\n")
    return result.exit_code
