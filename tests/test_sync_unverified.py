"""`vstui sync --delete` fails closed on listings no count can verify: a store that reports no
file counts (llama-stack) gives nothing to check its file listing against, so "no other
store holds this file" cannot be shown. Sync then detaches the file (that concerns only the
synced store) but keeps the file object, and says so; ``--trust-unverified-listings``
deletes it. Over real HTTP against the simulator, through tests/proxy.py, whose
``drop_store_file`` makes another store's page silently leave out the file it holds."""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from vstui.api import ClientSettings, VectorStoresService
from vstui.commands import sync as sync_command
from vstui.sim import SimServer
from vstui.sync import Options, build_plan, execute

from .conftest import KEY, screen_text, settle
from .proxy import STORES, Proxy

LLAMA = pytest.mark.parametrize("flavor", ["llama-stack"], indirect=True)
OPENAI = pytest.mark.parametrize("flavor", ["openai"], indirect=True)


def proxied(server: SimServer) -> tuple[VectorStoresService, Proxy]:
    proxy = Proxy(server)
    settings = ClientSettings(
        api_key=KEY, base_url=server.base_url, max_retries=2, backoff_initial=0.01
    )
    return VectorStoresService(settings, transport=proxy), proxy


def advancing(clock):
    def sleep(seconds: float) -> None:
        clock.advance(max(seconds, 0.5))

    return sleep


def cli(service: VectorStoresService, clock, path: Path, store: str, *extra: str):
    """``vstui sync PATH STORE --yes ...``: exit code, stdout, stderr."""
    parser = argparse.ArgumentParser()
    sync_command.add_parser(parser.add_subparsers())
    args = parser.parse_args(["sync", str(path), store, "--yes", *extra])
    out, err = io.StringIO(), io.StringIO()
    code = sync_command.run_with(args, service, out=out, err=err, sleep=advancing(clock))
    return code, out.getvalue(), err.getvalue()


def holders(server: SimServer, file_id: str) -> set[str]:
    with server.account.lock:
        return {sid for sid, s in server.account.stores.items() if file_id in s.files}


def synced_then_removed(
    server: SimServer, service: VectorStoresService, proxy: Proxy, clock, root: Path, name: str
) -> dict[str, Any]:
    """Sync two files into store ``name``; another store ("held elsewhere") also holds the
    first, but its listing leaves it out; then both sources are deleted."""
    root.mkdir()
    (root / "shared.md").write_text("# Shared\nheld by two stores\n")
    (root / "alone.md").write_text("# Alone\nheld by this store only\n")
    code, _, err = cli(service, clock, root, name, "--create")
    assert code == 0, err
    store = next(s for s in server.account.stores.values() if s.name == name)
    by_path = {a.attributes["path"]: fid for fid, a in store.files.items() if a.attributes}
    other = server.account.create_store(name=f"held elsewhere {name} [/b]")  # server text
    server.account.attach_file(
        other.id, by_path["shared.md"], attributes=None, chunking_strategy=None
    )
    proxy.drop_store_file(other.id, by_path["shared.md"])
    clock.advance(60)
    (root / "shared.md").unlink()
    (root / "alone.md").unlink()
    return {"store": store.id, "other": other.id, **by_path}


