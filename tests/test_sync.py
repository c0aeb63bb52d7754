"""`vstui sync` against the simulator over real HTTP: plan, replace safely, resume, converge."""

from __future__ import annotations

import argparse
import io
import json
from collections import Counter
from pathlib import Path

import pytest

from vstui import sync
from vstui.api import ClientSettings, VectorStoresService
from vstui.commands import sync as sync_command
from vstui.sim import Fault
from vstui.sync import Options, Progress, SyncError, build_plan, execute

from .conftest import KEY

pytestmark = pytest.mark.flavored  # every simulator test runs on both server flavours


def service_for(server) -> VectorStoresService:
    settings = ClientSettings(
        api_key=KEY, base_url=server.base_url, max_retries=4, backoff_initial=0.01
    )
    return VectorStoresService(settings)


@pytest.fixture
def svc(sim):
    service = service_for(sim)
    yield service
    service.close()


def write(root: Path, rel: str, text: str | bytes) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def make_tree(root: Path) -> None:
    write(root, ".gitignore", "build/\n*.log\n!keep.log\n")
    write(root, "README.md", "# Readme\nhello\n")
    write(root, "docs/guide.md", "A guide to things.\n")
    write(root, "docs/deep/nested/notes.txt", "nested notes\n")
    write(root, "docs/résumé ü.md", "unicode in the name\n")
    write(root, "empty.txt", "")
    write(root, "tool.exe", b"MZ\x00\x01")
    write(root, "build/out.md", "generated, ignored\n")
    write(root, "debug.log", "ignored by pattern\n")
    write(root, ".git/config", "[core]\n")


def advancing(clock):
    """A sleep that moves the simulator's frozen clock instead of waiting."""

    def sleep(seconds: float) -> None:
        clock.advance(max(seconds, 0.5))

    return sleep


def kinds(plan) -> dict[str, set[str]]:
    result: dict[str, set[str]] = {k: set() for k in sync.KINDS}
    for item in plan.items:
        result[item.kind].add(item.rel)
    return result


def store_paths(service, store_id: str) -> Counter[str]:
    return Counter(
        str((f.attributes or {}).get("path")) for f in service.iter_store_files(store_id)
    )


def test_plan_classifies_a_generated_tree(svc, sim, clock, tmp_path):
    make_tree(tmp_path)
    store = svc.create_store(name="docs")
    opts = Options()
    plan = build_plan(svc, tmp_path, "docs", opts)
    k = kinds(plan)
    assert k["new"] == {"README.md", "docs/guide.md", "docs/deep/nested/notes.txt",
                        "docs/résumé ü.md"}  # fmt: skip
    assert {"empty.txt", "tool.exe", ".gitignore"} <= k["skipped"]
    reasons = {i.rel: i.reason for i in plan.of("skipped")}
    assert reasons["empty.txt"] == "empty"
    assert "not supported by file search" in reasons["tool.exe"]
    everything = set().union(*k.values())
    assert not any(p.startswith(("build/", ".git/")) or p.endswith(".log") for p in everything)
    report = execute(svc, plan, sleep=advancing(clock))
    assert report.ok and len(report.attached) == 4
    clock.advance(30)

    # Change one, remove one, add one; the rest is unchanged.
    write(tmp_path, "docs/guide.md", "A better guide.\n")
    (tmp_path / "README.md").unlink()
    write(tmp_path, "docs/new.md", "brand new\n")
    again = build_plan(svc, tmp_path, store.id, opts)
    k = kinds(again)
    assert k["changed"] == {"docs/guide.md"}
    assert k["removed"] == {"README.md"}
    assert k["new"] == {"docs/new.md"}
    assert k["unchanged"] == {"docs/deep/nested/notes.txt", "docs/résumé ü.md"}
    # The attributes hold the path and the content hash.
    attrs = {
        f.attributes["path"]: f.attributes for f in svc.iter_store_files(store.id) if f.attributes
    }
    assert len(str(attrs["docs/résumé ü.md"]["sha256"])) == 64


