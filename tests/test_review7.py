"""Review of the one-frame-per-key change: a row removed while a background sort is
being built, and a cursor moved past the rows a long scan has sized the table for."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from textual.app import App, ComposeResult

from vstui.widgets import table as table_module
from vstui.widgets.table import Column, VirtualTable

from .conftest import settle
from .test_table_stream import Item, TableApp, expected


class GatedApp(App[None]):
    """A table whose size column's sort key stops, on the row ``gate_on``, until ``go``."""

    def __init__(self, gate_on: str) -> None:
        super().__init__()
        self.reached = threading.Event()
        self.go = threading.Event()
        self.gate_on = gate_on
        self.warnings: list[str] = []

    def size_key(self, row: Item) -> int:
        if row.id == self.gate_on and threading.current_thread() is not threading.main_thread():
            self.reached.set()
            self.go.wait(5)
        return row.size

    def compose(self) -> ComposeResult:
        columns = [
            Column("name", "Name", 10, lambda r: r.name, lambda r: r.name),
            Column("size", "Size", 6, lambda r: str(r.size), self.size_key, "right"),
        ]
        table: VirtualTable[Item] = VirtualTable(columns, row_key=lambda r: r.id, id="t")
        table.search_fields = lambda r: (r.id, r.name)
        yield table

    def notify(self, message: str, *args: Any, **kwargs: Any) -> None:
        self.warnings.append(message)
        super().notify(message, *args, **kwargs)


async def _sort_with_change_midway(monkeypatch, change) -> None:
    monkeypatch.setattr(table_module, "BACKGROUND_SORT_ROWS", 100)
    rows = {
        f"id{i:04d}": Item(f"id{i:04d}", f"n{(i * 7919) % 500:03d}", i % 13) for i in range(500)
    }
    app = GatedApp(gate_on="id0499")  # the last row the worker looks at
    async with app.run_test(size=(40, 20)) as pilot:
        table: VirtualTable[Item] = app.query_one("#t", VirtualTable)
        table.add_rows(list(rows.values()))
        table.sort_by("size")
        for _ in range(500):
            if app.reached.is_set():
                break
            await pilot.pause(0.01)
        assert app.reached.is_set()
        # The worker has listed every key and made the values of all but the last row.
        change(table, rows)
        app.go.set()
        await settle(pilot)
        assert app.warnings == []
        assert table.sort_column == "size"
        assert [r.id for r in table.view] == expected(rows, "size", False, "", False)


async def test_a_row_removed_while_a_background_sort_is_built_is_not_a_failed_sort(
    monkeypatch,
):
    def change(table: VirtualTable[Item], rows: dict[str, Item]) -> None:
        table.remove_rows(["id0000"])
        del rows["id0000"]

    await _sort_with_change_midway(monkeypatch, change)


async def test_a_row_replaced_while_a_background_sort_is_built_lands_in_its_place(monkeypatch):
    def change(table: VirtualTable[Item], rows: dict[str, Item]) -> None:
        item = Item("id0003", "replaced", 12)
        table.add_rows([item])
        rows["id0003"] = item

    await _sort_with_change_midway(monkeypatch, change)


def _visible(table: VirtualTable[Any]) -> bool:
    top = int(table.scroll_offset.y)
    return top <= table.cursor < top + table.scrollable_content_region.height - 1


