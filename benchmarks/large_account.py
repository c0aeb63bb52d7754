"""What a user feels on a 100,000-store account (simulator scenario ``huge``).

Two sides, each in its own process against the same simulator (a third process, like a
real server), interleaved over ``--rounds``:

* **listing alone** (the baseline): the service walks every page from both ends, nothing
  else; its first page and its total time.
* **vstui**: the store list in a headless 120x40 app. It reports when the first store row is
  *painted* (rendered by the compositor, not merely held in the table's data), the handler
  time (wall, and the UI thread's CPU) of each batch of rows and the longest event-loop
  stall (a 5 ms ticker) while the table holds up to 1k, 10k and 100k rows, the total load
  time, then each key on the loaded table (filter typing, sort, ``g``/``G``, page moves) as
  a user feels it (see ``keytime.py``): sent as a terminal driver sends it, timed from the
  moment the app takes the key to the end of the last repaint it caused (deferred work such
  as a background sort included), with the UI thread's CPU time in that window and the
  longest event-loop stall. Pilot is not involved, so its own machinery is not counted; for
  comparison, the cost of an unbound key measured the old Pilot way is printed once. The
  hooks are checked on every run: an idle app and an unbound key paint nothing, every page
  move repaints. Auto-refresh is off, the filter's cursor does not blink and timers of a
  second or more (relative times re-rendered every 30 s) are paused while keys are measured:
  background repaints are not a key's cost.

Prints medians with [min–max] over rounds, and the baseline or the budget beside each.
``--scenario large`` (10,000 stores, 1 round by default, ~15 s) is a smoke run.

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

from keytime import KeyProbe, KeyTime, Ticker, pause_background_timers, pilot_floor

KEY = "sk-bench-000000000000000000000000"
KEY_PREFIX = "key\t"  # result names of the key table: "key\t<kind>\t<metric>"
FLOOR = "unbound key f12, the old way (Pilot): CPU (ms)"
IDLE = "repaints in 1 s of idling"
STRAY = "repaints between keys"
TICK = "the ticker's cost per tick (µs)"
SPECIAL = ("first row painted (s)", "all loaded (s)", "rows", FLOOR, IDLE, STRAY, TICK)
BUCKETS = [(0, 1_000, "≤1k rows"), (1_000, 10_000, "1k–10k"), (10_000, 10**9, "10k–100k")]


async def measure_vstui(base_url: str) -> dict[str, float]:
    from textual.widgets import Input

    from vstui.api import ClientSettings, VectorStoresService
    from vstui.app import VstuiApp
    from vstui.screens.store_list import StoreListScreen
    from vstui.session import Session
    from vstui.widgets.table import VirtualTable

    service = VectorStoresService(ClientSettings(api_key=KEY, base_url=base_url))
    # Auto-refresh off: its polls and its "updated 3s ago" repaints would land in the
    # windows of the keys measured below (they are background work, not a key's cost).
    session = Session(
        service=service, account_label="bench", host="sim", masked_key="sk-…", refresh_seconds=0
    )
    result: dict[str, float] = {}
    handler: list[tuple[float, int]] = []  # (seconds, rows in the table after it)
    handler_cpu: list[tuple[float, int]] = []  # the UI thread's CPU seconds in it, rows
    painted: list[float] = []
    ticker = Ticker()
    probe = KeyProbe(ticker)
    probe.install()

    arrived = StoreListScreen._stores_arrived

    def timed_arrived(self: StoreListScreen, stores: list[Any]) -> None:
        cpu = time.thread_time()
        t = time.perf_counter()
        arrived(self, stores)
        handler.append((time.perf_counter() - t, self.table.row_count))
        handler_cpu.append((time.thread_time() - cpu, self.table.row_count))
        ticker.label = self.table.row_count

    render_line = VirtualTable.render_line

    def watched_render_line(self: VirtualTable[Any], y: int) -> Any:
        if not painted and y >= 1 and self.shown_count:
            painted.append(time.perf_counter())
        return render_line(self, y)

    grow_ahead = VirtualTable.grow_ahead

    def timed_grow_ahead(self: VirtualTable[Any]) -> bool:
        # A turn of its own in which the table grows a dict before the rows that would:
        # timed as a batch of its own (it is one, of UI-thread work).
        cpu = time.thread_time()
        t = time.perf_counter()
        grew = grow_ahead(self)
        if grew:
            handler.append((time.perf_counter() - t, self.row_count))
            handler_cpu.append((time.thread_time() - cpu, self.row_count))
        return grew

    StoreListScreen._stores_arrived = timed_arrived  # type: ignore[method-assign]
    VirtualTable.grow_ahead = timed_grow_ahead  # type: ignore[method-assign]
    VirtualTable.render_line = watched_render_line  # type: ignore[method-assign]
    app = VstuiApp(session)
    start = time.perf_counter()
    async with app.run_test(size=(120, 40)) as pilot:
        ticker.start()
        while not painted:
            await asyncio.sleep(0.002)
        result["first row painted (s)"] = painted[0] - start
        ticker.reset()
        screen = app.screen
        assert isinstance(screen, StoreListScreen)
        while screen.fetching:
            await asyncio.sleep(0.01)
        result["all loaded (s)"] = time.perf_counter() - start
        result["rows"] = screen.table.row_count
        for low, high, label in BUCKETS:
            times = [t * 1000 for t, rows in handler if low < rows <= high]
            gaps = [g * 1000 for g, rows in ticker.gaps if low < rows <= high]
            if times:
                result[f"handler per batch, {label}: median (ms)"] = statistics.median(times)
                result[f"handler per batch, {label}: worst (ms)"] = max(times)
            cpus = [t * 1000 for t, rows in handler_cpu if low < rows <= high]
            if cpus:
                # Wall time above includes waiting for the interpreter while the two
                # fetching threads parse pages (and for a core: the simulator shares them).
                result[f"handler CPU per batch, {label}: median (ms)"] = statistics.median(cpus)
                result[f"handler CPU per batch, {label}: worst (ms)"] = max(cpus)
            if gaps:
                result[f"worst stall, {label} (ms)"] = max(gaps)
        last = [t * 1000 for t, _ in handler[-10:]]
        result["handler, last 10 batches: median (ms)"] = statistics.median(last)
        result["rows per batch (median)"] = statistics.median(
            b - a for (_, a), (_, b) in itertools.pairwise(handler)
        )
        await pilot.pause()

        def quiet() -> None:
            """Background repaints are not a key's cost: no blinking cursor, no timers of
            a second or more (relative times re-rendered every 30 s)."""
            for field in app.screen.query(Input):
                field.cursor_blink = False
            pause_background_timers(app)

        quiet()

        async def old_way() -> None:
            await pilot.press("f12")
            await pilot.pause()

        result[FLOOR] = await pilot_floor(old_way)
        result[IDLE] = await probe.idle_paints(1.0)
        result[TICK] = await probe.calibrate()

        keys: dict[str, list[KeyTime]] = {}
        probe.stray = 0

        async def press(kind: str | None, *names: str) -> None:
            for name in names:
                key = await probe.press(app, name)
                if kind is not None:
                    keys.setdefault(kind, []).append(key)

        await press("unbound (f12)", "f12", "f12", "f12")
        for _ in range(3):
            await press("page down/up", "pagedown", "pagedown", "pageup")
            await press("g / G", "G", "g")
        await press("sort (s, S)", "s", "s", "S", "s", "S")
        await press(None, "slash")
        quiet()
        await press("filter typing", *"research")
        await press("filter backspace", "backspace", "backspace", "backspace")
        await press("filter typing", "e", "v")
        await press(None, "escape")
        ticker.stop()
        result[STRAY] = probe.stray
        for kind, measured in keys.items():
            for metric, value in key_summary(measured).items():
                result[f"{KEY_PREFIX}{kind}\t{metric}"] = value
    service.close()
    return result


def key_summary(times: list[KeyTime]) -> dict[str, float]:
    """Per key kind: how many keys, how many repainted, and medians and worsts (ms)."""
    firsts = [t.first for t in times if t.first is not None]
    latencies = [t.latency for t in times if t.latency is not None]
    summary = {
        "keys": float(len(times)),
        "repainted": float(len(latencies)),
        "repaints": statistics.median(t.repaints for t in times),
        "CPU median": statistics.median(t.cpu for t in times),
        "CPU worst": max(t.cpu for t in times),
        "stall worst": max(t.stall for t in times),
    }
    if latencies:
        summary["first frame"] = statistics.median(firsts)
        summary["latency median"] = statistics.median(latencies)
        summary["latency worst"] = max(latencies)
    return summary


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
        capture_output=True,
        text=True,
    )
    lines = out.stdout.strip().splitlines()
    if out.returncode != 0:
        # What the child said (a crash at exit, after its result was printed, still
        # leaves the result: it is used, and the crash is reported).
        print(f"{kind} child exited with {out.returncode}:\n{out.stderr[-3000:]}", file=sys.stderr)
        if not lines or not lines[-1].startswith("{"):
            raise SystemExit(f"the {kind} child failed")
    data: dict[str, float] = json.loads(lines[-1])
    return data


def spread(values: list[float], width: int = 26) -> str:
    """The median over rounds, with [min–max] when there was more than one round."""
    if not values:
        return f"{'—':>{width}}"
    text = f"{statistics.median(values):.3f}"
    if len(values) > 1:
        text += f" [{min(values):.3f}–{max(values):.3f}]"
    return f"{text:>{width}}"


def cell(values: list[float], width: int = 11) -> tuple[str, str]:
    """A key-table cell: the median over rounds, and below it [min–max] (several rounds)."""
    if not values:
        return f"{'—':>{width}}", " " * width
    low, high = min(values), max(values)
    digits = 0 if high >= 100 else 1
    below = f"[{low:.{digits}f}–{high:.{digits}f}]" if len(values) > 1 else ""
    return f"{statistics.median(values):>{width}.1f}", f"{below:>{width}}"


KEY_COLUMNS = [  # metric, heading, budget
    ("first frame", "1st frame", ""),
    ("latency median", "lat. med", "≤ 16"),
    ("latency worst", "lat. max", "≤ 50"),
    ("CPU median", "CPU med", "≤ 16"),
    ("CPU worst", "CPU max", "≤ 50"),
    ("stall worst", "stall max", "≤ 50"),
]


def print_keys(ours: list[dict[str, float]], rows: int) -> None:
    """One line per key kind (and a line of [min–max] over rounds below, if several)."""
    kinds: list[str] = []
    for result in ours:
        for key in result:
            kind = key[len(KEY_PREFIX) :].split("\t")[0] if key.startswith(KEY_PREFIX) else None
            if kind is not None and kind not in kinds:
                kinds.append(kind)

    def column(kind: str, metric: str) -> list[float]:
        name = f"{KEY_PREFIX}{kind}\t{metric}"
        return [r[name] for r in ours if name in r]

    print()
    print(
        f"Keys on the loaded table of {rows:,} rows (ms). From the app taking the key to the end\n"
        "of its first repaint (1st frame) and its last (lat.: latency, deferred work included),\n"
        "the UI thread's CPU in that window, the longest event-loop stall. painted: keys that\n"
        "repainted / keys; frames: repaints per key (median; Textual paints a frame at most\n"
        "every 16.7 ms, so a key's second and third frames each wait for the next tick)."
    )
    print(
        f"{'key':<16} {'painted':>7} {'frames':>6}" + "".join(f"{h:>11}" for _, h, _ in KEY_COLUMNS)
    )
    print(f"{'budget':<16} {'':>7} {'':>6}" + "".join(f"{b:>11}" for _, _, b in KEY_COLUMNS))
    for kind in kinds:
        keys = statistics.median(column(kind, "keys"))
        painted = statistics.median(column(kind, "repainted"))
        frames = statistics.median(column(kind, "repaints"))
        cells = [cell(column(kind, metric)) for metric, _, _ in KEY_COLUMNS]
        head = f"{kind:<16} {f'{painted:g}/{keys:g}':>7} {frames:>6g}"
        print(head + "".join(top for top, _ in cells))
        if len(ours) > 1:
            print(f"{'':<16} {'':>7} {'':>6}" + "".join(below for _, below in cells))


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        kind, base_url = sys.argv[2], sys.argv[3]
        if kind == "vstui":
            print(json.dumps(asyncio.run(measure_vstui(base_url))))
        else:
            print(json.dumps(measure_listing(base_url)))
        return
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--rounds", type=int, default=None, help="default: 2 (1 for the 'large' smoke run)"
    )
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument(
        "--scenario", default="huge", help="huge: 100,000 stores; large: 10,000 (a smoke run)"
    )
    options = parser.parse_args()
    rounds = options.rounds or (1 if options.scenario == "large" else 2)
    sim, base_url = start_simulator(options.scenario, options.latency_ms)
    ours: list[dict[str, float]] = []
    base: list[dict[str, float]] = []
    loads: list[float] = []
    try:
        for round_ in range(rounds):
            for kind in ("vstui", "listing") if round_ % 2 == 0 else ("listing", "vstui"):
                (ours if kind == "vstui" else base).append(in_child(kind, base_url))
                loads.append(os.getloadavg()[0])
    finally:
        sim.terminate()
        sim.wait()

    def column(results: list[dict[str, float]], key: str) -> list[float]:
        return [r[key] for r in results if key in r]

    rows = int(statistics.median(column(ours, "rows")))
    spreads = "median [min–max] over rounds" if rounds > 1 else "one round"
    print(
        f"{rows:,}-store account (scenario {options.scenario!r}, {options.latency_ms:g} ms a "
        f"request), {rounds} interleaved round{'s' * (rounds > 1)}; {spreads}"
    )
    print(f"{'':44} {'vstui':>26} {'baseline / budget':>26}")

    def line(label: str, ours_key: str, reference: str) -> None:
        print(f"{label:44} {spread(column(ours, ours_key))} {reference:>26}")

    line(
        "first row painted (s) | listing: first page",
        "first row painted (s)",
        spread(column(base, "first page (s)")),
    )
    line("all loaded (s) | listing alone", "all loaded (s)", spread(column(base, "all loaded (s)")))
    ratios = [o["all loaded (s)"] / b["all loaded (s)"] for o, b in zip(ours, base, strict=True)]
    print(f"{'load ratio vstui / listing alone':44} {spread(ratios)} {'≤ 1.2':>26}")
    for key in ours[0]:
        if key.startswith(KEY_PREFIX) or key in SPECIAL:
            continue
        reference = ""
        if key.startswith("handler"):
            reference = "≤ 10 ms"
        elif key.startswith("worst stall"):
            reference = "≤ 100 ms"
        line(key, key, reference)
    print_keys(ours, rows)
    floor = statistics.median(column(ours, FLOOR))
    idle = max(column(ours, IDLE))
    stray = max(column(ours, STRAY))
    tick = column(ours, TICK)
    unbound = [r.get(f"{KEY_PREFIX}unbound (f12)\trepainted", 0.0) for r in ours]
    paged = [r.get(f"{KEY_PREFIX}page down/up\trepainted", 0.0) for r in ours]
    paged_of = [r.get(f"{KEY_PREFIX}page down/up\tkeys", 0.0) for r in ours]
    hooks_ok = idle == stray == sum(unbound) == 0 and 0 < sum(paged) == sum(paged_of)
    verdict = "the hooks count what they should" if hooks_ok else "HOOKS MISCOUNT, numbers suspect"
    print(
        f"Pilot's floor, for comparison: the unbound key f12 measured the old way (UI-thread\n"
        f"CPU from pilot.press() until pilot.pause() returns) costs {floor:.1f} ms.\n"
        f"Hook check: {idle:g} repaints in 1 s of idling, {stray:g} between keys (after one had "
        f"settled);\nf12 repainted {sum(unbound):g} times (not counted); page moves repainted "
        f"{sum(paged):g} of {sum(paged_of):g}:\n{verdict}.\n"
        f"The stall ticker's own cost, {min(tick):.0f}–{max(tick):.0f} µs of UI-thread CPU a "
        f"tick (idle, with and\nwithout it, median of 5 pairs), is subtracted from each key's "
        f"CPU like the probe's polling."
    )
    print(
        f"load average (1 min) during the rounds: {min(loads):.2f}–{max(loads):.2f} "
        f"on {os.cpu_count()} cores; the simulator runs in its own process"
    )


if __name__ == "__main__":
    main()
