"""Deletion fails closed: against servers that answer a little differently from the
simulator (through tests/proxy.py, over real HTTP), no clean-up deletes a file that a live
store holds, and every refusal says which listing and why."""

from __future__ import annotations

import argparse
import io
import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable

import pytest

from vstui import listing
from vstui.api import ClientSettings, VectorStoresService
from vstui.cleanup import build_plan, execute, retry_failed
from vstui.commands import cleanup as headless
from vstui.listing import IncompleteListing
from vstui.sim import SimServer

from .conftest import KEY
from .proxy import FILES, Proxy

pytestmark = pytest.mark.flavored  # every simulator test runs on both server flavours


def proxied(server: SimServer, setup: Callable[[Proxy], object] = lambda p: p):
    proxy = Proxy(server)
    setup(proxy)
    settings = ClientSettings(
        api_key=KEY, base_url=server.base_url, max_retries=4, backoff_initial=0.01
    )
    return VectorStoresService(settings, transport=proxy), proxy


def live_holdings(server: SimServer) -> set[str]:
    """Files held by a store that is not expired, read from the simulator itself."""
    account = server.account
    now = account.now()
    return {
        fid
        for s in account.stores.values()
        if s.to_json(now)["status"] != "expired"
        for fid in s.files
    }


def cli_args(**kw) -> argparse.Namespace:
    values = dict(
        expired=False,
        orphans=False,
        store=None,
        delete_files=False,
        dry_run=False,
        yes=True,
        concurrency=None,
        json=True,
        trust_unverified_listings=False,
    )
    values.update(kw)
    return argparse.Namespace(**values)


