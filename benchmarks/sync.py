"""Syncing a folder: vstui sync versus the official SDK's ``upload_and_poll``.

1. First sync of N small files (default 1,000), both until every file is completed: vstui
   (plan + concurrent uploads + batches + watch) versus
   ``client.vector_stores.file_batches.upload_and_poll`` (the SDK's own helper, once per 500
   files: the API's batch limit, which the helper does not split by itself). Each side
   gets a fresh simulator with the same settings: 50 ms latency per request and real time,
   so every file takes the same simulated processing time (about a second after it is
   attached, same seed) on both sides.
2. An unchanged re-run: requests made (goal: at most 15 for 1,000 files).
3. Ten files changed: how many are uploaded (goal: exactly those 10).
4. Memory of the plan for 100,000 files (tracemalloc peak; hashing streams).

    python benchmarks/sync.py [--files 1000] [--latency-ms 50] [--plan-files 100000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import tracemalloc
from pathlib import Path

import openai

from vstui import watch
from vstui.api import ClientSettings, VectorStoresService
from vstui.sim import RealClock, SimConfig, SimServer
from vstui.sync import Options, build_plan, execute

KEY = "sk-bench-000000000000000000000000"


def make_files(root: Path, count: int, per_dir: int = 100) -> list[Path]:
    paths = []
    for i in range(count):
        path = root / f"dir{i // per_dir:04d}" / f"doc{i:06d}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"# Document {i}\n\nSome words about topic {i % 97}.\n")
        paths.append(path)
    return paths


def fresh(latency_ms: float) -> SimServer:
    return SimServer.start_scenario(
        "empty", clock=RealClock(), seed=7, config=SimConfig(latency_ms=latency_ms)
    )


def run_vstui(server: SimServer, root: Path, concurrency: int) -> tuple[float, int]:
    service = VectorStoresService(ClientSettings(api_key=KEY, base_url=server.base_url))
    store = service.create_store(name="bench")
    start = time.perf_counter()
    plan = build_plan(service, root, store.id, Options(), concurrency=concurrency)
    report = execute(service, plan, concurrency=concurrency)
    assert report.ok, report.failed
    result = watch.watch(service, store.id)
    seconds = time.perf_counter() - start
    assert result.exit_code == 0 and result.counts.completed == len(plan.uploads)
    requests = service.stats.requests
    service.close()
    return seconds, requests


def run_sdk(server: SimServer, paths: list[Path]) -> float:
    """The SDK helper sends every file ID in one batch, and the API takes at most 500 per
    batch: so, as a script would, one ``upload_and_poll`` per 500 files, in turn."""
    client = openai.OpenAI(api_key=KEY, base_url=server.base_url, max_retries=10)
    store = client.vector_stores.create(name="bench")
    start = time.perf_counter()
    completed = 0
    for i in range(0, len(paths), 500):
        handles = [open(p, "rb") for p in paths[i : i + 500]]  # noqa: SIM115 - closed below
        try:
            batch = client.vector_stores.file_batches.upload_and_poll(
                vector_store_id=store.id, files=handles
            )
        finally:
            for h in handles:
                h.close()
        completed += batch.file_counts.completed
    seconds = time.perf_counter() - start
    assert completed == len(paths), completed
    client.close()
    return seconds


def rerun(server: SimServer, root: Path, paths: list[Path]) -> tuple[int, int, int]:
    """Requests of an unchanged re-run; then uploads and requests after changing 10."""
    service = VectorStoresService(ClientSettings(api_key=KEY, base_url=server.base_url))
    (store,) = list(service.iter_stores())
    plan = build_plan(service, root, store.id, Options())
    assert not plan.has_work, plan.counts()
    unchanged_requests = service.stats.requests
    for path in paths[:10]:
        path.write_text(path.read_text() + "\nEdited.\n")
    before = service.stats.requests
    plan = build_plan(service, root, store.id, Options())
    report = execute(service, plan)
    assert report.ok and len(report.replaced) == 10, report.failed
    service.close()
    return unchanged_requests, len(report.uploaded), service.stats.requests - before


def plan_memory(count: int) -> tuple[float, float, float]:
    """tracemalloc peak (MB) of planning ``count`` files against an empty store."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        make_files(root, count, per_dir=1000)
        big = root / "big.txt"  # one 64 MB file: hashing must stream it
        with big.open("wb") as handle:
            for _ in range(64):
                handle.write(b"x" * (1024 * 1024 - 1) + b"\n")
        server = fresh(0)
        service = VectorStoresService(ClientSettings(api_key=KEY, base_url=server.base_url))
        store = service.create_store(name="plan")
        tracemalloc.start()
        start = time.perf_counter()
        plan = build_plan(service, root, store.id, Options())
        seconds = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert len(plan.of("new")) == count + 1
        service.close()
        server.stop()
    return peak / 1024**2, seconds, peak / count


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--latency-ms", type=float, default=50)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--plan-files", type=int, default=100_000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        paths = make_files(root, args.files)
        server = fresh(args.latency_ms)
        try:
            ours, first_requests = run_vstui(server, root, args.concurrency)
            unchanged, uploaded, changed_requests = rerun(server, root, paths)
        finally:
            server.stop()
        for path in paths[:10]:  # the SDK gets the same bytes vstui first synced
            path.write_text(path.read_text().removesuffix("\nEdited.\n"))
        server = fresh(args.latency_ms)
        try:
            theirs = run_sdk(server, paths)
        finally:
            server.stop()
    peak_mb, plan_seconds, per_file = plan_memory(args.plan_files)

    n = args.files
    print(f"\nSync {n:,} small files, {args.latency_ms:g} ms latency, until all completed")
    print(f"{'':44} {'vstui':>10} {'SDK':>10} {'ratio':>8}")
    print(
        f"{'first sync (s)':44} {ours:>10.2f} {theirs:>10.2f} {theirs / ours:>7.2f}x"
        f"   (vstui {first_requests} requests)"
    )
    print(f"{'unchanged re-run: requests (goal <= 15)':44} {unchanged:>10}")
    print(
        f"{'10 files changed: uploads (goal 10)':44} {uploaded:>10}   ({changed_requests} requests)"
    )
    print(
        f"{f'plan of {args.plan_files:,} files + one 64 MB file':44} "
        f"{peak_mb:>8.1f}MB   peak traced memory, {per_file:.0f} B/file, {plan_seconds:.1f}s"
    )


if __name__ == "__main__":
    main()
