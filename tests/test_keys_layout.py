"""Issue 12: one key map on every table screen, help generated from the bindings, and a
layout that fits the terminal. Over real HTTP against the simulator; assertions on what
the screen shows."""

from __future__ import annotations

import pytest
from textual.widgets import Input

from vstui.screens.dialogs import ConfirmScreen, HelpScreen, JsonScreen, PromptScreen
from vstui.screens.file_list import FileListScreen
from vstui.screens.store_list import StoreListScreen
from vstui.widgets.table import Column, plan_layout

from .conftest import notes, screen_lines, screen_text, settle


def _col(key: str, width: int, **kw) -> Column[str]:
    return Column(key, key.title(), width, str, **kw)


def test_layout_drops_low_priority_columns_and_says_so():
    columns = [
        _col("name", 20, min_width=10, priority=1, grow=True),
        _col("id", 27, min_width=14, priority=2, grow=True, max_width=30),
        _col("status", 11, priority=1),
        _col("usage", 8, priority=3),
        _col("chunking", 14, priority=6),
    ]
    narrow = plan_layout(columns, 60)
    assert [columns[i].key for i in narrow.shown] == ["name", "id", "status"]
    assert narrow.hidden_label == "2 columns hidden"
    wide = plan_layout(columns, 200)
    assert wide.hidden == 0
    widths = dict(zip([columns[i].key for i in wide.shown], wide.widths, strict=True))
    assert widths["id"] == 30 and widths["name"] > 100  # the space goes to name and ID
    assert sum(wide.widths) + len(wide.widths) - 1 + 2 == 200


async def _store_list(make_app, size=(120, 40)):
    app, server = make_app("demo")
    return app, server, app.run_test(size=size)


async def _to_files(pilot) -> None:
    app = pilot.app
    table = app.screen.table
    table.cursor = next(i for i, s in enumerate(table.view) if s.name == "customer-tickets-q3")
    await pilot.press("enter")
    await settle(pilot)
    await pilot.press("f")
    await settle(pilot)
    assert isinstance(app.screen, FileListScreen)


async def _at_stores(pilot) -> None:
    assert isinstance(pilot.app.screen, StoreListScreen)


async def _to_batches(pilot) -> None:
    from vstui.screens.batch_monitor import BatchMonitorScreen

    await pilot.press("b")
    await settle(pilot)
    assert isinstance(pilot.app.screen, BatchMonitorScreen)


SCREENS = {"stores": _at_stores, "files": _to_files}
ALL_TABLES = {**SCREENS, "batches": _to_batches}


def _cursor_row(app):
    return app.screen.table.current


@pytest.mark.parametrize("screen", list(ALL_TABLES))
@pytest.mark.parametrize("key", ["j", "k", "g", "G", "pagedown", "pageup"])
async def test_movement_keys(make_app, screen, key):
    app, _ = make_app("demo")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await ALL_TABLES[screen](pilot)
        table = app.screen.table
        table.cursor = 1
        await pilot.pause()
        await pilot.press(key)
        await pilot.pause()
        last = len(table.view) - 1
        expected = {
            "j": 2,
            "k": 0,
            "g": 0,
            "G": last,
            "pagedown": min(last, 1 + table.scrollable_content_region.height - 2),
            "pageup": 0,
        }[key]
        assert table.cursor == expected


@pytest.mark.parametrize("screen", list(SCREENS))
async def test_marks_sort_and_filter_keys(make_app, screen):
    app, _ = make_app("demo")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await SCREENS[screen](pilot)
        table = app.screen.table
        await pilot.press("space", "space")
        assert len(table.marked) == 2
        assert "2 marked" in screen_text(app)
        await pilot.press("A")
        assert not table.marked and "marked" not in screen_text(app)
        await pilot.press("a")
        assert len(table.marked) == len(table.view)
        await pilot.press("A")
        await pilot.press("s")
        first_sort = table.sort_column
        assert first_sort is not None
        reverse = table.sort_reverse
        await pilot.press("S")
        assert table.sort_reverse != reverse and table.sort_column == first_sort
        assert ("▼" if table.sort_reverse else "▲") in screen_text(app)
        # `/` over name, ID and status alike; `/!` keeps the rest
        row = table.current
        total = len(table.view)
        await pilot.press("slash", *row.id[:14], "enter")  # (a prefix: each key filters)
        await settle(pilot)
        assert [r.id for r in table.view] == [row.id]
        await pilot.press("escape")
        await pilot.press("slash", *f"!{row.status}", "enter")
        await settle(pilot)
        assert all(r.status != row.status for r in table.view) and len(table.view) < total


