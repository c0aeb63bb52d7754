"""``vstui watch STORE|BATCH``: a live progress line until nothing is in progress.

Exit codes: 0 every file completed, 1 any failed or was cancelled (listed with their
``last_error``), 2 bad usage, 124 ``--timeout`` reached, 130 interrupted. The polling is
``vstui/watch.py``'s.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

from .. import accounts
from ..api import APIError, VectorStoresService
from ..sync import SyncError
from ..watch import EXIT_FAILED, EXIT_USAGE, resolve, watch
from .console import add_wait_timeout, live_printer, print_watch_result


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "watch",
        help="follow a store's or a batch's ingestion until nothing is in progress",
        description="Print a live progress line until nothing is in progress, polling at the "
        "server's pace. Exit 0 when every file completed, 1 when any failed (listed with "
        "their last error), 124 on --timeout.",
    )
    p.add_argument("target", metavar="STORE|BATCH", help="store ID or exact name, or a batch ID")
    p.add_argument(
        "--store",
        default=None,
        help="the batch's store, ID or exact name (a batch is read through it)",
    )
    add_wait_timeout(p, "stop waiting after this long (exit 124); the server keeps ingesting")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    p.set_defaults(run=run, doing="watching ingestion")


def run(args: argparse.Namespace) -> int:
    return accounts.run_connected(args, lambda account: run_with(args, account.service))


def run_with(
    args: argparse.Namespace,
    service: VectorStoresService,
    *,
    out: TextIO | None = None,
    err: TextIO | None = None,
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
) -> int:
    """The command on a service already open (tests give one bound to the simulator)."""
    out = out or sys.stdout
    err = err or sys.stderr
    if args.wait_timeout is not None and args.wait_timeout <= 0:
        print("vstui watch: --timeout must be a positive number of seconds.", file=err)
        return EXIT_USAGE
    try:
        store_id, batch_id = resolve(service, args.target, args.store)
        result = watch(
            service,
            store_id,
            batch_id,
            timeout=args.wait_timeout,
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
    print_watch_result(result, out, err, args.json)
    return result.exit_code
