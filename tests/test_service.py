"""The service layer against the simulator over real HTTP: every method, retries, errors."""

from __future__ import annotations

import json
import logging

import httpx
import pytest

from vstui.api import (
    UNSET,
    APIConnectionError,
    APIError,
    AuthenticationError,
    BadRequestError,
    BatchesUnsupportedError,
    ClientSettings,
    MalformedResponseError,
    NotFoundError,
    RateLimitError,
    ServerError,
    ValidationError,
    VectorStoresService,
    mask_key,
)
from vstui.api.models import VectorStore
from vstui.sim import Fault

from .conftest import KEY, make_service

pytestmark = pytest.mark.flavored  # every simulator test runs on both server flavours


def test_every_store_method(service, clock, llama):
    f = service.upload_file("guide.md", b"# Guide\nhow to reset a password")
    store = service.create_store(
        name="kb",
        description="d",
        metadata={"a": "1"},
        expires_after={"anchor": "last_active_at", "days": 3},
        file_ids=[f.id],
        chunking_strategy={"type": "auto"},
    )
    counts, counted = service.store_counts(store)
    assert counts.total == 1 and store.description == "d"
    assert counted == llama  # no file_counts on llama-stack: counted from the listing
    clock.advance(10)
    assert service.retrieve_store(store.id).status == "completed"
    renamed = service.modify_store(store.id, name="kb2")
    assert renamed.name == "kb2" and renamed.metadata == {"a": "1"}  # untouched fields kept
    no_expiry = service.modify_store(store.id, expires_after=None)
    assert no_expiry.expires_after is None
    results = service.search(store.id, "reset password", max_num_results=3)
    assert results.data[0].best_id == f.id and results.search_query == ["reset password"]
    assert results.data[0].file_id_reported != llama
    assert service.delete_store(store.id).deleted
    with pytest.raises(APIError) as gone:
        service.retrieve_store(store.id)
    assert isinstance(gone.value, BadRequestError if llama else NotFoundError)
    assert service.confirm_gone(gone.value, lambda: service.retrieve_store(store.id))


def test_every_file_and_batch_method(service, clock, llama):
    store = service.create_store(name="files")
    a = service.upload_file("a.txt", b"alpha")
    b = service.upload_file("b.txt", b"beta")
    assert service.retrieve_file(a.id).filename == "a.txt"
    assert service.file_content(a.id) == b"alpha"
    assert {x.id for x in service.iter_files(purpose="assistants")} == {a.id, b.id}
    vf = service.create_store_file(store.id, a.id, attributes={"n": 1, "ok": True})
    assert vf.status == "in_progress"
    clock.advance(10)
    assert service.retrieve_store_file(store.id, a.id).status == "completed"
    assert service.update_store_file(store.id, a.id, attributes={"n": 2}).attributes == {"n": 2}
    assert service.store_file_content(store.id, a.id).text == "alpha"
    if llama:  # no file batches: learnt once, then attached one by one
        with pytest.raises(BatchesUnsupportedError):
            service.create_batch(store.id, file_ids=[b.id])
        assert service.capabilities.batches is False
        assert "no batches" in service.capabilities.describe()
        done = service.attach_files(store.id, [{"file_id": b.id, "attributes": {"x": "y"}}])
        assert done.one_by_one and [x.id for x in done.files] == [b.id] and not done.failed
        assert "one by one" in done.sentence()
        assert service.retrieve_store_file(store.id, b.id).attributes == {"x": "y"}
        assert service.delete_store_file(store.id, a.id).deleted
        assert service.delete_file(a.id).deleted
        return
    batch = service.create_batch(store.id, files=[{"file_id": b.id, "attributes": {"x": "y"}}])
    polled = service.retrieve_batch(store.id, batch.id)
    assert polled.poll_after_ms == 1000 and polled.request_id.startswith("req_")
    assert [x.id for x in service.iter_batch_files(store.id, batch.id)] == [b.id]
    cancelled = service.cancel_batch(store.id, batch.id)
    assert cancelled.status == "cancelling"
    clock.advance(5)
    assert service.retrieve_batch(store.id, batch.id).is_terminal
    assert [x.id for x in service.iter_store_files(store.id, filter="cancelled")] == [b.id]
    assert service.delete_store_file(store.id, a.id).deleted
    assert service.delete_file(a.id).deleted


def test_paging_yields_everything_and_both_ends_meet(service, sim):
    for i in range(230):
        sim.account.create_store(name=f"s{i:03d}", created_at=1_700_000_000 + i)
    all_ids = [s.id for s in service.iter_stores()]
    assert len(all_ids) == 230 and len(set(all_ids)) == 230
    pages = list(service.iter_store_pages())
    assert [len(p.data) for p in pages] == [100, 100, 30]
    walked = [s.id for batch in service.walk_stores_both_ends() for s in batch]
    assert sorted(walked) == sorted(all_ids)  # each exactly once
    assert len(walked) == 230


