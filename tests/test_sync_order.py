"""`vstui sync` against servers that ignore ``order`` (many compatible servers always answer
newest first), over real HTTP through tests/proxy.py: ``--delete`` never deletes a file
another store holds, however far down the store list that store is; a store is found by
name in a complete listing; walking a list from both ends still lists every item once."""

from __future__ import annotations

import argparse
import io
import json
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from vstui.api import ClientSettings, VectorStoresService
from vstui.commands import sync as sync_command
from vstui.sim import Fault, SimServer
from vstui.sync import Options, SyncError, build_plan, execute, find_store

from .conftest import KEY
from .proxy import STORES, Proxy

pytestmark = pytest.mark.flavored  # every simulator test runs on both server flavours

OLD_STORES = 264  # the reviewer's account: the oldest stores are past the first two pages


def proxied(
    server: SimServer, setup: Callable[[Proxy], object]
) -> tuple[VectorStoresService, Proxy]:
    proxy = Proxy(server)
    setup(proxy)
    settings = ClientSettings(
        api_key=KEY, base_url=server.base_url, max_retries=2, backoff_initial=0.01
    )
    return VectorStoresService(settings, transport=proxy), proxy


SERVERS: dict[str, Callable[[Proxy], object]] = {
    "ignores order": lambda p: p.ignore_order(),
    "ignores order, null file_counts": lambda p: p.ignore_order().null_counts(),
}

# created in distinct seconds (a real account), or all in one (a bulk import, a frozen clock)
STAMPS = ["distinct seconds", "same second"]


def old_stores(server: SimServer, stamps: str, count: int = OLD_STORES) -> list[str]:
    """``count`` stores, oldest first, all older than anything the test creates later."""
    now = int(server.account.now())
    ids = []
    for i in range(count):
        created = now - 10 * 86_400 + i if stamps == "distinct seconds" else None
        ids.append(server.account.create_store(name=f"old-{i:03d}", created_at=created).id)
    return ids


def write(root: Path, rel: str, text: str) -> None:
    (root / rel).write_text(text, encoding="utf-8")


def advancing(clock):
    def sleep(seconds: float) -> None:
        clock.advance(max(seconds, 0.5))

    return sleep


def cli(
    service: VectorStoresService, clock, path: Path, store: str, *extra: str
) -> tuple[int, dict[str, Any], str, str]:
    """Run ``vstui sync PATH STORE --yes --json ...``: exit code, the JSON, stdout, stderr."""
    parser = argparse.ArgumentParser()
    sync_command.add_parser(parser.add_subparsers())
    args = parser.parse_args(["sync", str(path), store, "--yes", "--json", *extra])
    out, err = io.StringIO(), io.StringIO()
    code = sync_command.run_with(args, service, out=out, err=err, sleep=advancing(clock))
    text = out.getvalue()
    return code, (json.loads(text) if text.strip() else {}), text, err.getvalue()


def holders(server: SimServer, file_id: str) -> set[str]:
    """The stores that hold ``file_id``, read from the simulator itself."""
    with server.account.lock:
        return {sid for sid, s in server.account.stores.items() if file_id in s.files}


@pytest.mark.parametrize("stamps", STAMPS)
@pytest.mark.parametrize("server_kind", SERVERS)
def test_delete_keeps_a_file_a_store_past_the_second_page_holds(
    sim, clock, tmp_path, server_kind, stamps, llama
):
    """The reviewer's reproduction: the shared file is kept and the report says why; the
    file no other store holds is still deleted."""
    oldest = old_stores(sim, stamps)[0]
    service, _ = proxied(sim, SERVERS[server_kind])
    write(tmp_path, "a.txt", "alpha\n")
    write(tmp_path, "b.txt", "beta\n")
    code, first, _, err = cli(service, clock, tmp_path, "storeA", "--create")
    assert code == 0, err
    store_id = first["result"]["store_id"]
    clock.advance(60)
    by_path = {
        f.attributes["path"]: f.id for f in service.iter_store_files(store_id) if f.attributes
    }
    shared, alone = by_path["a.txt"], by_path["b.txt"]
    service.create_store_file(oldest, shared)  # another client attaches it to the oldest store
    clock.advance(60)
    (tmp_path / "a.txt").unlink()
    (tmp_path / "b.txt").unlink()

    # without file counts the deletion rests on unverified listings: accepted here (the
    # pages are the point; tests/test_sync_unverified.py tests the refusal)
    uncounted = llama or "null" in server_kind
    trust = ["--trust-unverified-listings"] if uncounted else []
    code, result, _, err = cli(service, clock, tmp_path, "storeA", "--delete", *trust)

    assert code == 0, err
    report = result["result"]
    assert bool(report["unverified_stores"]) == uncounted
    assert report["trusted_unverified_listings"] == uncounted and not report["kept_unverified"]
    assert sorted(report["detached"]) == sorted([shared, alone])
    assert report["kept"] == [{"id": shared, "reason": "another store holds it"}]
    assert report["deleted"] == [alone]
    assert holders(sim, shared) == {oldest}  # the other store still has its document
    assert shared in sim.account.files and alone not in sim.account.files
    service.close()


