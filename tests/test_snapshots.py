"""Snapshots of every screen and dialog at 120x40, from the frozen-clock demo account."""

from __future__ import annotations

import pytest

from .conftest import screen_text, settle

SIZE = (120, 40)


async def _open(pilot, name: str) -> None:
    table = pilot.app.screen.table
    table.cursor = next(i for i, s in enumerate(table.view) if s.name == name)
    await pilot.press("enter")
    await settle(pilot)


@pytest.fixture
def demo_app(make_app):
    app, _ = make_app("demo")
    return app


def test_store_list(snap_compare, demo_app):
    assert snap_compare(demo_app, terminal_size=SIZE, run_before=settle)


def test_store_list_filtered_expired(snap_compare, demo_app):
    async def run_before(pilot):
        await settle(pilot)
        await pilot.press("f", "space", "space")

    assert snap_compare(demo_app, terminal_size=SIZE, run_before=run_before)


def test_store_list_empty_account(snap_compare, make_app):
    app, _ = make_app("empty")
    assert snap_compare(app, terminal_size=SIZE, run_before=settle)


def test_store_detail(snap_compare, demo_app):
    async def run_before(pilot):
        await settle(pilot)
        await _open(pilot, "customer-tickets-q3")

    assert snap_compare(demo_app, terminal_size=SIZE, run_before=run_before)


def test_file_list_with_failures(snap_compare, demo_app):
    async def run_before(pilot):
        await settle(pilot)
        await _open(pilot, "customer-tickets-q3")
        await pilot.press("f")
        await settle(pilot)

    assert snap_compare(demo_app, terminal_size=SIZE, run_before=run_before)


def test_batch_monitor(snap_compare, demo_app):
    async def run_before(pilot):
        await settle(pilot)
        await pilot.press("b")
        await settle(pilot)

    assert snap_compare(demo_app, terminal_size=SIZE, run_before=run_before)


def test_confirm_delete_dialog(snap_compare, demo_app):
    async def run_before(pilot):
        await settle(pilot)
        await _open(pilot, "scratch")
        await pilot.press("ctrl+d")

    assert snap_compare(demo_app, terminal_size=SIZE, run_before=run_before)


def test_expiry_prompt_with_error(snap_compare, demo_app):
    async def run_before(pilot):
        await settle(pilot)
        await _open(pilot, "support-faq")
        await pilot.press("x", *"0", "enter")

    assert snap_compare(demo_app, terminal_size=SIZE, run_before=run_before)


def test_metadata_editor(snap_compare, demo_app):
    async def run_before(pilot):
        await settle(pilot)
        await _open(pilot, "support-faq")
        await pilot.press("m")

    assert snap_compare(demo_app, terminal_size=SIZE, run_before=run_before)


def test_help(snap_compare, demo_app):
    async def run_before(pilot):
        await settle(pilot)
        await pilot.press("question_mark")

    assert snap_compare(demo_app, terminal_size=SIZE, run_before=run_before)


def test_content_pager(snap_compare, demo_app):
    async def run_before(pilot):
        await settle(pilot)
        await _open(pilot, "support-faq")
        await pilot.press("f")
        await settle(pilot)
        await pilot.press("v")
        await settle(pilot)

    assert snap_compare(demo_app, terminal_size=SIZE, run_before=run_before)


def test_search(snap_compare, demo_app):
    async def run_before(pilot):
        await settle(pilot)
        await _open(pilot, "support-faq")
        await pilot.press("s", *"refund policy", "enter")
        await settle(pilot)

    assert snap_compare(demo_app, terminal_size=SIZE, run_before=run_before)


# -- every screen and dialog at the smallest and a large terminal --------------------------
#
# Each also asserts, on the rendered screen, that the dialog's buttons and key hints are
# on screen (not cut off below the bottom edge).


async def _to_store(pilot, name: str = "support-faq") -> None:
    await settle(pilot)
    await _open(pilot, name)


async def _files(pilot) -> None:
    await _to_store(pilot, "customer-tickets-q3")
    await pilot.press("f")
    await settle(pilot)


SCENES = {
    "store_list": (settle, ()),
    "store_detail": (_to_store, ()),
    "file_list": (_files, ()),
    "batch_monitor": (lambda p: _then(p, settle, "b"), ()),
    "help": (lambda p: _then(p, settle, "question_mark"), ("escape: back",)),
    "metadata_editor": (lambda p: _then(p, _to_store, "m"), ("Save", "Cancel", "ctrl+s: Save")),
    "rename": (lambda p: _then(p, _to_store, "e"), ("OK", "enter: OK")),
    "confirm_delete": (lambda p: _then(p, _to_store, "ctrl+d"), ("Delete", "y: Delete")),
    "attributes_editor": (lambda p: _then(p, _files, "e"), ("Save", "ctrl+s: Save")),
    "raw_json": (lambda p: _then(p, settle, "y"), ("c: copy",)),
    "cleanup_review": (lambda p: _then(p, settle, "X"), ()),
    "create_store": (lambda p: _then(p, settle, "n"), ("Create", "ctrl+s: Create")),
    "search": (lambda p: _then(p, _to_store, "s", *"refund policy", "enter"), ("Chunk",)),
    "content_pager": (lambda p: _then(p, _files, "v"), ("Search",)),
    "cancel_batch": (lambda p: _then(p, settle, "b", "x"), ("Keep running", "Cancel batch")),
}


async def _then(pilot, before, *keys: str) -> None:
    await before(pilot)
    await pilot.press(*keys)
    await settle(pilot)


@pytest.mark.parametrize("size", [(80, 24), (200, 50)], ids=["80x24", "200x50"])
@pytest.mark.parametrize("scene", list(SCENES))
def test_every_screen_fits(snap_compare, make_app, scene, size):
    app, _ = make_app("demo")
    before, must_show = SCENES[scene]

    async def run_before(pilot):
        await before(pilot)
        shown = screen_text(pilot.app)
        for text in must_show:
            assert text in shown, f"{text!r} is not visible at {size}"

    assert snap_compare(app, terminal_size=size, run_before=run_before)
