"""The service: one method per Vector Stores and Files endpoint.

Sending, retries and error mapping live in :mod:`.transport`, paging in :mod:`.paging`.
The UI calls the service from worker threads, so it is synchronous and thread-safe (one
``httpx.Client`` with a connection pool shared by every thread).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Final, TypeVar, Unpack

import httpx

from . import limits, paging
from .capabilities import Capabilities, for_base_url
from .errors import APIError, BatchesUnsupportedError, ValidationError
from .models import (
    APIModel,
    Deleted,
    FileBatch,
    FileContentPage,
    FileCounts,
    FileObject,
    ListPage,
    SearchResultsPage,
    VectorStore,
    VectorStoreFile,
)
from .paging import Order
from .settings import ClientSettings
from .transport import InFlight, RetryMode, ServiceStats, Transport, TransportOptions

__all__ = ["UNSET", "Attached", "InFlight", "Order", "ServiceStats", "VectorStoresService"]

M = TypeVar("M", bound=APIModel)


class _Unset(Enum):
    UNSET = "UNSET"


UNSET: Final = _Unset.UNSET
"""Marks an argument that is not sent at all (as opposed to ``None``, sent as null)."""


def _drop_unset(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not UNSET}


@dataclass
class Attached:
    """What :meth:`VectorStoresService.attach_files` did: one batch, or (on a server
    without batches) file by file, with the files that could not be attached."""

    batch: FileBatch | None = None
    files: list[VectorStoreFile] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (file id, why)

    @property
    def one_by_one(self) -> bool:
        return self.batch is None

    def sentence(self) -> str:
        if self.batch is not None:
            total = self.batch.file_counts.total
            return f"Batch {self.batch.id} created with {total} file{'' if total == 1 else 's'}."
        text = (
            f"Attached {len(self.files)} file{'' if len(self.files) == 1 else 's'} one by one "
            "(this server has no file batches)."
        )
        if self.failed:
            ids = ", ".join(fid for fid, _ in self.failed[:3])
            more = f" and {len(self.failed) - 3} more" if len(self.failed) > 3 else ""
            text += (
                f" {len(self.failed)} uploaded but NOT attached: {ids}{more} ({self.failed[0][1]})."
            )
        return text


def _check(problem: limits.Problem | None) -> None:
    if problem is not None:
        raise ValidationError(problem[1])


class VectorStoresService:
    """Every Vector Stores and Files endpoint, over one :class:`Transport`.

    Settings no request could succeed with never get this far: building
    :class:`ClientSettings` raises :class:`~vstui.api.errors.ConfigurationError`.
    """

    def __init__(self, settings: ClientSettings, **options: Unpack[TransportOptions]) -> None:
        """``options``: ``transport`` (an httpx transport), ``sleep``, ``rng`` and
        ``max_connections``, handed to the :class:`Transport`."""
        self.settings = settings
        self._transport = Transport(settings, **options)
        self.stats: ServiceStats = self._transport.stats
        self.capabilities: Capabilities = for_base_url(settings.base_url)
        """What this server was seen to support (shared by every service on its URL)."""

    def __repr__(self) -> str:
        return f"VectorStoresService({self.settings!r})"

    # -- lifecycle -------------------------------------------------------------------------

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> VectorStoresService:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def inflight(self) -> list[InFlight]:
        """``(method, path, started)`` of every request waiting for an answer, oldest first
        (``started`` is ``time.monotonic()``)."""
        return self._transport.inflight()

    # -- plumbing --------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        mode: RetryMode = "safe",
        **kwargs: Any,
    ) -> httpx.Response:
        params = {k: v for k, v in (params or {}).items() if v is not None and v is not UNSET}
        return self._transport.request(method, path, params=params, mode=mode, **kwargs)

    def _call(self, method: str, path: str, model: type[M], **kwargs: Any) -> M:
        response = self._request(method, path, **kwargs)
        obj = self._transport.parse(response, model, method, path)
        self.capabilities.saw_request_id(obj.request_id is not None)
        return obj

    def _store(self, store: VectorStore) -> VectorStore:
        self.capabilities.saw_store(store)
        return store

    # -- "not found", tolerantly read, strictly decided ------------------------------------

    @staticmethod
    def is_missing(error: APIError) -> bool:
        """Whether ``error`` may mean "no such object": a 404, or a 400 (some servers,
        llama-stack among them, answer 400 for a missing object). A 400 alone decides
        nothing: see :meth:`confirm_gone`."""
        return error.status in (400, 404)

    @staticmethod
    def confirm_gone(error: APIError, retrieve: Callable[[], object]) -> bool:
        """Whether the object ``error`` was about is gone: a 404 says so; a 400 only when
        reading the object again (``retrieve``) also fails as not found (404 or 400). Any
        other answer, or an object that is still there, is not "gone"."""
        if error.status == 404:
            return True
        if error.status != 400:
            return False
        try:
            retrieve()
        except APIError as again:
            return again.status in (400, 404)
        return False

    # -- paging ----------------------------------------------------------------------------

    iter_pages = staticmethod(paging.iter_pages)
    walk_both_ends = staticmethod(paging.walk_both_ends)

    def delete_gone_ok(self, delete: Callable[[], object], retrieve: Callable[[], object]) -> bool:
        """Run ``delete``; True when it deleted, False when the object was already gone
        (:meth:`confirm_gone`); any other error is raised."""
        try:
            delete()
        except APIError as error:
            if self.confirm_gone(error, retrieve):
                return False
            raise
        return True

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
        page = self._call("GET", "/vector_stores", ListPage[VectorStore], params=params)
        for store in page.data:
            self.capabilities.saw_store(store)
        return page

    def iter_store_pages(
        self, *, order: Order = "desc", strict: bool = False
    ) -> Iterator[ListPage[VectorStore]]:
        """Every page of stores; ``strict``: see :func:`.paging.iter_pages`."""
        return self.iter_pages(
            lambda after: self.list_stores(order=order, after=after), strict=strict
        )

    def iter_stores(self, *, order: Order = "desc", strict: bool = False) -> Iterator[VectorStore]:
        for page in self.iter_store_pages(order=order, strict=strict):
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
        return self._store(
            self._call("POST", "/vector_stores", VectorStore, json=body, mode="create")
        )

    def retrieve_store(self, store_id: str) -> VectorStore:
        return self._store(self._call("GET", f"/vector_stores/{store_id}", VectorStore))

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
        return self._store(self._call("POST", f"/vector_stores/{store_id}", VectorStore, json=body))

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
        params = {"limit": limit, "order": order, "after": after, "before": before}
        return self._list_files(f"/vector_stores/{store_id}/files", filter, params)

    def _list_files(
        self, path: str, status: str | None, params: dict[str, Any]
    ) -> ListPage[VectorStoreFile]:
        """A page of a store's or a batch's files (``filter`` is a status)."""
        page = self._call(
            "GET", path, ListPage[VectorStoreFile], params={**params, "filter": status}
        )
        for f in page.data:
            self.capabilities.saw_store_file(f)
        return page

    def iter_store_file_pages(
        self,
        store_id: str,
        *,
        filter: str | None = None,
        order: Order = "desc",
        strict: bool = False,
    ) -> Iterator[ListPage[VectorStoreFile]]:
        """Every page of a store's files; ``strict``: see :func:`.paging.iter_pages`."""
        return self.iter_pages(
            lambda after: self.list_store_files(store_id, filter=filter, order=order, after=after),
            strict=strict,
        )

    def iter_store_files(
        self,
        store_id: str,
        *,
        filter: str | None = None,
        order: Order = "desc",
        strict: bool = False,
    ) -> Iterator[VectorStoreFile]:
        pages = self.iter_store_file_pages(store_id, filter=filter, order=order, strict=strict)
        for page in pages:
            yield from page.data

    def count_store_files(self, store_id: str) -> FileCounts:
        """A store's file counts from listing its files (each file once), for servers
        whose stores carry no ``file_counts``."""
        statuses = {f.id: f.status for f in self.iter_store_files(store_id)}
        counts = FileCounts(total=len(statuses))
        for status in statuses.values():
            if status in ("in_progress", "completed", "failed", "cancelled"):
                setattr(counts, status, getattr(counts, status) + 1)
        return counts

    def store_counts(self, store: VectorStore) -> tuple[FileCounts, bool]:
        """``store``'s file counts, and whether they came from listing its files (the
        server reported none) rather than from the store."""
        if store.counts_reported:
            return store.file_counts, False
        return self.count_store_files(store.id), True

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
        path = f"/vector_stores/{store_id}/file_batches"
        try:
            batch = self._call("POST", path, FileBatch, json=body, mode="create")
        except APIError as error:
            if error.status not in (404, 405) or self.capabilities.batches:
                raise
            # A 404 may be the store's: only a store that exists proves the endpoint missing.
            self.retrieve_store(store_id)
            self.capabilities.saw_batches(False)
            raise BatchesUnsupportedError(
                "This server has no file batches endpoint; attach files one by one.",
                status=error.status,
                method="POST",
                path=path,
            ) from None
        self.capabilities.saw_batches(True)
        return batch

    def attach_files(
        self,
        store_id: str,
        files: Sequence[Mapping[str, Any]],
        *,
        on_each: Callable[[int, int], None] | None = None,
    ) -> Attached:
        """Attach ``files`` (``{"file_id", "attributes"?, "chunking_strategy"?}``) as one
        batch; on a server without batches (learnt once per server), one by one, calling
        ``on_each(done, total)`` after each. Errors of the batch itself are raised; one by
        one, each failure is kept in ``Attached.failed`` and the rest go on."""
        if self.capabilities.batches is not False:
            try:
                return Attached(batch=self.create_batch(store_id, files=files))
            except BatchesUnsupportedError:
                pass
        result = Attached()
        for i, entry in enumerate(files, start=1):
            try:
                result.files.append(
                    self.create_store_file(
                        store_id,
                        str(entry["file_id"]),
                        attributes=entry.get("attributes"),
                        chunking_strategy=entry.get("chunking_strategy"),
                    )
                )
            except APIError as error:
                result.failed.append((str(entry["file_id"]), str(error)))
            if on_each is not None:
                on_each(i, len(files))
        return result

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
        params = {"limit": limit, "order": order, "after": after, "before": before}
        return self._list_files(
            f"/vector_stores/{store_id}/file_batches/{batch_id}/files", filter, params
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

    def iter_files(
        self, *, purpose: str | None = None, strict: bool = False
    ) -> Iterator[FileObject]:
        pages = self.iter_pages(
            lambda after: self.list_files(purpose=purpose, after=after), strict=strict
        )
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
            timeout=self._transport.upload_timeout(len(content)),
        )

    def delete_file(self, file_id: str) -> Deleted:
        return self._call("DELETE", f"/files/{file_id}", Deleted)

    def file_content(self, file_id: str) -> bytes:
        return self._request("GET", f"/files/{file_id}/content").content
