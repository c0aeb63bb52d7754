"""The official openai SDK, over real HTTP, cannot tell the simulator from the service."""

from __future__ import annotations

import io

import openai
import pytest

from vstui.sim import Fault, RealClock

from .conftest import KEY


@pytest.fixture
def sdk(sim):
    client = openai.OpenAI(api_key=KEY, base_url=sim.base_url, max_retries=0)
    yield client
    client.close()


def upload(sdk, name="notes.txt", text="Refunds are issued within five business days."):
    return sdk.files.create(file=(name, io.BytesIO(text.encode())), purpose="assistants")


def test_store_crud_and_every_field(sdk, sim, clock):
    f = upload(sdk)
    store = sdk.vector_stores.create(
        name="Support FAQ",
        description="Questions and answers",
        metadata={"env": "prod"},
        expires_after={"anchor": "last_active_at", "days": 7},
        file_ids=[f.id],
        chunking_strategy={
            "type": "static",
            "static": {"max_chunk_size_tokens": 400, "chunk_overlap_tokens": 100},
        },
    )
    assert store.id.startswith("vs_") and store.object == "vector_store"
    assert store.status == "in_progress" and store.file_counts.in_progress == 1
    assert store.expires_after.days == 7
    assert store.expires_at == store.last_active_at + 7 * 86400

    clock.advance(15)
    got = sdk.vector_stores.retrieve(store.id)
    assert got.status == "completed" and got.file_counts.completed == 1 and got.usage_bytes > 0

    updated = sdk.vector_stores.update(store.id, name="FAQ v2", metadata={"env": "staging"})
    assert updated.name == "FAQ v2" and updated.metadata == {"env": "staging"}
    cleared = sdk.vector_stores.update(store.id, expires_after=None)
    assert cleared.expires_after is None and cleared.expires_at is None

    deleted = sdk.vector_stores.delete(store.id)
    assert deleted.deleted and deleted.object == "vector_store.deleted"
    with pytest.raises(openai.NotFoundError):
        sdk.vector_stores.retrieve(store.id)


def test_store_paging_both_directions(sdk, sim, clock):
    ids = []
    for i in range(250):
        clock.advance(1)
        ids.append(sdk.vector_stores.create(name=f"s{i}").id)
    listed = [s.id for s in sdk.vector_stores.list(limit=100)]
    assert listed == list(reversed(ids))  # default order desc
    asc = [s.id for s in sdk.vector_stores.list(limit=100, order="asc")]
    assert asc == ids
    page = sdk.vector_stores.list(limit=20)
    assert len(page.data) == 20 and page.has_more
    before = sdk.vector_stores.list(limit=5, before=page.data[10].id)
    assert [s.id for s in before.data] == [s.id for s in page.data[5:10]]
    with pytest.raises(openai.BadRequestError):
        sdk.vector_stores.list(limit=101)
    with pytest.raises(openai.BadRequestError):
        sdk.vector_stores.list(limit=0)


def test_files_api(sdk, sim):
    f = upload(sdk, "hello.md", "# Hello\nworld")
    assert f.object == "file" and f.bytes == len("# Hello\nworld") and f.purpose == "assistants"
    assert sdk.files.retrieve(f.id).filename == "hello.md"
    assert sdk.files.content(f.id).read() == b"# Hello\nworld"
    assert [x.id for x in sdk.files.list(purpose="assistants")] == [f.id]
    assert list(sdk.files.list(purpose="fine-tune")) == []
    assert sdk.files.delete(f.id).deleted
    with pytest.raises(openai.NotFoundError):
        sdk.files.retrieve(f.id)


def test_vector_store_files(sdk, sim, clock):
    store = sdk.vector_stores.create(name="docs")
    good = upload(sdk, "a.txt", "alpha beta gamma")
    bad = upload(sdk, "archive.zip", "PK....")
    vf = sdk.vector_stores.files.create(
        vector_store_id=store.id, file_id=good.id, attributes={"author": "ann", "year": 2024}
    )
    assert vf.status == "in_progress" and vf.attributes == {"author": "ann", "year": 2024}
    sdk.vector_stores.files.create(vector_store_id=store.id, file_id=bad.id)
    clock.advance(20)
    failed = sdk.vector_stores.files.list(vector_store_id=store.id, filter="failed")
    assert [x.id for x in failed] == [bad.id]
    assert failed.data[0].last_error.code == "unsupported_file"
    done = sdk.vector_stores.files.retrieve(file_id=good.id, vector_store_id=store.id)
    assert done.status == "completed" and done.usage_bytes > 0
    updated = sdk.vector_stores.files.update(
        file_id=good.id, vector_store_id=store.id, attributes={"author": "bob"}
    )
    assert updated.attributes == {"author": "bob"}
    pages = list(sdk.vector_stores.files.content(file_id=good.id, vector_store_id=store.id))
    assert pages[0].text == "alpha beta gamma"
    removed = sdk.vector_stores.files.delete(file_id=good.id, vector_store_id=store.id)
    assert removed.deleted and removed.object == "vector_store.file.deleted"
    assert sdk.files.retrieve(good.id).id == good.id  # detaching keeps the file


