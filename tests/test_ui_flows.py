"""Pilot tests: every screen's flows against the simulator (frozen clock), error paths too."""

from __future__ import annotations

import re

from textual.widgets import Input

from vstui.screens.batch_monitor import BatchMonitorScreen
from vstui.screens.dialogs import ConfirmScreen, HelpScreen, PairsEditor, PromptScreen, TextPager
from vstui.screens.file_list import FileListScreen
from vstui.screens.store_detail import StoreDetailScreen
from vstui.screens.store_list import StoreListScreen
from vstui.sim import Fault

from .conftest import KEY, notes, screen_text, settle

SIZE = (120, 40)


def status_text(app) -> str:
    return str(app.screen.query_one("#status").render())


async def fill_pairs(pilot, editor, rows) -> None:
    """Replace the key/value editor's rows: (key, value[, type]) each."""
    from vstui.screens.dialogs import PairRowWidget

    for widget in list(editor.query(PairRowWidget)):
        await widget.remove()
    for key, text, *kind in rows:
        await editor.action_add_row()
        widget = editor.query(PairRowWidget).last()
        widget.query_one(".key").value = key
        widget.query_one(".value").value = text
        if kind:
            widget.query_one("Select").value = kind[0]
    await pilot.pause()


def open_store(app, name: str) -> None:
    table = app.screen.table
    table.cursor = next(i for i, s in enumerate(table.view) if s.name == name)


async def test_store_list_loads_filters_sorts_and_opens(make_app):
    app, server = make_app("demo")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, StoreListScreen)
        total = len(server.account.stores)
        assert screen.table.row_count == total
        assert f"{total} stores" in status_text(app)
        # sorted newest first by default
        created = [s.created_at for s in screen.table.view]
        assert created == sorted(created, reverse=True)
        # `/` filters by name as you type
        await pilot.press("slash", *"tmp-eval")
        assert {s.name for s in screen.table.view} == {"tmp-eval-run-0412", "tmp-eval-run-0419"}
        await pilot.press("enter")  # keeps the filter, back to the table
        assert screen.table.has_focus
        await pilot.press("escape")  # clears it
        assert len(screen.table.view) == total
        # by ID too
        some_id = screen.table.view[5].id
        await pilot.press("slash", *some_id[:12], "enter")
        assert [s.id for s in screen.table.view] == [some_id]
        await pilot.press("escape")
        # status filter: all → expired → in progress → completed
        await pilot.press("f")
        assert screen.table.view and all(s.status == "expired" for s in screen.table.view)
        await pilot.press("f")
        assert all(s.status == "in_progress" for s in screen.table.view)
        await pilot.press("f", "f")
        assert len(screen.table.view) == total
        # sort cycles through columns; S reverses
        await pilot.press("s")
        assert screen.table.sort_column == "active"  # the column after "created"
        await pilot.press("s", "s")  # expires, then name
        assert screen.table.sort_column == "name"
        names = [s.display_name.lower() for s in screen.table.view]
        assert names == sorted(names)
        await pilot.press("S")
        assert [s.display_name.lower() for s in screen.table.view] == sorted(names, reverse=True)
        # Enter opens the store; Escape comes back
        open_store(app, "support-faq")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, StoreDetailScreen)
        assert app.screen.store.name == "support-faq"
        await pilot.press("escape")
        assert isinstance(app.screen, StoreListScreen)


