"""What auto-refresh costs: requests per minute on the ``large`` scenario (10,000 stores)
with the store list open and idle, then with a dialog over it (polling pauses).

Goal: at most 60 requests a minute at the default interval (5 s), 0 while hidden.
Counts come from the service's own request counter, over real HTTP to the simulator.

    python benchmarks/refresh.py [--seconds 30] [--interval 5]
"""

from __future__ import annotations

import argparse
import asyncio
import time

from vstui.api import ClientSettings, VectorStoresService, mask_key
from vstui.app import VstuiApp
from vstui.screens.dialogs import HelpScreen
from vstui.screens.store_list import StoreListScreen
from vstui.session import Session
from vstui.sim import FROZEN_EPOCH, FrozenClock
from vstui.sim.server import SimServer

KEY = "sk-bench-000000000000000000000000"


async def measure(seconds: float, interval: float) -> None:
    clock = FrozenClock(FROZEN_EPOCH)
    server = SimServer.start_scenario("large", clock=clock)
    service = VectorStoresService(ClientSettings(api_key=KEY, base_url=server.base_url))
    session = Session(
        service=service,
        account_label="bench",
        host="simulator",
        masked_key=mask_key(KEY),
        now=clock.now,
        refresh_seconds=interval,
    )
    app = VstuiApp(session)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            screen = app.screen
            assert isinstance(screen, StoreListScreen)
            started = time.perf_counter()
            while screen.fetching or screen.table.row_count == 0:
                await pilot.pause(0.1)
            loaded = time.perf_counter() - started
            print(
                f"loaded {screen.table.row_count:,} stores in {loaded:.1f}s "
                f"({service.stats.requests} requests)"
            )

            before = service.stats.requests
            started = time.perf_counter()
            while time.perf_counter() - started < seconds:
                await pilot.pause(0.25)
            visible = (service.stats.requests - before) * 60 / (time.perf_counter() - started)

            await app.push_screen(HelpScreen(screen))
            await pilot.pause(0.5)  # a poll already in flight may still land
            before = service.stats.requests
            started = time.perf_counter()
            while time.perf_counter() - started < seconds / 2:
                await pilot.pause(0.25)
            hidden = (service.stats.requests - before) * 60 / (time.perf_counter() - started)
    finally:
        service.close()
        server.stop()
    print(
        f"auto-refresh every {interval:g}s, store list idle: {visible:.0f} requests/min "
        f"(goal <= 60); under a dialog: {hidden:.0f} requests/min (goal 0)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="idle time measured")
    parser.add_argument("--interval", type=float, default=5.0, help="refresh interval")
    args = parser.parse_args()
    asyncio.run(measure(args.seconds, args.interval))


if __name__ == "__main__":
    main()
