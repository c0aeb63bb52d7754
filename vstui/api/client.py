"""The httpx service layer: one method per endpoint, paging, retries and typed errors.

The UI calls it from worker threads, so it is synchronous and thread-safe (one
``httpx.Client`` with a connection pool shared by every thread).
"""

from __future__ import annotations

import email.utils
import logging
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Final, Literal, TypeVar

import httpx
import pydantic

from . import limits
from .errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    MalformedResponseError,
    ValidationError,
    error_class_for,
)
from .models import (
    APIModel,
    Deleted,
    ErrorBody,
    FileBatch,
    FileContentPage,
    FileObject,
    ListPage,
    SearchResultsPage,
    VectorStore,
    VectorStoreFile,
)
from .settings import ClientSettings

log = logging.getLogger(__name__)

M = TypeVar("M", bound=APIModel)
Order = Literal["asc", "desc"]
RetryMode = Literal["safe", "create"]

RETRY_STATUSES: Final = frozenset({408, 409, 429})
NOT_SENT: Final = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
MAX_RETRY_AFTER: Final = 60.0


class _Unset(Enum):
    UNSET = "UNSET"


UNSET: Final = _Unset.UNSET
"""Marks an argument that is not sent at all (as opposed to ``None``, sent as null)."""


@dataclass
class ServiceStats:
    """What the service has done so far: requests, retries and rate-limit answers."""

    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    server_errors: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, **counts: int) -> None:
        with self._lock:
            for name, value in counts.items():
                setattr(self, name, getattr(self, name) + value)


class _Pacer:
    """Spacing between requests, shared by every thread of one service.

    A 429 closes a gate until the server's ``retry-after`` and widens the spacing, so the
    threads that were waiting go one by one instead of stampeding back into the limit;
    each success narrows the spacing again (additive-increase/multiplicative-decrease).
    """

    MAX_INTERVAL = 1.0

    def __init__(self) -> None:
        self.interval = 0.0
        self.next_at = 0.0
        self.gate_until = 0.0
        self.lock = threading.Lock()

    def wait_time(self) -> float:
        with self.lock:
            now = time.monotonic()
            at = max(now, self.gate_until, self.next_at)
            self.next_at = at + self.interval
            return at - now

    def limited(self, delay: float) -> None:
        with self.lock:
            self.interval = min(self.MAX_INTERVAL, max(0.005, self.interval * 2))
            self.gate_until = max(self.gate_until, time.monotonic() + delay)

    def succeeded(self) -> None:
        with self.lock:
            if self.interval:
                self.interval = self.interval * 0.9 if self.interval > 0.002 else 0.0


def _drop_unset(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not UNSET}


def _check(problem: limits.Problem | None) -> None:
    if problem is not None:
        raise ValidationError(problem[1])


