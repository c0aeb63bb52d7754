"""The TUI's sync (`u` on a store): options, plan, confirm, progress, stop, report; over
real HTTP against the simulator (frozen clock)."""

from __future__ import annotations

import asyncio
import hashlib
import re
import threading
from pathlib import Path

import httpx
import pytest

from vstui.screens.batch_monitor import BatchMonitorScreen
from vstui.screens.file_list import FileListScreen
from vstui.screens.store_detail import StoreDetailScreen
from vstui.screens.sync import SyncConfirm, SyncScreen, SyncSetupScreen
from vstui.synced import summarize

from .conftest import notes, screen_text, settle

SIZE = (120, 40)


def make_tree(root: Path) -> Path:
    """A folder with nested files, a .gitignore, an empty file, an unsupported type and
    a unicode name."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "guide.md").write_text("# Guide\nRefunds take five days.\n")
    (root / "faq.txt").write_text("Shipping to Canada takes a week.\n")
    (root / "manuals").mkdir(exist_ok=True)
    (root / "manuals" / "setup.md").write_text("Plug it in, then press the button.\n")
    (root / "manuals" / "café ünï.md").write_text("Crème brûlée recipes.\n")
    (root / "empty.md").write_text("")
    (root / "archive.zip").write_bytes(b"PK\x03\x04 not a document")
    (root / ".gitignore").write_text("drafts/\n")
    (root / "drafts").mkdir(exist_ok=True)
    (root / "drafts" / "wip.md").write_text("not yet\n")
    return root


async def open_first_store(pilot) -> None:
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)
    assert isinstance(pilot.app.screen, StoreDetailScreen)


async def plan_folder(pilot, folder: str | None, **fields: str) -> SyncScreen:
    """Press u, fill the dialog (folder None: keep what it remembered), submit, wait."""
    await pilot.press("u")
    await pilot.pause()
    dialog = pilot.app.screen
    assert isinstance(dialog, SyncSetupScreen)
    if folder is not None:
        dialog.query_one("#path").value = folder
    for name, value in fields.items():
        dialog.query_one(f"#{name}").value = value
    await pilot.pause()
    dialog.query_one("#path").focus()
    await pilot.press("enter")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, SyncScreen), screen_text(pilot.app)
    return screen


def flat(text: str) -> str:
    """The screen's text without spaces (cells are painted apart: columns run together)."""
    return re.sub(r"\s+", "", text)


def shows(app, *wanted: str) -> bool:
    """Every ``wanted`` text is on screen (spaces ignored)."""
    text = flat(screen_text(app))
    missing = [w for w in wanted if flat(w) not in text]
    assert not missing, (missing, screen_text(app))
    return True


def synced_files(server, store_id: str) -> dict[str, dict]:
    """path attribute -> attributes, for the store's attachments carrying one."""
    store = server.account.stores[store_id]
    return {
        a.attributes["path"]: a.attributes
        for a in store.files.values()
        if a.attributes and "path" in a.attributes
    }