def test_rate_limit_retries_honour_retry_after(service, sim, sleeps):
    sim.simulator.inject(
        Fault(path="/vector_stores$", status=429, times=2, headers={"retry-after-ms": "1234"})
    )
    assert service.list_stores().data == []
    # every thread waits at least what the server asked before trying again
    assert sum(sleeps) >= 2 * 1.2 and max(sleeps) <= 2 * 1.234 + 0.1
    assert service.stats.rate_limited == 2


def test_server_errors_back_off_exponentially_with_jitter(service, sim, sleeps):
    sim.simulator.inject(Fault(path="/vector_stores$", status=503, times=3))
    service.list_stores()
    assert len(sleeps) == 3
    assert 0.375 <= sleeps[0] <= 0.5 and 0.75 <= sleeps[1] <= 1.0 and 1.5 <= sleeps[2] <= 2.0


def test_retries_give_up_with_typed_error(service, sim, sleeps, llama):
    attempts = service.settings.max_retries + 1
    sim.simulator.inject(Fault(path="/vector_stores$", status=500, times=attempts))
    with pytest.raises(ServerError) as info:
        service.list_stores()
    assert info.value.status == 500
    assert info.value.request_id is None if llama else info.value.request_id.startswith("req_")
    assert len(sleeps) == service.settings.max_retries
    sim.simulator.inject(
        Fault(path="/vector_stores$", status=429, times=100, headers={"retry-after": "20"})
    )
    with pytest.raises(RateLimitError):  # 60 s of waiting budget: the fourth wait is too many
        service.list_stores()


def test_x_should_retry_false_is_honoured(service, sim, sleeps):
    sim.simulator.inject(
        Fault(path="/vector_stores$", status=500, headers={"x-should-retry": "false"})
    )
    with pytest.raises(ServerError):
        service.list_stores()
    assert sleeps == []


def test_create_is_not_retried_once_the_server_may_have_acted(service, sim, sleeps, llama):
    sim.simulator.inject(Fault(path="/vector_stores$", method="POST", status=500, after=True))
    with pytest.raises(ServerError):
        service.create_store(name="once")
    assert len(sim.account.stores) == 1  # created once, not again
    assert sim.simulator.count("POST", "/vector_stores$") == 1
    # A 429 means the server did not act: that one is retried.
    sim.simulator.inject(Fault(path="/vector_stores$", method="POST", status=429))
    service.create_store(name="twice")
    assert len(sim.account.stores) == 2
    store_id = next(iter(sim.account.stores))
    f = service.upload_file("x.txt", b"x")
    if llama:  # no batches there: the same holds for uploads
        sim.simulator.inject(Fault(path="/files$", method="POST", status=502, after=True))
        with pytest.raises(ServerError):
            service.upload_file("y.txt", b"y")
        assert len(sim.account.files) == 2
        return
    sim.simulator.inject(Fault(path="/file_batches$", method="POST", status=502, after=True))
    with pytest.raises(ServerError):
        service.create_batch(store_id, file_ids=[f.id])
    assert len(sim.account.batches) == 1


def test_error_mapping(service, sim, make_sim, llama):
    with pytest.raises(APIError) as nf:
        service.retrieve_store("vs_nope")
    assert "vs_nope" in nf.value.message
    if llama:  # {"detail": "..."}, 400 for a missing object, no request id
        assert nf.value.status == 400 and nf.value.request_id is None
        assert service.confirm_gone(nf.value, lambda: service.retrieve_store("vs_nope"))
    else:
        assert nf.value.status == 404 and nf.value.type == "invalid_request_error"
        assert nf.value.request_id
    with pytest.raises(BadRequestError) as br:
        service.list_stores(limit=101)
    assert br.value.param == (None if llama else "limit") and "limit" in br.value.message
    wrong = VectorStoresService(
        ClientSettings(api_key="sk-wrong-abcdef123456", base_url=sim.base_url)
    )
    with pytest.raises(AuthenticationError) as auth:
        wrong.list_stores()
    assert auth.value.code == (None if llama else "invalid_api_key")
    assert "Incorrect API key" in auth.value.message
    assert "sk-wrong-abcdef123456" not in str(auth.value)


def test_validation_before_sending(service, sim):
    before = len(sim.simulator.log)
    with pytest.raises(ValidationError):
        service.create_store(metadata={f"k{i}": "v" for i in range(17)})
    with pytest.raises(ValidationError):
        service.create_store(metadata={"k" * 65: "v"})
    with pytest.raises(ValidationError):
        service.modify_store("vs_x", expires_after={"anchor": "last_active_at", "days": 0})
    with pytest.raises(ValidationError):
        service.create_store_file("vs_x", "f", attributes={"a": "x" * 513})
    with pytest.raises(ValidationError):
        service.create_store_file("vs_x", "f", attributes={"a": [1, 2]})
    with pytest.raises(ValidationError):
        service.create_batch(
            "vs_x",
            file_ids=["f"],
            chunking_strategy={
                "type": "static",
                "static": {"max_chunk_size_tokens": 100, "chunk_overlap_tokens": 60},
            },
        )
    with pytest.raises(ValidationError):
        service.create_batch("vs_x", file_ids=[f"f{i}" for i in range(501)])
    with pytest.raises(ValidationError):
        service.search("vs_x", "q", max_num_results=0)
    assert len(sim.simulator.log) == before  # nothing reached the server


