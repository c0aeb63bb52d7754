"""Snapshots of every screen and dialog at 120x40, from the frozen-clock demo account."""

from __future__ import annotations

import pytest

from .conftest import settle

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