@pytest.mark.parametrize("screen", list(ALL_TABLES))
async def test_y_shows_raw_json_and_q_goes_back(make_app, screen):
    app, _ = make_app("demo")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await ALL_TABLES[screen](pilot)
        row = app.screen.table.current
        row = getattr(row, "batch", row)
        await pilot.press("y")
        await pilot.pause()
        assert isinstance(app.screen, JsonScreen)
        assert f'"id":"{row.id}"' in screen_text(app).replace(" ", "")
        await pilot.press("escape")
        depth = len(app.screen_stack)
        await pilot.press("q")
        await pilot.pause()
        if screen == "stores":
            assert not app.is_running or app.return_code == 0  # q on the root quits
        else:
            assert len(app.screen_stack) == depth - 1


@pytest.mark.parametrize("screen", list(SCREENS))
async def test_ctrl_d_one_is_a_short_confirm_many_type_the_count(make_app, screen):
    app, _ = make_app("demo")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await SCREENS[screen](pilot)
        await pilot.press("ctrl+d")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen) and app.screen.require_text is None
        assert "y: " in screen_text(app)
        await pilot.press("n")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmScreen)
        await pilot.press("space", "space", "ctrl+d")
        await settle(pilot)
        if screen == "files":
            assert isinstance(app.screen, ConfirmScreen) and app.screen.require_text == "2"
        else:
            assert app.screen.TITLE == "Clean-up"  # the review screen, count typed there


async def test_bulk_detach_of_marked_files(make_app):
    app, server = make_app("demo")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await _to_files(pilot)
        screen = app.screen
        store_id = screen.store_id
        await pilot.press("space", "space")
        chosen = [r.id for r in screen.table.marked_rows]
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press(*"2", "enter")
        await settle(pilot)
        files = server.account.stores[store_id].files
        assert not any(file_id in files for file_id in chosen)
        assert all(file_id in server.account.files for file_id in chosen)


async def test_confirm_answers_y(make_app):
    app, server = make_app("demo")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        table = app.screen.table
        table.cursor = next(i for i, s in enumerate(table.view) if s.name == "scratch")
        store_id = table.current.id
        await pilot.press("ctrl+d")
        await pilot.pause()
        await pilot.press("y")
        await settle(pilot)
        assert store_id not in server.account.stores
        assert all(r.id != store_id for r in table.view)


async def test_rename_opens_with_the_cursor_at_the_end(make_app):
    app, server = make_app("demo")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        table = app.screen.table
        table.cursor = next(i for i, s in enumerate(table.view) if s.name == "changelog-archive")
        store_id = table.current.id
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("e")
        await pilot.pause()
        assert isinstance(app.screen, PromptScreen)
        await pilot.press(*"-v2", "enter")
        await settle(pilot)
        assert server.account.stores[store_id].name == "changelog-archive-v2"


