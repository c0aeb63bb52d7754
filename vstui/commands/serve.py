"""``vstui serve``: the app in web browsers, one app process per tab (the server is
``vstui/serve.py``). The options before ``serve`` apply to every tab; the key is checked
here, once, and reaches each tab's process through its environment only.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any
from urllib.parse import urlsplit

from .. import accounts
from ..serve import (
    DEFAULT_HOST,
    DEFAULT_MAX_SESSIONS,
    DEFAULT_PORT,
    VstuiServer,
    child_command,
    is_loopback,
)

WRITES_WARNING = (
    "WARNING: vstui serve is listening on {host}, not only on this machine. Anyone who can "
    "reach port {port} acts on the account with this API key{what}. Use --token, a firewall "
    "or a reverse proxy with TLS."
)


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "serve",
        help="serve the app to web browsers (one app process per tab)",
        description="Serve vstui to web browsers with textual-serve. The options before "
        "`serve` (--profile, --demo, --read-only, --theme, --base-url) apply to every tab.",
    )
    p.add_argument("--host", default=DEFAULT_HOST, help=f"address to bind (default {DEFAULT_HOST})")
    p.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port to listen on (default {DEFAULT_PORT})"
    )
    p.add_argument(
        "--public-url",
        default=None,
        metavar="URL",
        help="the address browsers use, when it is not http://HOST:PORT (a reverse proxy)",
    )
    p.add_argument(
        "--token",
        default=None,
        metavar="TOKEN",
        help="require ?token=TOKEN in the URL (default: serve_token from the config)",
    )
    p.add_argument(
        "--allow-writes",
        action="store_true",
        help="allow changes to the account on a non-loopback address (else --read-only)",
    )
    p.add_argument(
        "--max-sessions",
        type=int,
        default=DEFAULT_MAX_SESSIONS,
        metavar="N",
        help=f"at most N app processes at once (default {DEFAULT_MAX_SESSIONS})",
    )
    p.set_defaults(run=run, doing="serving the app to browsers")


def run(args: argparse.Namespace) -> int:
    def fail(message: str) -> int:
        print(f"vstui serve: {message}", file=sys.stderr)
        return 2

    try:
        import textual_serve  # noqa: F401
    except ImportError:
        return fail("textual-serve is not installed (pip install textual-serve).")
    if args.max_sessions < 1:
        return fail("--max-sessions must be at least 1.")
    if not 0 < args.port < 65536:
        return fail("--port must be between 1 and 65535.")
    if args.public_url and urlsplit(args.public_url).scheme not in ("http", "https"):
        return fail("--public-url must start with http:// or https://.")
    try:
        config = accounts.load_config(args)
        child_env: dict[str, str] = {}
        read_only = args.read_only
        if not args.demo:
            # Check the key here, once; each tab's process gets it through its environment.
            account = accounts.resolve_account(
                config, args.profile, base_url=args.base_url, timeout=args.timeout
            )
            child_env = accounts.child_environment(account)  # the key and where it came from
            read_only = read_only or account.profile.read_only
        if args.theme:
            # A tab whose app cannot start would only show a blank page: say it here instead.
            _check_theme(args.theme)
    except accounts.LaunchError as exc:
        return fail(str(exc))
    loopback = is_loopback(args.host)
    if not loopback and not (read_only or args.allow_writes):
        return fail(
            f"{args.host} is reachable from other machines. Add --read-only, or --allow-writes "
            "if everyone who can reach the port may change and delete with this key."
        )
    token = args.token or config.serve_token
    if not loopback:
        what = " (read-only)" if read_only else ", including deleting stores and files"
        print(WRITES_WARNING.format(host=args.host, port=args.port, what=what), file=sys.stderr)
    server = VstuiServer(
        child_command(args),
        host=args.host,
        port=args.port,
        public_url=args.public_url,
        token=token,
        max_sessions=args.max_sessions,
        child_env=child_env,
    )
    shown_host = f"[{args.host}]" if ":" in args.host else args.host
    url = (args.public_url or f"http://{shown_host}:{args.port}").rstrip("/") + "/"
    if token:
        url += "?token=" + token

    def ready() -> None:
        mode = "demo account" if args.demo else "read-only" if read_only else "read-write"
        limit = f"at most {args.max_sessions} session{'s' if args.max_sessions != 1 else ''}"
        print(f"vstui serve ({mode}, {limit}): open {url}")
        print("Press Ctrl+C to stop.")
        sys.stdout.flush()

    try:
        server.serve(on_ready=ready)
    except OSError as exc:
        return fail(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}")
    return 0


def _check_theme(name: str) -> None:
    from .. import config as config_mod
    from ..themes import load_all, unknown_theme

    themes, _problems = load_all([config_mod.config_dir() / "themes"])
    problem = unknown_theme(name, themes)
    if problem is not None:
        raise accounts.LaunchError(problem)
