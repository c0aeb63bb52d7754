"""The ``vstui`` command line: the global options, then one subcommand from
``vstui/commands/`` (none: the browser, as ``vstui tui``), and the crash guard around it.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence
from types import ModuleType

from . import __version__

# Every subcommand, in the order `vstui --help` lists them (modules of vstui.commands).
COMMAND_NAMES = ("tui", "cleanup", "sync", "watch", "key", "serve", "sim")


def commands() -> tuple[ModuleType, ...]:
    """The subcommand modules, imported when the parser is built: not when this module
    is, so that :func:`main` starts fetching the first stores before anything heavy
    (httpx, pydantic, the account and config code) is imported."""
    from importlib import import_module

    return tuple(import_module(f"vstui.commands.{name}") for name in COMMAND_NAMES)


def _seconds(text: str) -> float:
    """A positive, finite number of seconds (argparse reports the error, exit 2)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not math.isfinite(value) or value <= 0 or value > 3600:
        raise argparse.ArgumentTypeError(f"{text!r}: give seconds above 0, at most 3600")
    return value


def _refresh_seconds(text: str) -> float:
    """Seconds between auto-refreshes: 0 (off) up to 3600."""
    return 0.0 if text.strip() in ("0", "0.0") else _seconds(text)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vstui",
        description="A terminal browser for the OpenAI Vector Stores API.",
        epilog="Without a COMMAND, vstui opens the browser. The options above go before the "
        "COMMAND and apply to it, e.g. `vstui --demo cleanup --expired --dry-run`; "
        "`vstui COMMAND --help` explains a command.",
    )
    parser.add_argument("--version", action="version", version=f"vstui {__version__}")
    parser.add_argument(
        "--demo", action="store_true", help="use a simulated demo account (no API key needed)"
    )
    parser.add_argument(
        "--base-url",
        default=None,
        metavar="URL",
        help="API base URL (default: the profile's base_url, else OPENAI_BASE_URL, else OpenAI)",
    )
    parser.add_argument(
        "--profile",
        default=None,
        metavar="NAME",
        help="profile from the config file (default: default_profile; the browser reopens "
        "the last one used)",
    )
    parser.add_argument(
        "--config",
        default=None,
        metavar="PATH",
        help="config file (default: config.toml in the platform's config directory, "
        "~/.config/vstui on Linux)",
    )
    parser.add_argument("--theme", default=None, metavar="NAME", help="colour theme by name")
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
    parser.add_argument(
        "--refresh",
        type=_refresh_seconds,
        default=None,
        metavar="SECONDS",
        help="auto-refresh what is on screen every SECONDS; 0 turns it off "
        "(config: refresh_seconds; default 5)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    modules = commands()
    for command in modules:
        command.add_parser(sub)
    tui = modules[COMMAND_NAMES.index("tui")]
    parser.set_defaults(run=tui.run, doing=tui.DOING)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run a command; any unexpected exception ends in one sentence and a crash log."""
    __import__("vstui.prefetch").prefetch.start(argv)  # first stores while the UI imports
    from .text import install_log_scrubber

    install_log_scrubber()
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args))
    except KeyboardInterrupt:
        print("vstui: interrupted.", file=sys.stderr)
        return 130
    except Exception as exc:
        return _crashed(exc, args)


def _crashed(error: BaseException, args: argparse.Namespace) -> int:
    from .crash import crash_sentence

    print(crash_sentence(error, args.doing.format_map(vars(args))), file=sys.stderr)
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
