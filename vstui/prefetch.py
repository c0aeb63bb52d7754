"""The first store pages, requested at process start while the UI is still importing.

``vstui`` with no subcommand opens the store list; the first page of stores is what a user
waits for. :func:`start` (called by the command-line entry as soon as the arguments are
parsed, before Textual is imported) walks the stores in a daemon thread with the account
the launcher is about to resolve; the store list then :func:`take`\\ s the pages instead of
asking again, when the account it was given is the same one (key, base URL, organization,
project). Anything unusual (a key only in the keyring, a config problem, a bad URL) and
nothing is prefetched: the launcher reports it as before and the list fetches by itself.

No UI here, and nothing is printed or logged: the key only travels in the request header.
"""

from __future__ import annotations

import argparse
import os
import queue
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .api import ClientSettings, VectorStore

_DONE = object()
_lock = threading.Lock()
_pending: _Prefetch | None = None


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


def start(args: argparse.Namespace) -> None:
    """Begin walking the stores if ``args`` open the browser on a real account whose key is
    in the environment (the keyring is left to the launcher: it is read once)."""
    if getattr(args, "command", None) or getattr(args, "demo", False):
        return
    if not os.environ.get("OPENAI_API_KEY"):
        return
    threading.Thread(target=_run, args=(args,), daemon=True, name="prefetch").start()


def _settings(args: argparse.Namespace) -> ClientSettings | None:
    """The settings the launcher will resolve (the same config, profile and environment),
    or None when anything is unusual."""
    from pathlib import Path

    from . import config as config_mod
    from .api import ClientSettings
    from .session import StateStore

    path = Path(args.config).expanduser() if getattr(args, "config", None) else None
    config = config_mod.load(path, explicit=path is not None)
    last = StateStore(config_mod.state_path()).get("last_profile")
    wanted = args.profile or (last if last in config.profiles else None)
    _, profile = config.profile(wanted)
    return ClientSettings.from_env(
        api_key=os.environ["OPENAI_API_KEY"],
        base_url=args.base_url or profile.base_url,
        organization=profile.organization,
        project=profile.project,
        timeout=getattr(args, "timeout", None) or config.timeout,
        connect_timeout=config.connect_timeout,
    )


def _run(args: argparse.Namespace) -> None:
    global _pending
    try:
        settings = _settings(args)
    except Exception:  # the launcher says what is wrong; the list fetches by itself
        return
    if settings is None:
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
    with _lock:
        prefetch, _pending = _pending, None
    if prefetch is None or prefetch.identity != _identity(settings):
        return None
    return prefetch.read()
