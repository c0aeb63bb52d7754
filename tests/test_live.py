"""Live and honest screens: what is shown follows the account without a key press, streams
in, says when an object is gone, warns before an expiry surprises, and says read-only."""

from __future__ import annotations

from vstui.refresh import Pacer, Rotation
from vstui.screens.dialogs import ConfirmScreen
from vstui.screens.store_detail import ExpiryPrompt, StoreDetailScreen
from vstui.screens.store_list import StoreListScreen
from vstui.sim.entities import DAY

from .conftest import notes, screen_lines, screen_text, settle
from .test_loading import until

SIZE = (120, 40)
FAST = 0.2  # seconds between auto-refreshes in these tests


def row_line(app, name: str) -> str:
    return next((line for line in screen_lines(app) if name in line), "")


async def test_a_store_that_finishes_ingesting_changes_without_a_key_press(make_app, clock):
    app, server = make_app("empty", refresh=FAST)
    account = server.account
    with account.lock:
        store = account.create_store(name="live-ingest")
        sim_file = account.add_file(filename="notes.md", size=2_000)
        account.attach(store, sim_file, ready_at=clock.now() + 60, outcome=("completed", None))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, StoreListScreen)
        assert "in_progress" in row_line(app, "live-ingest")
        clock.advance(120)  # the file finishes processing on the server
        await until(pilot, lambda: "completed" in row_line(app, "live-ingest"))
        assert "1/1" in row_line(app, "live-ingest")


async def test_new_and_deleted_stores_follow_the_account_with_cursor_and_marks_kept(make_app):
    app, server = make_app("demo", refresh=FAST)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, StoreListScreen)
        table = screen.table
        table.cursor = 3
        current = table.current
        await pilot.press("space")  # marks row 3, cursor moves on
        marked = set(table.marked)
        doomed = next(s for s in table.view if s.id not in marked and s is not table.current)
        server.account.delete_store(doomed.id)
        server.account.create_store(name="brand-new-store")
        await until(pilot, lambda: "brand-new-store" in screen_text(app))
        await until(pilot, lambda: "gone" in row_line(app, doomed.display_name))
        assert table.marked == marked
        assert current is not None and current.id in table.marked
        assert "1 gone" in str(screen.query_one("#status").render())
        assert "updated" in str(screen.query_one("#status").render())


async def test_a_store_deleted_through_the_api_turns_into_a_gone_banner(make_app):
    app, server = make_app("demo", refresh=FAST)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        store = next(s for s in app.screen.table.view if s.status == "completed")
        await app.push_screen(StoreDetailScreen(store.id, store))
        await settle(pilot)
        assert "is gone" not in screen_text(app)
        server.account.delete_store(store.id)
        await until(pilot, lambda: "is gone" in screen_text(app))
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, StoreDetailScreen) and screen.gone
        footer = screen_lines(app)[-1]
        assert "Rename" not in footer and "Delete" not in footer and "Files" not in footer
        requests = len(server.simulator.log)
        for _ in range(5):
            await pilot.pause(FAST)
        assert len(server.simulator.log) == requests, list(server.simulator.log)[requests:]
        await pilot.press("escape")
        await settle(pilot)
        assert store.display_name not in screen_text(app)


async def test_r_on_a_deleted_store_marks_it_gone_instead_of_keeping_stale_fields(make_app):
    app, server = make_app("demo")  # auto-refresh off: r alone finds out
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        store = app.screen.table.view[0]
        await app.push_screen(StoreDetailScreen(store.id, store))
        await settle(pilot)
        server.account.delete_store(store.id)
        await pilot.press("r")
        await settle(pilot)
        assert "is gone" in screen_text(app)


async def test_a_300ms_listing_shows_rows_before_the_last_page(make_app):
    app, _server = make_app("large", latency_ms=300)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, StoreListScreen)
        await until(pilot, lambda: screen.table.row_count >= 100, rounds=3000)
        assert screen.fetching  # the last page has not arrived
        text = screen_text(app)
        assert "loading more" in text
        assert "Name" in text and "Status" in text  # the header row
        assert sum(1 for line in screen_lines(app) if "-0" in line) > 10  # rows


