"""``vstui sim``: serve the local API simulator (``vstui/sim/``) until Ctrl+C."""

from __future__ import annotations

import argparse
import contextlib
import sys
from typing import Any

SCENARIOS = ("demo", "empty", "large")  # vstui.sim.SCENARIOS, without importing the server


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "sim",
        help="serve the local API simulator (no account needed)",
        description="Serve a simulated OpenAI Vector Stores API over HTTP, for trying vstui, "
        "scripts or SDKs without an account. It prints the OPENAI_BASE_URL to use; any key "
        "is accepted unless --api-key says which.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument(
        "--port",
        type=int,
        default=8000,
        help="port to listen on (default 8000; 0 picks a free one)",
    )
    p.add_argument(
        "--scenario",
        default="demo",
        choices=SCENARIOS,
        help="the account to start with: demo (a varied team account, the default), "
        "empty, or large (10,000 stores, one holding 10,000 files)",
    )
    p.add_argument(
        "--seed",
        type=int,
        default=0,
        metavar="N",
        help="seed of the scenario's random names and sizes (default 0: the same each run)",
    )
    p.add_argument(
        "--latency-ms",
        type=float,
        default=0.0,
        metavar="MS",
        help="delay every answer by this many milliseconds (default 0)",
    )
    p.add_argument(
        "--error-rate",
        type=float,
        default=0.0,
        metavar="SHARE",
        help="share of requests answered 500, between 0 and 1 (default 0)",
    )
    p.add_argument(
        "--rate-limit",
        type=float,
        default=None,
        metavar="RPS",
        help="answer 429 above this many requests a second (default: no limit)",
    )
    p.add_argument(
        "--auto-create",
        action="store_true",
        help="create unknown store, file and batch IDs on the spot instead of answering 404",
    )
    p.add_argument(
        "--api-key",
        default=None,
        metavar="KEY",
        help="accept only this bearer key (default: any key)",
    )
    p.add_argument(
        "--flavor",
        default="openai",
        choices=["openai", "llama-stack"],
        help="answer like OpenAI (default) or like a llama-stack server (its error shapes, "
        "no file batches, null counts and the rest: see the README's Servers section)",
    )
    p.set_defaults(run=run, doing="serving the simulator")


def _problem(args: argparse.Namespace) -> str | None:
    if not 0 <= args.error_rate <= 1:
        return "--error-rate must be between 0 and 1"
    if not 0 <= args.port < 65536:
        return "--port must be between 0 and 65535"
    if args.latency_ms < 0:
        return "--latency-ms cannot be negative"
    if args.rate_limit is not None and args.rate_limit <= 0:
        return "--rate-limit must be above 0"
    return None


def run(args: argparse.Namespace) -> int:
    from ..sim import RealClock, SimConfig, Simulator, make_account
    from ..sim.server import SimServer

    problem = _problem(args)
    if problem is not None:
        print(f"vstui sim: {problem}", file=sys.stderr)
        return 2
    account = make_account(
        args.scenario,
        RealClock(),
        seed=args.seed,
        auto_create=args.auto_create,
        flavor=args.flavor,
    )
    config = SimConfig(
        api_key=args.api_key,
        latency_ms=args.latency_ms,
        error_rate=args.error_rate,
        rate_limit=args.rate_limit,
    )
    server = SimServer(Simulator(account, config), host=args.host, port=args.port)
    print(
        f"vstui simulator ({args.scenario}, seed {args.seed}, {args.flavor}) "
        f"serving {server.base_url}"
    )
    print(f"  export OPENAI_BASE_URL={server.base_url} OPENAI_API_KEY=sk-sim-anything")
    sys.stdout.flush()
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    return 0
