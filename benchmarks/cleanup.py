"""Deleting 1,000 stores: vstui's clean-up versus a plain sequential loop over the SDK.

Both run in the same process against the same simulator settings (50 ms latency per
request and a requests-per-second limit answered with 429 + retry-after), each on a
fresh account of 1,000 stores, interleaved over ``--rounds``. Prints medians and
spreads of the wall time, the speed-up, and the time against the rate-limit floor
(N ÷ limit: no client can do better).

    python benchmarks/cleanup.py [--stores 1000] [--latency-ms 50] [--rate-limit 100]
                                 [--rounds 2]
"""

from __future__ import annotations

import argparse
import os
import statistics
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


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):8.2f} [{min(values):.2f}–{max(values):.2f}]"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stores", type=int, default=1000)
    parser.add_argument("--latency-ms", type=float, default=50)
    parser.add_argument("--rate-limit", type=float, default=100)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    ours: list[float] = []
    theirs: list[float] = []
    sent: list[int] = []
    limited: list[int] = []
    for round_ in range(args.rounds):
        for side in ("vstui", "sdk") if round_ % 2 == 0 else ("sdk", "vstui"):
            server = fresh(args.stores, args.latency_ms, args.rate_limit)
            try:
                if side == "vstui":
                    seconds, requests, answered_429 = run_vstui(server, args.concurrency)
                    ours.append(seconds)
                    sent.append(requests)
                    limited.append(answered_429)
                else:
                    seconds, deleted = run_sdk(server)
                    assert deleted == args.stores
                    theirs.append(seconds)
                assert not server.account.stores
            finally:
                server.stop()

    # The floor: no client can delete N stores faster than N ÷ the rate limit (the
    # limiter also allows a one-second burst on top of the steady rate).
    floor = args.stores / args.rate_limit
    print(
        f"delete {args.stores} stores, {args.latency_ms:g} ms latency, limit "
        f"{args.rate_limit:g} req/s; {args.rounds} interleaved rounds, median [min–max]"
    )
    print(f"  {'vstui clean-up (concurrency ' + str(args.concurrency) + ')':40} {spread(ours)} s")
    print(f"  {'sequential loop over the openai SDK':40} {spread(theirs)} s  (baseline)")
    burst_floor = max(0.0, args.stores - args.rate_limit) / args.rate_limit
    print(f"  {'rate-limit floor (N ÷ limit)':40} {floor:8.2f} s")
    print(f"  {'… less the 1 s burst it allows':40} {burst_floor:8.2f} s")
    speedups = [t / o for o, t in zip(ours, theirs, strict=True)]
    print(f"  {'speed-up over the SDK loop':40} {spread(speedups)} x")
    print(f"  {'vstui time ÷ floor':40} {spread([o / floor for o in ours])} x")
    if burst_floor:
        print(f"  {'vstui time ÷ floor less burst':40} {spread([o / burst_floor for o in ours])} x")
    print(
        f"  requests sent by vstui: {statistics.median(sent):.0f} "
        f"(429 answers: {statistics.median(limited):.0f}, median per run)"
    )
    print(f"  load average (1 min): {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