async def test_the_expiry_dialog_warns_before_a_store_expires_at_once(make_app, clock):
    app, server = make_app("empty")
    now = clock.now()
    created = server.account.create_store(
        name="idle-archive", created_at=int(now - 90 * DAY), last_active_at=int(now - 45 * DAY)
    )
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, StoreDetailScreen)
        await pilot.press("x")
        await pilot.pause()
        assert isinstance(app.screen, ExpiryPrompt)
        await pilot.press(*"60")
        await pilot.pause()
        assert "unless it is used" in screen_text(app)
        assert "IMMEDIATELY" not in screen_text(app)
        await pilot.press("backspace", "backspace", *"30")
        await pilot.pause()
        assert "IMMEDIATELY" in screen_text(app)  # as it is typed, before OK
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)  # a second, explicit confirmation
        await pilot.press("escape")
        await settle(pilot)
        assert server.account.stores[created.id].expires_after is None  # nothing sent
        await pilot.press("x", *"30", "enter")
        await pilot.pause()
        await pilot.click("#confirm")
        await settle(pilot)
        assert server.account.stores[created.id].expires_after == {
            "anchor": "last_active_at",
            "days": 30,
        }


async def test_read_only_shows_a_badge_hides_writes_and_says_so_when_pressed(make_app):
    app, _server = make_app("demo", read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        lines = screen_lines(app)
        assert "READ-ONLY" in lines[0]
        assert "Delete" not in lines[-1]
        assert "X to clean up" not in screen_text(app)
        for key in ("ctrl+d", "X"):
            await pilot.press(key)
            await pilot.pause()
            assert isinstance(app.screen, StoreListScreen)
        assert sum("read-only profile" in n for n in notes(app)) == 2
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, StoreDetailScreen)
        for key in ("e", "x", "m"):
            await pilot.press(key)
            await pilot.pause()
            assert isinstance(app.screen, StoreDetailScreen)
        assert sum("read-only profile" in n for n in notes(app)) == 5
        await pilot.press("question_mark")
        await pilot.pause()
        help_text = screen_text(app)
        assert "Metadata" not in help_text and "Expiry" not in help_text
        assert "Copy ID" in help_text


def test_pacer_follows_the_server_and_backs_off_on_429():
    pacer = Pacer(5)
    assert pacer.done() == 5
    assert pacer.done(poll_after_ms=12_000) == 12
    assert pacer.done(poll_after_ms=1_000) == 5  # never faster than asked
    assert pacer.done(rate_limited=True) == 10
    assert pacer.done(rate_limited=True) == 20
    assert pacer.done() == 5
    assert not Pacer(0).enabled


def test_rotation_reads_ingesting_first_and_every_row_in_turn():
    rotation = Rotation(2)
    assert rotation.pick(["a"], ["a", "b", "c", "d"]) == ["a", "b"]
    assert rotation.pick(["a"], ["a", "b", "c", "d"]) == ["a", "c"]
    assert rotation.pick(["a"], ["a", "b", "c", "d"]) == ["a", "d"]
    assert set(rotation.pick([], ["b", "c"])) == {"b", "c"}


async def test_a_file_finishes_processing_and_its_row_changes_without_a_key_press(make_app, clock):
    from vstui.screens.file_list import FileListScreen

    app, server = make_app("empty", refresh=FAST)
    account = server.account
    with account.lock:
        store = account.create_store(name="docs")
        first = account.add_file(filename="first.md", size=1_000)
        account.attach(store, first, ready_at=clock.now() + 60, outcome=("completed", None))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await app.push_screen(FileListScreen(store.id))
        await settle(pilot)
        assert "in_progress" in row_line(app, "first.md")
        # Elsewhere: a second file is created and attached after the names were listed.
        with account.lock:
            second = account.add_file(filename="second.md", size=1_000)
            account.attach(store, second, ready_at=clock.now() + 60)
        clock.advance(120)
        await until(pilot, lambda: "completed" in row_line(app, "first.md"))
        await until(pilot, lambda: "second.md" in screen_text(app))
        assert "(deleted file)" not in screen_text(app)
        server.account.delete_store(store.id)
        await until(pilot, lambda: "is gone" in screen_text(app))


async def test_deleting_a_file_everywhere_does_not_come_back_on_r(make_app):
    from vstui.screens.file_list import FileListScreen

    app, server = make_app("demo")
    store = next(s for s in server.account.stores.values() if len(s.files) >= 2)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await app.push_screen(FileListScreen(store.id))
        await settle(pilot)
        screen = app.screen
        victim = screen.table.current
        await pilot.press("ctrl+d")
        await pilot.pause()
        await pilot.click("#confirm")
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        assert screen.table.get(victim.id) is None
        assert "(deleted file)" not in screen_text(app)


