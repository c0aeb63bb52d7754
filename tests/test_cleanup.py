"""Clean-up against the simulator with rate limits and injected 5xx: nothing lost."""

from __future__ import annotations

import argparse
import io
import json
import re
from collections import Counter
from dataclasses import replace

import pytest

from vstui import fmt
from vstui.api import ClientSettings, VectorStoresService
from vstui.cleanup import build_plan, execute, retry_failed
from vstui.commands import cleanup as headless
from vstui.screens.cleanup import CleanupScreen
from vstui.screens.dialogs import ConfirmScreen
from vstui.screens.store_list import StoreListScreen
from vstui.sim import Fault

from .conftest import KEY, screen_lines, screen_text, settle

pytestmark = pytest.mark.flavored  # every simulator test runs on both server flavours


def service_for(server, **kw) -> VectorStoresService:
    kw.setdefault("backoff_initial", 0.01)
    settings = ClientSettings(api_key=KEY, base_url=server.base_url, max_retries=8, **kw)
    return VectorStoresService(settings)


def snapshot(account):
    now = account.now()
    expired = {s.id for s in account.stores.values() if s.to_json(now)["status"] == "expired"}
    live = set(account.stores) - expired
    kept_files = {fid for sid in live for fid in account.stores[sid].files}
    return expired, live, kept_files


def deletes(server, kind: str) -> Counter[str]:
    pattern = re.compile(rf"^/v1/{kind}/([^/]+)$")
    return Counter(
        m.group(1)
        for r in server.simulator.log
        if r.method == "DELETE" and r.status == 200 and (m := pattern.match(r.path))
    )


def test_expired_cleanup_under_rate_limits_and_5xx(make_sim):
    server = make_sim("demo", rate_limit=40, error_rate=0.15)
    account = server.account
    expired, live, kept_files = snapshot(account)
    files_before = set(account.files)
    service = service_for(server)
    plan = build_plan(service, expired=True, include_files=True)
    assert {s.id for s in plan.stores} == expired
    assert not {f.id for f in plan.files} & kept_files
    assert all(account.files[f.id].purpose == "assistants" for f in plan.files)
    # llama-stack reports no file counts: the risk is accepted here (test_cleanup_safety.py
    # tests the refusal)
    trust = bool(plan.unverified())
    report = execute(service, plan.stores, plan.files, concurrency=8, trust_unverified=trust)
    # every expired store deleted exactly once, no other store touched
    assert set(account.stores) == live
    store_deletes = deletes(server, "vector_stores")
    assert set(store_deletes) == expired and set(store_deletes.values()) == {1}
    # no file still attached to a surviving store was deleted; planned files are gone
    assert kept_files <= set(account.files)
    assert set(account.files) == files_before - {f.id for f in plan.files}
    assert set(deletes(server, "files").values()) <= {1}
    # the report adds up
    assert report.ok, report.summary()
    assert len(report.of("deleted")) + len(report.of("already gone")) == len(plan.stores) + len(
        plan.files
    )
    assert report.rate_limited > 0  # the limit was hit, and honoured
    assert server.simulator.count("DELETE", "", 500) > 0  # and 5xx were retried


def test_404_is_already_gone_and_reattached_files_are_kept(make_sim):
    server = make_sim("demo")
    account = server.account
    service = service_for(server)
    plan = build_plan(service, expired=True, include_files=True)
    gone = plan.stores[0].id
    account.delete_store(gone)  # someone else deleted it meanwhile
    survivor = account.stores[sorted(snapshot(account)[1])[0]]
    reattached = plan.files[0]
    account.attach(survivor, account.files[reattached.id])  # attached again meanwhile
    report = execute(service, plan.stores, plan.files, trust_unverified=True)
    assert [o.id for o in report.of("already gone")] == [gone]
    assert [o.id for o in report.of("skipped")] == [reattached.id]
    assert reattached.id in account.files
    assert report.ok


