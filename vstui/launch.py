"""From the command line to a running app: config, profile, key, theme, state."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from . import config as config_mod
from . import keys
from .api import ClientSettings, ConfigurationError, VectorStoresService, mask_key
from .session import RememberedBatch, Session, StateStore
from .text import clean_block, register_secret

if TYPE_CHECKING:
    from .sim.clock import Clock
    from .sim.server import SimServer

DEMO_KEY = "sk-demo-not-a-real-key-0000demo"
DEFAULT_THEME = "vstui-dark"


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
    return Account(name, profile, settings, resolved.source)


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


def run_tui(args: argparse.Namespace) -> int:
    from .app import VstuiApp
    from .themes import load_all

    server = None
    try:
        config = load_config(args)
        # Everything the user can get wrong is checked before anything starts.
        themes, problems = load_all([config_mod.config_dir() / "themes"])
        available = {t.name for t in themes} | _textual_theme_names()
        if args.theme and args.theme not in available:
            names = ", ".join(sorted(available))
            raise LaunchError(f"There is no theme {args.theme!r}. Themes: {names}.")
        state = StateStore(config_mod.state_path())
        profile_names: list[str] = []
        factory: Callable[[str], Session] | None = None
        profile_theme = None
        if args.demo:
            session, server = demo_session(read_only=args.read_only, config=config)
        else:
            last = state.get("last_profile")
            wanted = args.profile or (last if last in config.profiles else None)
            account = resolve_account(
                config, wanted, base_url=args.base_url, timeout=getattr(args, "timeout", None)
            )
            session = session_for(account, config, state, read_only=args.read_only)
            state.set("last_profile", account.profile_name)
            profile_names = sorted(config.profiles)
            profile_theme = account.profile.theme

            def factory(name: str) -> Session:
                other = resolve_account(config, name, timeout=getattr(args, "timeout", None))
                state.set("last_profile", name)
                switched = session_for(other, config, state, read_only=args.read_only)
                if getattr(args, "refresh", None) is not None:
                    switched.refresh_seconds = args.refresh
                return switched

    except LaunchError as exc:
        return fail(exc)
    refresh = getattr(args, "refresh", None)
    session.refresh_seconds = config.refresh_seconds if refresh is None else refresh
    theme = args.theme or state.get("theme") or profile_theme or config.theme or DEFAULT_THEME
    app = VstuiApp(
        session,
        theme=theme,
        themes=themes,
        theme_problems=[f"{p.path.name}: {p.message}" for p in problems],
        on_theme_change=lambda name: state.set("theme", name),
        profiles=profile_names,
        session_factory=factory,
    )
    try:
        app.run()
    finally:
        app.session.service.close()
        if server is not None:
            server.stop()
    if app.crash_message:
        print(app.crash_message, file=sys.stderr)
    return app.return_code or 0


def _textual_theme_names() -> set[str]:
    from textual.theme import BUILTIN_THEMES

    return set(BUILTIN_THEMES)


def run_cleanup(args: argparse.Namespace) -> int:
    from . import headless

    concurrency = getattr(args, "concurrency", None)
    if concurrency is not None and not 1 <= concurrency <= 64:
        return fail(f"--concurrency must be between 1 and 64 (got {concurrency}).")
    try:
        config = load_config(args)
        server = None
        if args.demo:
            session, server = demo_session(config=config)
            service = session.service
            read_only = args.read_only
        else:
            account = resolve_account(
                config,
                args.profile,
                base_url=args.base_url,
                max_retries=8,
                timeout=getattr(args, "timeout", None),
            )
            service = VectorStoresService(account.settings)
            read_only = args.read_only or account.profile.read_only
    except LaunchError as exc:
        return fail(exc)
    try:
        return headless.run(
            args,
            service,
            price_per_gb_day=config.storage_price_per_gb_day,
            default_concurrency=config.cleanup_concurrency,
            read_only=read_only,
        )
    finally:
        service.close()
        if server is not None:
            server.stop()


def run_sync_or_watch(args: argparse.Namespace) -> int:
    """``vstui sync`` and ``vstui watch``: the account as ``run_cleanup`` resolves it."""
    from . import sync, watch

    try:
        config = load_config(args)
        server = None
        if args.demo:
            session, server = demo_session(config=config)
            service = session.service
            read_only = args.read_only
        else:
            account = resolve_account(config, args.profile, base_url=args.base_url, max_retries=8)
            service = VectorStoresService(account.settings)
            read_only = args.read_only or account.profile.read_only
    except LaunchError as exc:
        print(f"vstui: {exc}", file=sys.stderr)
        return 2
    try:
        if args.command == "sync":
            return sync.run(args, service, read_only=read_only)
        return watch.run(args, service)
    finally:
        service.close()
        if server is not None:
            server.stop()


def run_key(args: argparse.Namespace) -> int:
    """``vstui key set|show|delete [--profile NAME]``."""
    import getpass

    profile = args.key_profile or args.profile or "default"
    try:
        if args.key_command == "set":
            if sys.stdin.isatty():
                key = getpass.getpass(f"API key for profile {profile!r} (input hidden): ")
            else:
                key = sys.stdin.readline()
            key = key.strip()
            if not key:
                print("vstui: no key given; nothing was stored.", file=sys.stderr)
                return 2
            check_key(key, "the input")
            keys.store(profile, key)
            print(f"Stored the key for profile {profile!r} in the keyring ({mask_key(key)}).")
            return 0
        if args.key_command == "show":
            resolved = keys.resolve(profile)
            if resolved.key is None:
                print(resolved.note or keys.how_to_provide(profile))
                return 1
            where = (
                "the environment (OPENAI_API_KEY)"
                if resolved.source == "environment"
                else f"the keyring (service 'vstui', profile {profile!r})"
            )
            print(f"{resolved.masked} from {where}")
            return 0
        if keys.delete(profile):
            print(f"Deleted the key for profile {profile!r} from the keyring.")
            return 0
        print(f"There was no key for profile {profile!r} in the keyring.")
        return 1
    except (keys.KeyringUnavailable, LaunchError) as exc:
        return fail(exc)
