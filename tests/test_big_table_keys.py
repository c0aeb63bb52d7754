"""Keys on big tables: garbage collection paced by the user and rows frozen without
keeping garbage (``vstui.gc_pacing``), a sort order made without a second sort
(``presorted``), a filter's first screenful before the first frame, and a filter run again
over a new order in slices."""

from __future__ import annotations

import gc
import random
from collections.abc import Iterator

import pytest
from sortedcontainers import SortedList

from vstui import gc_pacing
from vstui.gc_pacing import IdleCollector, building_long_lived, discard_later, discarded
from vstui.widgets import table as table_module
from vstui.widgets.table import VirtualTable, presorted

from .conftest import screen_lines
from .test_table_stream import Item, TableApp, expected


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def thresholds():
    saved = gc.get_threshold()
    yield saved
    gc.set_threshold(*saved)


def make_full_collection_due() -> None:
    gc.collect()  # counts from zero
    for _ in range(gc_pacing.FULL_DUE):
        gc.collect(1)  # each counts as a middle collection towards the next full one


def test_full_collections_wait_for_a_pause_in_the_users_input(thresholds):
    clock = Clock()
    collector = IdleCollector(idle=0.3, longest=20.0, clock=clock)
    collector.start()
    assert gc.get_threshold() == (gc_pacing.YOUNG, gc_pacing.MIDDLE, gc_pacing.NEVER)
    make_full_collection_due()
    collector.note_input()
    clock.now += 0.1
    assert not collector.tick()  # a key a moment ago: not now
    clock.now += 0.3
    assert collector.tick()  # quiet for 0.4 s
    assert collector.collections == 1 and not collector.due()
    assert not collector.tick()  # nothing due any more
    collector.stop()
    assert gc.get_threshold() == thresholds


def test_the_first_start_of_a_process_freezes_what_is_alive_without_a_collection(
    thresholds, monkeypatch
):
    """The process's first app has no garbage yet: what is alive then (modules, the app)
    is frozen, so later collections never walk it, without a collection (which would
    only hold the first frame). A later app in the same process (tests) freezes nothing:
    the apps before it may be garbage by then."""
    calls: list[str] = []
    monkeypatch.setattr(gc_pacing, "_started_before", False)
    monkeypatch.setattr(gc_pacing.gc, "collect", lambda *a: calls.append("collect") or 0)
    monkeypatch.setattr(gc_pacing.gc, "freeze", lambda: calls.append("freeze"))
    collector = IdleCollector()
    collector.start()
    collector.stop()
    assert calls == ["freeze"]
    collector.start()  # a second app in the same process
    collector.stop()
    assert calls == ["freeze"]


def test_a_user_who_never_pauses_still_gets_a_full_collection_now_and_then(thresholds):
    clock = Clock()
    collector = IdleCollector(idle=0.3, longest=20.0, clock=clock)
    collector.start()
    make_full_collection_due()
    for _ in range(79):  # a key every 0.25 s for 20 s
        clock.now += 0.25
        collector.note_input()
        assert not collector.tick()
    clock.now += 0.25
    collector.note_input()
    assert collector.tick()
    collector.stop()


def test_a_stopped_collector_does_nothing_and_python_keeps_its_own_policy(thresholds):
    collector = IdleCollector()
    make_full_collection_due()
    assert not collector.tick()
    collector.stop()  # never started: nothing to restore
    assert gc.get_threshold() == thresholds


def test_a_structure_built_long_lived_is_frozen_and_collection_is_back_on():
    before = gc.get_freeze_count()
    assert gc.isenabled()
    with building_long_lived():
        assert not gc.isenabled()
        made = [[i] for i in range(1000)]
    assert gc.isenabled()
    assert gc.get_freeze_count() >= before + 1000
    del made
    with pytest.raises(RuntimeError), building_long_lived():
        raise RuntimeError("a failed build")
    assert gc.isenabled()  # back on even so


async def test_the_app_paces_collections_while_it_runs_and_gives_python_its_policy_back(
    make_app, thresholds
):
    app, _ = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert gc.get_threshold()[2] == gc_pacing.NEVER
        make_full_collection_due()
        app.collector._last_input -= 1.0  # nobody typed for a second
        while app.collector.collections == 0:
            await pilot.pause(0.1)  # the app's own timer runs it
    assert gc.get_threshold() == thresholds