def test_retry_failed_retries_only_the_failures(make_sim):
    server = make_sim("demo")
    service = service_for(server)
    plan = build_plan(service, expired=True)
    stubborn = plan.stores[1].id
    server.simulator.inject(Fault(path=f"/vector_stores/{stubborn}$", status=503, times=9))
    report = execute(service, plan.stores, concurrency=4)
    assert [o.id for o in report.of("failed")] == [stubborn]
    assert "HTTP 503" in report.of("failed")[0].reason and not report.ok
    sent_before = Counter(r.path for r in server.simulator.log if r.method == "DELETE")
    again = retry_failed(service, report)
    assert again.ok and len(again.of("deleted")) == len(plan.stores)
    sent_after = Counter(r.path for r in server.simulator.log if r.method == "DELETE")
    assert sent_after - sent_before == Counter({f"/v1/vector_stores/{stubborn}": 1})


def test_orphans_only_touches_assistants_files_attached_to_nothing(make_sim):
    server = make_sim("demo")
    account = server.account
    attached = {fid for s in account.stores.values() for fid in s.files}
    service = service_for(server)
    plan = build_plan(service, orphans_only=True)
    names = {f.filename for f in plan.files}
    assert {"draft-faq-v0.md", "old-pricing.pdf", "meeting-notes-0309.txt"} <= names
    assert not {f.id for f in plan.files} & attached
    assert "train-0913.jsonl" not in names and not plan.stores
    files_requests = server.simulator.count("GET", r"^/v1/files")
    assert files_requests == 1  # one bulk listing, not a request per file


def args(**kw) -> argparse.Namespace:
    defaults = dict(
        expired=True,
        orphans=False,
        store=None,
        delete_files=True,
        dry_run=False,
        yes=False,
        concurrency=None,
        json=False,
        trust_unverified_listings=True,  # llama-stack: accepted here; see test_cleanup_safety
    )
    defaults.update(kw)
    return argparse.Namespace(**defaults)


class NoTTY(io.StringIO):
    def isatty(self) -> bool:
        return False


class TTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def run_headless(server, **kw):
    out, err = io.StringIO(), io.StringIO()
    stdin = kw.pop("stdin", NoTTY())
    read_only = kw.pop("read_only", False)
    code = headless.run_with(
        args(**kw), service_for(server), stdin=stdin, out=out, err=err, read_only=read_only
    )
    return code, out.getvalue(), err.getvalue()


def test_headless_dry_run_changes_nothing(make_sim, llama):
    server = make_sim("demo")
    before = (set(server.account.stores), set(server.account.files))
    code, out, _ = run_headless(server, dry_run=True)
    assert code == 0 and "Dry run: nothing was changed." in out
    assert "Stores to delete: 9" in out and "Estimated vector storage saving" in out
    assert (set(server.account.stores), set(server.account.files)) == before
    assert server.simulator.count("DELETE", "") == 0
    code, out, _ = run_headless(server, dry_run=True, json=True)
    plan = json.loads(out)["plan"]
    assert len(plan["stores"]) == 9
    if llama:  # usage 0 everywhere: unknown, said so, never a $0.00 saving
        assert plan["estimated_saving_per_day"] is None and not plan["usage_reported"]
        _, text, _ = run_headless(server, dry_run=True)
        assert "saving: unknown (usage not reported by this server)" in text
    else:
        assert plan["estimated_saving_per_day"] > 0 and plan["usage_reported"]


def test_headless_refuses_without_a_terminal_and_asks_on_one(make_sim):
    server = make_sim("demo")
    code, _, err = run_headless(server)
    assert code == 2 and "no terminal to ask" in err
    assert server.simulator.count("DELETE", "") == 0
    code, _, err = run_headless(server, stdin=TTY("3\n"))
    assert code == 2 and "not confirmed" in err
    total = 9 + len(build_plan(service_for(server), expired=True, include_files=True).files)
    code, out, err_text = run_headless(server, stdin=TTY(f"{total}\n"))
    assert code == 0 and "Result:" in out and "0 failed" in out
    assert "remaining 0" in err_text  # progress goes to stderr