async def test_inverse_filter_file_filter_and_save_table(make_app, tmp_path, monkeypatch):
    import csv

    monkeypatch.chdir(tmp_path)
    app, _ = make_app("demo")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = app.screen.table
        total = table.row_count
        await pilot.press("slash", *"!tmp-eval", "enter")
        assert len(table.view) == total - 2
        assert not any(s.name.startswith("tmp-eval") for s in table.view)
        await pilot.press("ctrl+s")
        saved = list(tmp_path.glob("vstui-stores-*.csv"))
        assert len(saved) == 1
        rows = list(csv.reader(saved[0].open()))
        assert rows[0][:2] == ["name", "id"] and len(rows) == total - 2 + 1
        # Raw values, not display strings: ISO timestamps, integer bytes, a column per count.
        header = rows[0]
        assert {"files_completed", "files_failed", "files_total", "usage"} <= set(header)
        first = dict(zip(header, rows[1], strict=True))
        assert first["usage"].isdigit()
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", first["created"])
        assert first["files_total"].isdigit()
        await pilot.press("escape")
        open_store(app, "customer-tickets-q3")
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("f")
        await settle(pilot)
        files = app.screen.table
        await pilot.press("slash", *"unsupported", "enter")
        assert {screen_name for screen_name in map(app.screen.file_name, files.view)} == {
            "export.zip",
            "dump.bin",
        }
        await pilot.press("escape")  # clears the filter…
        assert len(files.view) == files.row_count
        await pilot.press("escape")  # …then goes back
        assert isinstance(app.screen, StoreDetailScreen)


async def test_store_list_mouse_sorts_and_opens(make_app):
    app, _ = make_app("demo")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = app.screen.table
        await pilot.click("#stores", offset=(4, 0))  # the Name header
        assert table.sort_column == "name"
        await pilot.click("#stores", offset=(4, 3))
        assert table.cursor == 2
        await pilot.click("#stores", offset=(4, 3), times=2)
        await settle(pilot)
        assert isinstance(app.screen, StoreDetailScreen)


async def test_store_list_streams_and_a_failed_page_can_be_retried(make_app, sim):
    app, server = make_app("empty")
    for i in range(450):
        server.account.create_store(name=f"store-{i:03d}", created_at=1_700_000_000 + i)
    # After the first page from each end, every attempt fails (retries included): the pages
    # already loaded stay on screen.
    server.simulator.inject(
        Fault(path="/vector_stores$", method="GET", status=500, times=6, skip=2)
    )
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert 0 < screen.table.row_count < 450
        assert "press r to retry" in status_text(app)
        assert any("HTTP 500" in n and "request req_" in n for n in notes(app))
        await pilot.press("r")
        await settle(pilot)
        assert screen.table.row_count == 450
        assert "retry" not in status_text(app)


async def test_rate_limited_pages_are_retried_quietly(make_app):
    app, server = make_app("demo")
    server.simulator.inject(
        Fault(path="/vector_stores$", status=429, times=2, headers={"retry-after-ms": "20"})
    )
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.screen.table.row_count == len(server.account.stores)
        assert not notes(app)


async def test_malformed_answer_is_a_notification(make_app):
    app, server = make_app("demo")
    server.simulator.inject(
        Fault(path="/vector_stores$", status=200, body="<html>proxy</html>", times=2)
    )
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert any("was not JSON" in n for n in notes(app))
        assert "press r to retry" in status_text(app)
        await pilot.press("r")
        await settle(pilot)
        assert app.screen.table.row_count == len(server.account.stores)


async def test_empty_account_says_so(make_app):
    app, _ = make_app("empty")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.screen.table.empty_text == "This account has no vector stores yet."
        assert "0 stores" in status_text(app)


async def test_store_detail_rename_metadata_expiry(make_app):
    app, server = make_app("demo")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        open_store(app, "support-faq")
        await pilot.press("enter")
        await settle(pilot)
        detail = app.screen
        store_id = detail.store_id
        # rename
        await pilot.press("e")
        assert isinstance(app.screen, PromptScreen)
        await pilot.press("ctrl+a", "ctrl+k", *"faq-2026", "enter")
        await settle(pilot)
        assert server.account.stores[store_id].name == "faq-2026"
        # metadata: invalid input is explained and nothing is sent
        await pilot.press("m")
        editor = app.screen
        assert isinstance(editor, PairsEditor)
        await fill_pairs(pilot, editor, [(f"k{i}", "v") for i in range(17)])
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, PairsEditor)
        assert "at most 16" in str(editor.query_one("#error").render())
        await fill_pairs(pilot, editor, [("env", "prod"), ("owner", "ops")])
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert server.account.stores[store_id].metadata == {"env": "prod", "owner": "ops"}
        # expiry: validated against the API's limits before sending
        await pilot.press("x")
        await pilot.press(*"400", "enter")
        assert isinstance(app.screen, PromptScreen)
        assert "between 1 and 365" in str(app.screen.query_one("#error").render())
        await pilot.press("ctrl+a", "ctrl+k", *"30", "enter")
        await settle(pilot)
        assert server.account.stores[store_id].expires_after == {
            "anchor": "last_active_at",
            "days": 30,
        }
        # and cleared again
        await pilot.press("x", "ctrl+a", "ctrl+k", "enter")
        await settle(pilot)
        assert server.account.stores[store_id].expires_after is None
        # the list shows the new name on return
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen.table.get(store_id).name == "faq-2026"


