"""`vstui watch` against the simulator: exit codes for completed, failed and timed-out work."""

from __future__ import annotations

import argparse
import io
import json

import pytest

from vstui import watch
from vstui.api import ClientSettings, FileCounts, VectorStoresService
from vstui.commands import console
from vstui.commands import watch as watch_command

from .conftest import KEY

pytestmark = pytest.mark.flavored  # every simulator test runs on both server flavours


class FakeTime:
    """Sleeping moves both the simulator's clock and the watcher's monotonic clock."""

    def __init__(self, clock, *, frozen: bool = False) -> None:
        self.clock = clock
        self.t = 0.0
        self.sleeps: list[float] = []
        self.frozen = frozen  # the server's clock stands still: nothing ever finishes

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += seconds
        if not self.frozen:
            self.clock.advance(seconds)

    def monotonic(self) -> float:
        return self.t


@pytest.fixture
def svc(sim):
    settings = ClientSettings(api_key=KEY, base_url=sim.base_url, backoff_initial=0.01)
    service = VectorStoresService(settings)
    yield service
    service.close()


def upload_batch(svc, names: dict[str, bytes], store_name: str = "docs"):
    """Upload and attach: one batch, or (a server without batches) file by file."""
    store = svc.create_store(name=store_name)
    ids = [svc.upload_file(name, content).id for name, content in names.items()]
    done = svc.attach_files(store.id, [{"file_id": i} for i in ids])
    assert not done.failed
    return store, done.batch


def target(store, batch, store_ref: str | None = None) -> list[str]:
    """The batch when there is one; else the store, whose files are followed instead."""
    if batch is None:
        return [store_ref or store.id]
    return [batch.id, "--store", store_ref or store.id]


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    watch_command.add_parser(parser.add_subparsers())
    return parser.parse_args(["watch", *argv])


def run(svc, fake: FakeTime, *argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    rc = watch_command.run_with(
        parse(*argv), svc, out=out, err=err, sleep=fake.sleep, monotonic=fake.monotonic
    )
    return rc, out.getvalue(), err.getvalue()


def test_completed_batch_exits_0_polling_at_the_servers_pace(svc, clock, llama):
    store, batch = upload_batch(svc, {"a.md": b"alpha\n", "b.txt": b"beta\n"})
    assert (batch is None) == llama
    fake = FakeTime(clock)
    rc, out, err = run(svc, fake, *target(store, batch))
    assert rc == 0
    assert "completed — 2 completed, 0 failed, 0 cancelled of 2." in out
    assert ("counted from the store's files" in out) == llama
    assert "in progress 2" in err  # the live line, on stderr
    assert fake.sleeps and set(fake.sleeps) == {1.0}  # openai-poll-after-ms: 1000


def test_failed_files_exit_1_and_are_listed_with_their_error(svc, clock):
    store, batch = upload_batch(
        svc, {"ok.md": b"fine\n", "bad.txt": b"\xff\xfe\x00 not text", "blob.bin": b"\x00\x01"}
    )
    fake = FakeTime(clock)
    rc, out, _ = run(svc, fake, *target(store, batch, "docs"))  # the store by name
    assert rc == 1
    assert "1 completed, 2 failed" in out
    assert "invalid_file" in out and "unsupported_file" in out

    rc, out, _ = run(svc, fake, store.id, "--json")  # the whole store, for CI
    assert rc == 1
    body = json.loads(out)
    assert body["exit_code"] == 1 and body["counts"]["failed"] == 2
    assert {f["code"] for f in body["failed"]} == {"invalid_file", "unsupported_file"}


def test_timeout_exits_124(svc, clock):
    store, batch = upload_batch(svc, {"a.md": b"alpha\n"})
    fake = FakeTime(clock, frozen=True)
    rc, out, _ = run(svc, fake, store.id, "--timeout", "5")
    assert rc == 124
    assert "Timed out after 5s: 1 still in progress" in out
    assert fake.t == pytest.approx(5.0)
    rc, out, _ = run(svc, fake, *target(store, batch), "--timeout", "3", "--json")
    assert rc == 124 and json.loads(out)["timed_out"] is True


def test_a_batch_the_server_cannot_show_points_at_the_store(svc, clock):
    store = svc.create_store(name="docs")
    rc, _, err = run(svc, FakeTime(clock), "vsfb_" + "0" * 32, "--store", store.id)
    assert rc == 1 and "watch the store instead: vstui watch STORE" in err


def test_usage_errors_exit_2(svc, clock):
    fake = FakeTime(clock)
    rc, _, err = run(svc, fake, "vsfb_123")
    assert rc == 2 and "--store" in err
    rc, _, err = run(svc, fake, "no such store")
    assert rc == 2 and "There is no store" in err
    rc, _, err = run(svc, fake, "x", "--timeout", "0")
    assert rc == 2


def test_server_text_cannot_drive_the_terminal():
    failure = watch.Failure("file-1", "failed", "server_error", "bad \x1b[31mred\x1b[0m")
    counts = FileCounts(failed=1, total=1)
    result = watch.WatchResult("vs_1", counts, "completed", failures=[failure])
    out = io.StringIO()
    console.print_watch_result(result, out, io.StringIO(), as_json=False)
    assert "\x1b" not in out.getvalue() and "bad ?[31mred" in out.getvalue()
