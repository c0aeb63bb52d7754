"""``vstui`` (or ``vstui tui``): the terminal browser on the account the global options name.

Everything the user can get wrong (config, theme, profile, key, URL) is checked before the
app starts, and said in one sentence with exit code 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from .. import accounts
from .. import config as config_mod
from ..session import Session, StateStore

DEFAULT_THEME = "vstui-dark"
DOING = "running the browser"


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "tui",
        help="browse the account in the terminal (what `vstui` alone does)",
        description="Browse stores, files and batches in the terminal. The options before "
        "the command (--demo, --profile, --theme, --read-only, ...) choose what to open.",
    )
    p.set_defaults(run=run, doing=DOING)


def run(args: argparse.Namespace) -> int:
    from ..app import VstuiApp
    from ..themes import load_all, unknown_theme

    server = None
    try:
        config = accounts.load_config(args)
        # Everything the user can get wrong is checked before anything starts.
        themes, problems = load_all([config_mod.config_dir() / "themes"])
        if args.theme:
            problem = unknown_theme(args.theme, themes)
            if problem is not None:
                raise accounts.LaunchError(problem)
        state = StateStore(config_mod.state_path())
        profile_names: list[str] = []
        factory: Callable[[str], Session] | None = None
        profile_theme = None
        if args.demo:
            session, server = accounts.demo_session(read_only=args.read_only, config=config)
        else:
            account = accounts.resolve_account(
                config,
                accounts.wanted_profile(args, config, state),
                base_url=args.base_url,
                timeout=args.timeout,
            )
            session = accounts.session_for(account, config, state, read_only=args.read_only)
            state.set("last_profile", account.profile_name)
            profile_names = sorted(config.profiles)
            profile_theme = account.profile.theme

            def factory(name: str) -> Session:
                other = accounts.resolve_account(config, name, timeout=args.timeout)
                state.set("last_profile", name)
                switched = accounts.session_for(other, config, state, read_only=args.read_only)
                if args.refresh is not None:
                    switched.refresh_seconds = args.refresh
                return switched

    except accounts.LaunchError as exc:
        return accounts.fail(exc)
    session.refresh_seconds = config.refresh_seconds if args.refresh is None else args.refresh
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
