"""Rows streamed into the table land where a full sort and filter would put them; the
cursor stays on the top row while pages arrive; the first page can be fetched before the
UI exists (prefetch)."""

from __future__ import annotations

import argparse
import random
from dataclasses import dataclass

from textual.app import App, ComposeResult

from vstui import prefetch
from vstui.api import ClientSettings
from vstui.screens.store_list import StoreListScreen
from vstui.widgets.table import Column, VirtualTable

from .conftest import KEY, screen_lines, settle


@dataclass
class Item:
    id: str
    name: str
    size: int


def columns() -> list[Column[Item]]:
    return [
        Column("name", "Name", 10, lambda r: r.name, lambda r: r.name),
        Column("size", "Size", 6, lambda r: str(r.size), lambda r: r.size, "right"),
    ]


class TableApp(App[None]):
    def compose(self) -> ComposeResult:
        table: VirtualTable[Item] = VirtualTable(columns(), row_key=lambda r: r.id, id="t")
        table.search_fields = lambda r: (r.id, r.name)
        yield table


def expected(
    rows: dict[str, Item], column: str | None, reverse: bool, text: str, small: bool
) -> list[str]:
    """What a full sort and filter shows: arrival order, stable sort, a reversed sort
    reads the ascending order backwards."""
    keep = [
        r
        for r in rows.values()
        if (not text or text in f"{r.id}\0{r.name}".lower()) and (not small or r.size < 50)
    ]
    if column is not None:
        keep.sort(key=(lambda r: r.name) if column == "name" else (lambda r: r.size))
        if reverse:
            keep.reverse()
    return [r.id for r in keep]


async def test_pages_filters_and_sorts_match_a_full_rebuild():
    rng = random.Random(7)
    app = TableApp()
    async with app.run_test(size=(40, 20)) as pilot:
        table: VirtualTable[Item] = app.query_one("#t", VirtualTable)
        rows: dict[str, Item] = {}
        column: str | None = None
        reverse = False
        text = ""
        small = False
        for step in range(120):
            action = rng.random()
            if action < 0.55:  # a page: new rows and a few replaced ones
                page = [
                    Item(f"id{rng.randrange(400):03d}", rng.choice("abcdef") * 2, rng.randrange(99))
                    for _ in range(rng.randrange(1, 12))
                ]
                unique = {item.id: item for item in page}
                for item in unique.values():
                    rows[item.id] = item
                table.add_rows(list(unique.values()))
            elif action < 0.65 and rows:
                gone = rng.sample(sorted(rows), min(len(rows), 3))
                for key in gone:
                    del rows[key]
                table.remove_rows(gone)
            elif action < 0.8:
                column = rng.choice([None, "name", "size"])
                reverse = rng.random() < 0.5
                table.sort_by(column, reverse)
            else:
                grown = text + rng.choice("abid0")
                text = grown if rng.random() < 0.7 and len(grown) < 4 else ""
                small = rng.random() < 0.3
                table.set_filter((lambda r: r.size < 50) if small else None, text=text)
            view = [r.id for r in table.view]
            assert view == expected(rows, column, reverse, text, small), step
            assert table.shown_count == len(view) and table.row_count == len(rows)
        await pilot.pause()


async def test_a_narrowed_filter_shows_what_a_fresh_one_does():
    app = TableApp()
    async with app.run_test(size=(40, 20)):
        table: VirtualTable[Item] = app.query_one("#t", VirtualTable)
        table.add_rows([Item(f"id{i:04d}", f"name{i % 37}", i % 91) for i in range(3000)])
        table.sort_by("size", reverse=True)
        for typed in ["n", "na", "nam", "name", "name1", "name12"]:
            table.set_filter(None, text=typed, narrower=True)
            narrowed = [r.id for r in table.view]
            table.set_filter(None, text=typed)
            assert narrowed == [r.id for r in table.view]


async def test_the_cursor_stays_on_the_newest_store_while_pages_arrive(make_app):
    app, server = make_app("empty")
    for i in range(950):
        server.account.create_store(name=f"store-{i:03d}", created_at=1_700_000_000 + i)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, StoreListScreen)
        assert screen.table.row_count == 950 and screen.table.cursor == 0
        lines = [line for line in screen_lines(app) if "store-" in line]
        assert lines[0].lstrip().startswith("store-949")  # newest first, at the top
        assert lines[1].lstrip().startswith("store-948")
        assert screen.table.current is not None and screen.table.current.name == "store-949"


