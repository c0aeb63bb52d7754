"""The first stores on screen while the UI is still importing.

``vstui`` with no subcommand opens the store list, and the first page of stores is what
a user waits for. :func:`start` is the first thing the command-line entry does: for the
browser on an account whose key is in the environment, a daemon thread

1. fetches the first page of stores with the standard library alone (no httpx, pydantic
   or Textual to import first) and, on a terminal, paints it at once (the header, the
   column header and the first rows, laid out as the store list lays them out) on the
   alternate screen that the app then takes over and repaints;
2. walks every page of stores from both ends with the real service, for the store list
   to :func:`take` instead of asking again, when the account the launcher resolved is
   the same one (key, base URL, organization, project).

Anything unusual (a key only in the keyring, a config file or a profile, a bad URL, a
failed request, no terminal) and nothing is painted early: the launcher reports problems
as before and the list fetches by itself. If the app never starts after an early paint
(a launch error), the terminal is given back and what was written to stderr meanwhile is
written again, so no message is lost. ``VSTUI_NO_EARLY_PAINT=1`` turns the early paint off.

No UI library here, and nothing is logged: the key only travels in a request header.
Everything the server sends is untrusted: only printable characters are painted.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import os
import queue
import sys
import threading
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from .api import ClientSettings, VectorStore

DEFAULT_BASE_URL = "https://api.openai.com/v1"  # as vstui.api.settings (not imported here)
_DONE = object()
_lock = threading.Lock()
_pending: _Prefetch | None = None
_handed_over = threading.Event()
_painted = False  # the early frame is on screen (under _lock)
_closing = False  # the process is exiting: paint nothing more (under _lock)


class _Prefetch:
    def __init__(self, identity: tuple[str | None, ...]) -> None:
        self.identity = identity
        self.pages: queue.Queue[Any] = queue.Queue()

    def read(self) -> Iterator[list[VectorStore]]:
        while True:
            item = self.pages.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item


def _identity(settings: ClientSettings) -> tuple[str | None, ...]:
    return (settings.api_key, settings.base_url, settings.organization, settings.project)


def _browser_args(argv: Sequence[str]) -> argparse.Namespace | None:
    """The global options when ``argv`` opens the browser on a real account, else None
    (a subcommand, ``--demo``, ``--help``, anything this small parser does not know)."""
    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False, exit_on_error=False)
    parser.add_argument("--read-only", action="store_true")
    parser.add_argument("--demo", action="store_true")
    for option in ("--base-url", "--profile", "--config", "--theme", "--timeout", "--refresh"):
        parser.add_argument(option)
    parser.add_argument("command", nargs="?")
    try:
        args, rest = parser.parse_known_args(list(argv))
    except (argparse.ArgumentError, SystemExit):
        return None
    if rest or args.command not in (None, "tui") or args.demo:
        return None
    return args


def start(argv: Sequence[str] | None = None) -> None:
    """Begin fetching (and painting) the first stores if ``argv`` opens the browser on an
    account whose key is in the environment (the keyring is left to the launcher)."""
    if not os.environ.get("OPENAI_API_KEY"):
        return
    args = _browser_args(sys.argv[1:] if argv is None else argv)
    if args is None:
        return
    atexit.register(_give_back)
    threading.Thread(target=_run, args=(args,), daemon=True, name="prefetch").start()


def _settings(args: argparse.Namespace) -> ClientSettings:
    """The settings the launcher will resolve (the same config, profile and environment)."""
    from pathlib import Path

    from . import config as config_mod
    from .accounts import wanted_profile
    from .api import ClientSettings
    from .session import StateStore

    path = Path(args.config).expanduser() if args.config else None
    config = config_mod.load(path, explicit=path is not None)
    _, profile = config.profile(wanted_profile(args, config, StateStore(config_mod.state_path())))
    timeout = float(args.timeout) if args.timeout else config.timeout
    return ClientSettings.from_env(
        api_key=os.environ["OPENAI_API_KEY"],
        base_url=args.base_url or profile.base_url,
        organization=profile.organization,
        project=profile.project,
        timeout=timeout,
        connect_timeout=config.connect_timeout,
    )


def _plain_account(args: argparse.Namespace) -> tuple[str, dict[str, str]] | None:
    """Base URL and headers for the early page, when no config file or profile is
    involved (so nothing heavy must be imported to know them); else None."""
    if args.config or args.profile:
        return None
    import platformdirs

    override = os.environ.get("VSTUI_CONFIG_DIR")
    config_dir = override or platformdirs.user_config_dir("vstui")
    if os.path.exists(os.path.join(config_dir, "config.toml")):
        return None
    base_url = args.base_url or os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL
    key = os.environ["OPENAI_API_KEY"]
    headers = {"Authorization": f"Bearer {key}", "Accept": "application/json"}
    for header, env in (
        ("OpenAI-Organization", "OPENAI_ORG_ID"),
        ("OpenAI-Project", "OPENAI_PROJECT_ID"),
    ):
        if os.environ.get(env):
            headers[header] = os.environ[env]
    values = [base_url, *headers.values()]
    if not base_url.startswith(("http://", "https://")) or not all(
        v.isascii() and v.isprintable() for v in values
    ):
        return None
    return base_url.rstrip("/"), headers


def _run(args: argparse.Namespace) -> None:
    global _pending
    if os.environ.get("VSTUI_NO_EARLY_PAINT") != "1":
        with contextlib.suppress(Exception):  # the app paints the same a moment later
            _early_paint(args)
    try:
        settings = _settings(args)
    except Exception:  # the launcher says what is wrong; the list fetches by itself
        return
    from .api import VectorStoresService

    prefetch = _Prefetch(_identity(settings))
    with _lock:
        _pending = prefetch
    service = VectorStoresService(settings)
    try:
        for page in service.walk_stores_both_ends():
            prefetch.pages.put(page)
        prefetch.pages.put(_DONE)
    except Exception as error:  # handed to the store list, which reports it as its own
        prefetch.pages.put(error)
    finally:
        service.close()


def take(settings: ClientSettings) -> Iterator[list[VectorStore]] | None:
    """The prefetched pages of stores for this account (once), or None."""
    global _pending
    _handed_over.set()
    with _lock:
        prefetch, _pending = _pending, None
    if prefetch is None or prefetch.identity != _identity(settings):
        return None
    return prefetch.read()


# -- the early paint -------------------------------------------------------------------------

# Column widths of the store list (vstui.screens.store_list): Name, ID, Status.
COLUMNS = (("Name", 22), ("ID", 27), ("Status", 11))


def _early_paint(args: argparse.Namespace) -> None:
    out = sys.__stdout__
    if out is None or not out.isatty() or os.environ.get("TERM", "dumb") == "dumb":
        return
    account = _plain_account(args)
    if account is None:
        return
    import json
    import urllib.request

    base_url, headers = account
    request = urllib.request.Request(
        f"{base_url}/vector_stores?limit=100&order=desc", headers=headers
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        body = json.loads(response.read())
    stores = body.get("data") if isinstance(body, dict) else None
    if not isinstance(stores, list) or not stores:
        return
    width, height = os.get_terminal_size(out.fileno())
    frame = _frame(stores, width, height)
    global _painted
    with _lock:
        # The app's driver (imported when the app starts) owns the terminal from then on,
        # and nothing is painted once the process is exiting.
        if (
            _closing
            or _handed_over.is_set()
            or any(m.startswith("textual.drivers.") for m in sys.modules)
        ):
            return
        _capture_stderr()
        os.write(out.fileno(), frame.encode("utf-8", "replace"))
        _painted = True


def _printable(value: object) -> str:
    return "".join(c for c in str(value) if c.isprintable())


def _cell(text: str, width: int) -> str:
    return text[: width - 1] + "…" if len(text) > width else text.ljust(width)


def _frame(stores: list[Any], width: int, height: int) -> str:
    """The store list's first frame, plainly: title, a loading line, the column header
    and the first rows (newest first, as the list sorts them)."""
    lines = [
        "\x1b[1m" + "vstui · Stores".center(width)[:width] + "\x1b[0m",
        " loading…",
        "\x1b[1m  " + " ".join(_cell(label, size) for label, size in COLUMNS) + "\x1b[0m",
    ]
    for store in stores[: max(0, height - 4)]:
        if not isinstance(store, dict):
            continue
        name = _printable(store.get("name") or "(unnamed)")
        cells = (name, _printable(store.get("id", "")), _printable(store.get("status", "")))
        line = "  " + " ".join(_cell(v, size) for v, (_, size) in zip(cells, COLUMNS, strict=True))
        lines.append(line[:width])
    # Alternate screen, cursor hidden, home, clear; then the lines.
    return "\x1b[?1049h\x1b[?25l\x1b[H\x1b[2J" + "\r\n".join(lines)


class _Tee:
    """stderr as it was, and a copy of what is written until the app takes over."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.kept: list[str] = []

    def write(self, text: str) -> int:
        if not _handed_over.is_set() and sum(map(len, self.kept)) < 65_536:
            self.kept.append(text)
        return self.stream.write(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


_tee: _Tee | None = None


def _capture_stderr() -> None:
    global _tee
    if sys.stderr is not None and _tee is None:
        _tee = _Tee(sys.stderr)
        sys.stderr = _tee


def _give_back() -> None:
    """At exit: if the app never took the terminal over, leave the early frame's screen
    and write again what went to stderr while it was up (a launch error, say)."""
    global _closing
    with _lock:
        _closing = True
        if not _painted or _handed_over.is_set():
            return
    out = sys.__stdout__
    if out is not None:
        os.write(out.fileno(), b"\x1b[?25h\x1b[?1049l")
    if _tee is not None and _tee.kept:
        _tee.stream.write("".join(_tee.kept))
        _tee.stream.flush()
