"""Review 4: the garbage-collector pacing, the presorted sort orders, filters scanned
again after a sort, and the shared sort keys."""

from __future__ import annotations

import gc
import random

import pytest
from sortedcontainers import SortedList

from vstui.gc_pacing import discarded
from vstui.widgets import table as table_module
from vstui.widgets.table import VirtualTable, presorted

from .conftest import settle
from .test_table_stream import Item, TableApp, expected


def test_a_presorted_list_behaves_as_one_sorted_in_full():
    rng = random.Random(4)
    values = sorted((rng.randrange(10_000), i, f"k{i}", "") for i in range(5_000))
    made, full = presorted(list(values)), SortedList(values)
    made._check()
    for step in range(3_000):
        entry = (rng.randrange(10_000), 10_000 + step, f"x{step}", "")
        made.add(entry)
        full.add(entry)
        if step % 3 == 0:
            victim = full[rng.randrange(len(full))]
            made.remove(victim)
            full.remove(victim)
        if step % 97 == 0:
            probe = full[rng.randrange(len(full))]
            assert made.index(probe) == full.index(probe)
            assert made.bisect_left(probe) == full.bisect_left(probe)
            assert made[100:150] == full[100:150]
            assert made[-1] == full[-1]
    made._check()
    assert list(made) == list(full)
    assert len(presorted([])) == 0


@pytest.fixture
def sliced(monkeypatch):
    monkeypatch.setattr(table_module, "SCAN_CHUNK", 7)
    monkeypatch.setattr(table_module, "SCAN_FINISH_NOW", 0)  # no scan ends in its first frame
    monkeypatch.setattr(table_module, "SCAN_BUDGET", 0.0)
    monkeypatch.setattr(table_module, "BACKGROUND_SORT_ROWS", 50)


@pytest.mark.parametrize("seed", range(6))
async def test_random_keys_pages_sorts_and_filters_show_what_a_full_rebuild_does(sliced, seed):
    rng = random.Random(seed)
    app = TableApp()
    async with app.run_test(size=(40, 12)) as pilot:
        table: VirtualTable[Item] = app.query_one("#t", VirtualTable)
        rows: dict[str, Item] = {}
        text, small = "", False
        serial = 0

        def item() -> Item:
            nonlocal serial
            serial += 1
            key = f"id{rng.randrange(400):03d}" if rng.random() < 0.3 else f"new{serial}"
            return Item(key, f"n{rng.randrange(60):02d}", rng.randrange(100))

        for _ in range(60):
            action = rng.randrange(9)
            if action <= 1:
                page = [item() for _ in range(rng.randrange(1, 40))]
                table.add_rows(page)
                rows.update((r.id, r) for r in page)
            elif action == 2 and rows:
                gone = rng.sample(sorted(rows), min(len(rows), rng.randrange(1, 8)))
                table.remove_rows(gone)
                for key in gone:
                    del rows[key]
            elif action == 3:
                table.sort_by(rng.choice([None, "name", "size"]), rng.random() < 0.5)
            elif action == 4:
                previous = text
                text = rng.choice(["", "n1", "n12", "n2", "!n1", "1", "12"])
                table.set_filter(
                    (lambda r: r.size < 50) if small else None,
                    text=text,
                    cache_key=(text, small),
                    narrower=bool(previous)
                    and text.startswith(previous)
                    and not previous.startswith("!")
                    and not text.startswith("!"),
                )
            elif action == 5:
                small = not small
                table.set_filter(
                    (lambda r: r.size < 50) if small else None,
                    text=text,
                    cache_key=(text, small),
                    narrower=small,
                )
            elif action == 6:
                table.cursor = rng.randrange(max(1, table.shown_count))
            elif action == 7:
                await pilot.pause()
            else:
                await settle(pilot, 1)
            assert sorted(r.id for r in table.iter_rows()) == sorted(rows)
        await settle(pilot)
        await settle(pilot)
        assert not table.filtering and table._pending_sort is None
        column = table._sort_column()
        by = column.key if column else None
        want = expected(rows, by, table.sort_reverse, text.lstrip("!"), small)
        if text.startswith("!"):
            keep = set(expected(rows, None, False, "", small)) - set(
                expected(rows, None, False, text[1:], False)
            )
            want = [k for k in expected(rows, by, table.sort_reverse, "", False) if k in keep]
        assert [r.id for r in table.view] == want
        assert table.shown_count == len(want)


