"""Terminal output the headless commands share: server text made printable, a progress line
redrawn in place, a typed confirmation, and ingestion's live line and result (``vstui
watch`` and ``vstui sync --wait`` print the same).

Not a command: the command modules import this one, never each other.
"""

from __future__ import annotations

import json
import shutil
import time
from typing import Any, TextIO

from .. import fmt
from ..api import FileCounts
from ..watch import Update, WatchResult


def add_wait_timeout(parser: Any, help: str) -> None:
    """``--timeout SECONDS`` of a command that waits for ingestion (the global ``--timeout``,
    before the command, is the HTTP one)."""
    parser.add_argument(
        "--timeout", dest="wait_timeout", type=float, default=None, metavar="SECONDS", help=help
    )


def printable(text: str) -> str:
    """Server text on a terminal: control characters (escape sequences) become '?'."""
    return "".join(ch if ch.isprintable() else "?" for ch in text)


def redraw(err: TextIO, line: str) -> None:
    """Rewrite the terminal's last line, cut to its width so it never wraps."""
    width = shutil.get_terminal_size().columns - 1
    err.write("\r\x1b[2K" + line[: max(10, width)])
    err.flush()


def confirm(count: int, stdin: TextIO, err: TextIO, action: str = "delete") -> bool | None:
    """Ask for ``count`` to be typed back; None when there is no terminal to ask."""
    if not stdin.isatty():
        return None
    noun = "item" if action == "delete" else "change"
    err.write(f"Type {count} to {action} {fmt.plural(count, noun)}: ")
    err.flush()
    answer = stdin.readline().strip()
    return answer == str(count)


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


def print_watch_result(result: WatchResult, out: TextIO, err: TextIO, as_json: bool) -> None:
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