@pytest.mark.parametrize("size", [0, 1, 999, 1000, 1001, 4321])
def test_a_presorted_list_is_the_sorted_list_sortedcontainers_would_make(size):
    values = sorted(random.Random(size).sample(range(10 * size + 10), size))
    made = presorted(values)
    made._check()  # sortedcontainers' own invariants
    assert list(made) == values and len(made) == size
    if size:
        assert made[size // 2] == values[size // 2] and made.index(values[-1]) == size - 1
    made.add(-1)
    made.add(10**9)
    made.discard(values[0] if values else -1)
    made._check()
    reference = SortedList(values)
    reference.add(-1)
    reference.add(10**9)
    reference.discard(values[0] if values else -1)
    assert list(made) == list(reference)


async def test_a_new_sort_order_filters_again_in_slices_and_keeps_the_cursors_row(monkeypatch):
    """Sorting a filtered big table runs the filter again over the new order a slice at a
    time (top of the screen first), not in one go: the rows shown meanwhile are the top
    of the final result, and the cursor ends on the row it was on."""
    monkeypatch.setattr(table_module, "SCAN_CHUNK", 50)
    monkeypatch.setattr(table_module, "SCAN_FINISH_NOW", 0)  # no scan ends in its first frame
    monkeypatch.setattr(table_module, "SCAN_BUDGET", 0.0)
    app = TableApp()
    async with app.run_test(size=(40, 20)) as pilot:
        table: VirtualTable[Item] = app.query_one("#t", VirtualTable)
        rows = {f"id{i:04d}": Item(f"id{i:04d}", f"name{i % 37}", i % 91) for i in range(3000)}
        table.add_rows(list(rows.values()))
        table.set_filter(None, text="name1")
        while table.filtering:
            await pilot.pause()
        table.cursor = 40
        kept = table.current
        assert kept is not None
        table.sort_by("size", reverse=True)
        assert table.filtering
        want = expected(rows, "size", True, "name1", False)
        so_far = [table.row_at(i).id for i in range(table.shown_count)]
        assert len(so_far) < len(want) and so_far == want[: len(so_far)]
        while table.filtering:
            await pilot.pause()
        await pilot.pause()
        assert [r.id for r in table.view] == want
        assert table.current is kept
        painted = screen_lines(app)
        assert any(line.lstrip().startswith(f"{kept.name} ") for line in painted)
        assert "Size ▼" in next(line for line in painted if "Name" in line)


def test_garbage_cycles_are_collected_before_rows_are_frozen():
    """A frozen garbage cycle is never freed: freezing must collect first (Textual's lines
    and httpx's requests are cycles; freezing them as rows streamed in kept ~50 MB per
    100,000-row listing)."""
    import weakref

    from vstui.gc_pacing import freeze_long_lived

    class Node:
        pass

    node = Node()
    node.me = node  # a cycle
    gone = weakref.ref(node)
    kept = Node()
    del node
    freeze_long_lived()
    assert gone() is None  # collected, not frozen
    assert isinstance(kept, Node)  # what is alive stays alive


async def test_a_big_sort_keeps_no_old_order_alive_after_it_is_shown(monkeypatch):
    """The worker that builds a sort order is frozen with it (its task and it form a
    cycle): its closure must not hold the old order's entries, or every sort would keep
    a copy of them for good."""
    import weakref

    monkeypatch.setattr(table_module, "BACKGROUND_SORT_ROWS", 100)
    monkeypatch.setattr(table_module, "ORDERS_KEPT", 1)  # the order shown, no other
    app = TableApp()
    async with app.run_test(size=(40, 20)) as pilot:
        table: VirtualTable[Item] = app.query_one("#t", VirtualTable)
        table.add_rows([Item(f"id{i:04d}", f"n{i % 97}", i % 13) for i in range(500)])

        class Probe:  # something only the arrival order's entries hold
            pass

        probe = Probe()
        table._order.entries["probe"] = probe
        first = weakref.ref(probe)
        del probe
        table.sort_by("name")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert table.sort_column == "name" and table._pending_sort is None
        assert discarded()  # (dropped orders are emptied in another thread)
        assert first() is None  # the arrival order was dropped, and nothing holds it


async def test_a_filter_paints_a_first_screenful_and_looks_at_the_rest_between_frames(
    monkeypatch,
):
    """The key's own frame: the scan stops as soon as the screen is full (however much
    time is left), the rest of the rows are looked at between frames."""
    monkeypatch.setattr(table_module, "SCAN_CHUNK", 50)
    monkeypatch.setattr(table_module, "SCAN_FINISH_NOW", 0)  # no scan ends in its first frame
    monkeypatch.setattr(table_module, "SCAN_FIRST_CHUNK", 10)
    monkeypatch.setattr(table_module, "SCAN_BUDGET", 60.0)  # time is never what stops it
    app = TableApp()
    async with app.run_test(size=(40, 20)) as pilot:
        table: VirtualTable[Item] = app.query_one("#t", VirtualTable)
        rows = {f"id{i:04d}": Item(f"id{i:04d}", f"name{i % 37}", i % 91) for i in range(3000)}
        table.add_rows(list(rows.values()))
        await pilot.pause()
        table.set_filter(None, text="name")  # every row passes
        want = expected(rows, None, False, "name", False)
        assert table.filtering
        assert table.size.height <= table.shown_count < table.size.height + 10
        assert [table.row_at(i).id for i in range(table.shown_count)] == want[: table.shown_count]
        await pilot.pause()
        painted = screen_lines(app)
        assert painted[1].lstrip().startswith("name0 ") and painted[-1].strip()  # full
        while table.filtering:
            await pilot.pause()
        assert [r.id for r in table.view] == want


def test_discard_later_empties_containers_in_another_thread_a_slice_at_a_time(monkeypatch):
    """Big containers given up are emptied by another thread (freeing 100,000 entries
    at once holds the interpreter for 25 ms): dicts, lists, and lists of lists."""
    import threading
    import weakref

    class Thing:
        pass

    freed_in: set[str] = set()

    class Noted(Thing):
        def __del__(self) -> None:
            freed_in.add(threading.current_thread().name)

    monkeypatch.setattr(gc_pacing, "DISCARD_SLICE", 7)
    things = [Thing() for _ in range(100)]
    probes = [weakref.ref(t) for t in things]
    as_dict = {i: t for i, t in enumerate(things[:50])}
    flat = list(things[50:70])
    nested = [list(things[70:85]), list(things[85:]), [Noted()]]
    del things
    discard_later(as_dict, flat, nested)
    assert discarded()
    assert as_dict == {} and flat == [] and nested == []
    assert all(probe() is None for probe in probes)
    assert freed_in == {"vstui-discard"}  # not the caller's thread


async def test_an_order_dropped_for_a_newer_one_is_let_go_of_off_the_ui_thread(monkeypatch):
    """A fourth sort column drops the oldest order kept: its entries are emptied in
    another thread, and the table shows and keeps the orders it still has."""
    monkeypatch.setattr(table_module, "ORDERS_KEPT", 2)
    app = TableApp()
    async with app.run_test(size=(40, 20)) as pilot:
        table: VirtualTable[Item] = app.query_one("#t", VirtualTable)
        rows = {f"id{i:04d}": Item(f"id{i:04d}", f"n{i % 97}", i % 13) for i in range(800)}
        table.add_rows(list(rows.values()))
        arrival = table._orders[None]
        table.sort_by("name")
        table.sort_by("size")  # the arrival order is dropped
        await pilot.pause()
        assert None not in table._orders and set(table._orders) == {"name", "size"}
        assert discarded()
        assert len(arrival.sorted) == 0 and arrival.entries == {}
        assert [r.id for r in table.view] == expected(rows, "size", False, "", False)
        table.sort_by("name", reverse=True)  # still kept: nothing to build
        assert [r.id for r in table.view] == expected(rows, "name", True, "", False)
        painted = screen_lines(app)
        assert any("▼" in line for line in painted[:2])


async def test_a_big_sort_says_so_in_the_header_and_keeps_the_rows_until_it_is_ready(
    monkeypatch,
):
    """The key's own frame paints the header's "…" (only that line is painted again),
    the rows stay in the order shown until the new one is built."""
    import threading
    from contextlib import contextmanager

    gate = threading.Event()

    @contextmanager
    def held() -> Iterator[None]:
        gate.wait(10)
        yield

    monkeypatch.setattr(table_module, "BACKGROUND_SORT_ROWS", 100)
    monkeypatch.setattr(table_module, "building_long_lived", held)
    app = TableApp()
    async with app.run_test(size=(40, 20)) as pilot:
        table: VirtualTable[Item] = app.query_one("#t", VirtualTable)
        rows = {f"id{i:04d}": Item(f"id{i:04d}", f"n{(i * 7919) % 500:03d}", i) for i in range(500)}
        table.add_rows(list(rows.values()))
        await pilot.pause()
        before = screen_lines(app)
        table.sort_by("name")
        await pilot.pause()
        during = screen_lines(app)
        assert "Name …" in during[0] and "Name …" not in before[0]
        assert during[1:] == before[1:]  # the rows as they were
        gate.set()
        await app.workers.wait_for_complete()
        await pilot.pause()
        after = screen_lines(app)
        assert "Name ▲" in after[0]
        want = expected(rows, "name", False, "", False)
        assert after[1].split()[0] == rows[want[0]].name


async def test_the_arrival_order_is_kept_only_while_it_is_shown():
    """Once a column is sorted no key leads back to the arrival order: it is dropped (new
    rows are inserted into one order, not two); asked for again, it is made again, with
    every row in the order it arrived."""
    app = TableApp()
    async with app.run_test(size=(40, 20)) as pilot:
        table: VirtualTable[Item] = app.query_one("#t", VirtualTable)
        table.sort_by("size", reverse=True)  # as the list screens do before rows arrive
        rows = {f"id{i:04d}": Item(f"id{i:04d}", f"n{i % 7}", i % 5) for i in range(300)}
        table.add_rows(list(rows.values())[:200])
        table.sort_by("name")
        table.add_rows(list(rows.values())[200:])
        assert None not in table._orders
        assert [r.id for r in table.view] == expected(rows, "name", False, "", False)
        table.sort_by(None)
        await pilot.pause()
        assert [r.id for r in table.view] == list(rows)  # arrival order
        table.cursor = 0  # (the cursor stays on its row through sorts: back to the top)
        await pilot.pause()
        painted = [line.split()[0] for line in screen_lines(app)[1:4]]
        assert painted == ["n0", "n1", "n2"]  # id0000, id0001, id0002: as they arrived