@LLAMA
def test_without_counts_files_are_detached_and_kept_and_the_report_says_why(
    make_sim, clock, tmp_path
):
    server = make_sim("empty")
    service, proxy = proxied(server)
    ids = synced_then_removed(server, service, proxy, clock, tmp_path / "docs", "docs")
    files = sorted([ids["shared.md"], ids["alone.md"]])

    # the plan says it before anything happens, in text and in JSON
    code, text, _ = cli(service, clock, tmp_path / "docs", "docs", "--delete", "--dry-run")
    assert code == 0
    flat = " ".join(text.split())
    assert (
        "Unverified: The files whose source is gone are detached, but their file objects are "
        "kept (nothing can show that no other store holds them): 2 stores (" in flat
    )
    assert "2 stores (" in flat and "report no file counts" in flat
    assert "add --trust-unverified-listings" in flat
    code, out, _ = cli(service, clock, tmp_path / "docs", "docs", "--delete", "--dry-run", "--json")
    plan = json.loads(out)["plan"]
    assert set(plan["unverified_stores"]) == {ids["store"], ids["other"]}
    assert plan["trust_unverified_listings"] is False
    assert "their file objects are kept" in plan["unverified_note"]

    code, out, err = cli(service, clock, tmp_path / "docs", "docs", "--delete", "--json")
    assert code == 0, err  # nothing was lost, and the report says what was kept
    result = json.loads(out)["result"]
    assert result["ok"] is True and sorted(result["detached"]) == files
    assert result["deleted"] == [] and sorted(result["kept_unverified"]) == files
    assert set(result["unverified_stores"]) == {ids["store"], ids["other"]}
    assert result["trusted_unverified_listings"] is False
    assert result["unverified_note"].startswith("Kept 2 detached files (")
    assert server.simulator.count("DELETE", r"^/v1/files/") == 0
    assert not server.account.stores[ids["store"]].files  # detached from the synced store
    assert holders(server, ids["shared.md"]) == {ids["other"]}  # the other store keeps it
    assert set(files) <= set(server.account.files)

    # the text report: one sentence, how many, the first IDs, why, what to do
    ids2 = synced_then_removed(server, service, proxy, clock, tmp_path / "more", "more")
    code, text, err = cli(service, clock, tmp_path / "more", "more", "--delete")
    assert code == 0, err
    assert "2 detached, 0 files deleted, 0 failed, 2 files kept" in text
    (sentence,) = [line for line in text.splitlines() if "Kept 2 detached files" in line]
    assert ids2["shared.md"] in sentence and ids2["alone.md"] in sentence
    assert "4 stores (" in sentence and "report no file counts" in sentence
    assert "nothing proves their file listings complete" in sentence
    assert "vstui cleanup --orphans --trust-unverified-listings" in sentence
    assert "sync with --trust-unverified-listings next time" in sentence
    assert {ids2["shared.md"], ids2["alone.md"]} <= set(server.account.files)


@LLAMA
def test_trusting_unverified_listings_deletes_and_names_the_stores_trusted(
    make_sim, clock, tmp_path
):
    server = make_sim("empty")
    service, proxy = proxied(server)
    ids = synced_then_removed(server, service, proxy, clock, tmp_path / "docs", "docs")
    trust = "--trust-unverified-listings"
    code, text, _ = cli(service, clock, tmp_path / "docs", "docs", "--delete", trust, "--dry-run")
    assert code == 0 and "Unverified: Trusting unverified listings" in text

    code, out, err = cli(service, clock, tmp_path / "docs", "docs", "--delete", trust, "--json")
    assert code == 0, err
    result = json.loads(out)["result"]
    assert result["trusted_unverified_listings"] is True and result["kept_unverified"] == []
    assert set(result["unverified_stores"]) == {ids["store"], ids["other"]}
    # the risk accepted is real: the other store's page left its file out, and it went
    assert sorted(result["deleted"]) == sorted([ids["shared.md"], ids["alone.md"]])
    assert ids["shared.md"] not in server.account.files

    ids2 = synced_then_removed(server, service, proxy, clock, tmp_path / "more", "more")
    code, text, _ = cli(service, clock, tmp_path / "more", "more", "--delete", trust)
    assert code == 0 and "2 files deleted" in text
    assert "Trusted unverified listings (--trust-unverified-listings) of 4 stores: " in text
    assert ids2["other"] in text


@OPENAI
def test_with_counts_the_dropped_item_is_caught_as_before(make_sim, clock, tmp_path):
    """The OpenAI flavour is unchanged: the count shows the other store's listing short, so
    nothing is deleted because a listing could not be shown complete; nothing is
    'unverified'."""
    server = make_sim("empty")
    service, proxy = proxied(server)
    ids = synced_then_removed(server, service, proxy, clock, tmp_path / "docs", "docs")
    code, out, err = cli(service, clock, tmp_path / "docs", "docs", "--delete", "--json")
    assert code == 0, err
    body = json.loads(out)
    assert body["plan"]["unverified_stores"] == []
    result = body["result"]
    assert result["deleted"] == [] and result["kept_unverified"] == []
    assert result["unverified_stores"] == []
    reasons = {k["id"]: k["reason"] for k in result["kept"]}
    assert set(reasons) == {ids["shared.md"], ids["alone.md"]}
    assert all(r.startswith("could not list every store") for r in reasons.values())
    assert all("but the store reports" in r for r in reasons.values())
    assert {ids["shared.md"], ids["alone.md"]} <= set(server.account.files)