async def test_a_batch_that_404s_says_why_stops_polling_and_is_forgotten_with_a_shown_key(
    make_app,
):
    from vstui.screens.batch_monitor import BatchMonitorScreen

    app, server = make_app("demo", remember=False)
    store = next(iter(server.account.stores.values()))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("b")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, BatchMonitorScreen)
        screen.track(store.id, "vsfb_nope")
        await settle(pilot)
        text = screen_text(app)
        assert "not found" in row_line(app, "vsfb_nope")
        assert "0 batches running" in text
        assert any("vsfb_nope" in n and "404" in n for n in notes(app))
        assert "Forget" in screen_lines(app)[-1]
        tracked = screen.monitor.tracked["vsfb_nope"]
        assert tracked.gone
        assert tracked not in [t for t in screen.monitor.tracked.values() if not t.terminal]
        await pilot.press("delete")
        await settle(pilot)
        assert "vsfb_nope" not in screen_text(app)
        assert not app.session.state.batches(app.session.account_key)


async def test_cleanup_review_space_excludes_a_row_and_the_typed_count_follows(make_app, clock):
    from vstui.screens.cleanup import CleanupScreen

    app, server = make_app("demo")
    account = server.account
    now = account.now()
    expired = {s.id for s in account.stores.values() if s.to_json(now)["status"] == "expired"}
    assert len(expired) >= 2
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("X")
        await settle(pilot, rounds=6)
        screen = app.screen
        assert isinstance(screen, CleanupScreen)
        kept = screen.table.current
        await pilot.press("space")
        await pilot.pause()
        assert "excluded" in row_line(app, kept.id)
        assert f"{len(expired) - 1} items will be deleted" in screen_text(app)
        await pilot.press("up", "space")  # re-included
        assert f"{len(expired) - 1} items" not in screen_text(app)
        await pilot.press("up", "space")  # excluded again
        await pilot.press("ctrl+d")
        await pilot.pause()
        assert f"Type {len(expired) - 1} to confirm" in screen_text(app)
        await pilot.press(*str(len(expired) - 1), "enter")
        await settle(pilot, rounds=6)
        assert screen.report is not None and screen.report.ok
    assert kept.id in account.stores
    assert not (expired - {kept.id}) & set(account.stores)


def test_refresh_is_set_by_flag_or_config_and_zero_turns_it_off(tmp_path):
    import pytest

    from vstui import config as config_mod
    from vstui.cli import build_parser

    parser = build_parser()
    assert parser.parse_args(["--refresh", "0"]).refresh == 0
    assert parser.parse_args(["--refresh", "2.5"]).refresh == 2.5
    assert parser.parse_args([]).refresh is None
    with pytest.raises(SystemExit):
        parser.parse_args(["--refresh", "-1"])
    path = tmp_path / "config.toml"
    path.write_text("refresh_seconds = 0\n")
    assert config_mod.load(path).refresh_seconds == 0
    path.write_text("refresh_seconds = -3\n")
    with pytest.raises(config_mod.ConfigError, match="refresh_seconds"):
        config_mod.load(path)


async def test_auto_refresh_backs_off_on_429(make_app):
    from vstui.sim import Fault

    app, server = make_app("demo", refresh=FAST)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        server.simulator.inject(Fault(path="/vector_stores$", method="GET", status=429, times=3))
        await until(pilot, lambda: screen._pacer.delay > FAST)
        assert screen._pacer.delay >= 2 * FAST
        assert isinstance(app.screen, StoreListScreen)  # no crash, no dialog


async def test_a_store_marked_gone_and_listed_again_is_painted_as_it_is(make_app):
    """A 404 that was only a moment's doubt: the next full listing has the store, and its
    row stops saying gone (no line drawn while it was gone is painted again)."""
    app, server = make_app("empty")
    for i in range(950):  # pages: the first ones are painted before the listing ends
        server.account.create_store(name=f"store-{i:03d}", created_at=1_700_000_000 + i)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, StoreListScreen)
        store = screen.table.view[2]
        screen.gone.add(store.id)
        screen.table.refresh_rows()
        await pilot.pause()
        assert "gone" in row_line(app, store.display_name)
        await pilot.press("r")
        await settle(pilot)
        assert "gone" not in row_line(app, store.display_name)
        assert "gone" not in str(screen.query_one("#status").render())