def test_connection_errors_are_retried_then_typed(sleeps):
    settings = ClientSettings(api_key=KEY, base_url="http://127.0.0.1:9/v1", max_retries=2)
    client = VectorStoresService(settings, sleep=sleeps)
    with pytest.raises(APIConnectionError) as info:
        client.list_stores()
    assert len(sleeps) == 2 and KEY not in str(info.value)


def test_malformed_bodies_are_typed_errors(service, sim):
    sim.simulator.inject(Fault(path="/vector_stores$", status=200, body="<html>oops"))
    with pytest.raises(MalformedResponseError):
        service.list_stores()
    sim.simulator.inject(Fault(path="/vector_stores$", status=200, body='{"data": 5}'))
    with pytest.raises(MalformedResponseError):
        service.list_stores()
    sim.simulator.inject(Fault(path="/vector_stores$", status=500, body="not json"))
    service.settings.__dict__["max_retries"] = 0
    with pytest.raises(ServerError) as info:
        service.list_stores()
    assert info.value.status == 500


def test_tolerates_odd_but_valid_servers():
    """IDs without prefixes, null expiry, zero usage, unknown fields and statuses."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/file_batches/b1"):
            body = {
                "id": "b1",
                "object": "vector_store.file_batch",
                "status": "cancelling",
                "file_counts": {"in_progress": 1, "completed": None, "total": 1},
            }
        else:
            body = {
                "object": "list",
                "data": [
                    {
                        "id": "42",
                        "object": "vector_store",
                        "name": None,
                        "created_at": 1,
                        "usage_bytes": 0,
                        "status": "indexing",
                        "expires_at": None,
                        "last_active_at": None,
                        "metadata": None,
                        "brand_new_field": {"x": 1},
                        "file_counts": {"total": 3, "completed": 3},
                    }
                ],
                "has_more": False,
            }
        return httpx.Response(200, json=body)

    settings = ClientSettings(api_key=KEY, base_url="http://local/v1/openai/v1")
    client = VectorStoresService(settings, transport=httpx.MockTransport(handler))
    page = client.list_stores()
    store = page.data[0]
    assert isinstance(store, VectorStore) and store.id == "42" and store.status == "indexing"
    assert store.display_name == "(unnamed)" and store.file_counts.failed == 0
    batch = client.retrieve_batch("42", "b1")
    assert batch.status == "cancelling" and not batch.is_terminal
    assert batch.file_counts.completed == 0


def test_headers_sent_like_the_sdk(sim):
    seen: list[httpx.Headers] = []

    def capture(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers)
        return httpx.Response(200, json={"object": "list", "data": [], "has_more": False})

    settings = ClientSettings(
        api_key=KEY, base_url="http://x/v1", organization="org-1", project="proj_1"
    )
    VectorStoresService(settings, transport=httpx.MockTransport(capture)).list_stores()
    headers = seen[0]
    assert headers["authorization"] == f"Bearer {KEY}"
    assert headers["openai-organization"] == "org-1" and headers["openai-project"] == "proj_1"
    assert headers["openai-beta"] == "assistants=v2"


def test_settings_from_env_and_key_never_shown(caplog):
    env = {
        "OPENAI_API_KEY": KEY,
        "OPENAI_BASE_URL": "http://h/v1",
        "OPENAI_ORG_ID": "org-9",
        "OPENAI_PROJECT_ID": "proj_9",
    }
    settings = ClientSettings.from_env(env)
    assert settings.base_url == "http://h/v1" and settings.organization == "org-9"
    assert settings.project == "proj_9"
    caplog.set_level(logging.DEBUG)
    client = VectorStoresService(settings)
    text = repr(settings) + repr(client) + caplog.text + json.dumps(str(settings))
    assert KEY not in text and mask_key(KEY) in repr(settings)
    assert mask_key(KEY) == "sk-…stuv"
    client.close()


def test_unset_is_not_sent(service, sim):
    store = service.create_store(name="n", metadata={"k": "v"})
    kept = service.modify_store(store.id, name=UNSET, metadata=UNSET)
    assert kept.name == "n" and kept.metadata == {"k": "v"}


def test_timeouts_are_retried_then_typed(make_sim, sleeps):
    from vstui.api import APITimeoutError

    slow = make_sim("empty", latency_ms=400)
    client = make_service(slow, sleeps, timeout=0.1, max_retries=1)
    with pytest.raises(APITimeoutError) as info:
        client.list_stores()
    assert "timed out" in str(info.value) and len(sleeps) == 1
    # a create that timed out may have happened on the server: not sent again
    sleeps.clear()
    with pytest.raises(APITimeoutError):
        client.create_store(name="maybe")
    assert sleeps == []