def test_nested_gitignores_apply_to_their_own_folder(svc, tmp_path):
    write(tmp_path, ".gitignore", "*.txt\n")
    write(tmp_path, "top.txt", "ignored at the root\n")
    write(tmp_path, "docs/.gitignore", "!keep.txt\ndraft.md\n")
    write(tmp_path, "docs/keep.txt", "re-included below docs/\n")
    write(tmp_path, "docs/other.txt", "still ignored\n")
    write(tmp_path, "docs/draft.md", "ignored in docs/ only\n")
    write(tmp_path, "draft.md", "kept at the root\n")
    write(tmp_path, "docs/sub/draft.md", "ignored: the pattern has no slash\n")
    svc.create_store(name="docs")
    plan = build_plan(svc, tmp_path, "docs", Options())
    assert {i.rel for i in plan.of("new")} == {"docs/keep.txt", "draft.md"}


def test_include_exclude_and_attribute_limits(svc, tmp_path):
    make_tree(tmp_path)
    svc.create_store(name="docs")
    plan = build_plan(svc, tmp_path, "docs", Options(include=("docs/",), exclude=("*.txt",)))
    assert {i.rel for i in plan.items} == {"docs/guide.md", "docs/résumé ü.md"}
    long_name = "/".join(["d" * 200] * 3) + "/x.md"  # a path over 512 characters
    write(tmp_path, f"docs/{long_name}", "long path\n")
    plan = build_plan(svc, tmp_path, "docs", Options(include=("docs/",)))
    skipped = {i.rel: i.reason for i in plan.of("skipped")}
    assert "string too long" in skipped[f"docs/{long_name}"]
    with pytest.raises(sync.SyncError, match="too many"):
        build_plan(svc, tmp_path, "docs", Options(attributes={f"k{i}": "v" for i in range(15)}))
    with pytest.raises(sync.SyncError, match="overlap"):
        sync.parse_chunking("static:800:500")
    assert sync.parse_chunking("static:800:400") == {
        "type": "static",
        "static": {"max_chunk_size_tokens": 800, "chunk_overlap_tokens": 400},
    }
    with pytest.raises(sync.SyncError, match="KEY=VALUE"):
        sync.parse_attrs(["novalue"])


def test_a_changed_file_always_has_a_completed_version(svc, sim, clock, tmp_path, llama):
    write(tmp_path, "a.md", "version one\n")
    write(tmp_path, "b.md", "stays\n")
    store = svc.create_store(name="s")
    execute(svc, build_plan(svc, tmp_path, store.id, Options()), sleep=advancing(clock))
    clock.advance(30)
    old_id = next(
        f.id for f in svc.iter_store_files(store.id) if (f.attributes or {})["path"] == "a.md"
    )
    write(tmp_path, "a.md", "version two, longer\n")
    plan = build_plan(svc, tmp_path, store.id, Options())
    assert [i.rel for i in plan.of("changed")] == ["a.md"]

    observer = service_for(sim)
    stages: list[str] = []

    def check(p: Progress) -> None:
        stages.append(p.stage)
        versions = [
            f
            for f in observer.iter_store_files(store.id)
            if (f.attributes or {}).get("path") == "a.md"
        ]
        assert any(f.status == "completed" for f in versions), (p.stage, versions)

    report = execute(svc, plan, on_progress=check, sleep=advancing(clock))
    observer.close()
    assert report.ok, report.failed
    assert report.replaced == ["a.md"]
    assert {"upload", "attach", "wait", "replace", "done"} <= set(stages)
    assert report.detached == [old_id]
    assert store_paths(svc, store.id) == Counter({"a.md": 1, "b.md": 1})
    if llama:  # no file counts: nothing proves no other store holds the old version
        assert not report.deleted and report.kept_unverified == [old_id]
        assert old_id in {f.id for f in svc.iter_files()}
        return
    assert report.deleted == [old_id] and not report.kept_unverified
    assert old_id not in {f.id for f in svc.iter_files()}