async def test_reverse_while_a_big_sort_is_built_reverses_that_sort(monkeypatch):
    """``s`` then ``S`` on a big table: the sort being built is the one reversed."""
    from vstui.screens.tables import reverse_sort

    monkeypatch.setattr(table_module, "BACKGROUND_SORT_ROWS", 100)
    app = TableApp()
    async with app.run_test(size=(40, 20)) as pilot:
        table: VirtualTable[Item] = app.query_one("#t", VirtualTable)
        table.add_rows([Item(f"id{i:04d}", f"n{(i * 7919) % 500:03d}", i % 13) for i in range(500)])
        assert table.sort_column is None
        reverse_sort(table)  # no sort yet: the first column, reversed
        await settle(pilot)
        assert (table.sort_column, table.sort_reverse) == ("name", True)
        table.sort_by("size")  # built in the background
        reverse_sort(table)
        await settle(pilot)
        assert (table.sort_column, table.sort_reverse) == ("size", True)


def test_idle_collector_gives_the_thresholds_back():
    from vstui.gc_pacing import IdleCollector

    before = gc.get_threshold()
    collector = IdleCollector()
    collector.start()
    assert gc.get_threshold() != before
    collector.stop()
    assert gc.get_threshold() == before


async def test_the_app_gives_the_collector_thresholds_back_when_it_ends(make_app):
    before = gc.get_threshold()
    app, _ = make_app("demo")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert app.collector.running and gc.get_threshold() != before
    assert gc.get_threshold() == before and gc.isenabled()


async def test_the_app_gives_the_collector_thresholds_back_when_it_crashes(make_app):
    before = gc.get_threshold()
    app, _ = make_app("demo")

    def boom() -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            app.call_later(boom)
            await pilot.pause()
            await pilot.pause()
    assert gc.get_threshold() == before and gc.isenabled()


async def test_two_apps_at_once_give_the_first_thresholds_back(make_app):
    before = gc.get_threshold()
    first, _ = make_app("demo")
    second, _ = make_app("demo")
    async with first.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        async with second.run_test(size=(100, 30)) as other:
            await other.pause()
    assert gc.get_threshold() == before


@pytest.mark.parametrize("big", [False, True])
async def test_a_sort_under_a_filter_keeps_the_cursor_on_its_row(sliced, monkeypatch, big):
    app = TableApp()
    async with app.run_test(size=(40, 12)) as pilot:
        table: VirtualTable[Item] = app.query_one("#t", VirtualTable)
        if not big:
            monkeypatch.setattr(table_module, "BACKGROUND_SORT_ROWS", 10**9)
        table.add_rows([Item(f"id{i:04d}", f"n{(i * 7919) % 500:03d}", i % 97) for i in range(600)])
        table.set_filter(None, text="n1", cache_key="n1")
        await settle(pilot)
        table.cursor = 40
        await pilot.pause()
        row = table.current
        table.sort_by("size", True)
        await settle(pilot)
        assert not table.filtering and table.sort_column == "size"
        assert table.current is row
        # Back to the order before (kept): the filter's cached result is not reused stale.
        table.sort_by(None)
        await settle(pilot)
        assert table.current is row
        assert [r.id for r in table.view] == sorted(r.id for r in table.view)


async def test_a_closed_screens_rows_are_freed_though_they_were_frozen(make_app):
    """Rows are frozen as they stream in (freeze_rows) and after a big sort: the screen
    holding them is frozen too, and a frozen screen is a cycle never collected. Once it
    is closed its table lets go of the rows, which reference counting then frees."""
    import weakref

    from textual.app import ComposeResult

    from vstui.screens.base import VstuiScreen, freeze_rows

    from .test_table_stream import columns

    class Listing(VstuiScreen):
        def compose(self) -> ComposeResult:
            yield VirtualTable(columns(), row_key=lambda r: r.id)

        def on_mount(self) -> None:
            self.query_one(VirtualTable).add_rows([Item(f"id{i}", "n", i) for i in range(3_000)])
            freeze_rows()

    app, _ = make_app("empty")
    async with app.run_test(size=(100, 30)) as pilot:
        await app.push_screen(Listing())
        await settle(pilot)
        table = app.screen.query_one(VirtualTable)
        rows = [weakref.ref(row) for row in table.rows[:50]]
        del table
        app.pop_screen()
        await settle(pilot)
        assert discarded()  # (let go of in another thread, a slice at a time)
        assert all(row() is None for row in rows)  # freed, without any collection
        assert gc.get_freeze_count() > 0
