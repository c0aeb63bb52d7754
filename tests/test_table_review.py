"""Review of the big-table speed work: what the table paints must never lag behind the
rows, the cursor, or a filter still looking at rows."""

from __future__ import annotations

import pytest
from rich.text import Text
from textual.app import App, ComposeResult
from textual.content import Content

from vstui.screens.store_list import StoreListScreen
from vstui.widgets import table as table_module
from vstui.widgets.safe import SafeStatic
from vstui.widgets.table import VirtualTable

from .conftest import screen_lines, settle
from .test_table_stream import Item, TableApp


@pytest.fixture
def sliced(monkeypatch):
    """Filters scanned a few rows at a time, with no time budget: a scan is still running
    right after the key that started it."""
    monkeypatch.setattr(table_module, "SCAN_CHUNK", 50)
    monkeypatch.setattr(table_module, "SCAN_FINISH_NOW", 0)  # no scan ends in its first frame
    monkeypatch.setattr(table_module, "SCAN_BUDGET", 0.0)


async def until_filtered(pilot, table: VirtualTable) -> None:
    while table.filtering:
        await pilot.pause()
    await pilot.pause()


async def test_a_row_removed_then_added_again_under_its_key_is_painted_anew():
    """A file detached then attached again, a store a listing left out then back: the
    line drawn for the old row is not reused for the new one."""
    app = TableApp()
    async with app.run_test(size=(40, 20)) as pilot:
        table: VirtualTable[Item] = app.query_one("#t", VirtualTable)
        table.add_rows([Item(f"id{i}", f"n{i}", i) for i in range(30)])
        table.sort_by("size")
        await pilot.pause()
        assert any(line.lstrip().startswith("n1 ") for line in screen_lines(app))
        table.remove_rows(["id1"])
        await pilot.pause()
        table.add_rows([Item("id1", "renamed", 1)])
        await pilot.pause()
        painted = screen_lines(app)
        assert painted[2].lstrip().startswith("renamed ")  # the same place, the new name
        assert not any(line.lstrip().startswith("n1 ") for line in painted)


async def test_typing_on_a_running_filter_keeps_the_cursor_on_its_row(sliced):
    """Fast typing: each key takes over a scan that only put the cursor on its first
    rows. The row to come back to is still the one the cursor was on before typing."""
    app = TableApp()
    async with app.run_test(size=(40, 20)) as pilot:
        table: VirtualTable[Item] = app.query_one("#t", VirtualTable)
        table.add_rows([Item(f"id{i:04d}", f"name{i % 37}", i % 91) for i in range(3000)])
        await pilot.pause()
        table.cursor = 1492  # a "name12" row
        await pilot.pause()
        table.set_filter(None, text="name1")
        assert table.filtering and table.current.id != "id1492"  # not found yet
        table.set_filter(None, text="name12", narrower=True)
        await until_filtered(pilot, table)
        assert table.current.id == "id1492"
        assert any(line.lstrip().startswith("name12 ") for line in screen_lines(app))
        # The user moved the cursor while a scan ran: that choice stands.
        table.set_filter(None, text="name1")
        table.cursor = 3
        assert table.current.id == "id0012"  # name1, name10, name11, name12…
        table.set_filter(None, text="name12", narrower=True)
        await until_filtered(pilot, table)
        assert table.current.id == "id0012"


async def test_escape_while_a_filter_scans_goes_back_to_the_row_it_was_on(make_app, sliced):
    app, server = make_app("empty")
    for i in range(950):
        server.account.create_store(name=f"store-{i:03d}", created_at=1_700_000_000 + i)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, StoreListScreen)
        table = screen.table
        table.cursor = next(i for i, s in enumerate(table.view) if s.name == "store-500")
        await pilot.pause()
        screen.action_filter()
        screen.text_filter = "9"  # (the key's effect, with no pause for the scan to end)
        screen.apply_filter()
        assert table.filtering and table.current.name != "store-500"
        screen.action_clear_filter()
        await settle(pilot)
        assert not table.filtering
        assert table.current.name == "store-500"
        assert any(line.lstrip().startswith("store-500 ") for line in screen_lines(app))