def run_cli(service: VectorStoresService, **kw) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = headless.run_with(cli_args(**kw), service, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


MODES = {
    "expired": dict(expired=True, delete_files=True),
    "orphans": dict(orphans=True),
}

# Ways a server may differ; with each, the clean-up must still be exactly right.
VARIANTS: dict[str, Callable[[Proxy], object]] = {
    "null file_counts": lambda p: p.null_counts(),
    "whole-list last_id, short pages": lambda p: (
        p.whole_list_last_id(),
        setattr(p, "page_limit", 7),
    ),
    "null counts, last_id, short pages": lambda p: (
        p.null_counts(),
        p.whole_list_last_id(),
        setattr(p, "page_limit", 3),
    ),
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("variant", VARIANTS)
def test_headless_deletes_nothing_a_live_store_holds(make_sim, variant, mode, llama):
    server = make_sim("demo")
    held = live_holdings(server)
    files_before = set(server.account.files)
    service, _ = proxied(server, VARIANTS[variant])
    uncounted = llama or "null" in variant
    code, out, err = run_cli(service, **MODES[mode])
    if uncounted:  # no count verifies the listings: refused until the risk is accepted
        assert code == 2 and "--trust-unverified-listings" in err, err
        assert json.loads(out)["unverified_stores"]
        assert server.simulator.count("DELETE", "") == 0
        code, out, err = run_cli(service, trust_unverified_listings=True, **MODES[mode])
    result = json.loads(out)
    assert code == 0, err
    assert bool(result["result"]["unverified_stores"]) == uncounted
    assert held <= set(server.account.files)  # every live store's file survived
    deleted = set(result["result"]["deleted"])
    assert deleted and not deleted & held
    assert files_before - set(server.account.files) == {d for d in deleted if d.startswith("file-")}
    if mode == "orphans":  # exactly the three real orphans of the demo account
        assert {f["id"] for f in result["plan"]["files"]} == deleted


@pytest.mark.parametrize("variant", VARIANTS)
def test_execute_with_the_plan_and_without_it(make_sim, variant, llama):
    server = make_sim("demo")
    held = live_holdings(server)
    service, _ = proxied(server, VARIANTS[variant])
    plan = build_plan(service, expired=True, include_files=True)
    assert plan.files and not {f.id for f in plan.files} & held
    if "null" in variant:
        assert not any(s.counts_reported for s in plan.stores)  # the proxy did its job
    trust = bool(plan.unverified())  # accepted here; refusing is tested below
    assert trust == (llama or "null" in variant)
    report = execute(service, plan.stores, plan.files[:5], trust_unverified=trust)  # reads all
    report2 = execute(service, [], plan.files[5:], holdings=plan.holdings, trust_unverified=trust)
    assert report.ok and report2.ok
    assert held <= set(server.account.files)


def test_whole_list_last_id_is_logged_once_and_not_followed(make_sim, caplog, llama):
    server = make_sim("demo")
    service, _ = proxied(server, VARIANTS["whole-list last_id, short pages"])
    from vstui import listing

    listing._warned.clear()  # once per process: start this process's count afresh
    with caplog.at_level("WARNING", logger="vstui.listing"):
        plan = build_plan(service, orphans_only=True)
        build_plan(service, orphans_only=True)
    assert len(plan.files) == 3
    warnings = [r for r in caplog.records if "last_id" in r.getMessage()]
    # logged once per kind of listing, whatever the number of pages and stores (llama-stack
    # answers a whole-list last_id for the store listing too)
    assert len(warnings) == (2 if llama else 1)


def test_truncated_store_listing_refuses_the_whole_run(make_sim, llama):
    server = make_sim("demo")
    if llama:
        _truncation_without_counts_is_said(server)
        return
    account = server.account
    biggest = max(account.stores.values(), key=lambda s: len(s.files))
    service, _ = proxied(server, lambda p: p.truncate_store_files(biggest.id, 10))
    for mode in MODES.values():
        code, out, err = run_cli(service, **mode)
        assert code == 1
        answer = json.loads(out)  # --json: a script gets one object that says why
        assert answer["ok"] is False and "refusing" in answer["error"]
        assert "refusing" in err and biggest.id in err
        assert f"listed 10 files but the store reports {len(biggest.files)}" in err
        assert "Nothing was deleted" in err
    assert server.simulator.count("DELETE", "") == 0
    with pytest.raises(IncompleteListing, match=biggest.id):
        build_plan(service, orphans_only=True)


def _truncation_without_counts_is_said(server: SimServer) -> None:
    """A server that reports no file counts gives nothing to check a listing against: the
    plan says so, and deleting files is refused until the risk is accepted."""
    biggest = max(server.account.stores.values(), key=lambda s: len(s.files))
    service, _ = proxied(server, lambda p: p.truncate_store_files(biggest.id, 10))
    plan = build_plan(service, orphans_only=True)
    assert not any(s.counts_reported for s in listing.all_stores(service))
    assert biggest.id in {s.id for s in plan.unverified()}
    code, out, _err = run_cli(service, orphans=True, dry_run=True, json=False)
    assert code == 0 and "report no file counts" in out
    assert "Deleting the files needs --trust-unverified-listings." in out
    for mode in MODES.values():
        code, out, err = run_cli(service, **mode)
        assert code == 2 and "refusing to delete" in err and "Nothing was deleted" in err
        assert biggest.id in json.loads(out)["unverified_stores"]
    assert server.simulator.count("DELETE", "") == 0


def test_garbage_200_is_an_error_naming_the_request(make_sim):
    server = make_sim("demo")
    service, _ = proxied(server, lambda p: p.garbage(FILES))
    code, out, err = run_cli(service, orphans=True)
    assert code == 1 and json.loads(out)["ok"] is False
    assert "GET /files" in err and "expected a list of file objects" in err
    assert server.simulator.count("DELETE", "") == 0


def test_unknown_store_is_an_error_naming_it(make_sim):
    server = make_sim("demo")
    service, _ = proxied(server)
    real = next(iter(server.account.stores))
    code, _out, err = run_cli(service, store=[real, "vs_typo"])
    assert code == 2 and "vs_typo" in err and real not in err
    assert server.simulator.count("DELETE", "") == 0


# -- races: a planned file is attached to a surviving store while deleting ---------------


def _race(server: SimServer, mode: str):
    plain = VectorStoresService(ClientSettings(api_key=KEY, base_url=server.base_url))
    kw = {"orphans_only": True} if mode == "orphans" else {"expired": True, "include_files": True}
    plan = build_plan(plain, **kw)
    plain.close()
    target = plan.files[-1].id  # not in the first wave
    now = server.account.now()
    survivor = next(
        s.id for s in server.account.stores.values() if s.to_json(now)["status"] != "expired"
    )
    return plan, target, survivor


@pytest.mark.parametrize("mode", MODES)
def test_race_headless_keeps_the_file_attached_meanwhile(make_sim, mode):
    server = make_sim("demo")
    _plan, target, survivor = _race(server, mode)
    service, _ = proxied(server, lambda p: (p.race(survivor, target), p.null_counts()))
    code, out, err = run_cli(
        service,
        concurrency=1 if mode == "orphans" else None,
        json=False,
        trust_unverified_listings=True,  # null counts: accepted here, the race is the point
        **MODES[mode],
    )
    assert code == 0, err
    assert target in server.account.files and target in server.account.stores[survivor].files
    assert f"kept file {target}: attached to a store again" in out
    assert "1 kept (attached again)" in out
    assert live_holdings(server) <= set(server.account.files)


def test_race_execute_and_retry_failed_re_check(make_sim):
    server = make_sim("demo")
    plan, target, survivor = _race(server, "expired")
    service, _ = proxied(server, lambda p: p.race(survivor, target))
    trust = bool(plan.unverified())  # llama-stack: accepted here, the race is the point
    report = execute(
        service, plan.stores, plan.files, holdings=plan.holdings, trust_unverified=trust
    )
    assert [o.id for o in report.of("skipped")] == [target]
    assert target in server.account.files

    # retry_failed re-checks too: a failed file that came back into use is kept
    server2 = make_sim("demo", seed=0)
    plan2, target2, survivor2 = _race(server2, "expired")
    service2, _ = proxied(server2)
    from vstui.sim import Fault

    server2.simulator.inject(Fault(path=f"/files/{target2}$", method="DELETE", status=500, times=9))
    first = execute(
        service2, plan2.stores, plan2.files, holdings=plan2.holdings, trust_unverified=trust
    )
    assert [o.id for o in first.of("failed")] == [target2]
    server2.account.attach_file(survivor2, target2, attributes=None, chunking_strategy=None)
    again = retry_failed(service2, first, trust_unverified=trust)
    assert [o.id for o in again.of("skipped")] == [target2] and again.ok
    assert target2 in server2.account.files


# -- interrupting a run -------------------------------------------------------------------


def test_sigint_mid_run_reports_and_exits_130(make_sim, tmp_path):
    server = make_sim("demo", latency_ms=150)
    env = dict(os.environ)
    env.update(
        OPENAI_API_KEY=KEY,
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        XDG_STATE_HOME=str(tmp_path / "state"),
        XDG_DATA_HOME=str(tmp_path / "data"),
        XDG_CACHE_HOME=str(tmp_path / "cache"),
    )
    command = [
        sys.executable,
        "-m",
        "vstui",
        "--base-url",
        server.base_url,
        "cleanup",
        "--expired",
        "--delete-files",
        "--yes",
        "--json",
        "--concurrency",
        "1",
        "--trust-unverified-listings",  # llama-stack reports no file counts
    ]
    proc = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert proc.stderr is not None
    seen = []
    for line in proc.stderr:  # wait until deleting has started
        seen.append(line)
        if line.startswith("… deleting"):
            break
    proc.send_signal(signal.SIGINT)
    out, rest = proc.communicate(timeout=60)
    err = "".join(seen) + rest
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    report = json.loads(out)
    assert report["interrupted"] is True and report["result"]["interrupted"] is True
    deleted = set(report["result"]["deleted"])
    planned = {s["id"] for s in report["plan"]["stores"]} | {
        f["id"] for f in report["plan"]["files"]
    }
    assert deleted < planned  # stopped before the end
    stopped = [f for f in report["result"]["failed"] if f["reason"] == "stopped by the user"]
    assert stopped and len(deleted) + len(stopped) == len(planned)
    # what the report says is gone is gone, and nothing else was touched
    gone = (planned - set(server.account.stores)) - set(server.account.files)
    assert gone == deleted


def test_sigterm_before_deleting_exits_130_with_nothing_deleted(make_sim, tmp_path):
    server = make_sim("demo", latency_ms=300)
    env = dict(os.environ, OPENAI_API_KEY=KEY, XDG_CONFIG_HOME=str(tmp_path))
    command = [sys.executable, "-m", "vstui", "--base-url", server.base_url]
    command += ["cleanup", "--orphans", "--yes", "--json"]
    proc = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert proc.stderr is not None
    proc.stderr.readline()  # "… scanning stores": planning has started
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "Traceback" not in err, (out, err)
    assert json.loads(out) == {"dry_run": False, "interrupted": True}
    assert server.simulator.count("DELETE", "") == 0


async def test_cleanup_screen_refuses_when_a_store_cannot_be_listed(make_app):
    from vstui.screens.cleanup import CleanupScreen
    from vstui.sim import Fault

    from .conftest import screen_text, settle

    app, server = make_app("demo")
    now = server.account.now()
    live = next(s for s in server.account.stores.values() if s.to_json(now)["status"] != "expired")
    server.simulator.inject(
        Fault(path=f"/vector_stores/{live.id}/files$", method="GET", status=500, times=100)
    )
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("O")  # orphaned files
        await settle(pilot, rounds=6)
        assert isinstance(app.screen, CleanupScreen) and app.screen.plan is None
        shown = screen_text(app)
        assert "Refusing to plan: a listing was incomplete. Nothing was deleted." in shown
        assert live.id in shown
        await pilot.press("ctrl+d")
        await settle(pilot)
    assert server.simulator.count("DELETE", "") == 0


async def test_cleanup_screen_deletes_stores_but_no_file_when_a_listing_fails(make_app):
    from vstui.screens.cleanup import CleanupScreen
    from vstui.sim import Fault

    from .conftest import screen_text, settle

    app, server = make_app("demo")
    account = server.account
    now = account.now()
    expired = {s.id for s in account.stores.values() if s.to_json(now)["status"] == "expired"}
    live = next(s for s in account.stores.values() if s.id not in expired)
    files_before = set(account.files)
    server.simulator.inject(
        Fault(path=f"/vector_stores/{live.id}/files$", method="GET", status=500, times=100)
    )
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("X")
        await settle(pilot, rounds=6)
        screen = app.screen
        assert isinstance(screen, CleanupScreen) and screen.plan is not None
        # Deleting stores alone needs no file scan: no store's files were listed.
        assert not [r for r in server.simulator.log if r.path.endswith("/files")]
        await pilot.press("o")  # also delete files: now the scan runs, and fails closed
        await settle(pilot, rounds=6)
        assert screen.plan.files == [] and live.id in screen.plan.files_refused
        shown = screen_text(app)
        assert "No file will be deleted: a listing was incomplete" in shown
        await pilot.press("o")  # cannot turn files on
        assert not screen.with_files
        await pilot.press("ctrl+d", *str(len(expired)), "enter")
        await settle(pilot, rounds=6)
        assert screen.report is not None and screen.report.ok
    assert not expired & set(account.stores)
    assert set(account.files) == files_before  # no file deleted


# -- listings no count can verify (null file_counts) ---------------------------------------


def dropped_file(server: SimServer, mode: str) -> tuple[str, str]:
    """A live store and an assistants file whose only proof of being held is that store's
    listing: for ``orphans`` a file only it holds; for ``expired`` a file of an expired
    store that no other live store holds, attached to it as well."""
    account = server.account
    now = account.now()
    live = sorted(s.id for s in account.stores.values() if s.to_json(now)["status"] != "expired")
    holders: dict[str, set[str]] = {}
    for store in account.stores.values():
        for fid in store.files:
            holders.setdefault(fid, set()).add(store.id)
    for fid, held_by in sorted(holders.items()):
        if fid not in account.files or account.files[fid].purpose != "assistants":
            continue
        if mode == "orphans" and len(held_by) == 1 and held_by <= set(live):
            return next(iter(held_by)), fid
        if mode == "expired" and not held_by & set(live):
            account.attach_file(live[0], fid, attributes=None, chunking_strategy=None)
            return live[0], fid
    raise AssertionError("the demo account has no such file")


@pytest.mark.parametrize("mode", MODES)
def test_a_listing_that_drops_an_item_with_null_counts_is_refused_unless_trusted(
    make_sim, mode, llama
):
    server = make_sim("demo")
    store_id, held = dropped_file(server, mode)
    if not llama:  # with counts, the same dropped item is caught: the listing is short
        service, _ = proxied(server, lambda p: p.drop_store_file(store_id, held))
        code, out, err = run_cli(service, **MODES[mode])
        assert code == 1 and store_id in err and "but the store reports" in err
    service, _ = proxied(server, lambda p: (p.null_counts(), p.drop_store_file(store_id, held)))
    kw = {"orphans_only": True} if mode == "orphans" else {"expired": True, "include_files": True}
    assert held in {f.id for f in build_plan(service, **kw).files}  # it looks orphaned

    code, out, err = run_cli(service, **MODES[mode])
    answer = json.loads(out)
    unverified = answer["unverified_stores"]
    assert code == 2 and answer["ok"] is False and store_id in unverified
    assert (
        f"{len(unverified)} stores ({unverified[0]}, {unverified[1]}, {unverified[2]} and " in err
    )
    assert "report no file counts" in err and "Nothing was deleted" in err
    assert "add --trust-unverified-listings" in err
    assert ("leave out --delete-files to delete the stores alone" in err) == (mode == "expired")
    code, text, err = run_cli(service, json=False, **MODES[mode])  # the plan, then why not
    assert code == 2 and held in text and "Unverified: " in text and "refusing" in err
    assert server.simulator.count("DELETE", "") == 0  # not even a store

    # The override: it proceeds, and says which listings it trusted. Here the risk is real.
    code, out, err = run_cli(service, trust_unverified_listings=True, **MODES[mode])
    result = json.loads(out)
    assert code == 0, err
    assert result["trusted_unverified_listings"] is True
    assert store_id in result["result"]["unverified_stores"]
    assert held in result["result"]["deleted"] and held not in server.account.files
    code, text, _ = run_cli(service, trust_unverified_listings=True, json=False, **MODES[mode])
    assert code == 0 and "Nothing to delete." in text


def test_execute_refuses_files_on_unverified_listings_and_retry_can_trust(make_sim):
    server = make_sim("demo")
    held = live_holdings(server)
    service, _ = proxied(server, lambda p: p.null_counts())
    plan = build_plan(service, expired=True, include_files=True)
    assert plan.unverified() and plan.files
    report = execute(service, plan.stores, plan.files, holdings=plan.holdings)
    assert {o.id for o in report.of("deleted")} == {s.id for s in plan.stores}  # stores go
    failed = report.of("failed")
    assert {o.id for o in failed} == {f.id for f in plan.files} and not report.unverified
    assert all("not deleted:" in o.reason and "report no file counts" in o.reason for o in failed)
    assert not server.simulator.count("DELETE", r"^/v1/files/")
    again = retry_failed(service, report, trust_unverified=True)
    assert again.ok and {o.id for o in again.of("deleted")} >= {f.id for f in plan.files}
    assert again.unverified and set(again.unverified) <= {s.id for s in plan.uncounted}
    assert held <= set(server.account.files)


async def test_cleanup_screen_needs_trust_typed_for_unverified_listings(make_app):
    from vstui.screens.cleanup import CleanupScreen
    from vstui.screens.dialogs import ConfirmScreen

    from .conftest import notes, screen_text, settle

    proxy = Proxy().null_counts()
    app, server = make_app("demo", transport=proxy)
    store_id, held = dropped_file(server, "orphans")
    proxy.drop_store_file(store_id, held)  # read at request time: the app has not run yet
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("O")  # orphaned files
        await settle(pilot, rounds=6)
        screen = app.screen
        assert isinstance(screen, CleanupScreen) and screen.plan is not None
        planned = {f.id for f in screen.plan.files}
        assert held in planned
        shown = " ".join(screen_text(app).split())  # the summary wraps
        assert "Files are not deleted on unverified listings:" in shown
        assert "report no file counts" in shown and "ctrl+d asks you to type trust" in shown
        await pilot.press("ctrl+d")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, ConfirmScreen) and dialog.require_text == "trust"
        shown = screen_text(app)
        assert "Delete files on unverified listings?" in shown and "Type trust to confirm" in shown
        await pilot.press("y", "enter")  # no accidental y
        await pilot.pause()
        assert app.screen is dialog and "That is not trust." in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen and "Nothing was deleted." in notes(app)
        assert server.simulator.count("DELETE", "") == 0
        await pilot.press("ctrl+d", *"trust", "enter")
        await settle(pilot)
        count = app.screen
        assert isinstance(count, ConfirmScreen) and count.require_text == str(len(planned))
        assert "You accepted that the listings of" in " ".join(screen_text(app).split())
        await pilot.press(*str(len(planned)), "enter")
        await settle(pilot, rounds=8)
        assert screen.report is not None and screen.report.ok
        assert store_id in screen.report.unverified and held not in server.account.files
        shown = " ".join(screen_text(app).split())
        assert f"Trusted unverified listings of {len(screen.report.unverified)} stores" in shown
