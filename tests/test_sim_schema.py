"""Every simulator answer validated against the official OpenAPI schemas (tests/data)."""

from __future__ import annotations

import io
from pathlib import Path

import httpx
import pytest
import yaml
from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from .conftest import KEY

SPEC = yaml.safe_load((Path(__file__).parent / "data/openapi-vector-stores-files.yaml").read_text())
REGISTRY = Registry().with_resource("spec", DRAFT202012.create_resource(SPEC))


def validator(name: str) -> Draft202012Validator:
    schema = {"$ref": f"spec#/components/schemas/{name}"}
    return Draft202012Validator(schema, registry=REGISTRY)


def check(name: str, body: object) -> None:
    errors = sorted(validator(name).iter_errors(body), key=str)
    assert not errors, f"{name}: " + "; ".join(e.message for e in errors[:5])


@pytest.fixture
def http(demo_sim):
    with httpx.Client(
        base_url=demo_sim.base_url + "/", headers={"Authorization": f"Bearer {KEY}"}
    ) as c:
        yield c


def test_demo_account_answers_match_the_schemas(http, demo_sim, clock):
    stores = http.get("vector_stores", params={"limit": 100}).json()
    check("ListVectorStoresResponse", stores)
    assert len(stores["data"]) >= 30
    statuses = set()
    for store in stores["data"]:
        check("VectorStoreObject", http.get(f"vector_stores/{store['id']}").json())
        files = http.get(f"vector_stores/{store['id']}/files", params={"limit": 100}).json()
        if files["data"]:
            check("ListVectorStoreFilesResponse", files)
        for vf in files["data"]:
            check("VectorStoreFileObject", vf)
            statuses.add(vf["status"])
    assert {"completed", "failed", "in_progress"} <= statuses
    file_list = http.get("files").json()
    check("ListFilesResponse", file_list)
    for f in file_list["data"][:20]:
        check("OpenAIFile", http.get(f"files/{f['id']}").json())
    for batch in demo_sim.account.batches.values():
        path = f"vector_stores/{batch.store_id}/file_batches/{batch.id}"
        check("VectorStoreFileBatchObject", http.get(path).json())
        listed = http.get(path + "/files").json()
        check("ListVectorStoreFilesResponse", listed)


def test_mutations_match_the_schemas(http, clock):
    up = http.post(
        "files",
        files={"file": ("a.txt", io.BytesIO(b"hello refund world"))},
        data={"purpose": "assistants"},
    ).json()
    check("OpenAIFile", up)
    store = http.post("vector_stores", json={"name": "s", "file_ids": [up["id"]]}).json()
    check("VectorStoreObject", store)
    clock.advance(10)
    search = http.post(f"vector_stores/{store['id']}/search", json={"query": "refund"}).json()
    check("VectorStoreSearchResultsPage", search)
    assert search["data"]
    content = http.get(f"vector_stores/{store['id']}/files/{up['id']}/content").json()
    check("VectorStoreFileContentResponse", content)
    upd = http.post(
        f"vector_stores/{store['id']}/files/{up['id']}", json={"attributes": {"a": True}}
    ).json()
    check("VectorStoreFileObject", upd)
    batch = http.post(f"vector_stores/{store['id']}/file_batches", json={"file_ids": [up["id"]]})
    check("VectorStoreFileBatchObject", batch.json())
    cancel = http.post(f"vector_stores/{store['id']}/file_batches/{batch.json()['id']}/cancel")
    # `cancelling` is what the service really sends (the reference's own examples show it),
    # though the schema's enum lacks it; everything else must match.
    assert cancel.json()["status"] == "cancelling"
    check("VectorStoreFileBatchObject", {**cancel.json(), "status": "cancelled"})
    check(
        "DeleteVectorStoreFileResponse",
        http.delete(f"vector_stores/{store['id']}/files/{up['id']}").json(),
    )
    check("DeleteVectorStoreResponse", http.delete(f"vector_stores/{store['id']}").json())
    check("DeleteFileResponse", http.delete(f"files/{up['id']}").json())


def test_errors_match_the_schema_and_carry_request_ids(http):
    for response in (
        http.get("vector_stores/vs_missing"),
        http.get("vector_stores", params={"limit": 0}),
        http.post("vector_stores", json={"expires_after": {"anchor": "last_active_at", "days": 0}}),
        http.get("no/such/route"),
        httpx.get(str(http.base_url) + "vector_stores"),
    ):
        assert response.status_code in (400, 401, 404)
        check("ErrorResponse", response.json())
        assert response.headers["x-request-id"].startswith("req_")


def test_validation_limits(http):
    def status(r: httpx.Response) -> int:
        return r.status_code

    assert status(http.post("vector_stores", json={"metadata": {"k" * 65: "v"}})) == 400
    assert status(http.post("vector_stores", json={"metadata": {"k": "v" * 513}})) == 400
    too_many = {f"k{i}": "v" for i in range(17)}
    assert status(http.post("vector_stores", json={"metadata": too_many})) == 400
    sid = http.post("vector_stores", json={"name": "x"}).json()["id"]
    bad_chunk = {
        "type": "static",
        "static": {"max_chunk_size_tokens": 5000, "chunk_overlap_tokens": 0},
    }
    assert (
        status(
            http.post(
                f"vector_stores/{sid}/file_batches",
                json={"file_ids": ["f"], "chunking_strategy": bad_chunk},
            )
        )
        == 400
    )
    big = {"file_ids": [f"file-{i}" for i in range(501)]}
    assert status(http.post(f"vector_stores/{sid}/file_batches", json=big)) == 400
    assert status(http.post(f"vector_stores/{sid}/file_batches", json={"file_ids": []})) == 400
    assert status(http.get(f"vector_stores/{sid}/files", params={"filter": "bogus"})) == 400
    assert status(http.post(f"vector_stores/{sid}", content=b"{not json")) == 400


def test_expiry_happens_when_time_passes(http, clock):
    store = http.post(
        "vector_stores",
        json={"name": "short", "expires_after": {"anchor": "last_active_at", "days": 1}},
    ).json()
    assert store["status"] == "completed" and store["expires_at"] == store["last_active_at"] + 86400
    clock.advance(86400 + 1)
    expired = http.get(f"vector_stores/{store['id']}").json()
    assert expired["status"] == "expired"
    search = http.post(f"vector_stores/{store['id']}/search", json={"query": "x"})
    assert search.status_code == 400


def test_demo_is_believable(demo_sim):
    account = demo_sim.account
    now = account.now()
    stores = list(account.stores.values())
    expired = [s for s in stores if s.to_json(now)["status"] == "expired"]
    assert 25 <= len(stores) <= 60 and 5 <= len(expired) <= 12
    failed_codes = {
        a.error[0]
        for s in stores
        for a in s.files.values()
        if a.status(now) == "failed" and a.error
    }
    assert {"server_error", "unsupported_file", "invalid_file"} <= failed_codes
    holders: dict[str, set[bool]] = {}
    for s in stores:
        for fid in s.files:
            holders.setdefault(fid, set()).add(s.expired)
    assert any(v == {True, False} for v in holders.values())  # shared expired + live
    assert any(v == {True} for v in holders.values())  # only in expired stores
    running = [b for b in account.batches.values() if b.status(now) == "in_progress"]
    assert 2 <= len(running) <= 3
    later = now + 600
    assert all(b.status(later) in ("completed", "failed") for b in running)