async def test_the_store_list_says_filtering_not_no_match_while_it_looks(make_app, sliced):
    app, server = make_app("empty")
    for i in range(950):
        server.account.create_store(name=f"store-{i:03d}", created_at=1_700_000_000 + i)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, StoreListScreen)
        screen.text_filter = "store-000"  # the oldest: the last row the scan looks at
        screen.apply_filter()
        painted = screen_lines(app)
        assert screen.table.filtering
        assert any("0 shown so far, filtering…" in line for line in painted)
        assert any(line.strip() == "Filtering…" for line in painted)
        assert not any("No store matches" in line for line in painted)
        await settle(pilot)
        painted = screen_lines(app)
        assert any(line.lstrip().startswith("store-000 ") for line in painted)
        assert not any("Filtering…" in line for line in painted)
        screen.text_filter = "no-such-store"
        screen.apply_filter()
        await settle(pilot)
        assert any("No store matches the filter" in line for line in screen_lines(app))


class StaticApp(App[None]):
    def compose(self) -> ComposeResult:
        yield SafeStatic("", id="s")


@pytest.mark.parametrize(
    ("first", "then"),
    [
        (Text("3 failed", style="green"), Text("3 failed", style="red")),
        (Content.styled("3 failed", "green"), Content.styled("3 failed", "red")),
        (Text("3 failed"), Text("3 failed", justify="right")),
    ],
)
async def test_a_status_whose_words_stay_but_whose_look_changes_is_painted_again(first, then):
    app = StaticApp()
    async with app.run_test(size=(40, 3)) as pilot:
        static = app.query_one("#s", SafeStatic)
        static.update(first)
        await pilot.pause()
        static.update(then)
        await pilot.pause()
        assert static.content is then or static.content == then
        assert static.visual is not None
        shown = static.content
        if isinstance(then, Text):
            assert isinstance(shown, Text)
            assert (shown.style, shown.justify) == (then.style, then.justify)
        else:
            assert isinstance(shown, Content) and shown.spans == then.spans


async def test_file_names_arriving_while_a_filter_scans_leave_a_final_count(make_app, sliced):
    """The file names land (the table sorts and filters everything again, at once) while
    a filter is still scanning: the status says the count, not "filtering…" for ever."""
    from vstui.screens.file_list import FileListScreen

    app, server = make_app("empty")
    account = server.account
    with account.lock:
        store = account.create_store(name="docs")
        for i in range(400):
            attached = account.add_file(filename=f"f{i:03d}.md", size=1_000)
            account.attach(store, attached, outcome=("completed", None))
        chosen = next(f for f in account.files.values() if f.filename == "f005.md")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await app.push_screen(FileListScreen(store.id))
        await settle(pilot)
        screen = app.screen
        table = screen.table
        table.cursor = next(i for i, f in enumerate(table.view) if f.id == chosen.id)
        screen.text_filter = "f00"
        screen.apply_filter()
        assert table.filtering and table.current.id != chosen.id
        table.resort()  # what the names' arrival does (FileListScreen._load_names)
        await settle(pilot)
        status = screen_lines(app)[1]
        assert "filtering" not in status
        assert "10 shown" in status
        assert table.current.id == chosen.id  # the row the cursor was on before the filter


async def test_the_scrollbar_thumb_follows_a_filter_whose_first_rows_hid_the_bar(sliced):
    """Scrolled far down, a filter starts: its first slice is too short for a scrollbar,
    the view goes to the top meanwhile, then the bar comes back: its thumb is at the top
    (Textual moves a thumb only while its bar is shown)."""
    app = TableApp()
    async with app.run_test(size=(40, 20)) as pilot:
        table: VirtualTable[Item] = app.query_one("#t", VirtualTable)
        table.add_rows([Item(f"id{i:04d}", f"name{i % 37}", i % 91) for i in range(400)])
        table.cursor = 300
        await pilot.pause()
        assert table.vertical_scrollbar.position == table.scroll_offset.y > 250
        table.set_filter(None, text="name1")
        await until_filtered(pilot, table)
        assert table.shown_count > 100 and table.scroll_offset.y == 0
        assert table.vertical_scrollbar.position == 0
        # Painted: the thumb (a quarter of the bar's height) ends on the 4th line.
        ends = [i for i, line in enumerate(screen_lines(app)) if line.endswith("▅▅")]
        assert ends == [3]


