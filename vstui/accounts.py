"""Who vstui talks to, for every command: config → profile → key → settings → service.

``load_config`` reads the config file (``--config``), ``resolve_account`` picks the profile
and its key (``OPENAI_API_KEY`` wins over the keyring) and checks everything that would
otherwise fail on the first request; ``session_for`` builds the TUI's session from it and
``demo_session`` the simulated demo account's (``wanted_profile``: the browser reopens the
profile used last). ``connect`` does all of it for a headless command from the options
before the subcommand (``--demo --profile --base-url --timeout --read-only --config``), and
``run_connected`` is a headless command's whole ``run``. Whatever the user must fix is a
``LaunchError``; ``fail`` prints it as one cleaned sentence and returns exit code 2.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from . import config as config_mod
from .api import ClientSettings, ConfigurationError, VectorStoresService, mask_key
from .session import RememberedBatch, Session, StateStore
from .text import clean_block, register_secret

if TYPE_CHECKING:
    from .sim.clock import Clock
    from .sim.server import SimServer

DEMO_KEY = "sk-demo-not-a-real-key-0000demo"

KEY_SOURCE_ENV = "VSTUI_KEY_SOURCE"
"""Where ``vstui serve`` found the key, for each tab's process: the key itself reaches the
tab through ``OPENAI_API_KEY``, so without this the header would say "environment key"
for a key that came from the keyring. Only a label: it never changes which key is used."""
KEY_SOURCES = ("environment", "keyring")


class LaunchError(Exception):
    """Something the user must fix before vstui can start; the message says what."""


@dataclass
class Account:
    profile_name: str
    profile: config_mod.Profile
    settings: ClientSettings
    key_source: str


def load_config(args: argparse.Namespace) -> config_mod.Config:
    path = Path(args.config).expanduser() if getattr(args, "config", None) else None
    try:
        return config_mod.load(path, explicit=path is not None)
    except config_mod.ConfigError as exc:
        raise LaunchError(str(exc)) from None


def key_problem(key: str) -> str | None:
    """Why ``key`` cannot be sent in an HTTP header, or None when it can."""
    if any(c in "\r\n" for c in key):
        return "a line break"
    if not key.isascii():
        return "a character that is not plain ASCII"
    if any(ord(c) < 0x21 or ord(c) == 0x7F for c in key):
        return "a space or a control character"
    return None


def check_key(key: str, source: str) -> None:
    """Refuse a key that cannot be sent, without showing any of it."""
    register_secret(key)
    problem = key_problem(key)
    if problem is not None:
        raise LaunchError(
            f"The API key from {source} contains {problem}, so it cannot be sent; "
            "set it again as the bare key (no quotes, spaces or line breaks)."
        )


def check_base_url(url: str, source: str) -> None:
    problem = config_mod.url_problem(url)
    if problem is not None:
        raise LaunchError(
            f"The base URL {url!r} (from {source}) cannot be used: {problem}; "
            "give an http:// or https:// URL such as https://api.openai.com/v1."
        )


def _url_source(base_url: str | None, profile_name: str, profile: config_mod.Profile) -> str:
    if base_url:
        return "--base-url"
    if profile.base_url:
        return f"base_url of profile {profile_name!r} in the config"
    if os.environ.get("OPENAI_BASE_URL"):
        return "OPENAI_BASE_URL"
    return "the default"


def resolve_account(
    config: config_mod.Config,
    profile_name: str | None,
    *,
    base_url: str | None = None,
    max_retries: int = 4,
    timeout: float | None = None,
) -> Account:
    try:
        name, profile = config.profile(profile_name)
    except config_mod.ConfigError as exc:
        raise LaunchError(str(exc)) from None
    from . import keys  # the keyring (and its plugins) load only when a key is needed

    resolved = keys.resolve(name)
    if resolved.key is None:
        message = resolved.note or keys.how_to_provide(name)
        if resolved.note:
            message += "\nTo look around without a key: vstui --demo"
        raise LaunchError(message)
    source = "OPENAI_API_KEY" if resolved.source == "environment" else f"the keyring ({name})"
    check_key(resolved.key, source)
    url_source = _url_source(base_url, name, profile)
    wanted_url = base_url or profile.base_url or os.environ.get("OPENAI_BASE_URL")
    if wanted_url:
        check_base_url(wanted_url, url_source)
    for what, value, env in (
        ("organization", profile.organization or os.environ.get("OPENAI_ORG_ID"), "OPENAI_ORG_ID"),
        ("project", profile.project or os.environ.get("OPENAI_PROJECT_ID"), "OPENAI_PROJECT_ID"),
    ):
        problem = key_problem(value) if value else None
        if problem is not None:
            raise LaunchError(
                f"The {what} {value!r} contains {problem}, so it cannot be sent in a header; "
                f"fix it in profile {name!r} of the config or in {env}."
            )
    try:
        settings = ClientSettings.from_env(
            api_key=resolved.key,
            base_url=base_url or profile.base_url,
            organization=profile.organization,
            project=profile.project,
            max_retries=max_retries,
            timeout=timeout or config.timeout,
            connect_timeout=config.connect_timeout,
        )
    except ConfigurationError as exc:  # the service's own check: one sentence, exit 2
        raise LaunchError(str(exc)) from None
    check_base_url(settings.base_url, url_source)
    return Account(name, profile, settings, _key_source(resolved.source))


def _key_source(resolved: str) -> str:
    """Where the key came from: as resolved, or, for a key handed over in the environment
    by ``vstui serve``, where that process found it (:data:`KEY_SOURCE_ENV`)."""
    relayed = os.environ.get(KEY_SOURCE_ENV, "")
    if resolved == "environment" and relayed in KEY_SOURCES:
        return relayed
    return resolved


def child_environment(account: Account) -> dict[str, str]:
    """What a process started for ``account`` (a ``vstui serve`` tab) needs in its
    environment: the key (never on a command line) and the label of where it came from."""
    assert account.settings.api_key is not None
    return {"OPENAI_API_KEY": account.settings.api_key, KEY_SOURCE_ENV: account.key_source}


def fail(message: object) -> int:
    """Say why vstui cannot start (cleaned, key masked) and return exit code 2."""
    print(f"vstui: {clean_block(message)}", file=sys.stderr)
    return 2


def session_for(
    account: Account,
    config: config_mod.Config,
    state: StateStore,
    *,
    read_only: bool,
) -> Session:
    settings = account.settings
    host = urlparse(settings.base_url).hostname or settings.base_url
    return Session(
        service=VectorStoresService(settings),
        account_label=f"{account.profile_name} ({account.key_source} key)",
        host=host,
        masked_key=settings.masked_key,
        read_only=read_only or account.profile.read_only,
        state=state,
        storage_price_per_gb_day=config.storage_price_per_gb_day,
        cleanup_concurrency=config.cleanup_concurrency,
        refresh_seconds=config.refresh_seconds,
    )


def demo_session(
    read_only: bool = False,
    config: config_mod.Config | None = None,
    clock: Clock | None = None,
) -> tuple[Session, SimServer]:
    """Start the simulator's demo account in-process and a session bound to it.

    ``clock`` defaults to real time; the screenshot script passes a frozen one.
    """
    from .sim import RealClock
    from .sim.server import SimServer

    config = config or config_mod.Config()
    clock = clock or RealClock()
    server = SimServer.start_scenario("demo", clock=clock)
    settings = ClientSettings(api_key=DEMO_KEY, base_url=server.base_url, max_retries=8)
    state = StateStore(None)  # the demo remembers nothing about the user's real accounts
    session = Session(
        service=VectorStoresService(settings),
        account_label="demo",
        host="simulator",
        masked_key=mask_key(DEMO_KEY),
        now=clock.now,
        read_only=read_only,
        state=state,
        storage_price_per_gb_day=config.storage_price_per_gb_day,
        cleanup_concurrency=config.cleanup_concurrency,
        refresh_seconds=config.refresh_seconds,
    )
    for batch in server.account.batches.values():
        state.remember_batch(session.account_key, RememberedBatch(batch.store_id, batch.id))
    return session, server


def wanted_profile(
    args: argparse.Namespace, config: config_mod.Config, state: StateStore
) -> str | None:
    """``--profile``, else the profile used last (if the config still has it), else None
    (the config's default)."""
    last = state.get("last_profile")
    return args.profile or (last if last in config.profiles else None)


@dataclass
class Connection:
    """A headless command's account: the service (closed by ``connect``) and its rules."""

    service: VectorStoresService
    config: config_mod.Config
    read_only: bool


@contextmanager
def connect(args: argparse.Namespace, *, max_retries: int = 8) -> Iterator[Connection]:
    """The account the global options name, or the demo account (``--demo``); the service
    is closed, and the demo's simulator stopped, when the block ends.

    Raises ``LaunchError`` for anything the user must fix (config, profile, key, URL).
    """
    config = load_config(args)
    server = None
    if args.demo:
        session, server = demo_session(config=config)
        service = session.service
        read_only = bool(args.read_only)
    else:
        account = resolve_account(
            config,
            args.profile,
            base_url=args.base_url,
            max_retries=max_retries,
            timeout=args.timeout,
        )
        service = VectorStoresService(account.settings)
        read_only = bool(args.read_only or account.profile.read_only)
    try:
        yield Connection(service, config, read_only)
    finally:
        service.close()
        if server is not None:
            server.stop()


def run_connected(args: argparse.Namespace, work: Callable[[Connection], int]) -> int:
    """A headless command's ``run``: ``work`` on the account ``connect`` opens, or the
    reason it cannot be opened (exit 2)."""
    try:
        with connect(args) as account:
            return work(account)
    except LaunchError as exc:
        return fail(exc)