async def test_store_detail_delete_with_confirmation(make_app):
    app, server = make_app("demo")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        open_store(app, "scratch")
        store_id = app.screen.table.current.id
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("ctrl+d")
        dialog = app.screen
        assert isinstance(dialog, ConfirmScreen) and "scratch" in dialog.title_text
        await pilot.press("escape")  # cancel: nothing happens
        assert store_id in server.account.stores
        await pilot.press("ctrl+d")
        await pilot.click("#confirm")
        await settle(pilot)
        assert store_id not in server.account.stores
        assert isinstance(app.screen, StoreListScreen)
        assert app.screen.table.get(store_id) is None


async def test_search_a_store(make_app):
    from vstui.screens.search import SearchScreen

    app, server = make_app("demo")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        open_store(app, "support-faq")
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("s")
        assert isinstance(app.screen, SearchScreen)
        await pilot.press(*"refund policy", "enter")
        await settle(pilot)
        screen = app.screen
        rows = screen.results.view
        assert rows and all(0 < r[1].score <= 1 for r in rows)
        scores = [r[1].score for r in rows]
        assert scores == sorted(scores, reverse=True)
        assert "score" in str(screen.query_one("#chunk").render())
        assert server.simulator.count("POST", "/search$", 200) == 1
        await pilot.press("escape")
        # an expired store cannot be searched: the API's 400 is a notification
        await pilot.press("escape")
        open_store(app, "scratch")
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("s", *"anything", "enter")
        await settle(pilot)
        assert any("HTTP 400" in n and "expired" in n for n in notes(app))


async def test_store_detail_404_is_a_notification(make_app):
    app, server = make_app("demo")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        open_store(app, "hr-policies")
        store_id = app.screen.table.current.id
        server.account.delete_store(store_id)  # deleted elsewhere meanwhile
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, StoreDetailScreen)
        assert any("HTTP 404" in n and store_id in n for n in notes(app))
        assert "is gone" in screen_text(app)  # a banner, not stale fields


async def test_file_list_names_filter_and_content(make_app):
    app, server = make_app("demo")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        open_store(app, "customer-tickets-q3")
        await pilot.press("enter")
        await settle(pilot)
        files_before = len(server.simulator.log)
        await pilot.press("f")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, FileListScreen)
        names = {screen.file_name(f) for f in screen.table.rows}
        assert "export.zip" in names and "empty-notes.txt" in names
        file_requests = server.simulator.count("GET", r"^/v1/files/")
        assert file_requests == 0  # names come from one bulk listing, not a request per row
        assert server.simulator.count("GET", r"^/v1/files$") == 1
        assert len(server.simulator.log) - files_before <= 4
        # status filter uses the API's `filter`: all → in progress → completed → failed
        await pilot.press("f", "f", "f")
        await settle(pilot)
        failed = screen.table.rows
        assert failed and all(f.status == "failed" for f in failed)
        codes = {f.last_error.code for f in failed}
        assert {"unsupported_file", "invalid_file"} <= codes
        assert server.simulator.count("GET", r"/files\b", None) >= 1
        # parsed content in a pager
        await pilot.press("f", "f")  # cancelled → all
        await settle(pilot)
        screen.table.cursor = next(
            i for i, f in enumerate(screen.table.view) if f.status == "completed"
        )
        await pilot.press("v")
        await settle(pilot)
        assert isinstance(app.screen, TextPager)
        assert len(app.screen.text) > 50
        await pilot.press("escape")
        assert isinstance(app.screen, FileListScreen)