@OPENAI
def test_a_store_without_counts_seen_only_at_the_last_check_stops_the_delete(
    make_sim, clock, tmp_path
):
    """The check right before deleting (the clean-up's) reads every store again: a store
    that reports no counts by then keeps the file too, and the report says the same."""
    server = make_sim("empty")
    service, proxy = proxied(server)
    (tmp_path / "a.md").write_text("alpha\n")
    store = service.create_store(name="s")
    execute(service, build_plan(service, tmp_path, store.id, Options()), sleep=advancing(clock))
    clock.advance(30)
    (file_id,) = list(server.account.stores[store.id].files)
    (tmp_path / "a.md").unlink()
    plan = build_plan(service, tmp_path, store.id, Options(delete=True))
    assert plan.uncounted == [] and plan.unverified_sentence() == ""
    readings = 0

    def counts_vanish_at_the_second_reading(request: httpx.Request, body: Any) -> Any:
        nonlocal readings
        if STORES.match(request.url.path):
            readings += 1
            if readings >= 2:
                for s in body["data"]:
                    s["file_counts"] = None
        return body

    proxy.rewrites.append(counts_vanish_at_the_second_reading)
    report = execute(service, plan, sleep=advancing(clock))
    assert readings == 2 and report.ok
    assert report.detached == [file_id] and not report.deleted and not report.kept
    assert report.kept_unverified == [file_id] and report.unverified_stores == [store.id]
    assert file_id in server.account.files


@LLAMA
async def test_tui_sync_says_the_files_are_kept_and_where_to_trust(make_app, tmp_path, clock):
    from vstui.screens.store_detail import StoreDetailScreen
    from vstui.screens.sync import SyncConfirm, SyncScreen

    from .test_tui_sync import plan_folder, shows

    proxy = Proxy()
    app, server = make_app("empty", remember=False, transport=proxy)
    store = server.account.create_store(name="handbook")
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "guide.md").write_text("# Guide\nRefunds take five days.\n")
    (folder / "faq.md").write_text("# FAQ\nShipping takes a week.\n")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, StoreDetailScreen)
        await plan_folder(pilot, str(folder))
        await pilot.press("a", "y")
        await settle(pilot, rounds=6)
        clock.advance(60)
        await pilot.press("escape")
        await settle(pilot)
        by_path = {
            a.attributes["path"]: fid
            for fid, a in server.account.stores[store.id].files.items()
            if a.attributes
        }
        faq = by_path["faq.md"]
        other = server.account.create_store(name="other [b]store[/b]")  # ID = name: server text
        server.account.attach_file(other.id, faq, attributes=None, chunking_strategy=None)
        proxy.drop_store_file(other.id, faq)
        (folder / "faq.md").unlink()

        screen = await plan_folder(pilot, None)
        await pilot.press("escape")  # back to tick --delete
        await settle(pilot)
        await pilot.press("u")
        await pilot.pause()
        app.screen.query_one("#delete").value = True
        await pilot.pause()
        app.screen.query_one("#path").focus()
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, SyncScreen) and screen.plan is not None
        assert shows(
            app,
            "The files whose source is gone are detached, but their file objects are kept",
            "2 stores (handbook, other [b]store[/b]) report no file counts",
            "use the command line with --trust-unverified-listings",
        )
        await pilot.press("a")
        await pilot.pause()
        confirm = app.screen
        assert isinstance(confirm, SyncConfirm) and confirm.require_text == "1"
        assert shows(app, "Detach 1 file whose source is gone.", "are detached, but their file")
        confirm.query_one("Input").value = "1"
        await pilot.press("enter")
        await settle(pilot, rounds=6)
        report = screen.report
        assert report is not None and report.ok and report.kept_unverified == [faq]
        assert shows(
            app,
            f"Kept 1 detached file ({faq}) instead of deleting it",
            "other [b]store[/b]",  # the store ID as sent, never markup
            "use the command line with --trust-unverified-listings",
            "detached: file kept: unverified listings",
        )
        assert "Traceback" not in screen_text(app)
        assert faq in server.account.files and holders(server, faq) == {other.id}
        assert not server.simulator.count("DELETE", r"^/v1/files/")