class VectorStoresService:
    """Every Vector Stores and Files endpoint, over one ``httpx.Client``."""

    def __init__(
        self,
        settings: ClientSettings,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        max_connections: int = 32,
    ) -> None:
        self.settings = settings
        self.stats = ServiceStats()
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._rng_lock = threading.Lock()
        self._pacer = _Pacer()
        headers = {
            "OpenAI-Beta": "assistants=v2",
            "User-Agent": "vstui/0.1",
            "Accept": "application/json",
        }
        if settings.api_key:
            headers["Authorization"] = f"Bearer {settings.api_key}"
        if settings.organization:
            headers["OpenAI-Organization"] = settings.organization
        if settings.project:
            headers["OpenAI-Project"] = settings.project
        self._http = httpx.Client(
            base_url=settings.base_url.rstrip("/") + "/",
            headers=headers,
            timeout=httpx.Timeout(settings.timeout, connect=settings.connect_timeout),
            transport=transport,
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            ),
        )

    def __repr__(self) -> str:
        return f"VectorStoresService({self.settings!r})"

    # -- lifecycle -------------------------------------------------------------------------

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> VectorStoresService:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- transport -------------------------------------------------------------------------

    def _backoff(self, attempt: int) -> float:
        base = min(self.settings.backoff_initial * 2.0**attempt, self.settings.backoff_max)
        with self._rng_lock:
            jitter = 1 - 0.25 * self._rng.random()
        return base * jitter

    def _retry_delay(self, response: httpx.Response, attempt: int) -> float:
        headers = response.headers
        for name, divisor in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
            raw = headers.get(name)
            if raw is None:
                continue
            try:
                seconds: float = float(raw) / divisor
            except ValueError:
                parsed = email.utils.parsedate_to_datetime(raw) if name == "retry-after" else None
                if parsed is None:
                    continue
                seconds = parsed.timestamp() - time.time()
            if 0 <= seconds <= MAX_RETRY_AFTER:
                return seconds
        return self._backoff(attempt)

    @staticmethod
    def _should_retry(response: httpx.Response, mode: RetryMode) -> bool:
        explicit = response.headers.get("x-should-retry")
        if explicit == "true":
            return True
        if explicit == "false":
            return False
        status = response.status_code
        if mode == "create":
            # The server may have acted on anything but a rate-limit rejection: do not
            # risk a duplicate store or batch.
            return status == 429
        return status in RETRY_STATUSES or status >= 500

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        files: Any = None,
        data: Any = None,
        mode: RetryMode = "safe",
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        params = {k: v for k, v in (params or {}).items() if v is not None and v is not UNSET}
        send_headers = dict(headers or {})
        if mode == "create":
            send_headers.setdefault("Idempotency-Key", f"vstui-{uuid.uuid4()}")
        max_retries = self.settings.max_retries
        attempt = 0
        rate_waited = 0.0
        while True:
            if attempt:
                send_headers["x-stainless-retry-count"] = str(attempt)
            self._wait_for_turn()
            self.stats.add(requests=1)
            try:
                response = self._http.request(
                    method,
                    path.lstrip("/"),
                    params=params,
                    json=json,
                    files=files,
                    data=data,
                    headers=send_headers,
                )
            except httpx.TransportError as exc:
                # A request that never reached the server is always safe to send again;
                # one that may have (a read timeout, a dropped connection) only if safe.
                not_sent = isinstance(exc, NOT_SENT)
                if (not_sent or mode == "safe") and attempt < max_retries:
                    self._pause(self._backoff(attempt))
                    attempt += 1
                    continue
                raise self._transport_error(exc, not_sent, method, path) from None
            if response.is_success:
                self._pacer.succeeded()
                return response
            status = response.status_code
            if status == 429:
                self.stats.add(rate_limited=1)
                delay = self._retry_delay(response, min(attempt, 4))
                # Rate limits are retried for as long as the waiting budget lasts, not a
                # fixed count: under a shared limit, patience is what finishes the job.
                if rate_waited + delay <= self.settings.rate_limit_budget and self._should_retry(
                    response, mode
                ):
                    rate_waited += delay
                    self._pacer.limited(delay)
                    response.close()
                    self.stats.add(retries=1)
                    attempt += 1
                    continue
            elif status >= 500:
                self.stats.add(server_errors=1)
            if attempt < max_retries and self._should_retry(response, mode):
                delay = self._retry_delay(response, attempt)
                log.debug("retrying %s %s after HTTP %s in %.2fs", method, path, status, delay)
                response.close()
                self._pause(delay)
                attempt += 1
                continue
            raise self._error(response, method, path)

    def _pause(self, seconds: float) -> None:
        self.stats.add(retries=1)
        self._sleep(seconds)

    def _wait_for_turn(self) -> None:
        wait = self._pacer.wait_time()
        if wait > 0:
            self._sleep(wait)

    def _transport_error(
        self, exc: httpx.TransportError, not_sent: bool, method: str, path: str
    ) -> APIError:
        name = type(exc).__name__
        if not_sent:
            message = f"Could not connect to {self._host()}: {name}"
        elif isinstance(exc, httpx.TimeoutException):
            return APITimeoutError(
                f"Request to {self._host()} timed out ({name})", method=method, path=path
            )
        else:
            message = f"Connection to {self._host()} failed: {name}"
        return APIConnectionError(message, method=method, path=path)

    def _host(self) -> str:
        return self._http.base_url.host or str(self._http.base_url)

    @staticmethod
    def _error(response: httpx.Response, method: str, path: str) -> APIError:
        request_id = response.headers.get("x-request-id")
        body = ErrorBody(message="")
        try:
            payload = response.json()
            if isinstance(payload, dict) and isinstance(payload.get("error"), dict):
                body = ErrorBody.model_validate(payload["error"])
            elif isinstance(payload, dict) and "message" in payload:
                body = ErrorBody.model_validate(payload)
        except (ValueError, pydantic.ValidationError):
            pass
        message = body.message or response.reason_phrase or "request failed"
        cls = error_class_for(response.status_code)
        return cls(
            message,
            status=response.status_code,
            type=body.type,
            code=body.code,
            param=body.param,
            request_id=request_id,
            method=method,
            path=path,
        )

    @staticmethod
    def _parse(response: httpx.Response, model: type[M], method: str, path: str) -> M:
        request_id = response.headers.get("x-request-id")
        try:
            obj = model.model_validate(response.json())
        except (ValueError, pydantic.ValidationError) as exc:
            what = "not JSON" if not isinstance(exc, pydantic.ValidationError) else "unexpected"
            raise MalformedResponseError(
                f"The server's answer was {what} (expected a {model.__name__})",
                status=response.status_code,
                request_id=request_id,
                method=method,
                path=path,
            ) from None
        obj._request_id = request_id
        raw_poll = response.headers.get("openai-poll-after-ms")
        if raw_poll is not None:
            try:
                obj._poll_after_ms = max(0, int(raw_poll))
            except ValueError:
                obj._poll_after_ms = None
        return obj

    def _call(
        self,
        method: str,
        path: str,
        model: type[M],
        **kwargs: Any,
    ) -> M:
        response = self._request(method, path, **kwargs)
        return self._parse(response, model, method, path)

    # -- paging ----------------------------------------------------------------------------

    @staticmethod
    def iter_pages(fetch: Callable[[str | None], ListPage[M]]) -> Iterator[ListPage[M]]:
        """Yield every page, following ``after`` cursors until ``has_more`` is false."""
        after: str | None = None
        seen: set[str] = set()
        while True:
            page = fetch(after)
            yield page
            if not page.has_more or not page.data:
                return
            cursor = page.last_id or page.data[-1].id  # type: ignore[attr-defined]
            if cursor in seen:  # a server that repeats itself must not loop us forever
                return
            seen.add(cursor)
            after = cursor

    @staticmethod
    def walk_both_ends(
        fetch: Callable[[Order, str | None], ListPage[M]],
    ) -> Iterator[list[M]]:
        """Walk a list from both ends at once (asc and desc concurrently).

        Yields batches of items as pages arrive and stops where the two walks meet;
        every item is yielded exactly once.
        """
        import queue

        results: queue.Queue[tuple[str, list[M] | BaseException | None]] = queue.Queue()
        seen: set[str] = set()
        lock = threading.Lock()
        met = threading.Event()

        def walk(order: Order) -> None:
            try:
                for page in VectorStoresService.iter_pages(lambda after: fetch(order, after)):
                    fresh: list[M] = []
                    with lock:
                        for item in page.data:
                            key = item.id  # type: ignore[attr-defined]
                            if key in seen:
                                met.set()
                                continue
                            seen.add(key)
                            fresh.append(item)
                    if fresh:
                        results.put((order, fresh))
                    if met.is_set():
                        break
                results.put((order, None))
            except BaseException as exc:  # handed to the consumer thread
                met.set()
                results.put((order, exc))

        threads = [
            threading.Thread(target=walk, args=(o,), daemon=True, name=f"walk-{o}")
            for o in ("asc", "desc")
        ]
        for thread in threads:
            thread.start()
        done = 0
        error: BaseException | None = None
        while done < 2:
            _, item = results.get()
            if item is None:
                done += 1
            elif isinstance(item, BaseException):
                done += 1
                error = error or item
            elif error is None:
                yield item
        if error is not None:
            raise error

    # -- vector stores ---------------------------------------------------------------------

    def list_stores(
        self,
        *,
        limit: int = 100,
        order: Order = "desc",
        after: str | None = None,
        before: str | None = None,
    ) -> ListPage[VectorStore]:
        params = {"limit": limit, "order": order, "after": after, "before": before}
        return self._call("GET", "/vector_stores", ListPage[VectorStore], params=params)

    def iter_store_pages(self, *, order: Order = "desc") -> Iterator[ListPage[VectorStore]]:
        return self.iter_pages(lambda after: self.list_stores(order=order, after=after))

    def iter_stores(self, *, order: Order = "desc") -> Iterator[VectorStore]:
        for page in self.iter_store_pages(order=order):
            yield from page.data

    def walk_stores_both_ends(self) -> Iterator[list[VectorStore]]:
        return self.walk_both_ends(lambda order, after: self.list_stores(order=order, after=after))

    def create_store(
        self,
        *,
        name: str | None = None,
        description: str | None = None,
        metadata: Mapping[str, str] | None = None,
        expires_after: Mapping[str, Any] | None = None,
        file_ids: Sequence[str] | None = None,
        chunking_strategy: Mapping[str, Any] | None = None,
    ) -> VectorStore:
        _check(limits.check_metadata(metadata))
        _check(limits.check_expires_after(expires_after))
        _check(limits.check_chunking_strategy(chunking_strategy))
        if file_ids is not None and len(file_ids) > limits.STORE_FILE_IDS_MAX:
            raise ValidationError(f"At most {limits.STORE_FILE_IDS_MAX} file_ids per store.")
        body = {
            "name": name,
            "description": description,
            "metadata": dict(metadata) if metadata is not None else None,
            "expires_after": dict(expires_after) if expires_after is not None else None,
            "file_ids": list(file_ids) if file_ids is not None else None,
            "chunking_strategy": chunking_strategy,
        }
        body = {k: v for k, v in body.items() if v is not None}
        return self._call("POST", "/vector_stores", VectorStore, json=body, mode="create")

    def retrieve_store(self, store_id: str) -> VectorStore:
        return self._call("GET", f"/vector_stores/{store_id}", VectorStore)

    def modify_store(
        self,
        store_id: str,
        *,
        name: str | _Unset | None = UNSET,
        expires_after: Mapping[str, Any] | _Unset | None = UNSET,
        metadata: Mapping[str, str] | _Unset | None = UNSET,
    ) -> VectorStore:
        """Change a store. ``None`` clears a field; an argument left out is not sent."""
        if not isinstance(metadata, _Unset):
            _check(limits.check_metadata(metadata))
        if not isinstance(expires_after, _Unset):
            _check(limits.check_expires_after(expires_after))
        body = _drop_unset({"name": name, "expires_after": expires_after, "metadata": metadata})
        return self._call("POST", f"/vector_stores/{store_id}", VectorStore, json=body)

    def delete_store(self, store_id: str) -> Deleted:
        return self._call("DELETE", f"/vector_stores/{store_id}", Deleted)

    def search(
        self,
        store_id: str,
        query: str | Sequence[str],
        *,
        filters: Mapping[str, Any] | None = None,
        max_num_results: int | None = None,
        ranking_options: Mapping[str, Any] | None = None,
        rewrite_query: bool | None = None,
    ) -> SearchResultsPage:
        if max_num_results is not None and not (
            limits.SEARCH_RESULTS_MIN <= max_num_results <= limits.SEARCH_RESULTS_MAX
        ):
            raise ValidationError(
                f"max_num_results must be between {limits.SEARCH_RESULTS_MIN} and "
                f"{limits.SEARCH_RESULTS_MAX}."
            )
        body: dict[str, Any] = {"query": query if isinstance(query, str) else list(query)}
        optional = {
            "filters": filters,
            "max_num_results": max_num_results,
            "ranking_options": ranking_options,
            "rewrite_query": rewrite_query,
        }
        body.update({k: v for k, v in optional.items() if v is not None})
        return self._call("POST", f"/vector_stores/{store_id}/search", SearchResultsPage, json=body)

    # -- vector store files ----------------------------------------------------------------

    def list_store_files(
        self,
        store_id: str,
        *,
        filter: str | None = None,
        order: Order = "desc",
        after: str | None = None,
        before: str | None = None,
        limit: int = 100,
    ) -> ListPage[VectorStoreFile]:
        params = {
            "limit": limit,
            "order": order,
            "after": after,
            "before": before,
            "filter": filter,
        }
        return self._call(
            "GET", f"/vector_stores/{store_id}/files", ListPage[VectorStoreFile], params=params
        )

    def iter_store_file_pages(
        self, store_id: str, *, filter: str | None = None, order: Order = "desc"
    ) -> Iterator[ListPage[VectorStoreFile]]:
        return self.iter_pages(
            lambda after: self.list_store_files(store_id, filter=filter, order=order, after=after)
        )

    def iter_store_files(
        self, store_id: str, *, filter: str | None = None, order: Order = "desc"
    ) -> Iterator[VectorStoreFile]:
        for page in self.iter_store_file_pages(store_id, filter=filter, order=order):
            yield from page.data

    def create_store_file(
        self,
        store_id: str,
        file_id: str,
        *,
        attributes: Mapping[str, Any] | None = None,
        chunking_strategy: Mapping[str, Any] | None = None,
    ) -> VectorStoreFile:
        _check(limits.check_attributes(attributes))
        _check(limits.check_chunking_strategy(chunking_strategy))
        body: dict[str, Any] = {"file_id": file_id}
        if attributes is not None:
            body["attributes"] = dict(attributes)
        if chunking_strategy is not None:
            body["chunking_strategy"] = dict(chunking_strategy)
        # Attaching the same file twice is harmless, so this is safe to retry.
        return self._call("POST", f"/vector_stores/{store_id}/files", VectorStoreFile, json=body)

    def retrieve_store_file(self, store_id: str, file_id: str) -> VectorStoreFile:
        return self._call("GET", f"/vector_stores/{store_id}/files/{file_id}", VectorStoreFile)

    def update_store_file(
        self, store_id: str, file_id: str, *, attributes: Mapping[str, Any] | None
    ) -> VectorStoreFile:
        _check(limits.check_attributes(attributes))
        return self._call(
            "POST",
            f"/vector_stores/{store_id}/files/{file_id}",
            VectorStoreFile,
            json={"attributes": dict(attributes) if attributes is not None else None},
        )

    def delete_store_file(self, store_id: str, file_id: str) -> Deleted:
        return self._call("DELETE", f"/vector_stores/{store_id}/files/{file_id}", Deleted)

    def store_file_content(self, store_id: str, file_id: str) -> FileContentPage:
        return self._call(
            "GET", f"/vector_stores/{store_id}/files/{file_id}/content", FileContentPage
        )

    # -- file batches ----------------------------------------------------------------------

    def create_batch(
        self,
        store_id: str,
        *,
        file_ids: Sequence[str] | None = None,
        files: Sequence[Mapping[str, Any]] | None = None,
        attributes: Mapping[str, Any] | None = None,
        chunking_strategy: Mapping[str, Any] | None = None,
    ) -> FileBatch:
        if (file_ids is None) == (files is None):
            raise ValidationError("Give either file_ids or files (one of them, not both).")
        body: dict[str, Any] = {}
        if file_ids is not None:
            _check(limits.check_batch_size(len(file_ids)))
            _check(limits.check_attributes(attributes))
            _check(limits.check_chunking_strategy(chunking_strategy))
            body["file_ids"] = list(file_ids)
            if attributes is not None:
                body["attributes"] = dict(attributes)
            if chunking_strategy is not None:
                body["chunking_strategy"] = dict(chunking_strategy)
        else:
            assert files is not None
            _check(limits.check_batch_size(len(files), "files"))
            for i, entry in enumerate(files):
                if not entry.get("file_id"):
                    raise ValidationError(f"files[{i}] has no file_id.")
                _check(limits.check_attributes(entry.get("attributes"), f"files[{i}].attributes"))
                _check(
                    limits.check_chunking_strategy(
                        entry.get("chunking_strategy"), f"files[{i}].chunking_strategy"
                    )
                )
            body["files"] = [dict(entry) for entry in files]
        return self._call(
            "POST", f"/vector_stores/{store_id}/file_batches", FileBatch, json=body, mode="create"
        )

    def retrieve_batch(self, store_id: str, batch_id: str) -> FileBatch:
        return self._call("GET", f"/vector_stores/{store_id}/file_batches/{batch_id}", FileBatch)

    def cancel_batch(self, store_id: str, batch_id: str) -> FileBatch:
        return self._call(
            "POST", f"/vector_stores/{store_id}/file_batches/{batch_id}/cancel", FileBatch
        )

    def list_batch_files(
        self,
        store_id: str,
        batch_id: str,
        *,
        filter: str | None = None,
        order: Order = "desc",
        after: str | None = None,
        before: str | None = None,
        limit: int = 100,
    ) -> ListPage[VectorStoreFile]:
        params = {
            "limit": limit,
            "order": order,
            "after": after,
            "before": before,
            "filter": filter,
        }
        return self._call(
            "GET",
            f"/vector_stores/{store_id}/file_batches/{batch_id}/files",
            ListPage[VectorStoreFile],
            params=params,
        )

    def iter_batch_files(
        self, store_id: str, batch_id: str, *, filter: str | None = None
    ) -> Iterator[VectorStoreFile]:
        pages = self.iter_pages(
            lambda after: self.list_batch_files(store_id, batch_id, filter=filter, after=after)
        )
        for page in pages:
            yield from page.data

    # -- files API -------------------------------------------------------------------------

    def list_files(
        self,
        *,
        purpose: str | None = None,
        limit: int = 10_000,
        order: Order = "desc",
        after: str | None = None,
    ) -> ListPage[FileObject]:
        params = {"purpose": purpose, "limit": limit, "order": order, "after": after}
        return self._call("GET", "/files", ListPage[FileObject], params=params)

    def iter_files(self, *, purpose: str | None = None) -> Iterator[FileObject]:
        pages = self.iter_pages(lambda after: self.list_files(purpose=purpose, after=after))
        for page in pages:
            yield from page.data

    def retrieve_file(self, file_id: str) -> FileObject:
        return self._call("GET", f"/files/{file_id}", FileObject)

    def upload_file(
        self, filename: str, content: bytes, *, purpose: str = "assistants"
    ) -> FileObject:
        return self._call(
            "POST",
            "/files",
            FileObject,
            files={"file": (filename, content)},
            data={"purpose": purpose},
            mode="create",
        )

    def delete_file(self, file_id: str) -> Deleted:
        return self._call("DELETE", f"/files/{file_id}", Deleted)

    def file_content(self, file_id: str) -> bytes:
        return self._request("GET", f"/files/{file_id}/content").content