async def test_file_list_detach_delete_and_attributes(make_app):
    app, server = make_app("demo")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        open_store(app, "eng-handbook")
        store_id = app.screen.table.current.id
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("f")
        await settle(pilot)
        screen = app.screen
        first = screen.table.current
        # detach: confirm, then it leaves this store only
        name = screen.file_name(first)
        await pilot.press("d")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.click("#confirm")
        await settle(pilot)
        assert first.id not in server.account.stores[store_id].files
        # the notice names the file (it gave the ID alone)
        assert f"Detached {name} ({first.id}) from this store." in notes(app)
        assert first.id in server.account.files
        # delete entirely: the dialog says it leaves every store
        second = screen.table.current
        await pilot.press("ctrl+d")
        body = str(app.screen.body)
        assert "It also leaves [b]every other store[/b] it is attached to" in body
        await pilot.click("#confirm")
        await settle(pilot)
        assert second.id not in server.account.files
        # attributes: validated, typed
        target = screen.table.current
        await pilot.press("e")
        editor = app.screen
        await fill_pairs(pilot, editor, [("k", "x" * 513)])
        await pilot.press("ctrl+s")
        assert "string too long" in str(editor.query_one("#error").render())
        rows = [("lang", "en"), ("version", "3", "number"), ("public", "true", "boolean")]
        await fill_pairs(pilot, editor, [*rows, ("code", "007")])
        await pilot.press("ctrl+s")
        await settle(pilot)
        attrs = server.account.stores[store_id].files[target.id].attributes
        assert attrs == {"lang": "en", "version": 3, "public": True, "code": "007"}


async def test_batch_monitor_polls_notifies_and_cancels(make_app, clock):
    app, server = make_app("demo")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("b")
        await settle(pilot)
        monitor = app.screen
        assert isinstance(monitor, BatchMonitorScreen)
        assert monitor.batches.row_count == 3
        assert len(monitor.monitor.ingesting) == 3
        assert all(t.status == "in_progress" for t in monitor.batches.rows)
        # cancel one, with confirmation
        monitor.batches.cursor = 0
        target = monitor.batches.current
        await pilot.press("x")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.click("#confirm")
        await settle(pilot)
        assert server.account.batches[target.batch_id].cancel_requested_at is not None
        # time passes: everything finishes, and the monitor says so
        clock.advance(900)
        await pilot.press("r")
        await settle(pilot)
        assert all(t.terminal for t in monitor.batches.rows)
        assert monitor.batches.get(target.batch_id).status == "cancelled"
        finished = [n for n in notes(app) if "completed," in n]
        assert len(finished) >= 3
        assert not monitor.monitor.ingesting
        # Enter opens a batch's files; polling pauses while hidden
        stats = app.session.service.stats
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, FileListScreen) and app.screen.batch_id
        assert monitor.paused
        requests = stats.requests
        await pilot.pause(0.3)
        assert stats.requests == requests  # nothing polled while hidden
        clock.advance(120)  # a rescan is due: the poll on return makes requests
        await pilot.press("escape")
        await settle(pilot)
        assert not monitor.paused and stats.requests > requests


