"""Responsiveness on a 10,000-store account (``--scenario large``).

Prints, for vstui's virtual table and for Textual's DataTable as a baseline measured in
the same run: time to show the first page, time to load everything, the longest time the
event loop was held while loading, the time to sort, filter and render 10,000 rows, and
the memory the loaded table costs. Each side runs in its own process, against the same
simulator (in a third process, like a real server).

    python benchmarks/large_account.py
"""

from __future__ import annotations

import asyncio
import json
import resource
import statistics
import subprocess
import sys
import time

from textual.app import App, ComposeResult
from textual.widgets import DataTable

from vstui.api import ClientSettings, VectorStoresService
from vstui.app import VstuiApp
from vstui.session import Session
from vstui.sim import FROZEN_EPOCH, FrozenClock

KEY = "sk-bench-000000000000000000000000"


class Stall:
    """Measures the longest gap between 5 ms ticks of the event loop."""

    def __init__(self) -> None:
        self.gaps: list[float] = []
        self.last = time.perf_counter()

    def tick(self) -> None:
        now = time.perf_counter()
        self.gaps.append(now - self.last)
        self.last = now

    def reset(self) -> None:
        self.gaps.clear()
        self.last = time.perf_counter()

    @property
    def worst_ms(self) -> float:
        return max(self.gaps, default=0.0) * 1000

    @property
    def p99_ms(self) -> float:
        if len(self.gaps) < 2:
            return self.worst_ms
        return statistics.quantiles(self.gaps, n=100, method="inclusive")[98] * 1000


def render_screen_ms(widget: object, lines: int = 38, rounds: int = 50) -> float:
    """Average time to render one screenful of lines (what a scroll or keypress costs)."""
    render_line = widget.render_line  # type: ignore[attr-defined]
    start = time.perf_counter()
    for _ in range(rounds):
        if hasattr(widget, "_line_cache"):
            widget._line_cache.clear()  # DataTable caches lines; measure real work
        for y in range(lines):
            render_line(y)
    return (time.perf_counter() - start) / rounds * 1000


async def measure_vstui(base_url: str) -> dict[str, float]:
    clock = FrozenClock(FROZEN_EPOCH)
    service = VectorStoresService(ClientSettings(api_key=KEY, base_url=base_url))
    session = Session(
        service=service, account_label="bench", host="sim", masked_key="sk-…", now=clock.now
    )
    app = VstuiApp(session)
    stall = Stall()
    result: dict[str, float] = {}
    start = time.perf_counter()
    async with app.run_test(size=(120, 40)) as pilot:
        ticker = app.set_interval(0.005, stall.tick)
        while not hasattr(app.screen, "table") or app.screen.table.row_count == 0:
            await asyncio.sleep(0.002)
        result["first rows (s)"] = time.perf_counter() - start
        stall.reset()  # from the first rows on: start-up is not "while loading"
        while app.screen.fetching:  # type: ignore[attr-defined]
            await asyncio.sleep(0.005)
        result["all 10,000 loaded (s)"] = time.perf_counter() - start
        result["worst frame hold while loading (ms)"] = stall.worst_ms
        result["p99 frame hold while loading (ms)"] = stall.p99_ms
        ticker.stop()
        table = app.screen.table
        t = time.perf_counter()
        table.sort_by("name")
        result["sort 10,000 by name (ms)"] = (time.perf_counter() - t) * 1000
        t = time.perf_counter()
        table.set_filter(lambda s: "42" in s.display_name)
        result["filter 10,000 (ms)"] = (time.perf_counter() - t) * 1000
        table.set_filter(None)
        table.action_page(1)
        result["render one screenful (ms)"] = render_screen_ms(table)
        jumps = []
        for k in range(6):  # alternate last row / first row; report the median
            t = time.perf_counter()
            table.action_jump(0 if k % 2 else -1)
            await pilot.pause()
            jumps.append((time.perf_counter() - t) * 1000)
        result["jump first/last row, repainted (ms, median)"] = statistics.median(jumps)
    service.close()
    return result


