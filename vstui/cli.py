"""The ``vstui`` command: the TUI by default, plus ``sim``, ``cleanup`` and ``key``."""

from __future__ import annotations

import argparse
import contextlib
import math
import sys
from collections.abc import Sequence

from . import __version__


def _add_sim(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("sim", help="serve the local API simulator")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--scenario", default="demo", choices=["demo", "empty", "large"])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--latency-ms", type=float, default=0.0)
    p.add_argument("--error-rate", type=float, default=0.0, help="share of requests answered 500")
    p.add_argument("--rate-limit", type=float, default=None, metavar="RPS")
    p.add_argument("--auto-create", action="store_true", help="create unknown IDs on the spot")
    p.add_argument("--api-key", default=None, help="accept only this bearer key")


def run_sim(args: argparse.Namespace) -> int:
    from .sim import RealClock, SimConfig, Simulator, make_account
    from .sim.server import SimServer

    if not 0 <= args.error_rate <= 1:
        print("vstui sim: --error-rate must be between 0 and 1", file=sys.stderr)
        return 2
    account = make_account(args.scenario, RealClock(), seed=args.seed, auto_create=args.auto_create)
    config = SimConfig(
        api_key=args.api_key,
        latency_ms=args.latency_ms,
        error_rate=args.error_rate,
        rate_limit=args.rate_limit,
    )
    server = SimServer(Simulator(account, config), host=args.host, port=args.port)
    print(f"vstui simulator ({args.scenario}, seed {args.seed}) serving {server.base_url}")
    print(f"  export OPENAI_BASE_URL={server.base_url} OPENAI_API_KEY=sk-sim-anything")
    sys.stdout.flush()
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    return 0


def _seconds(text: str) -> float:
    """A positive, finite number of seconds (argparse reports the error, exit 2)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not math.isfinite(value) or value <= 0 or value > 3600:
        raise argparse.ArgumentTypeError(f"{text!r}: give seconds above 0, at most 3600")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vstui",
        description="A terminal browser for the OpenAI Vector Stores API.",
    )
    parser.add_argument("--version", action="version", version=f"vstui {__version__}")
    parser.add_argument(
        "--demo", action="store_true", help="browse a simulated demo account (no API key needed)"
    )
    parser.add_argument("--base-url", default=None, help="API base URL (default OPENAI_BASE_URL)")
    parser.add_argument("--profile", default=None, help="profile from the config file")
    parser.add_argument("--config", default=None, help="path of the config file")
    parser.add_argument("--theme", default=None, help="theme name")
    parser.add_argument(
        "--read-only", action="store_true", help="hide and refuse every action that changes data"
    )
    parser.add_argument(
        "--timeout",
        type=_seconds,
        default=None,
        metavar="SECONDS",
        help="how long to wait for the server to answer (config: timeout; default 30)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_sim(sub)
    from . import headless

    headless.add_parser(sub)
    from . import sync, watch

    sync.add_parser(sub)
    watch.add_parser(sub)
    key = sub.add_parser("key", help="store, show or delete an API key in the OS keyring")
    key.add_argument("key_command", choices=["set", "show", "delete"])
    key.add_argument(
        "--profile", dest="key_profile", default=None, help="profile (default: default)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run a command; any unexpected exception ends in one sentence and a crash log."""
    __import__("vstui.prefetch").prefetch.start(argv)  # first stores while the UI imports
    from .text import install_log_scrubber

    install_log_scrubber()
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return _dispatch(args)
    except KeyboardInterrupt:
        print("vstui: interrupted.", file=sys.stderr)
        return 130
    except Exception as exc:
        return _crashed(exc, args)


def _crashed(error: BaseException, args: argparse.Namespace) -> int:
    from .crash import crash_sentence

    doing = {
        "sim": "serving the simulator",
        "cleanup": "running the clean-up",
        "key": f"running `vstui key {getattr(args, 'key_command', '')}`",
    }.get(args.command or "", "running the browser")
    print(crash_sentence(error, doing), file=sys.stderr)
    return 1


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "sim":
        return run_sim(args)
    from . import launch

    if args.command == "cleanup":
        return launch.run_cleanup(args)
    if args.command in ("sync", "watch"):
        return launch.run_sync_or_watch(args)
    if args.command == "key":
        return launch.run_key(args)
    return launch.run_tui(args)


if __name__ == "__main__":
    raise SystemExit(main())