async def test_batch_monitor_open_by_id_and_backoff(make_app, clock):
    app, server = make_app("empty", remember=False)
    account = server.account
    store = account.create_store(name="target")
    files = [account.add_file(f"f{i}.txt", 10_000_000) for i in range(4)]
    batch = account.new_batch(store, [(f, None, None) for f in files])
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("b")
        await settle(pilot)
        monitor = app.screen
        assert monitor.batches.row_count == 0
        await pilot.press("o")
        # (The IDs are put in the box, not typed key by key: 90 keys took 6 s.)
        box = app.screen.query_one(Input)
        box.value = batch.id
        await pilot.press("enter")
        assert "needs the store" in str(app.screen.query_one("#error").render())
        # a typo: said at once, nothing added (it was listed as "not found")
        box.value = f"{store.id} vsfb_nosuchbatch"
        await pilot.press("enter")
        await settle(pilot)
        assert monitor.batches.row_count == 0 and not app.session.state.batches(
            app.session.account_key
        )
        assert any(f"No batch vsfb_nosuchbatch in store {store.id}" in n for n in notes(app))
        await pilot.press("o")
        box = app.screen.query_one(Input)
        box.value = f"{store.id} {batch.id}"
        await pilot.press("enter")
        await settle(pilot)
        tracked = monitor.batches.get(batch.id)
        assert tracked is not None and tracked.batch.file_counts.total == 4
        assert app.session.state.batches(app.session.account_key)[0].batch_id == batch.id
        # rate and ETA appear once time passes
        clock.advance(30)
        await pilot.press("r")
        await settle(pilot)
        # a 429 storm doubles the interval
        server.simulator.inject(Fault(path="/file_batches/", status=429, times=3))
        await pilot.press("r")
        await settle(pilot)
        assert monitor.monitor.interval > 2.0


async def test_help_palette_and_jumps(make_app):
    app, _ = make_app("demo")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        text = str(app.screen.query_one("#help-rows").render())
        assert "Filter" in text and "Clean up" in text
        await pilot.press("escape")
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Go to: batch monitor" in titles and "Stores: Refresh" in titles
        assert "Stores: Filter" in titles
        command = next(
            c for c in app.get_system_commands(app.screen) if c.title == "Go to: batch monitor"
        )
        command.callback()
        await settle(pilot)
        assert isinstance(app.screen, BatchMonitorScreen)
        jump = next(c for c in app.get_system_commands(app.screen) if c.title == "Go to: stores")
        jump.callback()
        await pilot.pause()
        assert isinstance(app.screen, StoreListScreen)


async def test_palette_by_keyboard(make_app):
    from textual.command import CommandPalette

    app, _ = make_app("demo")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause(0.2)
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"batch monitor")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, BatchMonitorScreen)
        await pilot.press("colon")  # k9s-style jump opens the same palette
        await pilot.pause(0.2)
        assert isinstance(app.screen, CommandPalette)


async def test_names_with_markup_characters_are_shown_as_typed(make_app):
    app, server = make_app("empty")
    account = server.account
    store = account.create_store(
        name="[draft] notes [/b]",
        description="[red]not red[/red] [/]",
        metadata={"[k]": "[/v]"},
    )
    weird = account.add_file("[x] report [/i].md", 100)
    account.attach(store, weird)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"[draft", "enter")
        assert "[draft" in status_text(app)
        await pilot.press("enter")
        await settle(pilot)
        assert "[draft] notes [/b]" in screen_text(app)
        assert "[red]not red[/red] [/]" in screen_text(app)
        await pilot.press("ctrl+d")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("escape", "f")
        await settle(pilot)
        await pilot.press("d")
        await pilot.pause()
        assert "[x] report [/i].md" in screen_text(app)
        await pilot.press("escape")


async def test_header_shows_masked_key_only(make_app):
    app, _ = make_app("demo")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen_text = app.export_screenshot()
        assert "sk-…stuv" in screen_text and KEY not in screen_text


async def test_read_only_hides_and_refuses(make_app):
    app, server = make_app("demo", read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        footer_keys = {
            ab.binding.action for ab in app.screen.active_bindings.values() if ab.enabled
        }
        assert "delete_marked" not in footer_keys and "refresh" in footer_keys
        before = len(server.account.stores)
        await pilot.press("ctrl+d")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmScreen)
        titles = {c.title for c in app.get_system_commands(app.screen)}
        assert "Stores: Delete" not in titles and "Stores: Refresh" in titles  # hidden
        assert any("read-only profile" in n for n in notes(app))  # the key said so
        assert len(server.account.stores) == before