class DataTableApp(App[None]):
    def compose(self) -> ComposeResult:
        yield DataTable()


async def measure_datatable(base_url: str) -> dict[str, float]:
    """The baseline: the same 10,000 stores put into Textual's DataTable page by page."""
    service = VectorStoresService(ClientSettings(api_key=KEY, base_url=base_url))
    pages = [page.data for page in service.iter_store_pages()]
    service.close()
    app = DataTableApp()
    stall = Stall()
    result: dict[str, float] = {}
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.query_one(DataTable)
        keys = table.add_columns(
            "Name", "ID", "Status", "Files", "Usage", "Created", "Active", "Expires"
        )
        ticker = app.set_interval(0.005, stall.tick)
        start = time.perf_counter()
        for i, page in enumerate(pages):
            table.add_rows(
                (
                    s.display_name,
                    s.id,
                    s.status,
                    str(s.file_counts.total),
                    str(s.usage_bytes),
                    str(s.created_at),
                    str(s.last_active_at),
                    str(s.expires_at),
                )
                for s in page
            )
            await pilot.pause()
            if i == 0:
                result["first rows (s)"] = time.perf_counter() - start
                stall.reset()
        await pilot.pause()
        result["all 10,000 loaded (s)"] = time.perf_counter() - start
        result["worst frame hold while loading (ms)"] = stall.worst_ms
        result["p99 frame hold while loading (ms)"] = stall.p99_ms
        ticker.stop()
        t = time.perf_counter()
        table.sort(keys[0])
        await pilot.pause()
        result["sort 10,000 by name (ms)"] = (time.perf_counter() - t) * 1000
        result["filter 10,000 (ms)"] = float("nan")  # DataTable has no filter
        table.action_page_down()
        result["render one screenful (ms)"] = render_screen_ms(table)
        jumps = []
        for k in range(6):
            t = time.perf_counter()
            if k % 2:
                table.action_scroll_top()
            else:
                table.action_scroll_bottom()
            await pilot.pause()
            jumps.append((time.perf_counter() - t) * 1000)
        result["jump first/last row, repainted (ms, median)"] = statistics.median(jumps)
    return result


def start_simulator(port: int) -> subprocess.Popen[bytes]:
    """The simulator in its own process, like a real server: it does not share our GIL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "vstui", "sim", "--scenario", "large", "--port", str(port)],
        stdout=subprocess.PIPE,
    )
    assert process.stdout is not None
    process.stdout.readline()  # "serving http://…" once it is up
    time.sleep(0.3)
    return process


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_one(kind: str, base_url: str) -> None:
    """In a child process: measure one side and print its numbers as JSON."""
    before = peak_rss_mb()
    measure = measure_vstui if kind == "vstui" else measure_datatable
    result = asyncio.run(measure(base_url))
    result["peak memory over start (MB)"] = peak_rss_mb() - before
    print(json.dumps(result))


def in_child(kind: str, base_url: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", kind, base_url],
        check=True,
        capture_output=True,
        text=True,
    )
    data: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return data


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        run_one(sys.argv[2], sys.argv[3])
        return
    from vstui.sim.server import free_port

    port = free_port()
    process = start_simulator(port)
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        ours = in_child("vstui", base_url)
        base = in_child("datatable", base_url)
    finally:
        process.terminate()
        process.wait()
    print(f"{'10,000-store account':42} {'vstui':>10} {'DataTable':>10} {'ratio':>8}")
    for key, value in ours.items():
        other = base[key]
        ratio = other / value if value and other == other else float("nan")
        print(f"{key:42} {value:10.3f} {other:10.3f} {ratio:7.1f}x")
    print("(memory: peak RSS growth of each process while it loads and drives the table)")
    print("(ratio = DataTable / vstui: how many times faster vstui is; same run, same data)")


if __name__ == "__main__":
    main()