def test_the_report_says_which_file_was_kept_and_why(sim, clock, tmp_path):
    oldest = old_stores(sim, "distinct seconds")[0]
    service, _ = proxied(sim, lambda p: p.ignore_order())
    write(tmp_path, "a.txt", "alpha\n")
    store = service.create_store(name="storeA")
    execute(service, build_plan(service, tmp_path, store.id, Options()), sleep=advancing(clock))
    clock.advance(60)
    (shared,) = [f.id for f in service.iter_store_files(store.id)]
    service.create_store_file(oldest, shared)
    (tmp_path / "a.txt").unlink()
    parser = argparse.ArgumentParser()
    sync_command.add_parser(parser.add_subparsers())
    args = parser.parse_args(["sync", str(tmp_path), "storeA", "--delete", "--yes"])
    out, err = io.StringIO(), io.StringIO()
    assert sync_command.run_with(args, service, out=out, err=err, sleep=advancing(clock)) == 0
    text = out.getvalue()
    assert "1 detached, 0 files deleted" in text and "1 files kept" in text
    assert f"kept file {shared}: another store holds it" in text
    service.close()


def endless(proxy: Proxy) -> None:
    """The store listing always says there is more (it can never be shown complete)."""

    def rewrite(request: httpx.Request, body: Any) -> Any:
        if STORES.match(request.url.path) and isinstance(body, dict):
            body["has_more"] = True
        return body

    proxy.rewrites.append(rewrite)


def test_delete_keeps_the_file_when_the_store_listing_cannot_be_shown_complete(
    sim, clock, tmp_path
):
    old_stores(sim, "distinct seconds", count=5)
    service, proxy = proxied(sim, lambda p: p.ignore_order())
    write(tmp_path, "a.txt", "alpha\n")
    store = service.create_store(name="storeA")
    execute(service, build_plan(service, tmp_path, store.id, Options()), sleep=advancing(clock))
    clock.advance(60)
    (tmp_path / "a.txt").unlink()
    plan = build_plan(service, tmp_path, store.id, Options(delete=True))
    endless(proxy)
    report = execute(service, plan, sleep=advancing(clock))
    (file_id,) = report.detached
    assert not report.deleted
    reason = report.kept[file_id]
    assert reason.startswith("could not list every store to prove no other store holds it")
    assert "empty page" in reason and "\n" not in reason
    assert file_id in sim.account.files
    service.close()


