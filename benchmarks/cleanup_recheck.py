"""What the re-check before each wave of file deletions costs, per server flavour.

On the demo account, over real HTTP to the simulator: plan and carry out a clean-up of
the orphaned files, then of the expired stores with their files, once per flavour. A
server that reports no file counts (llama-stack) gives the re-check no change signal, so
every surviving store's files are listed again before each wave; OpenAI's counts, usage
and ``last_active_at`` let unchanged stores be skipped. Prints request counts (the
service's own counter) and how many store file listings the re-checks read.

    python benchmarks/cleanup_recheck.py [--concurrency 8]
"""

from __future__ import annotations

import argparse

from vstui.api import ClientSettings, VectorStoresService
from vstui.cleanup import build_plan, execute
from vstui.sim import FROZEN_EPOCH, FrozenClock, SimConfig, SimServer

KEY = "sk-bench-000000000000000000000000"


def measure(flavor: str, mode: str, concurrency: int) -> str:
    server = SimServer.start_scenario(
        "demo", clock=FrozenClock(FROZEN_EPOCH), config=SimConfig(flavor=flavor)
    )
    service = VectorStoresService(ClientSettings(api_key=KEY, base_url=server.base_url))
    try:
        if mode == "orphans":
            plan = build_plan(service, orphans_only=True, concurrency=concurrency)
        else:
            plan = build_plan(service, expired=True, include_files=True, concurrency=concurrency)
        planned = service.stats.requests
        report = execute(
            service,
            plan.stores,
            plan.files,
            concurrency=concurrency,
            holdings=plan.holdings,
            trust_unverified=True,  # what --trust-unverified-listings does
        )
        assert report.ok, report.summary()
        assert plan.holdings is not None
        waves = -(-len(plan.files) // concurrency)
        return (
            f"{flavor:12} {mode:16} {len(plan.stores):3} stores {len(plan.files):3} files "
            f"{waves:2} waves | plan {planned:4} requests | delete {report.requests:4} requests "
            f"| re-listed {plan.holdings.relisted:4} store file lists "
            f"| unverified stores {len(report.unverified)}"
        )
    finally:
        service.close()
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    for mode in ("orphans", "expired + files"):
        for flavor in ("openai", "llama-stack"):
            print(measure(flavor, mode, args.concurrency))


if __name__ == "__main__":
    main()
