"""The compatibility checks against a real server (OpenAI, llama-stack, any other).

Skipped unless ``VSTUI_COMPAT_BASE_URL`` is set (``VSTUI_COMPAT_API_KEY`` too, when the
server wants one). Every object is created under a unique ``vstui-compat-…`` name and
deleted at the end, whatever happens. See CONTRIBUTING.md for starting llama-stack.

    VSTUI_COMPAT_BASE_URL=http://localhost:8321/v1 pytest -q tests/test_compat_real.py
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections.abc import Iterator

import pytest

from vstui import listing
from vstui.api import APIError, ClientSettings, VectorStoresService
from vstui.cleanup import execute

BASE_URL = os.environ.get("VSTUI_COMPAT_BASE_URL", "")
API_KEY = os.environ.get("VSTUI_COMPAT_API_KEY", "") or "sk-compat-none-given"
WAIT_SECONDS = float(os.environ.get("VSTUI_COMPAT_WAIT", "120"))

pytestmark = pytest.mark.skipif(
    not BASE_URL, reason="set VSTUI_COMPAT_BASE_URL (and VSTUI_COMPAT_API_KEY) to run"
)

TEXT = b"# Refunds\nRefunds take five working days. Contact support for a faster refund.\n"


@pytest.fixture(scope="module")
def service() -> Iterator[VectorStoresService]:
    client = VectorStoresService(ClientSettings(api_key=API_KEY, base_url=BASE_URL))
    yield client
    client.close()


@pytest.fixture
def store_and_file(service: VectorStoresService) -> Iterator[tuple[str, str]]:
    name = f"vstui-compat-{uuid.uuid4().hex[:12]}"
    store = service.create_store(name=name)
    uploaded = service.upload_file(f"{name}.md", TEXT)
    try:
        yield store.id, uploaded.id
    finally:
        for cleanup in (
            lambda: service.delete_store(store.id),
            lambda: service.delete_file(uploaded.id),
        ):
            with contextlib.suppress(APIError):  # already gone, or the test deleted it
                cleanup()


def _wait_completed(service: VectorStoresService, store_id: str, file_id: str) -> str:
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        status = service.retrieve_store_file(store_id, file_id).status
        if status != "in_progress" or time.monotonic() > deadline:
            return status
        time.sleep(1.0)


def test_attach_list_read_search_and_clean_up(service, store_and_file):
    store_id, file_id = store_and_file
    done = service.attach_files(store_id, [{"file_id": file_id, "attributes": {"k": "v"}}])
    assert not done.failed, done.sentence()
    assert _wait_completed(service, store_id, file_id) == "completed"
    # the listings a deletion depends on read completely (strict paging)
    held = listing.store_file_ids(service, service.retrieve_store(store_id))
    assert file_id in held
    assert store_id in {s.id for s in listing.all_stores(service)}
    counts, _counted = service.store_counts(service.retrieve_store(store_id))
    assert counts.total >= 1 and counts.completed >= 1
    assert "Refunds" in service.store_file_content(store_id, file_id).text
    hits = service.search(store_id, "how long do refunds take", max_num_results=3).data
    assert hits and hits[0].best_id == file_id
    print(service.capabilities.describe())  # what this server left out, for the log
    # deleting, then deleting again: "already gone", never a failure
    store = service.retrieve_store(store_id)
    first = execute(service, [store], [])
    assert first.ok and [o.id for o in first.of("deleted")] == [store_id]
    again = execute(service, [store], [])
    assert again.ok and [o.id for o in again.of("already gone")] == [store_id]


def test_errors_read_as_one_sentence(service):
    missing = f"vstui-compat-missing-{uuid.uuid4().hex[:8]}"
    with pytest.raises(APIError) as info:
        service.retrieve_store(missing)
    text = str(info.value)
    assert info.value.status in (400, 404) and "\n" not in text
    assert text != "HTTP 400: Bad Request"  # the server's own words, whatever their shape
    assert service.confirm_gone(info.value, lambda: service.retrieve_store(missing))