def test_batches_cancel_and_list(sdk, sim, clock):
    store = sdk.vector_stores.create(name="batchy")
    files = [upload(sdk, f"f{i}.txt", "x " * 500_000) for i in range(3)]
    batch = sdk.vector_stores.file_batches.create(
        vector_store_id=store.id, file_ids=[f.id for f in files], attributes={"k": "v"}
    )
    assert batch.object == "vector_store.files_batch" and batch.file_counts.in_progress == 3
    listed = sdk.vector_stores.file_batches.list_files(batch_id=batch.id, vector_store_id=store.id)
    assert sorted(x.id for x in listed) == sorted(f.id for f in files)
    cancelling = sdk.vector_stores.file_batches.cancel(batch_id=batch.id, vector_store_id=store.id)
    assert cancelling.status == "cancelling"
    clock.advance(2)
    cancelled = sdk.vector_stores.file_batches.retrieve(batch_id=batch.id, vector_store_id=store.id)
    assert cancelled.status == "cancelled" and cancelled.file_counts.cancelled == 3
    per_file = sdk.vector_stores.files.list(vector_store_id=store.id, filter="cancelled")
    assert len(per_file.data) == 3
    with pytest.raises(openai.BadRequestError):
        sdk.vector_stores.file_batches.cancel(batch_id=batch.id, vector_store_id=store.id)


def test_batch_with_per_file_attributes(sdk, sim, clock):
    store = sdk.vector_stores.create(name="per-file")
    a, b = upload(sdk, "a.txt"), upload(sdk, "b.txt")
    batch = sdk.vector_stores.file_batches.create(
        vector_store_id=store.id,
        files=[
            {"file_id": a.id, "attributes": {"lang": "en"}},
            {
                "file_id": b.id,
                "chunking_strategy": {
                    "type": "static",
                    "static": {"max_chunk_size_tokens": 200, "chunk_overlap_tokens": 50},
                },
            },
        ],
    )
    assert batch.file_counts.total == 2
    fa = sdk.vector_stores.files.retrieve(file_id=a.id, vector_store_id=store.id)
    fb = sdk.vector_stores.files.retrieve(file_id=b.id, vector_store_id=store.id)
    assert fa.attributes == {"lang": "en"}
    assert fb.chunking_strategy.static.max_chunk_size_tokens == 200


def test_poll_helpers_real_time(make_sim):
    server = make_sim("empty", clock=RealClock())
    sdk = openai.OpenAI(api_key=KEY, base_url=server.base_url, max_retries=0)
    store = sdk.vector_stores.create(name="poll")
    vf = sdk.vector_stores.files.upload_and_poll(
        vector_store_id=store.id,
        file=("small.txt", io.BytesIO(b"a small text file")),
        poll_interval_ms=100,
    )
    assert vf.status == "completed"
    f = upload(sdk, "second.txt")
    vf2 = sdk.vector_stores.files.create_and_poll(
        file_id=f.id, vector_store_id=store.id, poll_interval_ms=100
    )
    assert vf2.status == "completed"
    batch = sdk.vector_stores.file_batches.upload_and_poll(
        vector_store_id=store.id,
        files=[("b1.txt", io.BytesIO(b"one")), ("b2.txt", io.BytesIO(b"two"))],
        poll_interval_ms=100,
    )
    assert batch.status == "completed" and batch.file_counts.completed == 2
    g = upload(sdk, "third.txt")
    batch2 = sdk.vector_stores.file_batches.create_and_poll(
        vector_store_id=store.id, file_ids=[g.id], poll_interval_ms=100
    )
    assert batch2.file_counts.completed == 1
    # The server suggests a poll interval the SDK uses when none is given.
    raw = sdk.vector_stores.file_batches.with_raw_response.retrieve(
        batch_id=batch2.id, vector_store_id=store.id
    )
    assert raw.headers["openai-poll-after-ms"] == "1000"
    sdk.close()


