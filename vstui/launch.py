"""From the command line to a running app: config, profile, key, theme, state."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from . import config as config_mod
from . import keys
from .api import ClientSettings, VectorStoresService, mask_key
from .session import RememberedBatch, Session, StateStore

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


def resolve_account(
    config: config_mod.Config,
    profile_name: str | None,
    *,
    base_url: str | None = None,
    max_retries: int = 4,
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
    settings = ClientSettings.from_env(
        api_key=resolved.key,
        base_url=base_url or profile.base_url,
        organization=profile.organization,
        project=profile.project,
        max_retries=max_retries,
    )
    return Account(name, profile, settings, resolved.source)


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
            account = resolve_account(config, wanted, base_url=args.base_url)
            session = session_for(account, config, state, read_only=args.read_only)
            state.set("last_profile", account.profile_name)
            profile_names = sorted(config.profiles)
            profile_theme = account.profile.theme

            def factory(name: str) -> Session:
                other = resolve_account(config, name)
                state.set("last_profile", name)
                return session_for(other, config, state, read_only=args.read_only)

    except LaunchError as exc:
        print(f"vstui: {exc}", file=sys.stderr)
        return 2
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
    return 0


def _textual_theme_names() -> set[str]:
    from textual.theme import BUILTIN_THEMES

    return set(BUILTIN_THEMES)


def run_cleanup(args: argparse.Namespace) -> int:
    from . import headless

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
    except keys.KeyringUnavailable as exc:
        print(f"vstui: {exc}", file=sys.stderr)
        return 2