def test_a_new_version_that_fails_keeps_the_old(svc, sim, clock, tmp_path):
    write(tmp_path, "a.md", "good\n")
    store = svc.create_store(name="s")
    execute(svc, build_plan(svc, tmp_path, store.id, Options()), sleep=advancing(clock))
    clock.advance(30)
    old = next(iter(svc.iter_store_files(store.id)))
    write(tmp_path, "a.md", b"\xff\xfe not utf-8 \xff")  # the simulator fails it
    report = execute(svc, build_plan(svc, tmp_path, store.id, Options()), sleep=advancing(clock))
    assert not report.ok
    assert "old version was kept" in report.failed[0][1]
    assert old.id in {f.id for f in svc.iter_store_files(store.id)}


def test_interrupted_run_converges_without_duplicates(svc, sim, clock, tmp_path):
    for i in range(30):
        write(tmp_path, f"part{i // 10}/doc{i:02d}.md", f"document {i}\n")
    store = svc.create_store(name="s")
    plan = build_plan(svc, tmp_path, store.id, Options())

    def ctrl_c(p: Progress) -> None:
        if p.stage == "upload" and p.files_done == 6:
            raise KeyboardInterrupt

    first = execute(svc, plan, concurrency=2, on_progress=ctrl_c, sleep=advancing(clock))
    assert first.interrupted
    assert 6 <= len(first.uploaded) < 30
    # What was uploaded got attached: nothing leaks as an orphan.
    assert len(first.attached) == len(first.uploaded) and not first.unattached
    clock.advance(30)

    second_plan = build_plan(svc, tmp_path, store.id, Options())
    assert len(second_plan.of("new")) == 30 - len(first.attached)
    second = execute(svc, second_plan, sleep=advancing(clock))
    assert second.ok
    clock.advance(30)
    paths = store_paths(svc, store.id)
    assert len(paths) == 30 and set(paths.values()) == {1}
    assert len(list(svc.iter_files())) == 30  # every upload is attached exactly once
    third = build_plan(svc, tmp_path, store.id, Options())
    assert not third.has_work and len(third.of("unchanged")) == 30


def test_resume_drops_a_stale_version_only_after_the_new_one_completes(svc, sim, clock, tmp_path):
    write(tmp_path, "a.md", "one\n")
    store = svc.create_store(name="s")
    execute(svc, build_plan(svc, tmp_path, store.id, Options()), sleep=advancing(clock))
    clock.advance(30)
    write(tmp_path, "a.md", "two\n")
    plan = build_plan(svc, tmp_path, store.id, Options())

    def stop_while_waiting(p: Progress) -> None:
        if p.stage == "wait":
            raise KeyboardInterrupt

    first = execute(svc, plan, on_progress=stop_while_waiting, sleep=advancing(clock))
    assert first.interrupted and not first.replaced
    assert store_paths(svc, store.id) == Counter({"a.md": 2})  # old and new, both kept
    resumed = build_plan(svc, tmp_path, store.id, Options())
    assert [i.rel for i in resumed.of("unchanged")] == ["a.md"] and resumed.duplicates
    report = execute(svc, resumed, sleep=advancing(clock))
    assert report.ok and len(report.detached) == 1
    versions = list(svc.iter_store_files(store.id))
    assert len(versions) == 1 and versions[0].status == "completed"


