"""The simulator validates every body like the API: random bodies for every POST endpoint
get a 2xx or a 4xx with a JSON error, never a 5xx."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vstui.sim import FROZEN_EPOCH, FrozenClock, SimConfig, SimServer

from .conftest import KEY

KEYS = {
    "/vector_stores": [
        "name",
        "description",
        "metadata",
        "expires_after",
        "file_ids",
        "chunking_strategy",
    ],
    "/vector_stores/{vs}": ["name", "expires_after", "metadata"],
    "/vector_stores/{vs}/search": [
        "query",
        "rewrite_query",
        "max_num_results",
        "filters",
        "ranking_options",
    ],
    "/vector_stores/{vs}/files": ["file_id", "attributes", "chunking_strategy"],
    "/vector_stores/{vs}/files/{f}": ["attributes"],
    "/vector_stores/{vs}/file_batches": ["file_ids", "files", "attributes", "chunking_strategy"],
    "/vector_stores/{bvs}/file_batches/{b}/cancel": [],
}
# Names the API uses inside bodies, so random objects sometimes look nearly right.
INNER = [
    "anchor",
    "days",
    "type",
    "static",
    "max_chunk_size_tokens",
    "chunk_overlap_tokens",
    "key",
    "value",
    "filters",
    "ranker",
    "score_threshold",
    "file_id",
    "attributes",
    "last_active_at",
    "auto",
    "eq",
    "and",
]

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(INNER)
    | st.text(max_size=30)
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.dictionaries(st.sampled_from(INNER) | st.text(max_size=8), inner, max_size=5)
    ),
    max_leaves=25,
)


# A valid body per endpoint: fuzzing one field of it reaches the code behind validation.
VALID: dict[str, dict[str, Any]] = {
    "/vector_stores": {"name": "n", "file_ids": ["FILE"]},
    "/vector_stores/{vs}": {"name": "n"},
    "/vector_stores/{vs}/search": {"query": "refund policy"},
    "/vector_stores/{vs}/files": {"file_id": "FILE"},
    "/vector_stores/{vs}/files/{f}": {"attributes": {"a": 1}},
    "/vector_stores/{vs}/file_batches": {"file_ids": ["FILE"]},
    "/vector_stores/{bvs}/file_batches/{b}/cancel": {},
}


def bodies(path: str) -> st.SearchStrategy[Any]:
    known = KEYS[path]
    if not known:
        return json_values
    near = st.dictionaries(st.sampled_from(known), json_values, max_size=len(known))
    shallow = (
        scalars
        | st.lists(scalars, max_size=3)
        | st.dictionaries(st.sampled_from(INNER), scalars | st.lists(scalars, max_size=2))
    )
    one_field = st.builds(
        lambda key, value: {**VALID[path], key: value},
        st.sampled_from(known),
        shallow | json_values,
    )
    return st.one_of(one_field, one_field, one_field, near, json_values)


def with_ids(value: Any, file_id: str) -> Any:
    if value == "FILE":
        return file_id
    if isinstance(value, list):
        return [with_ids(v, file_id) for v in value]
    if isinstance(value, dict):
        return {k: with_ids(v, file_id) for k, v in value.items()}
    return value


@pytest.fixture(scope="module")
def target() -> Iterator[tuple[httpx.Client, dict[str, str]]]:
    server = SimServer.start_scenario(
        "demo", clock=FrozenClock(FROZEN_EPOCH), config=SimConfig(api_key=KEY)
    )
    account = server.account
    batch = next(iter(account.batches.values()))
    # a live store with completed files, so searches evaluate filters against attributes
    store = next(s for s in account.stores.values() if s.name == "support-faq")
    ids = {"vs": store.id, "f": next(iter(store.files)), "b": batch.id, "bvs": batch.store_id}
    with httpx.Client(
        base_url=server.base_url, headers={"Authorization": f"Bearer {KEY}"}, timeout=30
    ) as client:
        yield client, ids
    server.stop()


def check(response: httpx.Response) -> None:
    assert response.status_code < 500, response.text[:300]
    if response.status_code >= 400:
        error = response.json()["error"]
        assert isinstance(error["message"], str) and error["message"]


@pytest.mark.parametrize("path", sorted(KEYS))
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_no_post_body_makes_a_5xx(target, path, data):
    client, ids = target
    body = with_ids(data.draw(bodies(path)), ids["f"])
    check(client.post(path.format(**ids), json=body))


@settings(max_examples=40, deadline=None)
@given(raw=st.binary(max_size=60) | st.just(b"[" * 50_000) | st.just(b'{"name": NaN}'))
def test_no_raw_body_makes_a_5xx(target, raw):
    client, ids = target
    check(client.post(f"/vector_stores/{ids['vs']}", content=raw))


@settings(max_examples=40, deadline=None)
@given(
    purpose=st.text(max_size=12) | st.sampled_from(["assistants", "batch"]),
    filename=st.text(max_size=40),
    seconds=st.none() | st.text(max_size=8) | st.integers().map(str),
)
def test_no_upload_makes_a_5xx(target, purpose, filename, seconds):
    client, _ = target
    data = {"purpose": purpose}
    if seconds is not None:
        data["expires_after[seconds]"] = seconds
        data["expires_after[anchor]"] = "created_at"
    check(client.post("/files", data=data, files={"file": (filename or "x", b"hello")}))


@settings(max_examples=40, deadline=None)
@given(
    params=st.dictionaries(
        st.sampled_from(["limit", "order", "after", "before", "filter"]),
        st.text(max_size=12) | st.integers().map(str),
        max_size=4,
    )
)
def test_no_list_query_makes_a_5xx(target, params):
    client, ids = target
    for path in ("/vector_stores", f"/vector_stores/{ids['vs']}/files", "/files"):
        response = client.get(path, params=params)
        assert response.status_code < 500, response.text[:300]


@pytest.mark.parametrize(
    ("path", "body", "param"),
    [
        ("/vector_stores", {"file_ids": [[1]]}, "file_ids"),
        ("/vector_stores", {"name": 5}, "name"),
        ("/vector_stores", {"description": ["x"]}, "description"),
        ("/vector_stores", {"nope": 1}, "nope"),
        ("/vector_stores", {"metadata": {"k": 1}}, "metadata.k"),
        ("/vector_stores", {"expires_after": {"anchor": "last_active_at", "days": 0}}, None),
        ("/vector_stores/{vs}", {"name": {"a": 1}}, "name"),
        ("/vector_stores/{vs}/search", {"query": "q", "filters": [1]}, "filters"),
        ("/vector_stores/{vs}/search", {"query": "q", "ranking_options": 3}, "ranking_options"),
        ("/vector_stores/{vs}/search", {"query": "q", "rewrite_query": "yes"}, "rewrite_query"),
        ("/vector_stores/{vs}/files", {"file_id": ["x"]}, "file_id"),
        ("/vector_stores/{vs}/files", {"file_id": "x", "attributes": {"a": {}}}, "attributes.a"),
        ("/vector_stores/{vs}/file_batches", {"files": [{"file_id": "f", "x": 1}]}, None),
    ],
)
def test_bad_bodies_are_a_400_naming_the_parameter(target, path, body, param):
    client, ids = target
    response = client.post(path.format(**ids), json=body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    if param is not None:
        assert error["param"] == param
    assert error["param"]


def test_deeply_nested_filters_are_a_400(target):
    client, ids = target
    nested: dict[str, Any] = {"type": "eq", "key": "team", "value": "docs"}
    for _ in range(50):
        nested = {"type": "and", "filters": [nested]}
    response = client.post(
        f"/vector_stores/{ids['vs']}/search", json={"query": "q", "filters": nested}
    )
    assert response.status_code == 400


def test_the_request_log_is_a_ring_buffer(make_sim):
    server = make_sim("empty", log_size=10)
    with httpx.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {KEY}"}) as c:
        for _ in range(25):
            c.get("/vector_stores")
    assert len(server.simulator.log) == 10
    assert server.simulator.count("GET", "/vector_stores$") == 10