async def test_sync_a_folder_then_nothing_to_do(make_app, tmp_path, clock):
    app, server = make_app("empty", remember=False)
    store = server.account.create_store(name="handbook")
    folder = make_tree(tmp_path / "docs")
    async with app.run_test(size=SIZE) as pilot:
        await open_first_store(pilot)
        screen = await plan_folder(pilot, str(folder), attributes="team=support")
        assert shows(app, f"Sync {folder} → store handbook ({store.id})")
        assert shows(app, "new        4 files")
        assert shows(app, "skipped    3 files")
        assert shows(app, "file type .zip is not supported by file search")
        assert shows(app, "empty.md", "empty")
        assert shows(app, "manuals/café ünï.md")
        assert "drafts/wip.md" not in screen_text(app)  # .gitignore honoured
        assert not server.account.files  # nothing happens before the confirmation

        await pilot.press("a")
        await pilot.pause()
        confirm = app.screen
        assert isinstance(confirm, SyncConfirm)
        assert "Upload 4 files" in screen_text(app)
        await pilot.press("y")
        await settle(pilot, rounds=6)
        assert app.screen is screen
        report = screen.report
        assert report is not None and report.ok, report
        got = synced_files(server, store.id)
        assert sorted(got) == ["faq.txt", "guide.md", "manuals/café ünï.md", "manuals/setup.md"]
        guide = (folder / "guide.md").read_bytes()
        assert got["guide.md"]["sha256"] == hashlib.sha256(guide).hexdigest()
        assert got["guide.md"]["team"] == "support"
        assert shows(app, "Sync finished: 4 uploaded, 4 attached")
        guide_row = next(line for line in screen_text(app).splitlines() if "guide.md" in line)
        assert "attached" in guide_row
        assert any("Press b to follow ingestion" in n for n in notes(app))
        # The batch is remembered, like an upload's, and the monitor follows it.
        remembered = app.session.state.batches(app.session.account_key)
        assert [b.batch_id for b in remembered] == report.batches
        await pilot.press("b")
        await settle(pilot)
        monitor = app.screen
        assert isinstance(monitor, BatchMonitorScreen)
        assert monitor.batches.get(report.batches[0]) is not None
        clock.advance(60)
        await pilot.press("r")
        await settle(pilot)
        assert monitor.batches.get(report.batches[0]).status == "completed"
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen
        await pilot.press("escape")
        await settle(pilot)

        # Back on the store: where its files came from, and when.
        assert isinstance(app.screen, StoreDetailScreen)
        assert shows(app, "Synced from")
        assert shows(app, "4 files with a sync path (path attribute)")
        assert shows(app, "Common folder", "the synced folder itself")
        assert shows(app, str(folder))  # the folder last synced from this machine

        # Again, with nothing changed: the dialog remembers the folder; nothing to do.
        before = dict(server.account.files)
        screen = await plan_folder(pilot, None)
        assert shows(app, "unchanged  4 files", "new        0 files")
        assert shows(app, "Nothing to do: the store is in step with the folder.")
        await pilot.press("a")
        await pilot.pause()
        assert app.screen is screen  # no confirmation: nothing to apply
        assert server.account.files == before


async def test_changed_and_removed_files_with_delete(make_app, tmp_path, clock):
    app, server = make_app("empty", remember=False)
    store = server.account.create_store(name="handbook")
    folder = make_tree(tmp_path / "docs")
    async with app.run_test(size=SIZE) as pilot:
        await open_first_store(pilot)
        await plan_folder(pilot, str(folder))
        await pilot.press("a", "y")
        await settle(pilot, rounds=6)
        clock.advance(60)  # ingestion completes
        await pilot.press("escape")
        await settle(pilot)
        old_guide = synced_files(server, store.id)["guide.md"]
        (folder / "guide.md").write_text("# Guide\nRefunds now take three days.\n")
        (folder / "faq.txt").unlink()
        screen = await plan_folder(pilot, None)
        dialog_delete = screen.request.options.delete
        assert dialog_delete is False
        assert shows(app, "changed    1 file", "removed    1 file")
        assert shows(app, "source is gone; kept")
        await pilot.press("escape")
        await settle(pilot)

        # With --delete ticked the removal needs the count typed.
        await pilot.press("u")
        await pilot.pause()
        app.screen.query_one("#delete").value = True
        await pilot.pause()
        app.screen.query_one("#path").focus()
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, SyncScreen)
        await pilot.press("a")
        await pilot.pause()
        confirm = app.screen
        assert isinstance(confirm, SyncConfirm) and confirm.require_text == "2"
        await pilot.press("y")  # typed into the box, not a yes
        await pilot.pause()
        assert app.screen is confirm
        confirm.query_one("Input").value = "2"
        await pilot.press("enter")
        # The new version must complete before the old one goes: let the clock run.
        for _ in range(50):
            await pilot.pause(0.05)
            clock.advance(10)
            if screen.report is not None:
                break
        await settle(pilot)
        report = screen.report
        assert report is not None and report.ok, report
        got = synced_files(server, store.id)
        assert "faq.txt" not in got
        assert got["guide.md"]["sha256"] != old_guide["sha256"]
        assert report.replaced == ["guide.md"]
        assert shows(app, "replaced", "detached")