def test_a_file_attached_elsewhere_between_the_check_and_the_delete_is_kept(sim, clock, tmp_path):
    """What every store holds is read again right before the delete."""
    oldest = old_stores(sim, "distinct seconds")[0]
    service, proxy = proxied(sim, lambda p: p.ignore_order())
    write(tmp_path, "a.txt", "alpha\n")
    store = service.create_store(name="storeA")
    execute(service, build_plan(service, tmp_path, store.id, Options()), sleep=advancing(clock))
    clock.advance(60)
    (file_id,) = [f.id for f in service.iter_store_files(store.id)]
    (tmp_path / "a.txt").unlink()
    # llama-stack: no file counts, the listings are trusted (the re-check is the point)
    plan = build_plan(service, tmp_path, store.id, Options(delete=True, trust_unverified=True))
    first_pages = -(-(OLD_STORES + 1) // 100)  # the first complete reading of the stores
    store_pages = 0

    def attach_during_the_recheck(request: httpx.Request) -> None:
        nonlocal store_pages
        if request.method == "GET" and STORES.match(request.url.path):
            store_pages += 1
            if store_pages == first_pages + 1:  # the re-check right before deleting
                sim.account.attach_file(oldest, file_id, attributes=None, chunking_strategy=None)

    proxy.before.append(attach_during_the_recheck)
    report = execute(service, plan, sleep=advancing(clock))
    assert report.detached == [file_id] and not report.deleted
    assert "right before deleting" in report.kept[file_id]
    assert holders(sim, file_id) == {oldest} and file_id in sim.account.files
    service.close()


@pytest.mark.parametrize("stamps", STAMPS)
@pytest.mark.parametrize("answer", ["desc", "asc"])
def test_walking_both_ends_lists_every_store_once_when_order_is_ignored(sim, stamps, answer):
    ids = old_stores(sim, stamps)
    service, proxy = proxied(sim, lambda p: p.ignore_order(answer))
    walked = [s.id for batch in service.walk_stores_both_ends() for s in batch]
    assert len(walked) == len(set(walked)) == OLD_STORES
    assert set(walked) == set(ids)
    # one walk to the end (3 pages) and what the other had in flight: never a loop. How many
    # pages the other walk got before the stop depends on thread timing (benchmarks measure it).
    print(f"\n{stamps}, always {answer}: {len(proxy.listings)} pages for 3 pages of stores")
    assert len(proxy.listings) <= 6
    service.close()


@pytest.mark.parametrize("stamps", STAMPS)
def test_walking_both_ends_stays_fast_on_a_server_that_honours_order(sim, stamps):
    ids = old_stores(sim, stamps)
    service, proxy = proxied(sim, lambda p: p)
    walked = [s.id for batch in service.walk_stores_both_ends() for s in batch]
    assert len(walked) == len(set(walked)) == OLD_STORES and set(walked) == set(ids)
    print(f"\n{stamps}, order honoured: {len(proxy.listings)} pages for 3 pages of stores")
    # Each end reads each page at most once (how far each gets before they meet depends on
    # thread timing, which the benchmarks measure; a test asserts only what is certain).
    assert len(proxy.listings) <= 6


def test_walking_both_ends_when_items_are_not_in_created_at_order(sim):
    """A server that sorts by something else than ``created_at`` (here the times it sends
    are scrambled): the meeting of the two walks cannot be proven, one walk goes on."""
    ids = old_stores(sim, "distinct seconds")

    def scrambled(proxy: Proxy) -> None:
        def rewrite(request: httpx.Request, body: Any) -> Any:
            if STORES.match(request.url.path):
                for store in body["data"]:
                    store["created_at"] = 1_700_000_000 + zlib.crc32(store["id"].encode()) % 999
            return body

        proxy.rewrites.append(rewrite)

    service, _ = proxied(sim, scrambled)
    walked = [s.id for batch in service.walk_stores_both_ends() for s in batch]
    assert len(walked) == len(set(walked)) == OLD_STORES and set(walked) == set(ids)
    service.close()


@pytest.mark.parametrize("stamps", STAMPS)
def test_find_store_by_name_finds_an_old_store_and_create_makes_no_duplicate(
    sim, clock, tmp_path, stamps
):
    old_stores(sim, stamps)
    service, _ = proxied(sim, lambda p: p.ignore_order())
    (oldest_id,) = [s.id for s in sim.account.stores.values() if s.name == "old-000"]
    found = find_store(service, "old-000")
    assert found is not None and found.id == oldest_id
    write(tmp_path, "a.txt", "alpha\n")
    code, result, _, err = cli(service, clock, tmp_path, "old-000", "--create")
    assert code == 0, err
    assert result["plan"]["store"]["create"] is False
    assert result["result"]["store_id"] == oldest_id
    assert [s.id for s in sim.account.stores.values() if s.name == "old-000"] == [oldest_id]
    service.close()


def test_find_store_refuses_when_the_listing_cannot_be_shown_complete(sim, clock, tmp_path):
    old_stores(sim, "distinct seconds", count=5)
    service, proxy = proxied(sim, lambda p: p.ignore_order())
    endless(proxy)
    with pytest.raises(SyncError) as info:
        find_store(service, "no-such-store")
    assert "give the store's ID" in str(info.value)
    before = len(sim.account.stores)
    write(tmp_path, "a.txt", "alpha\n")
    code, _, _, err = cli(service, clock, tmp_path, "no-such-store", "--create")
    assert code == 2 and len(sim.account.stores) == before  # nothing was created
    assert err.startswith("vstui sync: Could not list every store") and err.count("\n") == 1
    service.close()


def test_a_delete_that_fails_is_kept_and_says_so(sim, clock, tmp_path):
    service, _ = proxied(sim, lambda p: p.ignore_order())
    write(tmp_path, "a.txt", "alpha\n")
    store = service.create_store(name="storeA")
    execute(service, build_plan(service, tmp_path, store.id, Options()), sleep=advancing(clock))
    clock.advance(60)
    (tmp_path / "a.txt").unlink()
    # llama-stack: no file counts, the listings are trusted (the failed DELETE is the point)
    plan = build_plan(service, tmp_path, store.id, Options(delete=True, trust_unverified=True))
    sim.simulator.inject(Fault(path="^(/v1)?/files/[^/]+$", method="DELETE", status=500, times=50))
    report = execute(service, plan, sleep=advancing(clock))
    (file_id,) = report.detached
    assert not report.deleted and report.kept[file_id].startswith("delete failed: ")
    assert file_id in sim.account.files
    service.close()
