"""Keys on big tables: garbage collection paced by the user and rows frozen without
keeping garbage (``vstui.gc_pacing``), a sort order made without a second sort
(``presorted``), a filter's first screenful before the first frame, and a filter run again
over a new order in slices."""

from __future__ import annotations

import gc
import random

import pytest
from sortedcontainers import SortedList

from vstui import gc_pacing
from vstui.gc_pacing import IdleCollector, building_long_lived
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
        assert first() is None  # the arrival order was dropped, and nothing holds it


async def test_a_filter_paints_a_first_screenful_and_looks_at_the_rest_between_frames(
    monkeypatch,
):
    """The key's own frame: the scan stops as soon as the screen is full (however much
    time is left), the rest of the rows are looked at between frames."""
    monkeypatch.setattr(table_module, "SCAN_CHUNK", 50)
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