def test_headless_json_and_exit_code_on_failure(make_sim):
    server = make_sim("demo")
    target = sorted(snapshot(server.account)[0])[0]
    server.simulator.inject(
        Fault(path=f"/vector_stores/{target}$", method="DELETE", status=500, times=20)
    )
    code, out, _ = run_headless(server, yes=True, json=True, delete_files=False)
    result = json.loads(out)
    assert code == 1 and not result["result"]["ok"]
    assert [f["id"] for f in result["result"]["failed"]] == [target]
    assert len(result["result"]["deleted"]) == 8


def test_headless_read_only_refuses(make_sim):
    server = make_sim("demo")
    code, _, err = run_headless(server, yes=True, read_only=True)
    assert code == 2 and "read-only" in err
    assert server.simulator.count("DELETE", "") == 0


@pytest.fixture
def demo_app(make_app):
    return make_app("demo")


async def test_cleanup_screen_review_confirm_report(demo_app, llama):
    app, server = demo_app
    expired, live, kept_files = snapshot(server.account)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("X")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, CleanupScreen)
        assert {i.id for i in screen.table.view} == expired  # files hidden until chosen
        summary = str(screen.query_one("#summary").render())
        assert "9 stores" in summary
        # a server that reports no usage: the saving is unknown, and the summary says so
        assert ("Usage is not reported by this server" in summary) == llama
        assert ("per day" in summary) != llama
        await pilot.press("o")  # also the orphaned files
        assert len(screen.table.view) == 9 + len(screen.plan.files)
        await pilot.press("ctrl+d")
        if llama:  # no file counts: the risk is accepted first, by typing a word
            await settle(pilot)
            assert app.screen.require_text == "trust"
            await pilot.press(*"trust", "enter")
            await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, ConfirmScreen) and dialog.require_text == "9"
        await pilot.press("8", "enter")
        assert "not 9" in str(dialog.query_one("#error").render())
        assert set(server.account.stores) >= expired  # nothing deleted
        await pilot.press("backspace", "9", "enter")
        await settle(pilot, rounds=6)
        assert screen.report is not None and screen.report.ok
        assert set(server.account.stores) == live
        assert kept_files <= set(server.account.files)
        assert all(i.outcome == "deleted" for i in screen.table.view)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, StoreListScreen)
        assert not {s.id for s in app.screen.table.rows} & expired


async def test_marked_stores_delete_and_failures_retry(demo_app):
    app, server = demo_app
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        table = app.screen.table
        table.cursor = 0
        await pilot.press("space", "space")
        marked = {s.id for s in table.marked_rows}
        assert len(marked) == 2
        first = sorted(marked)[0]
        server.simulator.inject(
            Fault(path=f"/vector_stores/{first}$", method="DELETE", status=500, times=3)
        )
        await pilot.press("ctrl+d")
        await settle(pilot)
        screen = app.screen
        assert {i.id for i in screen.table.view} == marked
        await pilot.press("ctrl+d", "2", "enter")
        await settle(pilot, rounds=6)
        assert [o.id for o in screen.report.of("failed")] == [first]
        assert screen.has_class("can-retry")
        await pilot.press("R")
        await settle(pilot, rounds=6)
        assert screen.report.ok and not marked & set(server.account.stores)


async def test_review_list_sorts_and_space_still_leaves_out_the_row_under_the_cursor(demo_app):
    app, server = demo_app
    expired, _, _ = snapshot(server.account)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("X")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, CleanupScreen)
        table = screen.table
        while table.sort_column != "name":
            await pilot.press("s")
            await settle(pilot)
        await pilot.press("S")
        await settle(pilot)
        names = [i.name.lower() for i in table.view]
        assert table.sort_reverse and names == sorted(names, reverse=True)
        assert "Name ▼" in screen_text(app)
        assert "Sorted by" not in screen_text(app)  # the header says it: no toast over rows
        table.cursor = 0
        await pilot.pause()
        kept = table.current
        await pilot.press("space")  # the first row in the sorted view is left out
        assert screen.excluded == {kept.id}
        await pilot.press("ctrl+d")
        dialog = app.screen
        assert isinstance(dialog, ConfirmScreen) and dialog.require_text == str(len(expired) - 1)
        await pilot.press(*str(len(expired) - 1), "enter")
        await settle(pilot, rounds=6)
        assert screen.report is not None and screen.report.ok
        assert kept.id in server.account.stores
        assert not (expired - {kept.id}) & set(server.account.stores)