@pytest.mark.parametrize("screen", ["stores", "files", "detail", "batches"])
async def test_help_lists_every_binding_of_the_screen(make_app, screen):
    app, _ = make_app("demo")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        if screen == "files":
            await _to_files(pilot)
        elif screen == "detail":
            await pilot.press("enter")
            await settle(pilot)
        elif screen == "batches":
            await pilot.press("b")
            await settle(pilot)
        target = app.screen
        described = {
            active.binding.description
            for active in target.active_bindings.values()
            if active.binding.description
        }
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        listed = str(app.screen.query_one("#help-rows").render())
        missing = [d for d in described if d not in listed]
        assert not missing
        keys = (":",) if screen == "detail" else ("j", "k", "g", "G", ":")
        for key in keys:
            assert f" {key} " in listed or f" {key}\n" in listed or f"{key}  " in listed
        # searchable
        await pilot.press("slash", *"sort")
        listed = str(app.screen.query_one("#help-rows").render())
        assert "Sort" in listed or "No key matches" in listed
        assert "Quit" not in listed


async def test_narrow_terminal_hides_columns_and_says_so(make_app):
    app, _ = make_app("demo")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        text = screen_text(app)
        assert "columns hidden" in text
        assert "Created" not in text.splitlines()[2]
        # the cursor row's hidden values are in the detail line
        row = app.screen.table.current
        assert "Created:" in str(app.screen.query_one("#detail").render())
        assert row is not None


async def test_failed_file_opens_its_last_error(make_app):
    from vstui.screens.dialogs import TextPager

    app, _ = make_app("demo")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await _to_files(pilot)
        table = app.screen.table
        failed = next(r for r in table.view if r.status == "failed" and r.last_error)
        table.cursor = table.view.index(failed)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, TextPager)
        assert failed.last_error.code in screen_text(app)
        await pilot.press("slash", *failed.last_error.code[:4], "enter")
        await pilot.pause()
        assert "match 1 of" in screen_text(app)
        await pilot.press("G", "g", "n", "N")


async def test_batch_monitor_filter_status_sort_and_marks(make_app):
    app, _ = make_app("demo")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await _to_batches(pilot)
        screen = app.screen
        table = screen.table
        total = len(table.view)
        first = table.current
        await pilot.press("slash", *first.batch_id[:14], "enter")
        await settle(pilot)
        assert [t.batch_id for t in table.view] == [first.batch_id]
        assert first.batch_id in screen_text(app)
        await pilot.press("escape")
        assert len(table.view) == total
        await pilot.press("f", "f")  # status: completed
        assert all(t.status == "completed" for t in table.view)
        await pilot.press("f", "f", "f")  # back to all
        assert len(table.view) == total
        await pilot.press("s", "S")
        assert table.sort_column is not None
        await pilot.press("space")
        assert len(table.marked) == 1
        await pilot.press("ctrl+d")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert "Keep running" in screen_text(app) and "Cancel batch" in screen_text(app)
        await pilot.press("n")


async def test_create_store_validates_then_creates(make_app):
    """At 80x24 a refused field's message was below the fold of the dialog (nothing
    visible changed on ctrl+s), and only the first problem was told. Now every problem is
    shown under its field, the first field has focus, and its message is on screen."""
    from vstui.screens.create_store import CreateStoreScreen

    app, server = make_app("demo")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        before = set(server.account.stores)
        await pilot.press("n")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, CreateStoreScreen)
        text = screen_text(app)
        assert "Create" in text and "ctrl+s: Create" in text  # buttons and keys at 80x24
        form.query_one("#name").value = "release-notes"
        form.query_one("#days").value = "400"
        form.query_one("#metadata").value = "team docs"
        await pilot.press("ctrl+s")
        await settle(pilot)
        text = " ".join(line.strip(" █") for line in screen_lines(app))
        assert "a whole number of days from 1 to 365" in text
        assert "'team docs' is not key=value." in text  # both at once
        assert form.query_one("#days").has_focus
        assert set(server.account.stores) == before  # nothing was sent
        await pilot.press("backspace", "backspace", "backspace", "3", "0")
        await pilot.pause()
        text = screen_text(app)
        assert "1 to 365" not in text and "'team docs' is not key=value." in text
        form.query_one("#metadata").value = "team=docs, env=prod"
        form.query_one("#chunking").value = "static"
        form.query_one("#size").value = "800"
        form.query_one("#overlap").value = "500"
        form.query_one("#files").value = "file-1 file-1"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert form.query_one("#overlap").has_focus
        text = screen_text(app)
        assert "overlap" in text and "key=value" not in text
        form.query_one("#overlap").value = "400"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert form.query_one("#files").has_focus
        assert "A file ID appears twice." in screen_text(app)  # at the bottom: scrolled to
        form.query_one("#files").value = ""
        await pilot.press("ctrl+s")
        await settle(pilot)
        new = set(server.account.stores) - before
        assert len(new) == 1
        store = server.account.stores[new.pop()]
        assert store.name == "release-notes" and store.metadata == {"team": "docs", "env": "prod"}
        assert app.screen.table.current.name == "release-notes"


