"""What the user sees while pages are still arriving: the rows that did arrive, the
header, the footer and the count, never a screen-wide spinner."""

from __future__ import annotations

import asyncio

from textual.widgets import LoadingIndicator

from vstui.screens.file_list import FileListScreen
from vstui.screens.store_list import StoreListScreen

from .conftest import GatedTransport, screen_lines, screen_text, settle

SIZE = (120, 40)


async def until(pilot, condition, rounds: int = 1000) -> None:
    """Let the app run until ``condition()`` holds (no settle: a worker is held)."""
    for _ in range(rounds):
        if condition():
            return
        await pilot.pause(0.01)
    raise AssertionError("the screen never got there:\n" + screen_text(pilot.app))


async def held(pilot, gate: GatedTransport) -> None:
    """Wait until a follow-up page is being held at the gate."""
    assert await asyncio.to_thread(gate.holding.wait, 30)
    await pilot.pause()


def rows_shown(app, prefix: str) -> int:
    """How many table rows on screen start with ``prefix`` (a name)."""
    return sum(1 for line in screen_lines(app) if line.startswith(prefix))


def no_spinner(app) -> bool:
    return not app.screen.query(LoadingIndicator)


async def test_store_rows_show_while_later_pages_are_pending_and_during_refresh(make_app):
    gate = GatedTransport(path=r"/vector_stores$")
    app, server = make_app("empty", transport=gate)
    for i in range(450):
        server.account.create_store(name=f"store-{i:03d}", created_at=1_700_000_000 + i)
    gate.close_gate()
    async with app.run_test(size=SIZE) as pilot:
        await held(pilot, gate)
        screen = app.screen
        assert isinstance(screen, StoreListScreen)
        await until(pilot, lambda: rows_shown(app, "store-") >= 30)
        lines = screen_lines(app)
        assert 0 < screen.table.row_count < 450
        assert screen.fetching
        assert any("Name" in line and "Status" in line for line in lines)  # the header
        assert any("loading more…" in line for line in lines)  # the count says more come
        assert "Filter" in lines[-1]  # the footer
        assert no_spinner(app)

        gate.open_gate()
        await settle(pilot)
        assert screen.table.row_count == 450 and not screen.fetching
        assert "450 stores" in screen_text(app) and "loading" not in screen_text(app)

        # `r` refreshes behind the rows: they stay on screen until the last page.
        gate.close_gate()
        await pilot.press("r")
        await held(pilot, gate)
        await until(pilot, lambda: "loading more…" in screen_text(app))
        text = screen_text(app)
        assert "450 stores" in text and rows_shown(app, "store-") >= 30
        assert screen.table.row_count == 450
        assert no_spinner(app)
        gate.open_gate()
        await settle(pilot)
        assert "loading" not in screen_text(app)


async def test_file_rows_show_while_later_pages_are_pending(make_app):
    gate = GatedTransport(path=r"/vector_stores/[^/]+/files$")
    app, server = make_app("empty", transport=gate)
    account = server.account
    store = account.create_store(name="big")
    for i in range(250):
        sim_file = account.add_file(f"doc-{i:03d}.txt", 1000, created_at=1_700_000_000 + i)
        account.attach(store, sim_file, created_at=1_700_000_000 + i, ready_at=0)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")  # the store
        # Its "Synced from" section lists the same files: done before the gate closes
        # (held at the gate, it kept the file list waiting for the gate's 60 s timeout).
        await settle(pilot)
        gate.close_gate()
        await pilot.press("f")  # its files
        await held(pilot, gate)
        screen = app.screen
        assert isinstance(screen, FileListScreen)
        await until(pilot, lambda: rows_shown(app, "doc-") >= 30)
        lines = screen_lines(app)
        assert 0 < screen.table.row_count < 250
        assert any("File name" in line for line in lines)
        assert any("loading more…" in line for line in lines)
        assert no_spinner(app)
        gate.open_gate()
        await settle(pilot)
        assert screen.table.row_count == 250
        assert "250 files" in screen_text(app) and "loading" not in screen_text(app)


def test_the_waiting_line_names_the_oldest_slow_request():
    from vstui.api import InFlight
    from vstui.widgets.waiting import waiting_text

    inflight = [
        InFlight("GET", "/vector_stores", 100.0),
        InFlight("GET", "/files\x1b[2J", 101.0),
        InFlight("POST", "/vector_stores", 109.5),
    ]
    assert waiting_text(inflight, 102.0, after=3, give_up=30) is None
    text = waiting_text(inflight, 110.0, after=3, give_up=30)
    assert text is not None
    assert text.startswith("⧗ Waiting 10 s for GET /vector_stores (and 1 more)")
    assert "gives up after 30 s" in text
    hostile = waiting_text(inflight[1:2], 110.0, after=3, give_up=30)
    assert hostile is not None and "\x1b" not in hostile and "\\x1b[2J" in hostile


async def test_a_slow_request_is_named_on_screen_while_it_waits(make_app):
    from vstui.widgets.waiting import WaitingLine

    gate = GatedTransport(path=r"/vector_stores$")
    app, server = make_app("empty", transport=gate)
    for i in range(450):
        server.account.create_store(name=f"store-{i:03d}", created_at=1_700_000_000 + i)
    gate.close_gate()
    async with app.run_test(size=SIZE) as pilot:
        await held(pilot, gate)
        line = app.screen.query_one(WaitingLine)
        assert not line.display and "Waiting" not in screen_text(app)
        line.after = 0  # no need to wait three real seconds: the request is held anyway
        line.check()
        await pilot.pause()
        assert "for GET /vector_stores" in screen_text(app)
        assert "Help" in screen_lines(app)[-1]  # the footer stays
        gate.open_gate()
        await settle(pilot)
        line.check()
        await pilot.pause()
        assert "Waiting" not in screen_text(app)
