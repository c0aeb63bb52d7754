"""OpenAI-compatible servers (issue 14): the same flows on every simulator flavour.

Each test runs on ``openai`` and on ``llama-stack`` (the ``flavored`` marker): what
works must work on both, what a server does not report must be said, never guessed.
"""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import pytest

from vstui.api import BadRequestError, BatchesUnsupportedError, VectorStoresService
from vstui.api.models import FileContentPage, SearchResult
from vstui.cleanup import build_plan, execute
from vstui.commands import sync
from vstui.screens.dialogs import HelpScreen, TextPager
from vstui.screens.file_list import FileListScreen
from vstui.screens.search import SearchScreen
from vstui.screens.store_detail import StoreDetailScreen
from vstui.sim import Fault

from .conftest import make_service, settle
from .test_ui_flows import SIZE, notes, open_store, screen_text

pytestmark = pytest.mark.flavored  # every simulator test runs on both server flavours


@pytest.fixture
def demo(make_sim, sleeps):
    server = make_sim("demo")
    service = make_service(server, sleeps)
    yield server, service
    service.close()


# -- the service layer: tolerant reading -------------------------------------------------


def test_what_the_server_leaves_out_is_learnt_and_said(demo, llama):
    _server, service = demo
    stores = list(service.iter_stores())
    assert all(not s.id.startswith("vs_") for s in stores) == llama  # name as id
    busy = next(s for s in stores if s.name == "customer-tickets-q3")
    files = list(service.iter_store_files(busy.id))
    caps = service.capabilities
    if llama:
        assert caps.missing() == ["no usage", "no expiry dates", "no file counts", "no request IDs"]
        assert not caps.usage_known(busy) and not caps.expiry_known(busy)
    else:
        assert caps.missing() == [] and caps.usage_known(busy) and caps.expiry_known(busy)
        assert caps.describe() == "Server: nothing missing seen so far"
    # counts: from the store, or from listing its files (each file once)
    counts, counted = service.store_counts(busy)
    assert counted == llama and counts.total == len({f.id for f in files})
    # parsed content in either shape
    done = next(f for f in files if f.status == "completed")
    assert len(service.store_file_content(busy.id, done.id).text) > 50


def test_content_and_search_shapes_read_tolerantly():
    both = [{"type": "text", "text": "hello"}]
    assert FileContentPage.model_validate({"data": both}).text == "hello"
    llama_shape = {"file_id": "f", "filename": "a.md", "attributes": {}, "content": both}
    assert FileContentPage.model_validate(llama_shape).text == "hello"
    blank = SearchResult.model_validate(
        {"file_id": "", "filename": "", "score": 0.5, "attributes": {"document_id": "doc-7"}}
    )
    assert blank.best_id == "doc-7" and not blank.file_id_reported
    assert blank.source == "doc-7 (no file id)"
    assert blank.describe == "document doc-7 (the server did not report a file id)"
    nothing = SearchResult.model_validate({"file_id": None, "score": 0.1})
    assert nothing.source == "(no file id reported)" and "did not report" in nothing.describe


def test_no_batches_is_learnt_once_and_attaches_file_by_file(demo, llama):
    server, service = demo
    store = next(s for s in service.iter_stores() if s.name == "ingest-2026-11")
    ids = [service.upload_file(f"n{i}.md", b"# note\nrefunds").id for i in range(3)]
    steps: list[tuple[int, int]] = []
    done = service.attach_files(
        store.id, [{"file_id": i} for i in ids], on_each=lambda *s: steps.append(s)
    )
    assert done.one_by_one == llama and not done.failed
    assert service.capabilities.batches is (not llama)
    if llama:
        assert steps == [(1, 3), (2, 3), (3, 3)] and "one by one" in done.sentence()
        assert server.simulator.count("POST", "/file_batches$") == 1  # asked once, then known
        again = service.attach_files(store.id, [{"file_id": ids[0]}])
        assert again.one_by_one and server.simulator.count("POST", "/file_batches$") == 1
    assert {i for i in ids} <= set(server.account.stores[store.id].files)


def test_a_404_for_a_missing_store_is_not_taken_for_missing_batches(demo):
    _server, service = demo
    with pytest.raises(Exception) as info:
        service.create_batch("no-such-store", file_ids=["file-x"])
    assert not isinstance(info.value, BatchesUnsupportedError)
    assert service.capabilities.batches is None


# -- clean-up: strict deciding -------------------------------------------------------------


def test_nothing_already_gone_is_counted_failed_and_a_400_alone_proves_nothing(demo, llama):
    server, service = demo
    plan = build_plan(service, expired=True, include_files=True)
    assert plan.stores and plan.files
    gone_store, gone_file = plan.stores[0], plan.files[0]
    server.account.delete_store(gone_store.id)  # deleted elsewhere meanwhile
    server.account.delete_file(gone_file.id)
    trust = llama  # no file counts there: the risk is accepted (see test_cleanup_safety.py)
    report = execute(
        service, plan.stores, plan.files, holdings=plan.holdings, trust_unverified=trust
    )
    assert report.ok, report.of("failed")
    assert {gone_store.id, gone_file.id} <= {o.id for o in report.of("already gone")}
    assert len(report.of("already gone")) == 2
    # a 400 for a store that is still there is a failure, not "already gone"
    survivor = next(s for s in service.iter_stores() if not s.is_expired)
    server.simulator.inject(
        Fault(path=f"/vector_stores/{survivor.id}$", method="DELETE", status=400)
    )
    report = execute(service, [survivor], [])
    assert not report.ok and [o.id for o in report.of("failed")] == [survivor.id]
    assert survivor.id in server.account.stores