def _dialog_text(app) -> str:
    """The screen's text with a dialog's wrapped lines joined (frame and padding off)."""
    return " ".join(" ".join(line.strip(" █▊▎").split()) for line in screen_lines(app))


async def test_expiry_dialog_validates_as_typed_and_drops_a_stale_message(make_app):
    """A refused `0` left its message under the dialog after `12` was typed (under the
    new preview), and `999` or `12a` got no message until Enter. Now the message is
    about what is in the box, as it is typed; nothing refused reaches the server."""
    from vstui.screens.store_detail import ExpiryPrompt, StoreDetailScreen

    app, server = make_app("demo")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, StoreDetailScreen)
        await pilot.press("x")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, ExpiryPrompt)
        field = dialog.query_one(Input)
        await pilot.press(*["backspace"] * len(field.value), "0")
        await pilot.pause()
        range_error = "expected a value between 1 and 365, but got 0 instead."
        assert range_error in _dialog_text(app)
        posts = server.simulator.count("POST", r"^/v1/vector_stores/")
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is dialog and range_error in _dialog_text(app)
        await pilot.press("backspace", "1", "2")
        await pilot.pause()
        text = _dialog_text(app)
        assert "Expires at" in text and "Invalid" not in text  # the preview, no stale error
        await pilot.press("a")
        await pilot.pause()
        assert "Enter a whole number of days (1–365)" in _dialog_text(app)
        await pilot.press("backspace", "backspace", "backspace", "9", "9", "9")
        await pilot.pause()
        assert "but got 999 instead." in _dialog_text(app)
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is dialog
        assert server.simulator.count("POST", r"^/v1/vector_stores/") == posts  # none sent


async def test_go_to_files_names_the_store(make_app):
    app, _ = make_app("demo")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        store = app.screen.table.current
        commands = {c.title: c.help for c in app.get_system_commands(app.screen)}
        assert commands["Go to: files"] == f"Files of {store.display_name}"


def test_footer_fit_drops_whole_keys_from_the_end_but_keeps_quit():
    from vstui.widgets.footer import fit_keys

    assert fit_keys([7, 9, 9, 8], [True, False, False, True], 40) == [True] * 4
    assert fit_keys([7, 9, 9, 8], [True, False, False, True], 25) == [True, True, False, True]
    assert fit_keys([7, 9, 9, 8], [True, False, False, True], 10) == [True, False, False, True]


def _footer_is_whole(app, width: int) -> None:
    from textual.widgets import Footer
    from textual.widgets._footer import FooterKey

    footer = app.screen.query_one(Footer)
    keys = list(footer.query(FooterKey))
    assert keys and footer.virtual_size.width <= width
    assert all(k.region.right <= width for k in keys)
    line = screen_lines(app)[-1].rstrip()
    last = keys[-1]
    # the last visible key is whole: the footer line ends with its full label
    assert line.endswith(f"{last.key_display} {last.description}"), line
    assert line.endswith("^q Quit"), line