async def test_review_list_filter_narrows_the_view_and_says_what_it_hides(demo_app):
    app, server = demo_app
    expired, _, _ = snapshot(server.account)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("X")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, CleanupScreen)
        table = screen.table
        target = table.view[0]
        await pilot.press("slash", *target.id[:14], "enter")  # (a prefix: each key filters)
        await settle(pilot)
        assert [i.id for i in table.view] == [target.id]
        hidden = len(expired) - 1
        assert f"{hidden} rows hidden by the filter will be deleted too" in screen_text(app)
        await pilot.press("ctrl+d")  # the confirm says so too, and nothing goes on "no"
        await settle(pilot, rounds=8)
        await pilot.wait_for_scheduled_animations()
        dialog = app.screen
        assert isinstance(dialog, ConfirmScreen) and dialog.require_text == str(len(expired))
        assert f"{hidden} of them are hidden by the filter" in screen_text(app)
        await pilot.press("escape")
        await pilot.pause()
        assert set(server.account.stores) >= expired
        # `/!` keeps the rest; escape clears the filter before it leaves the screen
        await pilot.press("slash", *f"!{target.id[:14]}", "enter")
        await settle(pilot)
        assert {i.id for i in table.view} == expired - {target.id}
        assert "1 row hidden by the filter" in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen and {i.id for i in table.view} == expired
        assert "hidden by the filter" not in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, StoreListScreen)


async def test_a_narrow_sorted_column_still_shows_its_arrow(demo_app):
    """At 80 columns the review list's Kind column is too narrow for "Kind ▲": the label
    is cut, never the arrow (it is the only sign of the sort: no toast says it)."""
    app, _ = demo_app
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("X")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, CleanupScreen)
        await pilot.press("s")
        await settle(pilot)
        assert screen.table.sort_column == "kind"
        header = next(line for line in screen_text(app).splitlines() if "Name" in line)
        assert "▲" in header.split("Name")[0]
        assert "Sorted by" not in screen_text(app)
        await pilot.press("S")
        await settle(pilot)
        header = next(line for line in screen_text(app).splitlines() if "Name" in line)
        assert "▼" in header.split("Name")[0]


def flat(app) -> str:
    """The screen as one line of words: a sentence the terminal wrapped reads whole."""
    return " ".join(screen_text(app).split())


async def _review_with_files_and_one_store_excluded(app, pilot, llama):
    """X, o, then space on the first row (a store): the screen and the store left out."""
    await settle(pilot)
    await pilot.press("X")
    await settle(pilot)
    await pilot.press("o")
    await settle(pilot)
    screen = app.screen
    assert isinstance(screen, CleanupScreen)
    screen.table.cursor = 0
    await pilot.pause()
    excluded = screen.table.current
    assert excluded.kind == "store"
    await pilot.press("space")
    await settle(pilot)
    return screen, excluded


async def _delete(app, pilot, screen, llama) -> None:
    await pilot.press("ctrl+d")
    await settle(pilot)
    if llama:  # no file counts: the risk is accepted first
        await pilot.press(*"trust", "enter")
        await settle(pilot)
    dialog = app.screen
    assert isinstance(dialog, ConfirmScreen)
    await pilot.press(*dialog.require_text, "enter")
    await settle(pilot, rounds=8)
    assert screen.report is not None


