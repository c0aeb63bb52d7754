"""What a user feels on a 100,000-store account (simulator scenario ``huge``).

Two sides, each in its own process against the same simulator (a third process, like a
real server), interleaved over ``--rounds``:

* **listing alone** (the baseline): the service walks every page from both ends, nothing
  else; its first page and its total time.
* **vstui**: the store list in a headless 120x40 app. It reports when the first store row
  is *painted* (rendered by the compositor, not merely held in the table's data), the
  handler time of each batch of rows and the longest event-loop stall (a 5 ms ticker)
  while the table holds up to 1k, 10k and 100k rows, the total load time, then the time
  of each key on the loaded table (filter typing, sort, ``g``/``G``, page moves), from the
  key press until the app is idle again (repainted): the UI thread's CPU time (what the
  key costs; Pilot's own waiting is not counted) and the longest event-loop stall.

Prints medians with [min–max] over rounds, and the baseline or the budget beside each.

    python benchmarks/large_account.py [--rounds 2] [--latency-ms 50] [--scenario huge]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import statistics
import subprocess
import sys
import time
from typing import Any

KEY = "sk-bench-000000000000000000000000"
BUCKETS = [(0, 1_000, "≤1k rows"), (1_000, 10_000, "1k–10k"), (10_000, 10**9, "10k–100k")]


class Stall:
    """The longest gaps between 5 ms ticks of the event loop, tagged with the row count."""

    def __init__(self) -> None:
        self.gaps: list[tuple[float, int]] = []
        self.last = time.perf_counter()
        self.rows = 0

    def tick(self) -> None:
        now = time.perf_counter()
        self.gaps.append((now - self.last, self.rows))
        self.last = now

    def reset(self) -> None:
        self.gaps.clear()
        self.last = time.perf_counter()


async def measure_vstui(base_url: str) -> dict[str, float]:
    from vstui.api import ClientSettings, VectorStoresService
    from vstui.app import VstuiApp
    from vstui.screens.store_list import StoreListScreen
    from vstui.session import Session
    from vstui.widgets.table import VirtualTable

    service = VectorStoresService(ClientSettings(api_key=KEY, base_url=base_url))
    session = Session(service=service, account_label="bench", host="sim", masked_key="sk-…")
    result: dict[str, float] = {}
    handler: list[tuple[float, int]] = []  # (seconds, rows in the table after it)
    painted: list[float] = []
    stall = Stall()

    arrived = StoreListScreen._stores_arrived

    def timed_arrived(self: StoreListScreen, stores: list[Any]) -> None:
        t = time.perf_counter()
        arrived(self, stores)
        handler.append((time.perf_counter() - t, self.table.row_count))
        stall.rows = self.table.row_count

    render_line = VirtualTable.render_line

    def watched_render_line(self: VirtualTable[Any], y: int) -> Any:
        if not painted and y >= 1 and self.shown_count:
            painted.append(time.perf_counter())
        return render_line(self, y)

    StoreListScreen._stores_arrived = timed_arrived  # type: ignore[method-assign]
    VirtualTable.render_line = watched_render_line  # type: ignore[method-assign]
    app = VstuiApp(session)
    start = time.perf_counter()
    async with app.run_test(size=(120, 40)) as pilot:
        ticker = app.set_interval(0.005, stall.tick)
        while not painted:
            await asyncio.sleep(0.002)
        result["first row painted (s)"] = painted[0] - start
        stall.reset()
        screen = app.screen
        assert isinstance(screen, StoreListScreen)
        while screen.fetching:
            await asyncio.sleep(0.01)
        result["all loaded (s)"] = time.perf_counter() - start
        result["rows"] = screen.table.row_count
        for low, high, label in BUCKETS:
            times = [t * 1000 for t, rows in handler if low < rows <= high]
            gaps = [g * 1000 for g, rows in stall.gaps if low < rows <= high]
            if times:
                result[f"handler per batch, {label}: median (ms)"] = statistics.median(times)
                result[f"handler per batch, {label}: worst (ms)"] = max(times)
            if gaps:
                result[f"worst stall, {label} (ms)"] = max(gaps)
        last = [t * 1000 for t, _ in handler[-10:]]
        result["handler, last 10 batches: median (ms)"] = statistics.median(last)
        result["rows per batch (median)"] = statistics.median(
            b - a for (_, a), (_, b) in itertools.pairwise(handler)
        )
        await pilot.pause()
        keys: dict[str, list[float]] = {}
        stalls: dict[str, float] = {}

        async def press(kind: str, *names: str) -> None:
            """A key's cost: the UI thread's CPU time from the press until the app is idle
            and repainted (Pilot's own waiting is sleep, not CPU), and the longest stall
            of the event loop meanwhile."""
            for name in names:
                stall.reset()
                t = time.thread_time()
                await pilot.press(name)
                await pilot.pause()
                keys.setdefault(kind, []).append((time.thread_time() - t) * 1000)
                worst = max((g for g, _ in stall.gaps), default=0.0) * 1000
                stalls[kind] = max(stalls.get(kind, 0.0), worst)

        for _ in range(3):
            await press("page down/up", "pagedown", "pagedown", "pageup")
            await press("g / G", "G", "g")
        await press("sort (s, S)", "s", "s", "S", "s", "S")
        await pilot.press("slash")
        await press("filter typing", *"research")
        await press("filter backspace", "backspace", "backspace", "backspace")
        await press("filter typing", "e", "v")
        await pilot.press("escape")
        ticker.stop()
        for kind, values in keys.items():
            result[f"key {kind}: median CPU (ms)"] = statistics.median(values)
            result[f"key {kind}: worst CPU (ms)"] = max(values)
            result[f"key {kind}: worst stall (ms)"] = stalls[kind]
    service.close()
    return result


def measure_listing(base_url: str) -> dict[str, float]:
    from vstui.api import ClientSettings, VectorStoresService

    service = VectorStoresService(ClientSettings(api_key=KEY, base_url=base_url))
    start = time.perf_counter()
    first = None
    rows = 0
    for page in service.walk_stores_both_ends():
        rows += len(page)
        if first is None:
            first = time.perf_counter() - start
    service.close()
    return {"first page (s)": first or 0.0, "all loaded (s)": time.perf_counter() - start}


def start_simulator(scenario: str, latency_ms: float) -> tuple[subprocess.Popen[bytes], str]:
    """The simulator in its own process, like a real server: it does not share our GIL."""
    from vstui.sim.server import free_port

    port = free_port()
    code = (
        "import sys\n"
        "from vstui.sim import RealClock, SimConfig, Simulator, make_account\n"
        "from vstui.sim.server import SimServer\n"
        f"account = make_account({scenario!r}, RealClock())\n"
        f"server = SimServer(Simulator(account, SimConfig(latency_ms={latency_ms})), "
        f"port={port})\n"
        "print('up', flush=True)\n"
        "server.serve_forever()\n"
    )
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
    assert process.stdout is not None
    process.stdout.readline()
    time.sleep(0.5)
    return process, f"http://127.0.0.1:{port}/v1"


def in_child(kind: str, base_url: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", kind, base_url],
        check=True,
        capture_output=True,
        text=True,
    )
    data: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return data


def spread(values: list[float]) -> str:
    if not values:
        return f"{'—':>24}"
    text = f"{statistics.median(values):9.3f} [{min(values):.3f}–{max(values):.3f}]"
    return f"{text:>24}"


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        kind, base_url = sys.argv[2], sys.argv[3]
        if kind == "vstui":
            print(json.dumps(asyncio.run(measure_vstui(base_url))))
        else:
            print(json.dumps(measure_listing(base_url)))
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--scenario", default="huge")
    options = parser.parse_args()
    sim, base_url = start_simulator(options.scenario, options.latency_ms)
    ours: list[dict[str, float]] = []
    base: list[dict[str, float]] = []
    loads: list[float] = []
    try:
        for round_ in range(options.rounds):
            for kind in ("vstui", "listing") if round_ % 2 == 0 else ("listing", "vstui"):
                (ours if kind == "vstui" else base).append(in_child(kind, base_url))
                loads.append(os.getloadavg()[0])
    finally:
        sim.terminate()
        sim.wait()

    def column(results: list[dict[str, float]], key: str) -> list[float]:
        return [r[key] for r in results if key in r]

    budget = {"median": "≤ 16 ms", "worst": "≤ 50 ms"}
    rows = int(statistics.median(column(ours, "rows")))
    print(
        f"{rows:,}-store account (scenario {options.scenario!r}, {options.latency_ms:g} ms "
        f"a request), {options.rounds} interleaved rounds; median [min–max]"
    )
    print(f"{'':48} {'vstui':>24} {'baseline / budget':>24}")
    print(
        f"{'first row painted (s)':48} {spread(column(ours, 'first row painted (s)'))} "
        f"{spread(column(base, 'first page (s)'))}  (listing alone: first page)"
    )
    print(
        f"{'all loaded (s)':48} {spread(column(ours, 'all loaded (s)'))} "
        f"{spread(column(base, 'all loaded (s)'))}  (listing alone)"
    )
    ratios = [o["all loaded (s)"] / b["all loaded (s)"] for o, b in zip(ours, base, strict=True)]
    print(f"{'load ratio vstui / listing alone':48} {spread(ratios)} {'≤ 1.2':>24}")
    for key in ours[0]:
        if key in ("first row painted (s)", "all loaded (s)", "rows"):
            continue
        reference = ""
        if key.startswith("key "):
            reference = budget["median" if "median" in key else "worst"]
        elif key.startswith("handler"):
            reference = "≤ 10 ms"
        elif key.startswith("worst stall"):
            reference = "≤ 100 ms"
        print(f"{key:48} {spread(column(ours, key))} {reference:>24}")
    print(
        f"load average (1 min) during the rounds: {min(loads):.2f}–{max(loads):.2f} "
        f"on {os.cpu_count()} cores; the simulator runs in its own process"
    )


if __name__ == "__main__":
    main()