async def test_every_footer_fits_at_80x24(make_app):
    from vstui.screens.cleanup import CleanupScreen
    from vstui.screens.store_detail import StoreDetailScreen

    app, _ = make_app("demo")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        seen = []

        async def check(kind) -> None:
            await settle(pilot)
            assert isinstance(app.screen, kind)
            _footer_is_whole(app, 80)
            seen.append(kind.__name__)

        await check(StoreListScreen)
        await pilot.press("enter")
        await check(StoreDetailScreen)
        await pilot.press("escape")
        await settle(pilot)
        await _to_files(pilot)
        await check(FileListScreen)
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        from vstui.screens.batch_monitor import BatchMonitorScreen

        await pilot.press("b")
        await check(BatchMonitorScreen)
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("X")
        await check(CleanupScreen)
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("O")
        await check(CleanupScreen)
        # widening the terminal brings the dropped keys back
        await pilot.press("escape")
        await settle(pilot)
        await pilot.resize_terminal(200, 50)
        await settle(pilot)
        assert "Batches" in screen_lines(app)[-1]
        assert len(seen) == 6


async def test_ctrl_d_cancels_every_marked_running_batch(make_app, clock):
    from vstui.screens.batch_monitor import BatchMonitorScreen

    app, server = make_app("demo")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("b")
        await settle(pilot)
        monitor = app.screen
        assert isinstance(monitor, BatchMonitorScreen)
        table = monitor.batches
        table.cursor = 0
        await pilot.pause()
        await pilot.press("space", "space")
        marked = [t.batch_id for t in table.marked_rows]
        unmarked = [t.batch_id for t in table.rows if t.batch_id not in marked]
        assert len(marked) == 2 and len(unmarked) == 1
        table.cursor = 2  # the cursor is on the unmarked one: the marks win
        await pilot.pause()
        await pilot.press("ctrl+d")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        text = screen_text(app)
        assert "Cancel 2 running batches?" in text
        await pilot.press("n")  # no: nothing is cancelled
        await settle(pilot)
        assert all(server.account.batches[b].cancel_requested_at is None for b in marked)
        await pilot.press("ctrl+d")
        await pilot.pause()
        await pilot.press("y")
        await settle(pilot)
        assert all(server.account.batches[b].cancel_requested_at is not None for b in marked)
        assert server.account.batches[unmarked[0]].cancel_requested_at is None
        shown = screen_text(app).replace("^d Cancel marked", "")  # (the footer's key)
        assert not table.marked and "marked" not in shown
        assert "Cancelling 2 batches…" in notes(app)
        clock.advance(900)
        await pilot.press("r")
        await settle(pilot)
        assert {table.get(b).status for b in marked} == {"cancelled"}
        assert table.get(unmarked[0]).status == "completed"
        assert sum("cancelled" in line for line in screen_lines(app)) >= 2
        # with only finished batches marked, nothing is sent and the screen says why
        await pilot.press("a", "ctrl+d")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmScreen)
        assert "None of the marked batches is running." in notes(app)


async def test_typing_a_filter_lays_out_nothing_outside_the_box_from_the_first_key(make_app):
    """Textual's Input sizes its scrolling area on the first keystroke (from nothing to
    the box's width), which laid out the whole screen again: 50 ms on 100,000 rows. The
    filter box has that size from the start; no key of a filter that fits lays out."""
    from textual.widget import Widget

    from vstui.widgets.filter_input import FilterInput

    app, _ = make_app("demo")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        await settle(pilot)
        box = app.screen.query_one(FilterInput)
        layouts: list[str] = []
        refresh = Widget.refresh

        def noted(self: Widget, *regions, **flags):  # type: ignore[no-untyped-def]
            if flags.get("layout") and isinstance(self, FilterInput):
                layouts.append(type(self).__name__)  # (a loading line may come and go)
            return refresh(self, *regions, **flags)

        Widget.refresh = noted  # type: ignore[method-assign]
        try:
            await pilot.press(*"docs")
            await settle(pilot)
        finally:
            Widget.refresh = refresh  # type: ignore[method-assign]
        assert box.value == "docs" and "docs" in screen_text(app)
        assert layouts == []