async def test_a_page_down_during_a_long_scan_keeps_the_cursor_on_screen(monkeypatch):
    """The cursor's row is among the first 40 found (its place kept), the table sized for
    41 rows; one pagedown moves it to row 52, found since but not sized for yet."""
    monkeypatch.setattr(table_module, "SCAN_CHUNK", 40)
    monkeypatch.setattr(table_module, "SCAN_FIRST_CHUNK", 40)
    monkeypatch.setattr(table_module, "SCAN_FINISH_NOW", 0, raising=False)
    monkeypatch.setattr(table_module, "SCAN_BUDGET", 0.0)
    app = TableApp()
    async with app.run_test(size=(40, 20)) as pilot:
        table: VirtualTable[Item] = app.query_one("#t", VirtualTable)
        table.add_rows([Item(f"id{i:04d}", f"name{i % 37}", i % 91) for i in range(3000)])
        await settle(pilot)
        table.cursor = 35
        await pilot.pause()
        table.set_filter(None, text="name")  # every row passes: 20 found at first
        assert table.filtering and table.cursor == 35
        while table.filtering and table.shown_count < 100:
            await asyncio.sleep(0)  # a few slices: rows found below the screen
        assert table.filtering
        table.action_page(1)  # one key: pagedown
        assert _visible(table), (table.cursor, table.scroll_offset, table.virtual_size)
        await settle(pilot)
        assert not table.filtering
        assert _visible(table), (table.cursor, table.scroll_offset, table.virtual_size)


@pytest.mark.parametrize("finish_now", [0, 500, 2_900, 10_000])
async def test_a_scan_finished_in_the_keys_frame_matches_a_full_filter(monkeypatch, finish_now):
    """Reversed sorts read the source from its end; a narrower filter takes over the scan
    where it is (its found rows narrowed): either way, finished at once or not."""
    monkeypatch.setattr(table_module, "SCAN_CHUNK", 50)
    monkeypatch.setattr(table_module, "SCAN_FIRST_CHUNK", 50)
    monkeypatch.setattr(table_module, "SCAN_FINISH_NOW", finish_now, raising=False)
    monkeypatch.setattr(table_module, "SCAN_BUDGET", 0.0)
    app = TableApp()
    async with app.run_test(size=(40, 20)) as pilot:
        table: VirtualTable[Item] = app.query_one("#t", VirtualTable)
        rows = {f"id{i:04d}": Item(f"id{i:04d}", f"name{i % 37}", i % 91) for i in range(3000)}
        table.add_rows(list(rows.values()))
        for column, reverse in [("size", True), ("name", True), (None, False), ("size", False)]:
            table.sort_by(column, reverse)
            await settle(pilot)
            table.set_filter(None, text="")
            table.set_filter(None, text="name1")
            so_far = [table.row_at(i).id for i in range(table.shown_count)]
            want = expected(rows, column, reverse, "name1", False)
            assert so_far == want[: len(so_far)]
            table.set_filter(None, text="name12", narrower=True)
            so_far = [table.row_at(i).id for i in range(table.shown_count)]
            want = expected(rows, column, reverse, "name12", False)
            assert so_far == want[: len(so_far)]
            await settle(pilot)
            assert not table.filtering
            assert [r.id for r in table.view] == want
            table.set_filter(None, text="name1")  # wider again: a fresh scan
            await settle(pilot)
            assert [r.id for r in table.view] == expected(rows, column, reverse, "name1", False)


async def test_a_scan_ending_under_a_modal_paints_its_count_when_the_modal_goes(
    make_app, monkeypatch
):
    """``same_frame`` on a screen that is not the current one (a modal on top)."""
    from textual.screen import ModalScreen
    from textual.widgets import Static

    from vstui.screens.store_list import StoreListScreen

    from .conftest import screen_lines

    class Box(ModalScreen[None]):
        def compose(self) -> ComposeResult:
            yield Static("modal")

    monkeypatch.setattr(table_module, "SCAN_CHUNK", 40)
    monkeypatch.setattr(table_module, "SCAN_FIRST_CHUNK", 40)
    monkeypatch.setattr(table_module, "SCAN_FINISH_NOW", 0, raising=False)
    monkeypatch.setattr(table_module, "SCAN_BUDGET", 0.0)
    app, server = make_app("empty")
    for i in range(950):
        server.account.create_store(name=f"store-{i:03d}", created_at=1_700_000_000 + i)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, StoreListScreen)
        await pilot.press("slash", *"store")
        app.push_screen(Box())
        await settle(pilot)
        await pilot.pause(0.1)
        app.pop_screen()
        await settle(pilot)
        await pilot.pause(0.1)
        painted = screen_lines(app)
        assert any("950 stores · filter: 'store'" in line for line in painted), painted