def test_unchanged_rerun_makes_only_listing_requests(svc, sim, clock, tmp_path, llama):
    for i in range(120):
        write(tmp_path, f"d/{i:03d}.txt", f"text {i}\n")
    store = svc.create_store(name="s")
    execute(svc, build_plan(svc, tmp_path, store.id, Options()), sleep=advancing(clock))
    clock.advance(30)
    sim.simulator.log.clear()
    before = svc.stats.requests
    out, err = io.StringIO(), io.StringIO()
    rc = sync_command.run_with(args(tmp_path, store.id), svc, out=out, err=err, stdin=io.StringIO())
    assert rc == 0, err.getvalue()
    assert "Nothing to do." in out.getvalue()
    # the store (llama-stack: its id is its name, found in one complete walk of the store
    # list, one page here), then two pages of its files
    assert svc.stats.requests - before == 3
    assert all(r.method == "GET" for r in sim.simulator.log)


def args(path: Path, store: str, *extra: str) -> argparse.Namespace:
    import argparse as ap

    parser = ap.ArgumentParser()
    sync_command.add_parser(parser.add_subparsers())
    return parser.parse_args(["sync", str(path), store, *extra])


def test_cli_dry_run_json_confirmation_and_create(svc, sim, clock, tmp_path):
    make_tree(tmp_path)
    out, err = io.StringIO(), io.StringIO()
    rc = sync_command.run_with(args(tmp_path, "fresh", "--dry-run"), svc, out=out, err=err)
    assert rc == 2 and "--create" in err.getvalue()

    out = io.StringIO()
    rc = sync_command.run_with(
        args(tmp_path, "fresh", "--create", "--dry-run", "--json"), svc, out=out
    )
    assert rc == 0
    plan = json.loads(out.getvalue())["plan"]
    assert plan["store"]["create"] is True
    assert plan["counts"]["new"]["files"] == 4
    assert {s["path"] for s in plan["skipped"]} >= {"empty.txt", "tool.exe"}
    assert not list(svc.iter_stores())  # a dry run creates nothing

    out, err = io.StringIO(), io.StringIO()
    rc = sync_command.run_with(
        args(tmp_path, "fresh", "--create"), svc, out=out, err=err, stdin=io.StringIO()
    )
    assert rc == 2 and "no terminal" in err.getvalue()
    assert not list(svc.iter_stores())

    out, err = io.StringIO(), io.StringIO()
    rc = sync_command.run_with(
        args(tmp_path, "fresh", "--create", "--yes", "--attr", "team=docs", "--wait"),
        svc,
        out=out,
        err=err,
        sleep=advancing(clock),
    )
    assert rc == 0, out.getvalue() + err.getvalue()
    text = out.getvalue()
    assert "4 uploaded, 4 attached" in text and "4 completed, 0 failed" in text
    (store,) = list(svc.iter_stores())
    files = list(svc.iter_store_files(store.id))
    assert all(f.attributes and f.attributes["team"] == "docs" for f in files)


def test_cli_json_with_wait_is_one_object(svc, sim, clock, tmp_path):
    write(tmp_path, "a.md", "alpha\n")
    write(tmp_path, "bad.txt", b"\xff\xfe not text")  # the simulator fails it
    store = svc.create_store(name="s")
    out, err = io.StringIO(), io.StringIO()
    rc = sync_command.run_with(
        args(tmp_path, store.id, "--yes", "--wait", "--json"),
        svc,
        out=out,
        err=err,
        sleep=advancing(clock),
    )
    assert rc == 1  # a file failed to process
    body = json.loads(out.getvalue())  # exactly one JSON document
    assert body["result"]["ok"] is True and len(body["result"]["attached"]) == 2
    assert body["watch"]["exit_code"] == 1
    assert [f["code"] for f in body["watch"]["failed"]] == ["invalid_file"]
    assert "uploading 2/2 files" in err.getvalue()  # progress on stderr


