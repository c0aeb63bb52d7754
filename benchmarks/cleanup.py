"""Deleting 1,000 stores: vstui's clean-up versus a plain sequential loop over the SDK.

Both run in the same process against the same simulator settings (50 ms latency per
request and a requests-per-second limit answered with 429 + retry-after), each on a
fresh account of 1,000 stores. Prints wall time, the ratio, and the share of the rate
limit vstui used.

    python benchmarks/cleanup.py [--stores 1000] [--latency-ms 50] [--rate-limit 100]
"""

from __future__ import annotations

import argparse
import time

import openai

from vstui.api import ClientSettings, VectorStoresService
from vstui.cleanup import build_plan, execute
from vstui.sim import FROZEN_EPOCH, FrozenClock, SimConfig, SimServer

KEY = "sk-bench-000000000000000000000000"


def fresh(stores: int, latency_ms: float, rate_limit: float) -> SimServer:
    server = SimServer.start_scenario(
        "empty",
        clock=FrozenClock(FROZEN_EPOCH),
        config=SimConfig(latency_ms=latency_ms, rate_limit=rate_limit),
    )
    for i in range(stores):
        server.account.create_store(
            name=f"tmp-{i:04d}",
            expires_after={"anchor": "last_active_at", "days": 1},
            created_at=int(FROZEN_EPOCH) - 10 * 86_400 + i,
        )
    return server


def run_vstui(server: SimServer, concurrency: int) -> tuple[float, int, int]:
    service = VectorStoresService(ClientSettings(api_key=KEY, base_url=server.base_url))
    plan = build_plan(service, expired=True)
    start = time.perf_counter()
    report = execute(service, plan.stores, concurrency=concurrency)
    seconds = time.perf_counter() - start
    assert report.ok and len(report.of("deleted")) == len(plan.stores), report.summary()
    service.close()
    return seconds, report.requests, report.rate_limited


def run_sdk(server: SimServer) -> tuple[float, int]:
    client = openai.OpenAI(api_key=KEY, base_url=server.base_url, max_retries=10)
    ids = [s.id for s in client.vector_stores.list(limit=100)]
    start = time.perf_counter()
    for store_id in ids:
        client.vector_stores.delete(store_id)
    seconds = time.perf_counter() - start
    client.close()
    return seconds, len(ids)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stores", type=int, default=1000)
    parser.add_argument("--latency-ms", type=float, default=50)
    parser.add_argument("--rate-limit", type=float, default=100)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()

    server = fresh(args.stores, args.latency_ms, args.rate_limit)
    try:
        ours, requests, limited = run_vstui(server, args.concurrency)
        assert not server.account.stores
    finally:
        server.stop()
    server = fresh(args.stores, args.latency_ms, args.rate_limit)
    try:
        theirs, deleted = run_sdk(server)
        assert deleted == args.stores and not server.account.stores
    finally:
        server.stop()

    achieved = args.stores / ours
    # The limiter allows a one-second burst on top of the steady rate.
    capacity = args.rate_limit * ours + args.rate_limit
    print(
        f"delete {args.stores} stores, {args.latency_ms:g} ms latency, "
        f"limit {args.rate_limit:g} req/s"
    )
    print(f"  vstui clean-up (concurrency {args.concurrency}): {ours:7.2f} s")
    print(f"  sequential loop over the openai SDK:      {theirs:7.2f} s")
    print(f"  speed-up: {theirs / ours:.1f}x")
    print(
        f"  vstui used {args.stores / capacity:.0%} of what the rate limit allowed over the run "
        f"({achieved:.1f} deletions/s against {args.rate_limit:g}/s plus a 1 s burst; "
        f"{requests} requests sent, {limited} answered 429)"
    )


if __name__ == "__main__":
    main()