def _args(**values: object) -> argparse.Namespace:
    base: dict[str, object] = {
        "command": None,
        "demo": False,
        "config": None,
        "profile": None,
        "base_url": None,
        "timeout": None,
    }
    base.update(values)
    return argparse.Namespace(**base)


def test_prefetched_pages_are_the_accounts_and_are_taken_once(make_sim, monkeypatch, tmp_path):
    server = make_sim("empty")
    for i in range(250):
        server.account.create_store(name=f"store-{i:03d}", created_at=1_700_000_000 + i)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("VSTUI_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("VSTUI_STATE_DIR", str(tmp_path / "state"))
    prefetch._run(_args(base_url=server.base_url))  # what the thread does, here in the test
    other = ClientSettings(api_key="sk-someone-else-0000", base_url=server.base_url)
    assert prefetch.take(other) is None  # another account: nothing, and it is dropped
    prefetch._run(_args(base_url=server.base_url))
    pages = prefetch.take(ClientSettings(api_key=KEY, base_url=server.base_url))
    assert pages is not None
    names = sorted(s.name or "" for page in pages for s in page)
    assert names == [f"store-{i:03d}" for i in range(250)]
    assert prefetch.take(ClientSettings(api_key=KEY, base_url=server.base_url)) is None


def test_no_prefetch_for_subcommands_the_demo_or_a_keyring_key(monkeypatch):
    started: list[object] = []

    class Thread:
        def __init__(self, **kw: object) -> None:
            self.kw = kw

        def start(self) -> None:
            started.append(self.kw)

    monkeypatch.setattr(prefetch.threading, "Thread", Thread)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    prefetch.start(["cleanup", "--expired", "--dry-run"])
    prefetch.start(["--demo"])
    prefetch.start(["--help"])
    prefetch.start(["--profile", "work", "sync", "./docs", "x"])
    assert started == []
    prefetch.start(["--profile", "work", "--read-only"])
    assert len(started) == 1  # the browser on a real account
    monkeypatch.delenv("OPENAI_API_KEY")
    prefetch.start([])
    assert len(started) == 1


async def test_a_big_sort_is_built_in_a_worker_and_catches_up_with_new_rows(monkeypatch):
    from vstui.widgets import table as table_module

    monkeypatch.setattr(table_module, "BACKGROUND_SORT_ROWS", 100)
    app = TableApp()
    async with app.run_test(size=(40, 20)) as pilot:
        table: VirtualTable[Item] = app.query_one("#t", VirtualTable)
        rows = {
            f"id{i:04d}": Item(f"id{i:04d}", f"n{(i * 7919) % 500:03d}", i % 13) for i in range(500)
        }
        table.add_rows(list(rows.values()))
        table.sort_by("name")
        # Rows arrive and go while the order is being built: the result has them all.
        extra = [Item(f"new{i}", f"n{i * 3:03d}", i) for i in range(20)]
        table.add_rows(extra)
        table.remove_rows(["id0001", "id0002"])
        for item in extra:
            rows[item.id] = item
        del rows["id0001"], rows["id0002"]
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        assert table.sort_column == "name"
        assert [r.id for r in table.view] == expected(rows, "name", False, "", False)
        header = next(line for line in screen_lines(app) if "Name" in line)
        assert "Name ▲" in header


def test_the_early_frame_paints_only_printable_text_in_the_lists_columns():
    stores = [
        {"id": "vs_abc", "name": "evil\x1b[2J\u202ename\nnext", "status": "completed"},
        {"id": "vs_def", "name": None, "status": "in_progress"},
        "not a store",
    ]
    frame = prefetch._frame(stores, 80, 10)
    body = frame.split("\x1b[2J", 1)[1]  # after the frame's own clear-screen
    assert "\x1b[2J" not in body and "\u202e" not in body and "\n" not in body.replace("\r\n", "")
    lines = body.split("\r\n")
    assert "Name" in lines[2] and "ID" in lines[2] and "Status" in lines[2]
    assert lines[3].startswith("  evil[2Jnamenext") and "vs_abc" in lines[3]
    assert lines[4].startswith("  (unnamed)") and "in_progress" in lines[4]
    assert len(lines) == 5 and all(len(line) <= 80 for line in lines[3:])


async def test_a_filter_typed_back_reuses_its_result_until_the_rows_change():
    app = TableApp()
    async with app.run_test(size=(40, 20)):
        table: VirtualTable[Item] = app.query_one("#t", VirtualTable)
        table.add_rows([Item(f"id{i:04d}", f"name{i % 37}", i % 91) for i in range(2000)])
        table.set_filter(None, text="name1", cache_key="name1")
        first = [r.id for r in table.view]
        table.set_filter(None, text="name12", narrower=True, cache_key="name12")
        table.set_filter(None, text="name1", cache_key="name1")  # backspace
        assert [r.id for r in table.view] == first
        table.add_rows([Item("new", "name1-new", 5)])  # the rows changed: filtered afresh
        table.set_filter(None, text="name12", cache_key="name12")
        table.set_filter(None, text="name1", cache_key="name1")
        assert [r.id for r in table.view] == [*first, "new"]


class CountingApp(TableApp):
    def __init__(self) -> None:
        super().__init__()
        self.filtered = 0

    def on_virtual_table_filtered(self) -> None:
        self.filtered += 1


async def test_a_sliced_filter_shows_the_top_rows_first_and_ends_where_a_full_one_does(
    monkeypatch,
):
    """A big table is filtered a slice at a time (here forced: 50 rows a slice, no time
    budget): what is shown meanwhile is always the top of the final result, a filter
    typed on top of a running one narrows it, and a change to the rows finishes it."""
    from vstui.widgets import table as table_module

    monkeypatch.setattr(table_module, "SCAN_CHUNK", 50)
    monkeypatch.setattr(table_module, "SCAN_FINISH_NOW", 0)  # no scan ends in its first frame
    monkeypatch.setattr(table_module, "SCAN_BUDGET", 0.0)
    app = CountingApp()
    async with app.run_test(size=(40, 20)) as pilot:
        table: VirtualTable[Item] = app.query_one("#t", VirtualTable)
        rows = {f"id{i:04d}": Item(f"id{i:04d}", f"name{i % 37}", i % 91) for i in range(3000)}
        table.add_rows(list(rows.values()))
        for column, reverse in [(None, False), ("size", True), ("name", False)]:
            table.sort_by(column, reverse)
            await pilot.pause()
            before = app.filtered
            table.set_filter(None, text="")  # done at once
            table.set_filter(None, text="name1")
            assert table.filtering
            want = expected(rows, column, reverse, "name1", False)
            so_far = [table.row_at(i).id for i in range(table.shown_count)]
            assert len(so_far) < len(want) and so_far == want[: len(so_far)]
            table.set_filter(None, text="name12", narrower=True)  # typed on top of it
            while table.filtering:
                await pilot.pause()
            await pilot.pause()
            assert app.filtered == before + 2  # "" and "name12" (the one taken over: not)
            assert [r.id for r in table.view] == expected(rows, column, reverse, "name12", False)
        table.set_filter(None, text="name3")
        assert table.filtering
        table.add_rows([Item("new", "name3-new", 1)])  # finishes the scan, then adds
        rows["new"] = Item("new", "name3-new", 1)
        assert not table.filtering
        assert [r.id for r in table.view] == expected(rows, "name", False, "name3", False)


async def test_the_store_list_paints_a_filters_first_rows_then_its_final_count(
    make_app, monkeypatch
):
    from vstui.widgets import table as table_module

    monkeypatch.setattr(table_module, "SCAN_CHUNK", 100)
    monkeypatch.setattr(table_module, "SCAN_FINISH_NOW", 0)  # no scan ends in its first frame
    monkeypatch.setattr(table_module, "SCAN_BUDGET", 0.0)
    app, server = make_app("empty")
    for i in range(950):
        server.account.create_store(name=f"store-{i:03d}", created_at=1_700_000_000 + i)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, StoreListScreen)
        screen.text_filter = "store-9"
        screen.apply_filter()
        painted = screen_lines(app)  # the frame right after the key
        assert any("shown so far, filtering…" in line for line in painted)
        rows = [line.strip() for line in painted if line.strip().startswith("store-")]
        assert rows and rows[0].startswith("store-949")  # newest match first, at once
        await settle(pilot)
        painted = screen_lines(app)
        assert not any("filtering" in line for line in painted)
        assert any("50 shown" in line for line in painted)  # store-900…949
