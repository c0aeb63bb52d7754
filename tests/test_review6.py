"""Review of 2026-12-07: what the day's changes still got wrong."""

from __future__ import annotations

import threading

from textual.widgets import Input

from vstui.screens.batch_monitor import BatchMonitorScreen
from vstui.screens.dialogs import ConfirmScreen
from vstui.screens.file_list import FileListScreen
from vstui.sim import Fault

from .conftest import KEY, notes, screen_lines, screen_text, settle


async def test_a_multi_file_detach_that_fails_partway_removes_and_names_what_was_done(make_app):
    """Two files detached, the second refused: the first had left the store but its row
    stayed and nothing said so (the whole action reported only the error)."""
    app, server = make_app("demo")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        table = app.screen.table
        table.cursor = next(i for i, s in enumerate(table.view) if s.name == "eng-handbook")
        store_id = table.current.id
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("f")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, FileListScreen)
        screen.table.cursor = 0
        await pilot.press("space", "space")
        rows = screen.chosen_rows()
        assert len(rows) == 2
        first, second = rows
        names = {r.id: screen.file_name(r) for r in rows}
        server.simulator.inject(
            Fault(path=f"/vector_stores/{store_id}/files/{second.id}$", method="DELETE", status=400)
        )
        await pilot.press("d")
        assert isinstance(app.screen, ConfirmScreen)
        app.screen.query_one("#confirm-text", Input).value = "2"
        await pilot.click("#confirm")
        await settle(pilot)
        assert first.id not in server.account.stores[store_id].files  # it was detached
        assert second.id in server.account.stores[store_id].files
        shown = {r.id for r in screen.table.rows}
        assert first.id not in shown and second.id in shown
        said = "\n".join(notes(app))
        assert f"Detached {names[first.id]} ({first.id}) from this store." in said
        assert second.id in said  # the failure names the file it stopped at


async def test_two_batches_opened_quickly_are_both_followed(make_app, monkeypatch):
    """Each open checks the batch with the server first; a second open while the first
    check was still on its way dropped the first batch (same worker key): never tracked."""
    app, server = make_app("empty", remember=False)
    account = server.account
    store = account.create_store(name="target")
    batches = [
        account.new_batch(store, [(account.add_file(f"f{i}.txt", 1000), None, None)])
        for i in range(2)
    ]
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("b")
        await settle(pilot)
        monitor = app.screen
        assert isinstance(monitor, BatchMonitorScreen)
        service = app.session.service
        real = service.retrieve_batch
        gate = threading.Event()

        def slow(store_id: str, batch_id: str):
            if batch_id == batches[0].id:
                gate.wait(5)
            return real(store_id, batch_id)

        monkeypatch.setattr(service, "retrieve_batch", slow)
        for batch in batches:
            await pilot.press("o")
            app.screen.query_one(Input).value = f"{store.id} {batch.id}"
            await pilot.press("enter")
            await pilot.pause()
        assert monitor.batches.get(batches[0].id) is None  # still being checked
        gate.set()
        await settle(pilot)
        for _ in range(20):
            if monitor.batches.get(batches[0].id) is not None:
                break
            await pilot.pause(0.05)
        assert monitor.batches.get(batches[1].id) is not None
        assert monitor.batches.get(batches[0].id) is not None


async def test_a_long_store_name_does_not_push_the_masked_key_out_of_the_header(make_app):
    """The sub-title is fitted to the room the title leaves; a store's name that leaves
    none (the file list of a long-named store, at 80 columns) hid the key entirely."""
    from vstui.api import mask_key

    app, server = make_app("empty")
    server.account.create_store(name="customer-support-knowledge-base-2024-q3-archive")
    key = mask_key(KEY)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("f")
        await settle(pilot)
        assert isinstance(app.screen, FileListScreen)
        header = screen_lines(app)[0]
        assert header.rstrip().endswith(key), header
        assert "vstui · Files · customer" in header
        await pilot.resize_terminal(200, 50)
        await settle(pilot)
        header = screen_lines(app)[0]
        assert "customer-support-knowledge-base-2024-q3-archive" in header
        assert header.rstrip().endswith(key)


async def test_the_retry_run_shows_its_progress_bar(make_app, monkeypatch):
    """R runs again what failed; the bar was hidden during that run (the first run's
    "finished" hid it, and a retry never took it off)."""
    import vstui.screens.cleanup as cleanup_screen

    app, server = make_app("demo")
    gate = threading.Event()
    real = cleanup_screen.retry_failed

    def held(*args, **kwargs):
        gate.wait(5)
        return real(*args, **kwargs)

    monkeypatch.setattr(cleanup_screen, "retry_failed", held)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        table = app.screen.table
        table.cursor = 0
        await pilot.press("space", "space")
        first = sorted(s.id for s in table.marked_rows)[0]
        server.simulator.inject(
            Fault(path=f"/vector_stores/{first}$", method="DELETE", status=500, times=3)
        )
        await pilot.press("ctrl+d")
        await settle(pilot)
        screen = app.screen
        await pilot.press("ctrl+d", "2", "enter")
        await settle(pilot, rounds=6)
        assert screen.report is not None and screen.has_class("can-retry")
        assert "0%" not in screen_text(app)
        await pilot.press("R")
        await pilot.pause()
        await pilot.pause()
        shown = screen_text(app)
        gate.set()
        await settle(pilot, rounds=6)
        assert "0%" in shown  # the bar, at its start
        assert screen.report.ok