def test_search(sdk, sim, clock):
    store = sdk.vector_stores.create(name="kb")
    refund = upload(sdk, "refunds.txt", "Refunds are issued within five business days of return.")
    ship = upload(sdk, "shipping.txt", "Shipping to Canada takes four to seven business days.")
    sdk.vector_stores.files.create(
        vector_store_id=store.id, file_id=refund.id, attributes={"topic": "billing", "rank": 1}
    )
    sdk.vector_stores.files.create(
        vector_store_id=store.id, file_id=ship.id, attributes={"topic": "shipping", "rank": 2}
    )
    clock.advance(10)
    results = sdk.vector_stores.search(vector_store_id=store.id, query="refund return")
    top = results.data[0]
    assert top.file_id == refund.id and top.filename == "refunds.txt"
    assert 0 < top.score <= 1 and "Refunds" in top.content[0].text
    filtered = sdk.vector_stores.search(
        vector_store_id=store.id,
        query="business days",
        filters={"type": "eq", "key": "topic", "value": "shipping"},
    )
    assert [r.file_id for r in filtered.data] == [ship.id]
    compound = sdk.vector_stores.search(
        vector_store_id=store.id,
        query="business days",
        filters={
            "type": "or",
            "filters": [
                {"type": "gte", "key": "rank", "value": 2},
                {"type": "eq", "key": "topic", "value": "billing"},
            ],
        },
        max_num_results=1,
        ranking_options={"score_threshold": 0.01},
        rewrite_query=True,
    )
    assert len(compound.data) == 1
    strict = sdk.vector_stores.search(
        vector_store_id=store.id, query="business", ranking_options={"score_threshold": 1.0}
    )
    assert strict.data == []
    with pytest.raises(openai.BadRequestError):
        sdk.vector_stores.search(vector_store_id=store.id, query="x", max_num_results=51)


def test_error_classes(sim):
    bad_key = openai.OpenAI(api_key="sk-wrong-key-0000000000000000", base_url=sim.base_url)
    with pytest.raises(openai.AuthenticationError) as info:
        bad_key.vector_stores.list()
    assert "sk-wrong" not in str(info.value)  # the server masks the key it echoes
    sdk = openai.OpenAI(api_key=KEY, base_url=sim.base_url, max_retries=0)
    with pytest.raises(openai.NotFoundError) as nf:
        sdk.vector_stores.retrieve("vs_missing")
    assert nf.value.request_id.startswith("req_")
    with pytest.raises(openai.BadRequestError) as br:
        sdk.vector_stores.create(metadata={f"k{i}": "v" for i in range(17)})
    assert br.value.param == "metadata"
    with pytest.raises(openai.BadRequestError):
        sdk.vector_stores.create(expires_after={"anchor": "last_active_at", "days": 366})
    sim.simulator.inject(Fault(path="/vector_stores$", status=429, method="GET"))
    with pytest.raises(openai.RateLimitError):
        sdk.vector_stores.list()
    sim.simulator.inject(Fault(path="/vector_stores$", status=500, method="GET"))
    with pytest.raises(openai.InternalServerError):
        sdk.vector_stores.list()


def test_sdk_retries_through_rate_limit(make_sim):
    server = make_sim("empty", rate_limit=5)
    sdk = openai.OpenAI(api_key=KEY, base_url=server.base_url, max_retries=5)
    for _ in range(12):
        sdk.vector_stores.list()
    assert server.simulator.count("GET", "/vector_stores$", 429) > 0
    assert server.simulator.count("GET", "/vector_stores$", 200) == 12


def test_auto_create_runs_documentation_examples(make_sim):
    server = make_sim("empty", auto_create=True)
    sdk = openai.OpenAI(api_key=KEY, base_url=server.base_url, max_retries=0)
    assert sdk.vector_stores.retrieve("vs_abc123").id == "vs_abc123"
    assert (
        sdk.vector_stores.files.retrieve(vector_store_id="vs_abc123", file_id="file-abc123").id
        == "file-abc123"
    )
    batch = sdk.vector_stores.file_batches.retrieve(
        vector_store_id="vs_abc123", batch_id="vsfb_abc123"
    )
    assert batch.id == "vsfb_abc123"
    assert sdk.files.retrieve("file-abc456").id == "file-abc456"
    assert sdk.vector_stores.delete("vs_abc123").deleted


def test_path_prefix_base_url(make_sim):
    server = make_sim("demo", prefix="/v1/openai/v1")
    assert server.base_url.endswith("/v1/openai/v1")
    sdk = openai.OpenAI(api_key=KEY, base_url=server.base_url)
    assert len(sdk.vector_stores.list(limit=5).data) == 5