class HeldUploads(httpx.BaseTransport):
    """Real HTTP, except that uploads after the first ``free`` wait for the gate."""

    def __init__(self, free: int) -> None:
        self._inner = httpx.HTTPTransport()
        self.free = free
        self.seen = 0
        self.lock = threading.Lock()
        self.gate = threading.Event()
        self.holding = threading.Event()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path.endswith("/files"):
            with self.lock:
                self.seen += 1
                held = self.seen > self.free
            if held:
                self.holding.set()
                self.gate.wait(timeout=60)  # a failing test must not hang the run
        return self._inner.handle_request(request)

    def close(self) -> None:
        self.gate.set()
        self._inner.close()


async def test_stop_mid_upload_reports_and_a_rerun_converges(make_app, tmp_path):
    transport = HeldUploads(free=2)
    app, server = make_app("empty", remember=False, transport=transport)
    store = server.account.create_store(name="handbook")
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(30):
        (folder / f"note-{i:02}.md").write_text(f"# Note {i}\nSome text.\n")
    async with app.run_test(size=SIZE) as pilot:
        await open_first_store(pilot)
        screen = await plan_folder(pilot, str(folder))
        assert shows(app, "new        30 files")
        await pilot.press("a", "y")
        for _ in range(200):  # until uploads are held in flight
            await asyncio.sleep(0.01)
            if transport.holding.is_set():
                break
        assert transport.holding.is_set()
        await pilot.pause()
        assert screen.running and "Stop" in screen_text(app)
        await pilot.press("x")
        await pilot.pause()
        assert any("Stopping" in n for n in notes(app))
        transport.gate.set()
        await settle(pilot, rounds=6)
        report = screen.report
        assert report is not None and report.interrupted
        uploaded = len(report.uploaded)
        assert 2 <= uploaded < 30
        attached = synced_files(server, store.id)
        assert len(attached) == uploaded  # every upload attached: nothing leaks
        assert shows(app, "Sync stopped:", "picks up where this stopped")
        assert shows(app, "not uploaded")
        await pilot.press("escape")
        await settle(pilot)

        # Run it again: only what is missing goes; no duplicate attachment.
        screen = await plan_folder(pilot, None)
        assert shows(app, f"new        {30 - uploaded} files")
        assert shows(app, f"unchanged  {uploaded} files")
        await pilot.press("a", "y")
        await settle(pilot, rounds=6)
        assert screen.report is not None and screen.report.ok
        store_files = server.account.stores[store.id].files.values()
        paths = [a.attributes["path"] for a in store_files]
        assert len(paths) == 30 and len(set(paths)) == 30


async def test_read_only_shows_the_plan_and_refuses_to_apply(make_app, tmp_path):
    app, server = make_app("empty", remember=False, read_only=True)
    server.account.create_store(name="handbook")
    folder = make_tree(tmp_path / "docs")
    async with app.run_test(size=SIZE) as pilot:
        await open_first_store(pilot)
        await pilot.press("f")  # from the file list too
        await settle(pilot)
        assert isinstance(app.screen, FileListScreen)
        await plan_folder(pilot, str(folder))
        assert shows(app, "Read-only: this plan is a dry run; nothing will be changed.")
        await pilot.press("a")
        await pilot.pause()
        assert not isinstance(app.screen, SyncConfirm)
        assert any("read-only" in n for n in notes(app))
        assert not server.account.files


async def test_dialog_checks_fields_and_tab_completes(make_app, tmp_path):
    app, server = make_app("empty", remember=False)
    server.account.create_store(name="handbook")
    make_tree(tmp_path / "documents")
    async with app.run_test(size=SIZE) as pilot:
        await open_first_store(pilot)
        await pilot.press("u")
        await pilot.pause()
        dialog = app.screen
        path = dialog.query_one("#path")

        async def submit() -> str:
            path.focus()
            await pilot.press("enter")
            await pilot.pause()
            return str(dialog.query_one("#error").render())

        path.value = str(tmp_path / "nope")
        assert "is not a folder" in await submit()
        path.value = str(tmp_path / "documents")
        dialog.query_one("#chunking").value = "static:50:10"
        assert "chunking" in (await submit()).lower()
        dialog.query_one("#chunking").value = "static:800:400"
        dialog.query_one("#attributes").value = "team"
        assert "KEY=VALUE" in await submit()
        dialog.query_one("#attributes").value = "path=x"
        assert "attribute sync keeps the source in" in await submit()
        dialog.query_one("#attributes").value = ""
        dialog.query_one("#include").value = "'unclosed"
        assert "quote" in await submit()
        dialog.query_one("#include").value = ""
        assert app.screen is dialog

        # Tab completes the folder from the local disk.
        path.value = str(tmp_path / "doc")  # (typing the whole path took 7 s)
        path.cursor_position = len(path.value)
        path.focus()
        await pilot.press("u")
        await pilot.pause()
        await pilot.press("tab")
        await pilot.pause()
        assert path.value == str(tmp_path / "documents") + "/"
        await pilot.press("escape")  # closes the completions, not the dialog
        await pilot.pause()
        assert app.screen is dialog
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, SyncScreen)
        assert app.screen.request.options.chunking == {
            "type": "static",
            "static": {"max_chunk_size_tokens": 800, "chunk_overlap_tokens": 400},
        }