async def test_excluding_a_store_updates_the_headline_and_keeps_its_files_at_80x24(demo_app, llama):
    """Space on a store: the headline counts, sizes and saving are what will actually
    go (checked against build_plan), the files it keeps are explained; after the run the
    outcome replaces the plan and the result line fits 80 columns."""
    app, server = demo_app
    account = server.account
    planned = build_plan(service_for(server), expired=True, include_files=True)
    async with app.run_test(size=(80, 24)) as pilot:
        screen, excluded = await _review_with_files_and_one_store_excluded(app, pilot, llama)
        held = set(account.stores[excluded.id].files)
        kept = [f for f in planned.files if f.id in held]
        assert kept  # the demo's first expired store holds orphaned files
        going = replace(
            planned,
            stores=[s for s in planned.stores if s.id != excluded.id],
            files=[f for f in planned.files if f.id not in held],
        )
        text = flat(app)
        stores = f"{len(going.stores)} stores to delete"
        if llama:  # no usage reported: no sizes, no saving
            assert f"{stores}." in text
        else:
            assert (
                f"{stores}, using {fmt.human_bytes(going.store_bytes)} of vector storage"
            ) in text
            assert f"Estimated saving: ${going.saving_per_day:.2f} per day" in text
        assert (
            f"{len(going.files)} files ({fmt.human_bytes(going.file_bytes)}) attached to no "
            "surviving store will be deleted"
        ) in text
        assert f"{len(planned.stores)} stores to delete" not in text
        left_out = 1 + len(kept)
        count = len(going.stores) + len(going.files)
        assert (
            f"{left_out} rows left out (1 excluded with space; {len(kept)} files kept: their "
            f"store is kept); {count} items will be deleted."
        ) in text
        await _delete(app, pilot, screen, llama)
        # what the screen said is what went
        assert excluded.id in account.stores and held <= set(account.files)
        assert not {s.id for s in going.stores} & set(account.stores)
        assert not {f.id for f in going.files} & set(account.files)
        text = flat(app)
        assert f"Deleted {len(going.stores)} stores and {len(going.files)} files." in text
        assert (
            f"{left_out} rows left out (1 excluded with space; {len(kept)} files kept: their "
            "store is kept): not deleted."
        ) in text
        assert "to delete" not in text and "will be deleted" not in text
        result = next(line for line in screen_lines(app) if f"{count} deleted" in line)
        assert re.search(rf"{count} deleted, 0 already gone, 0 failed in [0-9.]+s", result)


async def test_after_the_run_left_out_rows_say_why_they_were_kept(demo_app, llama):
    app, server = demo_app
    async with app.run_test(size=(160, 40)) as pilot:
        screen, excluded = await _review_with_files_and_one_store_excluded(app, pilot, llama)
        held = set(server.account.stores[excluded.id].files)
        kept = next(i for i in screen.table.rows if i.id in held)

        def row(item) -> str:
            screen.table.cursor = screen.table.view.index(item)
            return next(line for line in screen_lines(app) if item.id in line)

        await pilot.pause()
        assert "kept: store kept" in row(kept)
        assert f"store kept: {excluded.name}" in row(kept)
        assert "in no surviving store" not in row(kept)
        await _delete(app, pilot, screen, llama)
        await pilot.pause()
        assert re.search(r"excluded\s*$", row(excluded))  # left out: still said, not blank
        assert "kept: store kept" in row(kept) and "pending" not in row(kept)
        assert f"store kept: {excluded.name}" in row(kept)
        assert kept.id in server.account.files


async def test_a_short_terminal_still_shows_table_rows_and_the_whole_checkbox(demo_app):
    """At 60x16 the summary gives way (it scrolls): rows stay in view, and the
    checkbox's label is not cut."""
    app, _ = demo_app
    async with app.run_test(size=(60, 16)) as pilot:
        await settle(pilot)
        await pilot.press("X")
        await settle(pilot)
        await pilot.press("o")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, CleanupScreen)
        await pilot.pause()
        lines = screen_lines(app)
        rows = [line for line in lines if line.startswith(("store", "file"))]
        assert len(rows) >= 4, "\n".join(lines)
        files = len(screen.plan.files)
        label = (
            f"Also delete the {files} orphaned files ({fmt.human_bytes(screen.plan.file_bytes)})"
        )
        assert label in screen_text(app)
        assert any("stores to delete" in line for line in lines)  # the headline stays first