def test_cli_ctrl_c_prints_what_was_done_and_exits_130(svc, sim, clock, tmp_path):
    for i in range(20):
        write(tmp_path, f"{i:02d}.md", f"doc {i}\n")
    store = svc.create_store(name="s")

    def ctrl_c(p: Progress) -> None:
        if p.stage == "upload" and p.files_done == 3:
            raise KeyboardInterrupt

    out = io.StringIO()
    rc = sync_command.run_with(
        args(tmp_path, store.id, "--yes", "--concurrency", "2"),
        svc,
        out=out,
        err=io.StringIO(),
        on_progress=ctrl_c,
        sleep=advancing(clock),
    )
    assert rc == 130
    assert "Interrupted:" in out.getvalue() and "Run the same command again" in out.getvalue()
    rc = sync_command.run_with(
        args(tmp_path, store.id, "--yes"), svc, out=io.StringIO(), err=io.StringIO()
    )
    assert rc == 0
    assert len(store_paths(svc, store.id)) == 20


def test_delete_removed_keeps_files_other_stores_hold(svc, sim, clock, tmp_path, llama):
    write(tmp_path, "a.md", "a\n")
    write(tmp_path, "b.md", "b\n")
    store = svc.create_store(name="s")
    execute(svc, build_plan(svc, tmp_path, store.id, Options()), sleep=advancing(clock))
    clock.advance(30)
    by_path = {f.attributes["path"]: f.id for f in svc.iter_store_files(store.id) if f.attributes}
    other = svc.create_store(name="other")
    svc.create_store_file(other.id, by_path["b.md"])
    (tmp_path / "a.md").unlink()
    (tmp_path / "b.md").unlink()

    plan = build_plan(svc, tmp_path, store.id, Options())
    report = execute(svc, plan, sleep=advancing(clock))
    assert not report.detached  # without --delete removed sources stay

    plan = build_plan(svc, tmp_path, store.id, Options(delete=True))
    report = execute(svc, plan, sleep=advancing(clock))
    assert sorted(report.detached) == sorted(by_path.values())
    assert report.kept == {by_path["b.md"]: "another store holds it"}
    if llama:  # no file counts: "no other store holds a.md" cannot be shown, it is kept
        assert not report.deleted and report.kept_unverified == [by_path["a.md"]]
        assert set(report.unverified_stores) == {store.id, other.id}
    else:
        assert report.deleted == [by_path["a.md"]] and not report.kept_unverified
    assert not list(svc.iter_store_files(store.id))


def test_delete_fails_closed_when_listings_fail(svc, sim, clock, tmp_path):
    write(tmp_path, "a.md", "a\n")
    store = svc.create_store(name="s")
    svc.create_store(name="other")
    execute(svc, build_plan(svc, tmp_path, store.id, Options()), sleep=advancing(clock))
    clock.advance(30)
    (tmp_path / "a.md").unlink()
    plan = build_plan(svc, tmp_path, store.id, Options(delete=True))
    sim.simulator.inject(Fault(path="/vector_stores$", method="GET", status=500, times=50))
    report = execute(svc, plan, sleep=advancing(clock))
    (file_id,) = report.detached
    assert not report.deleted and "could not list" in report.kept[file_id]
    assert file_id in {f.id for f in svc.iter_files()}


def test_command_line_on_the_demo_account(tmp_path, capsys):
    from vstui.cli import main

    write(tmp_path, "notes.md", "notes\n")
    rc = main(["--demo", "sync", str(tmp_path), "Fresh store", "--create", "--dry-run", "--json"])
    assert rc == 0
    plan = json.loads(capsys.readouterr().out)["plan"]
    assert plan["store"] == {"id": "(new)", "name": "Fresh store", "create": True}
    assert main(["--demo", "watch", "vsfb_x"]) == 2
    assert "--store" in capsys.readouterr().err


def test_an_expired_store_is_refused_before_anything_is_uploaded(svc, sim, tmp_path):
    store = svc.create_store(name="old", expires_after={"anchor": "last_active_at", "days": 1})
    sim.account.stores[store.id].expired = True
    write(tmp_path, "a.md", "# A\n")
    before = len(sim.account.files)
    with pytest.raises(SyncError, match="has expired"):
        build_plan(svc, tmp_path, store.id, Options())
    assert len(sim.account.files) == before