async def test_a_tooltip_shows_a_hostile_name_as_typed_and_does_not_crash(make_app):
    """The whole value of a cut cell, in a tooltip: server text, never markup (a closing
    tag that matches nothing used to raise in Textual's tooltip timer: a crash on hover)."""
    import httpx

    from .conftest import KEY

    app, server = make_app("empty")
    app.TOOLTIP_DELAY = 0.01  # (the timer that shows it: not waited for, paused through)
    hostile = "[/bogus][@click=app.quit]click me[/] " + "x" * 60
    response = httpx.post(
        f"{server.base_url}/vector_stores",
        json={"name": hostile},
        headers={"Authorization": f"Bearer {KEY}"},
    )
    assert response.status_code == 200
    async with app.run_test(size=(80, 24), tooltips=True) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, StoreListScreen)
        table = app.screen.table
        assert any("[/bogus][@click=app.quit]" in line for line in screen_lines(app))
        await pilot.hover("#stores", offset=(5, 1))
        tip = app.screen.query_one("#textual-tooltip")
        for _ in range(200):  # until Textual's tooltip timer has run
            if tip.display:
                break
            await pilot.pause(0.01)
        await pilot.pause()
        assert str(table.tooltip) == hostile
        painted = "\n".join(screen_lines(app))
        assert "click me[/]" in painted  # the tooltip, as typed (wrapped at 40 cells)
        assert app.is_running


async def test_deleting_the_cursors_store_in_a_filtered_list_leaves_the_cursor_in_place(make_app):
    """As k9s: the cursor goes to the next row, not to the top of a long list."""
    from vstui.screens.dialogs import ConfirmScreen

    app, server = make_app("demo")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, StoreListScreen)
        await pilot.press("slash", "e", "enter")
        await settle(pilot)
        table = screen.table
        table.cursor = 5
        await pilot.pause()
        victim, following = table.view[5], table.view[6]
        await pilot.press("ctrl+d")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.click("#confirm")
        await settle(pilot)
        assert victim.id not in server.account.stores
        assert table.cursor == 5 and table.current.id == following.id
        assert not any(victim.id in line for line in screen_lines(app))
        await pilot.press("enter")  # opens the store under the cursor
        await settle(pilot)
        assert app.screen.store_id == following.id


async def test_mark_all_and_save_while_a_filter_scans_take_every_matching_row(
    make_app, sliced, tmp_path, monkeypatch
):
    """`a` and ctrl+s pressed before a scan ends act on what the filter will show, not
    on the rows found so far."""
    import csv

    monkeypatch.chdir(tmp_path)
    app, server = make_app("empty")
    for i in range(950):
        server.account.create_store(name=f"store-{i:03d}", created_at=1_700_000_000 + i)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, StoreListScreen)
        screen.text_filter = "store-1"
        screen.apply_filter()
        assert screen.table.filtering and screen.table.shown_count < 111
        screen.action_save_table()
        assert not screen.table.filtering
        [saved] = tmp_path.glob("*.csv")
        with saved.open(encoding="utf-8") as handle:
            names = sorted(row["name"] for row in csv.DictReader(handle))
        assert names == sorted(f"store-{i:03d}" for i in range(950) if f"{i:03d}".startswith("1"))
        screen.text_filter = "store-2"
        screen.apply_filter()
        assert screen.table.filtering
        screen.action_mark_all()
        await until_filtered(pilot, screen.table)
        assert len(screen.table.marked) == 100  # store-200 … store-299
        assert "100 marked" in screen_lines(app)[1]


async def test_end_pressed_while_a_filter_scans_goes_to_the_last_matching_row(sliced):
    app = TableApp()
    async with app.run_test(size=(40, 20)) as pilot:
        table: VirtualTable[Item] = app.query_one("#t", VirtualTable)
        table.add_rows([Item(f"id{i:04d}", f"name{i % 37}", i % 91) for i in range(3000)])
        table.focus()
        await pilot.pause()
        table.set_filter(None, text="name1")
        assert table.filtering
        table.action_jump(-1)  # G / end
        await until_filtered(pilot, table)
        assert table.cursor == table.shown_count - 1
        last = table.view[-1]
        assert table.current is last and last.id == "id2998"  # 2998 % 37 == 1: "name1"
        assert screen_lines(app)[19].lstrip().startswith(f"{last.name} ")