def _burst(app, keys: str) -> None:
    """Keys read from the terminal in one burst (typed fast, or pasted): all queued
    before the first is handled, as the driver queues them."""
    from textual import events

    for char in keys:
        app.post_message(events.Key("slash" if char == "/" else char, char))


async def test_keys_typed_with_slash_go_to_the_filter_box(make_app):
    """`/docs` in one burst filtered on "ocs" or nothing: focus moved only after the
    keys already queued, which went to the table (`s` sorted). `/` inside the box
    stays text; on the clean-up screen it opens that screen's filter."""
    from vstui.screens.cleanup import CleanupScreen
    from vstui.widgets.filter_input import FilterInput

    app, _ = make_app("demo")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        sort_before = screen.table.sorting
        _burst(app, "/tmp-eval")
        await settle(pilot)
        box = screen.query_one(FilterInput)
        assert box.has_focus and box.value == "tmp-eval"
        assert screen.table.sorting == sort_before  # the `s`... never reached the table
        assert {s.name for s in screen.table.view} == {"tmp-eval-run-0412", "tmp-eval-run-0419"}
        lines = screen_lines(app)
        assert any("tmp-eval" in line and "filter" not in line for line in lines[:6])
        _burst(app, "/x")
        await settle(pilot)
        assert box.value == "tmp-eval/x"  # typed into the box, not a new filter
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("X")  # the clean-up screen
        await settle(pilot)
        cleanup = app.screen
        assert isinstance(cleanup, CleanupScreen)
        _burst(app, "/zz")
        await settle(pilot)
        assert cleanup.query_one(FilterInput).value == "zz"


async def test_keys_typed_with_slash_go_to_the_help_search(make_app):
    """In help, `/quit` in one burst left the search box empty (`q` closed help): the
    box had focus only after the keys already queued. A `/` in the box is text."""
    app, _ = make_app("demo")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        _burst(app, "/quit")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        text = screen_text(app)
        assert "Quit" in text and "Refresh" not in text
        _burst(app, "/x")
        await settle(pilot)
        assert "No key matches 'quit/x'." in screen_text(app)


async def test_keys_typed_with_slash_go_to_the_content_search(make_app):
    """In the content viewer, `/migrations` in one burst left the search box empty (Enter
    then searched again for the previous text; `n` and `g` moved in the text). A `/` in
    the box is text."""
    from vstui.screens.dialogs import TextPager

    app, _ = make_app("demo")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        for key in ("enter", "f", "v"):
            await pilot.press(key)
            await settle(pilot)
        assert isinstance(app.screen, TextPager)
        found = app.screen.text.lower().count("migrations")
        assert found
        _burst(app, "/migrations")
        await settle(pilot)
        assert any(line.strip(" ▊▎") == "migrations" for line in screen_lines(app))  # the box
        await pilot.press("enter")
        await settle(pilot)
        assert f"match 1 of {found} for 'migrations'" in screen_text(app)
        _burst(app, "/1/2")
        await settle(pilot)
        assert any("1/2" in line for line in screen_lines(app))
        await pilot.press("enter")
        await settle(pilot)
        assert "No match for '1/2'." in screen_text(app)


def test_header_sub_title_gives_up_the_label_and_host_before_the_key():
    from vstui.fmt import header_sub_title

    args = ("vstui · Stores", "default (environment key)", "api.openai.com", "sk-…abcd")
    assert header_sub_title(*args, False, 200) == (
        "default (environment key) · api.openai.com · sk-…abcd"
    )
    assert header_sub_title(*args, False, 80) == "default · api.openai.com · sk-…abcd"
    assert header_sub_title(*args, False, 60) == "default · sk-…abcd"
    assert header_sub_title(*args, True, 50) == "[READ-ONLY] sk-…abcd"