# -- sync: no upload is left unattached without saying so ----------------------------------


def _args(path: Path, store: str, *extra: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    sync.add_parser(parser.add_subparsers())
    return parser.parse_args(["sync", str(path), store, *extra])


def _sync(service: VectorStoresService, root: Path, clock) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()

    def sleep(seconds: float) -> None:
        clock.advance(max(seconds, 0.5))

    code = sync.run_with(
        _args(root, "docs", "--yes"), service, out=out, err=err, stdin=io.StringIO(), sleep=sleep
    )
    return code, out.getvalue()


def test_sync_attaches_on_every_flavour_and_names_what_it_could_not(
    make_sim, sleeps, llama, tmp_path, clock
):
    server = make_sim("empty")
    service = make_service(server, sleeps)
    store = service.create_store(name="docs")
    for name in ("a.md", "b.md"):
        (tmp_path / name).write_text(f"# {name}\nrefunds take five days\n")
    code, out = _sync(service, tmp_path, clock)
    assert code == 0, out
    assert ("attached one by one" in out) == llama
    assert len(server.account.stores[store.id].files) == 2
    # a changed file: the new version completes before the old one goes, on both flavours
    (tmp_path / "a.md").write_text("# a.md\nrefunds take three days now\n")
    clock.advance(30)
    code, out = _sync(service, tmp_path, clock)
    assert code == 0, out
    assert "1 replaced" in out and len(server.account.stores[store.id].files) == 2
    # attaching fails: the uploaded file is named, never silently left behind
    (tmp_path / "c.md").write_text("# c\n")
    attach = r"/vector_stores/[^/]+/files$" if llama else r"/file_batches$"
    server.simulator.inject(Fault(path=attach, method="POST", status=400))
    code, out = _sync(service, tmp_path, clock)
    assert code == 1 and "uploaded but not attached" in out
    service.close()


# -- the TUI: a key flow on every flavour --------------------------------------------------


async def test_browse_search_read_and_help_on_every_flavour(make_app, llama):
    app, _server = make_app("demo")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        text = screen_text(app)
        assert "support-faq" in text and "Traceback" not in text
        open_store(app, "customer-tickets-q3")  # expires 30 days after last activity
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, StoreDetailScreen)
        text = screen_text(app)
        assert ("not reported by this server" in text) == llama
        assert "never" not in text.split("Expires at", 1)[1].split("\n", 1)[0]
        # search: results without a file id show the best id and say so
        await pilot.press("s")
        assert isinstance(app.screen, SearchScreen)
        await pilot.press(*"refund policy", "enter")
        await settle(pilot)
        chunk = str(app.screen.query_one("#chunk").render())
        assert ("the server did not report a file id" in chunk) == llama
        assert "document file-" in chunk if llama else "(file-" in chunk
        assert "()" not in chunk
        await pilot.press("escape")
        # parsed content, in either shape
        await pilot.press("f")
        await settle(pilot)
        files = app.screen
        assert isinstance(files, FileListScreen)
        files.table.cursor = next(
            i for i, f in enumerate(files.table.view) if f.status == "completed"
        )
        await pilot.press("v")
        await settle(pilot)
        assert isinstance(app.screen, TextPager) and len(app.screen.text) > 50
        await pilot.press("escape")
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        text = screen_text(app)
        assert ("Server: no usage, no expiry dates, no file counts" in text) == llama


async def test_sync_from_the_tui_without_batches_attaches_one_by_one_and_says_so(
    make_app, llama, tmp_path
):
    from .test_tui_sync import plan_folder

    app, server = make_app("empty", remember=False)
    store = server.account.create_store(name="uploads")
    for i in range(3):
        (tmp_path / f"note-{i}.md").write_text(f"# Note {i}\nRefunds take five days.")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await plan_folder(pilot, str(tmp_path))
        await pilot.press("a")
        await pilot.pause()
        await pilot.press("y")
        await settle(pilot, rounds=6)
        assert len(server.account.stores[store.id].files) == 3
        assert len(server.account.batches) == (0 if llama else 1)
        said = " ".join(notes(app))
        assert ("Attached one by one (this server has no file batches)." in said) == llama
        assert ("attached one by one" in screen_text(app)) == llama
        # the monitor follows the store's files (llama-stack: no batch, no counts to read)
        await pilot.press("b")
        await settle(pilot)
        monitor = app.screen
        if llama:
            assert store.id in monitor.monitor.ingesting
            assert monitor.monitor.ingesting[store.id].file_counts.in_progress == 3
        assert "uploads" in screen_text(app)


def test_detaching_or_deleting_what_is_gone_is_what_was_asked(demo, llama):
    server, service = demo
    store = next(s for s in service.iter_stores() if s.name == "support-faq")
    file_id = next(iter(server.account.stores[store.id].files))
    detach = lambda: service.delete_store_file(store.id, file_id)  # noqa: E731
    still = lambda: service.retrieve_store_file(store.id, file_id)  # noqa: E731
    assert service.delete_gone_ok(detach, still) is True
    assert service.delete_gone_ok(detach, still) is False  # 404, or llama-stack's 400
    assert service.delete_gone_ok(
        lambda: service.delete_file(file_id), lambda: service.retrieve_file(file_id)
    )
    other = next(iter(server.account.stores[store.id].files))
    server.simulator.inject(Fault(path=f"/files/{other}$", method="DELETE", status=400))
    with pytest.raises(BadRequestError):  # a 400 for a file that is still there is raised
        service.delete_gone_ok(
            lambda: service.delete_file(other), lambda: service.retrieve_file(other)
        )
    assert other in server.account.files
