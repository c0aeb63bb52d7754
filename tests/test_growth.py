"""Streamed rows never make the table's dicts grow in one turn with a batch: the batch is cut
where they would (``VirtualTable.rows_before_growth``), the table's order grows its dict in a
turn of its own (``grow_ahead``), then the row that grows the rows' dict goes alone
(``RowBuffer``). Rows listed again do not count; ``flush`` still shows everything at once."""

from __future__ import annotations

import sys
from typing import Any

from vstui.screens.base import RowBuffer
from vstui.widgets import table as table_module
from vstui.widgets.table import VirtualTable, _next_growth, grow_now

from .conftest import settle
from .test_table_stream import Item, TableApp


def items(start: int, stop: int) -> list[Item]:
    return [Item(f"id{i:05d}", f"n{i:05d}", i) for i in range(start, stop)]


def test_growth_points_are_those_of_a_dict_filled_one_key_at_a_time():
    grown: list[int] = []
    mapping: dict[str, int] = {}
    size = sys.getsizeof(mapping)
    for i in range(100_000):
        before = len(mapping)
        mapping[f"k{i}"] = i
        if sys.getsizeof(mapping) != size:
            size = sys.getsizeof(mapping)
            if before:
                grown.append(before)
    assert grown == [n for n in grown if _next_growth(n) == n]
    assert grown[-2:] == [43_690, 87_381]
    assert [_next_growth(n) for n in (87_380, 87_381, 87_382)] == [87_381, 87_381, 174_762]


def test_grow_now_grows_once_and_leaves_the_keys_as_they_were():
    mapping = {f"k{i}": i for i in range(85)}  # full: 85 of 128 slots' two thirds
    size = sys.getsizeof(mapping)
    grow_now(mapping)
    assert sys.getsizeof(mapping) > size
    assert mapping == {f"k{i}": i for i in range(85)}
    grown = sys.getsizeof(mapping)
    mapping["k85"] = 85  # the insertion that would have grown it does not
    assert sys.getsizeof(mapping) == grown


async def test_a_batch_is_cut_where_the_tables_dicts_grow_and_each_grows_in_its_own_turn(
    monkeypatch,
):
    monkeypatch.setattr(table_module, "GROWTH_NOTED_ROWS", 10)
    app = TableApp()
    async with app.run_test(size=(40, 20)) as pilot:
        table: VirtualTable[Item] = app.query_one("#t", VirtualTable)
        turns: list[tuple[str, int, int, int]] = []  # what, rows after, both dicts' sizes

        def sizes() -> tuple[int, int]:
            return sys.getsizeof(table._rows), sys.getsizeof(table._order.entries)

        def apply(rows: list[Item]) -> None:
            table.add_rows(rows)
            turns.append(("rows", table.row_count, *sizes()))

        grow_ahead = table.grow_ahead

        def grow() -> bool:
            grew = grow_ahead()
            if grew:
                turns.append(("grow", table.row_count, *sizes()))
            return grew

        monkeypatch.setattr(table, "grow_ahead", grow)
        buffer = RowBuffer(table, apply, interval=60.0, table=table)
        buffer.push(items(0, 30))  # first rows: at once (the dicts grow freely under 10)
        assert table.row_count == 30
        turns.clear()
        buffer._last = None  # (as if the interval had passed: this push flushes)
        buffer.push(items(30, 70))  # 42 is where both dicts grow
        await settle(pilot)
        assert table.row_count == 70
        assert [r.id for r in table.view] == [i.id for i in items(0, 70)]
        kinds = [(what, rows) for what, rows, _, _ in turns]
        assert kinds == [("rows", 42), ("grow", 42), ("rows", 43), ("rows", 70)]
        # Each dict grew in a turn of its own: the order's entries first, then the rows'.
        (_, _, rows0, entries0), (_, _, rows1, entries1), (_, _, rows2, entries2) = turns[:3]
        assert rows1 == rows0 and entries1 > entries0
        assert rows2 > rows1 and entries2 == entries1
        assert grow_ahead() is False  # nothing full any more: it never grows twice


async def test_rows_listed_again_are_not_cut_and_flush_shows_everything(monkeypatch):
    monkeypatch.setattr(table_module, "GROWTH_NOTED_ROWS", 10)
    app = TableApp()
    async with app.run_test(size=(40, 20)) as pilot:
        table: VirtualTable[Item] = app.query_one("#t", VirtualTable)
        table.add_rows(items(0, 42))  # full: the next new key grows the dicts
        assert table.rows_before_growth(items(0, 42)) is None  # all listed again
        assert table.rows_before_growth(items(40, 45)) == 2  # two known, then the third
        applied: list[int] = []

        def apply(rows: list[Any]) -> None:
            applied.append(len(rows))
            table.add_rows(rows)

        buffer = RowBuffer(table, apply, interval=60.0, table=table)
        buffer.push(items(0, 42))
        assert applied == [42]  # one batch: no new key
        buffer._last = 10**12  # (the interval has not passed: the next push waits)
        buffer.push(items(42, 60))
        buffer.flush()  # the listing ended: every row now, in one batch
        assert applied == [42, 18] and table.row_count == 60
        await settle(pilot)
        assert applied == [42, 18]  # nothing left for a later turn