async def test_the_header_keeps_the_masked_key_whole_on_a_narrow_terminal(make_app):
    """At 80 columns the header cut the masked key to "sk-……" (the end of a long title
    line is what Textual cuts); the label's "(…)" and the host give way first, at every
    width the terminal is resized to, on every screen."""
    from vstui.api import mask_key

    from .conftest import KEY

    app, _ = make_app("demo", read_only=True)
    app.session.account_label = "default (environment key)"
    app.session.host = "api.openai.com"
    key = mask_key(KEY)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        header = screen_lines(app)[0]
        assert "[READ-ONLY]" in header and header.rstrip().endswith(key)
        assert "(environment key)" not in header
        await pilot.resize_terminal(200, 50)
        await settle(pilot)
        assert (
            "[READ-ONLY] default (environment key) · api.openai.com · " + key
            in (screen_lines(app)[0])
        )
        await pilot.press("enter")  # a store: another title
        await settle(pilot)
        await pilot.resize_terminal(60, 20)
        await settle(pilot)
        header = screen_lines(app)[0]
        assert header.rstrip().endswith(key) and "Store" in header


def test_open_batch_says_what_is_wrong_with_what_was_pasted():
    from vstui.screens.batch_monitor import parse_batch_reference

    assert parse_batch_reference("vs_a vsfb_b", None) == ("vs_a", "vsfb_b")
    assert parse_batch_reference("vsfb_b", "vs_a") == ("vs_a", "vsfb_b")
    assert "needs the store too" in str(parse_batch_reference("vsfb_b", None))
    assert "store ID" in str(parse_batch_reference("vs_a", None))
    assert "Not a batch ID" in str(parse_batch_reference("garbage", None))


async def test_the_store_list_status_line_keeps_its_ending_at_80_columns(make_app):
    """With a filter on, "… · updated 4s ago" was cut to "updated 4s" at 80 columns: the
    clean-up hint gives way first, then the data's age; a wider terminal shows both."""
    app, _ = make_app("demo")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"tmp-eval-run", "enter", "a")  # a: mark all shown
        await settle(pilot)
        status = screen_lines(app)[1].rstrip()
        assert "filter: 'tmp-eval-run' · 2 marked" in status and status.endswith("9 expired")
        assert "(X to clean up)" not in status
        await pilot.resize_terminal(140, 30)
        await settle(pilot)
        assert "expired (X to clean up)" in screen_lines(app)[1]


async def test_the_file_list_status_line_gives_up_the_store_name_first_at_80_columns(make_app):
    """With a filter on, the file list's status line ran past 80 columns and was cut after
    a "·": the store's name (the header has it) gives way first, then the data's age."""
    from vstui.screens.file_list import FileListScreen

    app, _ = make_app("demo", refresh=30.0)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"customer-acme", "enter", "enter")
        await settle(pilot)
        await pilot.press("f")
        await settle(pilot)
        assert isinstance(app.screen, FileListScreen)
        await pilot.press("slash", *"pdf")
        await settle(pilot)
        status = screen_lines(app)[1].rstrip()
        assert "filter: 'pdf' · updated just now" in status, status
        assert "store demo-customer-acme" not in status and not status.endswith("·")
        await pilot.resize_terminal(160, 30)
        await settle(pilot)
        assert "store demo-customer-acme · updated just now" in screen_lines(app)[1]


async def test_keys_typed_after_tab_go_to_the_next_field(make_app):
    """A form filled fast (or pasted) with Tab between fields: "docs<Tab>30" put "30" in
    the name field, as focus moved only after the keys already queued."""
    from textual import events
    from textual.widgets import Input

    from vstui.screens.create_store import CreateStoreScreen

    app, _ = make_app("demo")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, CreateStoreScreen)
        dialog.query_one("#name", Input).focus()
        await pilot.pause()
        for char in "docs\t30":
            app.post_message(events.Key("tab" if char == "\t" else char, char))
        await settle(pilot)
        assert dialog.query_one("#name", Input).value == "docs"
        assert dialog.query_one("#days", Input).value == "30"
        assert "docs" in screen_text(app) and "30" in screen_text(app)
        app.post_message(events.Key("shift+tab", None))
        await settle(pilot)
        assert dialog.focused is dialog.query_one("#name", Input)
