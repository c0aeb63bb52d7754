"""Review 5: containers let go of in the discarding thread, the arrival order dropped once
a column is sorted, the header-only repaint of a pending sort, the filter box's size."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from vstui import gc_pacing
from vstui.gc_pacing import discarded
from vstui.widgets import table as table_module
from vstui.widgets.table import VirtualTable

from .conftest import screen_lines, settle
from .test_table_stream import Item, TableApp, expected


@pytest.fixture
def emptied_at_once(monkeypatch):
    """Containers given up are emptied right away, in the caller's thread: anything that
    still uses one afterwards sees it empty at once (no timing involved)."""
    given: list[Any] = []

    def now(*containers: Any) -> None:
        for container in containers:
            given.append(container)
            gc_pacing._empty(container)

    monkeypatch.setattr(gc_pacing, "DISCARD_SLICE", 3)
    monkeypatch.setattr(table_module, "discard_later", now)
    return given


def wanted(rows: dict[str, Item], table: VirtualTable[Item], text: str, small: bool) -> list[str]:
    """What a full sort and filter shows for the sort the table shows now."""
    column = table._sort_column()
    by = column.key if column else None
    if not text.startswith("!"):
        return expected(rows, by, table.sort_reverse, text, small)
    keep = set(expected(rows, None, False, "", small)) - set(
        expected(rows, None, False, text[1:], False)
    )
    return [k for k in expected(rows, by, table.sort_reverse, "", False) if k in keep]


@pytest.mark.parametrize("seed", range(8))
async def test_random_sorts_with_orders_emptied_at_once_show_what_a_full_rebuild_does(
    monkeypatch, emptied_at_once, seed
):
    """Orders dropped (a third column with two kept, the arrival order, a rebuild) and
    replaced rows are emptied in place the moment they are given up: the table shows,
    after every step, exactly what a full sort and filter would."""
    monkeypatch.setattr(table_module, "SCAN_CHUNK", 5)
    monkeypatch.setattr(table_module, "SCAN_FINISH_NOW", 0)  # no scan ends in its first frame
    monkeypatch.setattr(table_module, "SCAN_FIRST_CHUNK", 3)
    monkeypatch.setattr(table_module, "SCAN_BUDGET", 0.0)
    monkeypatch.setattr(table_module, "BACKGROUND_SORT_ROWS", 40)
    monkeypatch.setattr(table_module, "ORDERS_KEPT", 2)
    rng = random.Random(seed)
    app = TableApp()
    async with app.run_test(size=(40, 12)) as pilot:
        table: VirtualTable[Item] = app.query_one("#t", VirtualTable)
        rows: dict[str, Item] = {}
        text, small, serial = "", False, 0

        def item() -> Item:
            nonlocal serial
            serial += 1
            key = f"id{rng.randrange(300):03d}" if rng.random() < 0.3 else f"new{serial}"
            return Item(key, f"n{rng.randrange(40):02d}", rng.randrange(100))

        for step in range(80):
            action = rng.randrange(11)
            if action <= 1:
                page = [item() for _ in range(rng.randrange(1, 30))]
                table.add_rows(page)
                rows.update((r.id, r) for r in page)
            elif action == 2 and rows:
                gone = rng.sample(sorted(rows), min(len(rows), rng.randrange(1, 6)))
                table.remove_rows(gone)
                for key in gone:
                    del rows[key]
            elif action <= 4:
                table.sort_by(rng.choice([None, "name", "size"]), rng.random() < 0.5)
            elif action == 5:
                previous = text
                text = rng.choice(["", "n1", "n12", "!n1", "1", "n", "n2"])
                table.set_filter(
                    (lambda r: r.size < 50) if small else None,
                    text=text,
                    cache_key=(text, small),
                    narrower=bool(previous)
                    and text.startswith(previous)
                    and "!" not in previous + text,
                )
            elif action == 6:
                small = not small
                table.set_filter((lambda r: r.size < 50) if small else None, text=text)
            elif action == 7:
                fresh = [item() for _ in range(rng.randrange(0, 60))]
                rows = {r.id: r for r in fresh}
                table.set_rows(fresh)
            elif action == 8:
                await pilot.pause()
            else:
                await settle(pilot, 1)
            assert sorted(r.id for r in table.iter_rows()) == sorted(rows), step
            if rng.random() < 0.5:  # (reading every row finishes a scan: not always)
                assert [r.id for r in table.view] == wanted(rows, table, text, small), step
            # Every order kept (the one shown among them) has every row: none was emptied.
            assert any(order is table._order for order in table._orders.values()), step
            for order in table._orders.values():
                assert len(order.entries) == len(order.sorted) == len(rows), step
        await settle(pilot)
        await settle(pilot)
        assert table._pending_sort is None
        assert [r.id for r in table.view] == wanted(rows, table, text, small)
        painted = screen_lines(app)[1:6]
        top = int(table.scroll_offset.y)
        shown = [r.name for r in table.view][top : top + len(painted)]
        assert [line.split()[0] if line.split() else "" for line in painted][: len(shown)] == (
            shown
        )


@contextmanager
def _gate(monkeypatch) -> Iterator[threading.Event]:
    """Background sorts wait for the gate before building."""
    gate = threading.Event()

    @contextmanager
    def held() -> Iterator[None]:
        gate.wait(10)
        yield

    monkeypatch.setattr(table_module, "building_long_lived", held)
    try:
        yield gate
    finally:
        gate.set()


async def test_set_rows_while_a_big_sort_is_built_shows_the_new_rows(monkeypatch, emptied_at_once):
    monkeypatch.setattr(table_module, "BACKGROUND_SORT_ROWS", 100)
    app = TableApp()
    with _gate(monkeypatch) as gate:
        async with app.run_test(size=(40, 20)) as pilot:
            table: VirtualTable[Item] = app.query_one("#t", VirtualTable)
            table.add_rows([Item(f"id{i:04d}", f"n{(i * 7919) % 500:03d}", i) for i in range(500)])
            table.sort_by("name")
            await pilot.pause()  # the worker is waiting at the gate, reading the old rows
            fresh = {
                f"x{i:04d}": Item(f"x{i:04d}", f"m{(i * 31) % 300:03d}", i) for i in range(300)
            }
            table.set_rows(fresh.values())
            gate.set()
            await settle(pilot)
            assert (table.sort_column, table._pending_sort) == ("name", None)
            assert [r.id for r in table.view] == expected(fresh, "name", False, "", False)
            assert screen_lines(app)[1].split()[0] == "m000"


async def test_a_table_closed_while_a_big_sort_is_built_ignores_its_result(monkeypatch):
    monkeypatch.setattr(table_module, "BACKGROUND_SORT_ROWS", 100)
    app = TableApp()
    with _gate(monkeypatch) as gate:
        async with app.run_test(size=(40, 20)) as pilot:
            table: VirtualTable[Item] = app.query_one("#t", VirtualTable)
            table.add_rows([Item(f"id{i:04d}", f"n{i % 97:03d}", i) for i in range(500)])
            table.sort_by("size")
            await pilot.pause()
            await table.remove()
            gate.set()
            await settle(pilot)
            assert discarded()
            assert table.row_count == 0 and table.shown_count == 0


async def test_the_header_follows_a_big_sort_taken_over_by_another(monkeypatch):
    """Only the header line is painted for "…": a second big sort moves the "…", a kept
    order shown meanwhile takes it away, and the rows stay as they were until then."""
    monkeypatch.setattr(table_module, "BACKGROUND_SORT_ROWS", 100)
    app = TableApp()
    with _gate(monkeypatch) as gate:
        async with app.run_test(size=(40, 12)) as pilot:
            table: VirtualTable[Item] = app.query_one("#t", VirtualTable)
            rows = {
                f"id{i:04d}": Item(f"id{i:04d}", f"n{(i * 7919) % 500:03d}", i) for i in range(500)
            }
            table.add_rows(list(rows.values()))
            table.sort_by("name", reverse=True)  # not kept: built in the background
            gate.set()
            await settle(pilot)
            assert "Name ▼" in screen_lines(app)[0]
            gate.clear()
            before = screen_lines(app)
            table.sort_by("size")
            await pilot.pause()
            during = screen_lines(app)
            assert "Size …" in during[0] and "Name ▼" in during[0]
            assert during[1:] == before[1:]
            table.sort_by("name")  # kept: shown at once, the pending sort is dropped
            await pilot.pause()
            shown = screen_lines(app)
            assert "Name ▲" in shown[0] and "…" not in shown[0]
            assert shown[1].split()[0] == "n000"
            table.sort_by("size", reverse=True)
            await pilot.pause()
            assert "Size …" in screen_lines(app)[0] and "Name ▲" in screen_lines(app)[0]
            gate.set()
            await settle(pilot)
            after = screen_lines(app)
            assert "Size ▼" in after[0] and "…" not in after[0] and "▲" not in after[0]
            top = int(table.scroll_offset.y)
            assert [r.id for r in table.view] == expected(rows, "size", True, "", False)
            assert after[1].split()[1] == str(table.view[top].size)


async def test_a_narrow_tables_header_shows_the_pending_sort(monkeypatch):
    monkeypatch.setattr(table_module, "BACKGROUND_SORT_ROWS", 100)
    app = TableApp()
    with _gate(monkeypatch) as gate:
        async with app.run_test(size=(14, 8)) as pilot:
            table: VirtualTable[Item] = app.query_one("#t", VirtualTable)
            table.add_rows([Item(f"id{i:04d}", f"n{i % 97:03d}", i) for i in range(300)])
            await pilot.pause()
            table.sort_by("name")
            await pilot.pause()
            assert "…" in screen_lines(app)[0]
            gate.set()
            await settle(pilot)
            assert "▲" in screen_lines(app)[0] and "…" not in screen_lines(app)[0]


async def test_the_filter_box_shows_its_text_after_the_terminal_is_resized(make_app):
    """The filter box's scrolling area is sized quietly on a resize: a long filter shows
    all of it once the box is wide enough, and its end again at the next key."""
    from vstui.widgets.filter_input import FilterInput

    app, _ = make_app("demo")
    async with app.run_test(size=(60, 30)) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        await settle(pilot)
        typed = "abcdefghij" * 7 + "XYZ"
        box = app.screen.query_one(FilterInput)
        box.value = typed[:-3]  # (typing 70 keys one by one took 7 s)
        box.cursor_position = len(box.value)
        await pilot.press(*typed[-3:])
        await settle(pilot)
        assert box.value == typed
        assert any("XYZ" in line for line in screen_lines(app))  # its end, where typing is
        await pilot.resize_terminal(150, 30)
        await settle(pilot)
        assert any(typed in line for line in screen_lines(app)), screen_lines(app)
        await pilot.resize_terminal(50, 30)
        await settle(pilot)
        # (Narrowed, the box shows the start of its text until the next key, as before
        # this change: Textual's Input scrolls to its cursor only when that moves.)
        await pilot.press("backspace")
        await settle(pilot)
        assert any("XY" in line for line in screen_lines(app))


async def test_store_list_sort_keys_show_every_store_in_order(
    make_app, monkeypatch, emptied_at_once
):
    """``s`` through every column and ``S`` on the store list, each sort built in the
    background and the orders given up emptied at once: the rows shown are every store,
    in the order a full sort gives, and the header marks the column."""
    from vstui.screens.store_list import StoreListScreen

    monkeypatch.setattr(table_module, "BACKGROUND_SORT_ROWS", 5)
    monkeypatch.setattr(table_module, "ORDERS_KEPT", 2)
    app, _ = make_app("demo")
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, StoreListScreen)
        table = screen.table
        everyone = sorted(table.row_key(r) for r in table.iter_rows())
        assert everyone
        sortable = [c for c in table.columns if c.sort_key is not None]
        for key in ["s"] * (len(sortable) + 1) + ["S", "s", "S", "S"]:
            await pilot.press(key)
            await settle(pilot)
            column = table._sort_column()
            assert column is not None and table._pending_sort is None
            arrival = list(table.iter_rows())
            full = sorted(arrival, key=column.sort_key)  # type: ignore[arg-type]
            if table.sort_reverse:
                full.reverse()
            assert [table.row_key(r) for r in table.view] == [table.row_key(r) for r in full]
            assert sorted(table.row_key(r) for r in table.view) == everyone
            header = next(line for line in screen_lines(app) if column.label in line)
            assert ("▼" if table.sort_reverse else "▲") in header and "…" not in header


async def test_a_big_sort_whose_key_raises_keeps_the_order_shown_and_says_so(monkeypatch):
    """A sort key that cannot order some row (a server's odd value, say) raised in the
    worker: the header kept its "…" for good. Now the order shown stays, the header
    shows it, and a notification names the column."""
    from textual.app import App, ComposeResult

    from vstui.widgets.table import Column, VirtualTable

    from .conftest import notes, screen_lines, watch_notifications
    from .test_table_stream import Item

    def size_key(row: Item) -> int:
        if row.id == "id0123":
            raise TypeError("'<' not supported between 'NoneType' and 'int' \x1b[2J")
        return row.size

    class Raising(App[None]):
        def compose(self) -> ComposeResult:
            yield VirtualTable(
                [
                    Column("name", "Name", 10, lambda r: r.name, lambda r: r.name),
                    Column("size", "Size", 6, lambda r: str(r.size), size_key, "right"),
                ],
                row_key=lambda r: r.id,
                id="t",
            )

    monkeypatch.setattr(table_module, "BACKGROUND_SORT_ROWS", 100)
    app = Raising()
    watch_notifications(app)
    async with app.run_test(size=(40, 12)) as pilot:
        table: VirtualTable[Item] = app.query_one("#t", VirtualTable)
        table.add_rows([Item(f"id{i:04d}", f"n{(i * 7919) % 500:03d}", i) for i in range(500)])
        table.sort_by("name")  # built in the background, fine
        await settle(pilot)
        before = screen_lines(app)
        assert "Name ▲" in before[0]
        table.sort_by("size", reverse=True)
        await settle(pilot)
        assert table.sorting == ("name", False) and table._pending_sort is None
        lines = screen_lines(app)
        assert "…" not in lines[0] and "Name ▲" in lines[0]
        assert lines[1:8] == before[1:8]
        assert any("Could not sort by Size (TypeError)" in note for note in notes(app))
        table.remove_rows(["id0123"])
        table.sort_by("size")  # the next sort asked for works as before
        await settle(pilot)
        assert table.sorting == ("size", False) and table._pending_sort is None