def test_synced_summary_from_attributes():
    from vstui.api import VectorStoreFile

    def f(i: int, attrs: dict | None, created: int) -> VectorStoreFile:
        return VectorStoreFile.model_validate(
            {
                "id": f"file-{i}",
                "object": "vector_store.file",
                "created_at": created,
                "vector_store_id": "vs_1",
                "status": "completed",
                "usage_bytes": 10,
                "attributes": attrs,
            }
        )

    sha = "a" * 64
    files = [
        f(1, {"sync_path": "docs/a/x.md", "sync_sha256": sha}, 100),
        f(2, {"sync_path": "docs/b/y.md", "sync_sha256": sha}, 300),
        f(3, {"path": "docs/z.md", "sha256": "not-a-hash"}, 400),  # not from a sync
        f(4, None, 500),
    ]
    summary = summarize(files, complete=True)
    assert summary is not None
    assert (summary.files, summary.scanned, summary.folder) == (2, 4, "docs")
    assert summary.attr_prefix == "sync_" and summary.last_sync == 300
    assert summary.latest == ["docs/b/y.md", "docs/a/x.md"]
    assert summarize(files[2:], complete=True) is None


# -- snapshot ---------------------------------------------------------------------------------


@pytest.fixture
def plan_app(make_app, tmp_path, monkeypatch):
    """A store synced once, then a folder with a change, a removal and new files."""
    app, server = make_app("empty", remember=False)
    store = server.account.create_store(name="handbook")
    folder = make_tree(tmp_path / "docs")
    for rel in ("guide.md", "faq.txt", "manuals/setup.md", "old/retired.md"):
        content = (folder / rel).read_bytes() if (folder / rel).exists() else b"gone"
        sim_file = server.account.add_file(rel.rsplit("/", 1)[-1], len(content), content=content)
        server.account.attach(
            store,
            sim_file,
            attributes={"path": rel, "sha256": hashlib.sha256(content).hexdigest()},
        )
    (folder / "guide.md").write_text("# Guide\nRefunds now take three days.\n")
    monkeypatch.chdir(tmp_path)  # the heading shows the folder as typed: "docs"
    return app


def test_plan_snapshot(snap_compare, plan_app):
    async def run_before(pilot):
        await open_first_store(pilot)
        await plan_folder(pilot, "docs")

    assert snap_compare(plan_app, terminal_size=SIZE, run_before=run_before)


async def test_server_paths_are_shown_escaped(make_app, tmp_path):
    """A removed file's path comes from the server's attributes: untrusted text."""
    app, server = make_app("empty", remember=False)
    store = server.account.create_store(name="handbook")
    evil = "notes\x1b]0;pwned\x07\u202egpj.md"
    sim_file = server.account.add_file("x.md", 4, content=b"gone")
    server.account.attach(store, sim_file, attributes={"path": evil, "sha256": "b" * 64})
    folder = make_tree(tmp_path / "docs")
    async with app.run_test(size=SIZE) as pilot:
        await open_first_store(pilot)
        assert shows(app, "Synced from", "1 file with a sync path")
        await plan_folder(pilot, str(folder))
        text = screen_text(app)
        assert "\x1b" not in text and "\u202e" not in text
        assert shows(app, "removed     1 file", "notes\\x1b]0;pwned\\x07\\u202egpj.md")