async def test_a_live_update_taking_the_cursors_row_out_of_the_filter_leaves_the_cursor(
    make_app, clock
):
    """Status filter "in progress": the store under the cursor finishes ingesting and
    leaves the list; the cursor stays at its place (the next store), not the top."""
    from .test_loading import until

    app, server = make_app("empty", refresh=0.2)
    account = server.account
    with account.lock:
        for i in range(6):
            store = account.create_store(name=f"ingest-{i}", created_at=1_700_000_000 + i)
            attached = account.add_file(filename=f"n{i}.md", size=2_000)
            ready = clock.now() + (60 if i == 3 else 6_000)
            account.attach(store, attached, ready_at=ready, outcome=("completed", None))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, StoreListScreen)
        await pilot.press("f", "f")  # all → expired → in progress
        table = screen.table
        await until(pilot, lambda: len(table.view) == 6)
        table.cursor = 2
        await pilot.pause()
        assert table.current.name == "ingest-3"  # newest first
        clock.advance(120)  # ingest-3 finishes on the server
        await until(pilot, lambda: len(table.view) == 5)
        assert table.cursor == 2 and table.current.name == "ingest-2"
        assert not any("ingest-3" in line for line in screen_lines(app))


@pytest.mark.flavored
async def test_a_file_filter_that_hides_every_file_says_so_not_that_the_store_is_empty(
    make_app, llama
):
    from vstui.screens.file_list import FileListScreen

    app, server = make_app("empty")
    account = server.account
    with account.lock:
        store = account.create_store(name="docs")
        for name in ("sla-43.txt", "refund-policy-88.pdf"):
            account.attach(store, account.add_file(filename=name, size=1_000))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await app.push_screen(FileListScreen(store.id))
        await settle(pilot)
        await pilot.press("slash", "m", "d")
        await settle(pilot)
        painted = "\n".join(screen_lines(app))
        assert "0 shown" in painted
        assert "No file matches the filter. Escape clears it." in painted
        assert "No files in this store" not in painted
        await pilot.press("escape")
        await settle(pilot)
        painted = "\n".join(screen_lines(app))
        assert "sla-43.txt" in painted and "No file matches" not in painted


async def test_the_batch_monitor_says_a_filter_hides_its_rows_not_that_there_are_none(make_app):
    from vstui.screens.batch_monitor import BatchMonitorScreen

    app, _server = make_app("demo")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("b")
        await settle(pilot)
        monitor = app.screen
        assert isinstance(monitor, BatchMonitorScreen)
        assert monitor.batches.row_count == 3 and monitor.stores.row_count == 3
        await pilot.press("slash", *"no-such-thing")
        await settle(pilot)
        painted = "\n".join(screen_lines(app))
        assert painted.count("Nothing matches the filter. Escape clears it.") == 2
        assert "No batches yet" not in painted and "No store has files" not in painted
        await pilot.press("escape")
        await settle(pilot)
        assert "Nothing matches" not in "\n".join(screen_lines(app))


@pytest.mark.flavored
async def test_the_clean_up_review_shows_unreported_store_usage_as_unknown(make_app, llama):
    """llama-stack reports no usage: the review list says 'unknown' as the store list
    does, not '0 B' beside a summary that says sizes are unknown, not zero."""
    from vstui.screens.cleanup import CleanupScreen

    app, _server = make_app("demo")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("X")
        await settle(pilot)
        assert isinstance(app.screen, CleanupScreen)
        # (screen_lines joins the cells of a row without the spaces between them)
        rows = [line for line in screen_lines(app) if line.lstrip().startswith("store")]
        rows = [row for row in rows if "stores to delete" not in row]
        assert len(rows) == 9
        if llama:
            assert "sizes and the saving are unknown" in "\n".join(screen_lines(app))
            assert all("unknown" in row and "0 B" not in row for row in rows)
        else:
            assert not any("unknown" in row for row in rows)
