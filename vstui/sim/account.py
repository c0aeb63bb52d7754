"""The simulated account: what it holds and the API's rules for changing it.

Requests arrive here already validated (:mod:`.http` checks every body the way the API
does); the account raises :class:`SimError` for what only it can know (a missing object,
an expired store, a batch that cannot be cancelled).
"""

from __future__ import annotations

import hashlib
import random
import string
import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ..api import limits
from .clock import Clock
from .entities import (
    AUTO_CHUNKING,
    CANCEL_DELAY,
    DAY,
    PROCESSING_CAP,
    PROCESSING_FLOOR,
    PROCESSING_RATE,
    TEXT_EXTENSIONS,
    Attachment,
    Batch,
    SimFile,
    Store,
    extension,
)
from .flavors import LLAMA_STACK, OPENAI, Flavor, check
from .paging import paginate
from .search import FilterError, chunk_text, matches, rewrite, score, terms

__all__ = ["DAY", "Account", "Attachment", "Batch", "SimError", "SimFile", "Store"]


class SimError(Exception):
    """An API error: becomes ``{"error": {...}}`` with this status."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code

    def body(self) -> dict[str, Any]:
        return {
            "error": {
                "message": self.message,
                "type": self.type,
                "param": self.param,
                "code": self.code,
            }
        }


class Account:
    """Everything the simulated account holds, guarded by one lock."""

    def __init__(
        self,
        clock: Clock,
        *,
        seed: int = 0,
        auto_create: bool = False,
        file_failure_rate: float = 0.0,
        flavor: str = OPENAI,
    ) -> None:
        self.flavor: Flavor = check(flavor)
        self.clock = clock
        self.seed = seed
        self.rng = random.Random(seed)
        self.auto_create = auto_create
        self.file_failure_rate = file_failure_rate
        self.lock = threading.RLock()
        self.stores: dict[str, Store] = {}
        self.files: dict[str, SimFile] = {}
        self.batches: dict[str, Batch] = {}
        # Sort keys of deleted objects, so a cursor naming one still pages correctly.
        self.tombstones: dict[str, tuple[int, int]] = {}
        self._seq = 0
        self._store_index: tuple[list[Store], list[tuple[int, int]]] | None = None
        self._chunk_cache: dict[tuple[str, str], list[tuple[str, Any]]] = {}

    # -- helpers ---------------------------------------------------------------------------

    def now(self) -> float:
        return self.clock.now()

    def next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def new_id(self, prefix: str, length: int, alphabet: str | None = None) -> str:
        chars = alphabet or (string.ascii_letters + string.digits)
        while True:
            candidate = prefix + "".join(self.rng.choice(chars) for _ in range(length))
            taken = candidate in self.stores or candidate in self.files
            if not taken and candidate not in self.batches:
                return candidate

    def _key_for(self, obj_id: str, live: Mapping[str, Any]) -> tuple[int, int]:
        obj = live.get(obj_id)
        if obj is not None:
            return (obj.created_at, obj.seq)
        if obj_id in self.tombstones:
            return self.tombstones[obj_id]
        raise SimError(400, f"Invalid cursor: no object with id '{obj_id}'.", param="after")

    def _sorted_stores(self) -> tuple[list[Store], list[tuple[int, int]]]:
        if self._store_index is None:
            ordered = sorted(self.stores.values(), key=lambda s: (s.created_at, s.seq))
            self._store_index = (ordered, [(s.created_at, s.seq) for s in ordered])
        return self._store_index

    # -- files API -------------------------------------------------------------------------

    def add_file(
        self,
        filename: str,
        size: int,
        *,
        content: bytes | None = None,
        purpose: str = "assistants",
        created_at: int | None = None,
        file_id: str | None = None,
        expires_at: int | None = None,
    ) -> SimFile:
        with self.lock:
            sim_file = SimFile(
                id=file_id or self.new_id("file-", 22),
                filename=filename,
                bytes=size,
                created_at=int(self.now()) if created_at is None else created_at,
                purpose=purpose,
                content=content,
                expires_at=expires_at,
                seq=self.next_seq(),
            )
            self.files[sim_file.id] = sim_file
            return sim_file

    def get_file(self, file_id: str) -> SimFile:
        sim_file = self.files.get(file_id)
        if sim_file is None:
            if self.auto_create:
                return self.add_file(f"{file_id}.txt", 2_048, file_id=file_id)
            raise SimError(404, f"No such File object: {file_id}", param="id")
        return sim_file

    def list_files(
        self, *, purpose: str | None, order: str, after: str | None, limit: int
    ) -> tuple[list[SimFile], bool]:
        with self.lock:
            chosen = sorted(
                (f for f in self.files.values() if purpose is None or f.purpose == purpose),
                key=lambda f: (f.created_at, f.seq),
            )
            keys = [(f.created_at, f.seq) for f in chosen]
            after_key = self._key_for(after, self.files) if after else None
            return paginate(chosen, keys, order=order, after=after_key, before=None, limit=limit)

    def delete_file(self, file_id: str) -> None:
        with self.lock:
            sim_file = self.get_file(file_id)
            self.tombstones[file_id] = (sim_file.created_at, sim_file.seq)
            del self.files[file_id]
            for store in self.stores.values():
                store.drop(file_id)

    # -- stores ----------------------------------------------------------------------------

    def create_store(
        self,
        *,
        name: str = "",
        description: str | None = None,
        metadata: Mapping[str, str] | None = None,
        expires_after: Mapping[str, Any] | None = None,
        file_ids: Sequence[str] = (),
        chunking_strategy: Mapping[str, Any] | None = None,
        store_id: str | None = None,
        created_at: int | None = None,
        last_active_at: int | None = None,
    ) -> Store:
        with self.lock:
            files = [self.get_file(fid) for fid in file_ids]
            created = int(self.now()) if created_at is None else created_at
            if store_id is None and self.flavor == LLAMA_STACK:
                # llama-stack: the store's name is its id (no vs_ prefix)
                store_id = name if name and name not in self.stores else None
                store_id = store_id or self.new_id(f"{name or 'store'}-", 8)
            store = Store(
                id=store_id or self.new_id("vs_", 24),
                name=name,
                description=description,
                metadata=dict(metadata or {}),
                expires_after=dict(expires_after) if expires_after else None,
                created_at=created,
                last_active_at=created if last_active_at is None else last_active_at,
                seq=self.next_seq(),
            )
            self.stores[store.id] = store
            self._store_index = None
            for sim_file in files:
                self.attach(store, sim_file, chunking_strategy=chunking_strategy)
            return store

    def get_store(self, store_id: str) -> Store:
        store = self.stores.get(store_id)
        if store is None:
            if self.auto_create:
                return self.create_store(name=f"Auto-created {store_id}", store_id=store_id)
            raise SimError(404, f"No vector store found with id '{store_id}'.")
        store.refresh(self.now())
        return store

    def list_stores(
        self, *, order: str, after: str | None, before: str | None, limit: int
    ) -> tuple[list[Store], bool]:
        with self.lock:
            ordered, keys = self._sorted_stores()
            after_key = self._key_for(after, self.stores) if after else None
            before_key = self._key_for(before, self.stores) if before else None
            return paginate(
                ordered, keys, order=order, after=after_key, before=before_key, limit=limit
            )

    def modify_store(self, store_id: str, changes: Mapping[str, Any]) -> Store:
        with self.lock:
            store = self.get_store(store_id)
            if "name" in changes:
                store.name = changes["name"] or ""
            if "metadata" in changes:
                store.metadata = dict(changes["metadata"] or {})
            if "expires_after" in changes:
                value = changes["expires_after"]
                store.expires_after = dict(value) if value else None
            return store

    def delete_store(self, store_id: str) -> None:
        with self.lock:
            store = self.get_store(store_id)
            self.tombstones[store_id] = (store.created_at, store.seq)
            del self.stores[store_id]
            self._store_index = None
            for batch_id in [b.id for b in self.batches.values() if b.store_id == store_id]:
                del self.batches[batch_id]

    def touch(self, store: Store) -> None:
        now = self.now()
        store.refresh(now)
        if store.expired:
            raise SimError(
                400,
                f"Vector store {store.id} is expired. Create a new vector store to continue.",
                param="vector_store_id",
            )
        store.last_active_at = max(store.last_active_at, int(now))

    # -- attachments -----------------------------------------------------------------------

    def _plan(self, sim_file: SimFile, now: float) -> tuple[float, str, tuple[str, str] | None]:
        """When a file finishes processing, and how."""
        ext = extension(sim_file.filename)
        jitter = 0.8 + 0.4 * self.rng.random()
        duration = min(PROCESSING_CAP, PROCESSING_FLOOR + sim_file.bytes / PROCESSING_RATE)
        duration *= jitter
        if ext not in limits.FILE_SEARCH_EXTENSIONS:
            kind = ext or "unknown"
            message = f"The file type '{kind}' is not supported for file_search."
            return now + PROCESSING_FLOOR * jitter, "failed", ("unsupported_file", message)
        if sim_file.bytes == 0:
            return now + PROCESSING_FLOOR, "failed", ("invalid_file", "The file is empty.")
        if ext in TEXT_EXTENSIONS and sim_file.content is not None:
            try:
                sim_file.content.decode("utf-8")
            except UnicodeDecodeError:
                message = "The file could not be parsed: it is not valid UTF-8 text."
                return now + duration, "failed", ("invalid_file", message)
        if self.file_failure_rate and self.rng.random() < self.file_failure_rate:
            message = "An internal error occurred while processing the file. Please retry."
            return now + duration, "failed", ("server_error", message)
        return now + duration, "completed", None

    def attach(
        self,
        store: Store,
        sim_file: SimFile,
        *,
        attributes: Mapping[str, Any] | None = None,
        chunking_strategy: Mapping[str, Any] | None = None,
        batch_id: str | None = None,
        ready_at: float | None = None,
        outcome: tuple[str, tuple[str, str] | None] | None = None,
        created_at: int | None = None,
    ) -> Attachment:
        now = self.now()
        planned_ready, planned_outcome, planned_error = self._plan(sim_file, now)
        if outcome is not None:
            planned_outcome, planned_error = outcome
        if chunking_strategy is None or chunking_strategy.get("type") == "auto":
            chunking = AUTO_CHUNKING
        else:
            chunking = {"type": "static", "static": dict(chunking_strategy["static"])}
        attachment = Attachment(
            file=sim_file,
            store_id=store.id,
            created_at=int(now) if created_at is None else created_at,
            ready_at=planned_ready if ready_at is None else ready_at,
            outcome=planned_outcome,
            error=planned_error,
            chunking=chunking,
            attributes=dict(attributes) if attributes is not None else None,
            seq=self.next_seq(),
            batch_id=batch_id,
        )
        store.files[sim_file.id] = attachment
        return attachment

    def attach_file(
        self,
        store_id: str,
        file_id: str,
        *,
        attributes: Mapping[str, Any] | None,
        chunking_strategy: Mapping[str, Any] | None,
    ) -> Attachment:
        with self.lock:
            store = self.get_store(store_id)
            sim_file = self.get_file(file_id)
            self.touch(store)
            existing = store.files.get(file_id)
            if existing is not None and self.flavor == LLAMA_STACK:
                # llama-stack attaches it again, and lists it twice
                again = self.attach(
                    store, sim_file, attributes=attributes, chunking_strategy=chunking_strategy
                )
                store.files[file_id] = existing
                store.duplicates.append(again)
                return again
            if existing is not None and existing.status(self.now()) in ("in_progress", "completed"):
                return existing
            return self.attach(
                store, sim_file, attributes=attributes, chunking_strategy=chunking_strategy
            )

    def get_attachment(self, store_id: str, file_id: str) -> Attachment:
        store = self.get_store(store_id)
        attachment = store.files.get(file_id)
        if attachment is None:
            if self.auto_create:
                return self.attach(store, self.get_file(file_id))
            raise SimError(404, f"No file found with id '{file_id}' in vector store '{store_id}'.")
        return attachment

    def list_attachments(
        self,
        attachments: Iterable[Attachment],
        *,
        status: str | None,
        order: str,
        after: str | None,
        before: str | None,
        limit: int,
    ) -> tuple[list[Attachment], bool]:
        now = self.now()
        chosen = sorted(
            (a for a in attachments if status is None or a.status(now) == status),
            key=lambda a: (a.created_at, a.seq),
        )
        keys = [(a.created_at, a.seq) for a in chosen]
        by_id = {a.file_id: a for a in chosen}

        def key(file_id: str) -> tuple[int, int]:
            if file_id in by_id:
                return (by_id[file_id].created_at, by_id[file_id].seq)
            return self._key_for(file_id, self.files)

        return paginate(
            chosen,
            keys,
            order=order,
            after=key(after) if after else None,
            before=key(before) if before else None,
            limit=limit,
        )

    def update_attributes(
        self, store_id: str, file_id: str, attributes: Mapping[str, Any] | None
    ) -> Attachment:
        with self.lock:
            attachment = self.get_attachment(store_id, file_id)
            attachment.attributes = dict(attributes) if attributes is not None else None
            return attachment

    def detach(self, store_id: str, file_id: str) -> None:
        with self.lock:
            store = self.get_store(store_id)
            if file_id not in store.files:
                self.get_attachment(store_id, file_id)  # 404 unless auto-created
            store.drop(file_id)

    # -- batches ---------------------------------------------------------------------------

    def create_batch(self, store_id: str, entries: Sequence[tuple[str, Any, Any]]) -> Batch:
        """A batch of ``(file_id, attributes, chunking_strategy)`` entries."""
        with self.lock:
            store = self.get_store(store_id)
            resolved = [(self.get_file(fid), attrs, chunk) for fid, attrs, chunk in entries]
            self.touch(store)
            return self.new_batch(store, resolved)

    def new_batch(
        self,
        store: Store,
        entries: Sequence[tuple[SimFile, Any, Any]],
        *,
        batch_id: str | None = None,
        durations: Sequence[float] | None = None,
    ) -> Batch:
        batch = Batch(
            id=batch_id or self.new_id("vsfb_", 32, "0123456789abcdef"),
            store_id=store.id,
            created_at=int(self.now()),
            seq=self.next_seq(),
        )
        for i, (sim_file, attrs, chunk) in enumerate(entries):
            ready_at = None if durations is None else self.now() + durations[i]
            batch.entries[sim_file.id] = self.attach(
                store,
                sim_file,
                attributes=attrs,
                chunking_strategy=chunk,
                batch_id=batch.id,
                ready_at=ready_at,
            )
        self.batches[batch.id] = batch
        return batch

    def get_batch(self, store_id: str, batch_id: str) -> Batch:
        store = self.get_store(store_id)
        batch = self.batches.get(batch_id)
        if batch is None or batch.store_id != store.id:
            if self.auto_create:
                with self.lock:
                    sample = self.add_file(f"{batch_id}-sample.txt", 4_096)
                    return self.new_batch(store, [(sample, None, None)], batch_id=batch_id)
            raise SimError(404, f"No file batch found with id '{batch_id}'.")
        return batch

    def cancel_batch(self, store_id: str, batch_id: str) -> Batch:
        with self.lock:
            batch = self.get_batch(store_id, batch_id)
            now = self.now()
            status = batch.status(now)
            if status in ("completed", "failed", "cancelled"):
                raise SimError(
                    400, f"Cannot cancel a batch with status '{status}'.", param="batch_id"
                )
            if batch.cancel_requested_at is None:
                batch.cancel_requested_at = now
                for attachment in batch.entries.values():
                    if attachment.status(now) == "in_progress":
                        attachment.cancel_at = now + CANCEL_DELAY
            return batch

    # -- search and content ----------------------------------------------------------------

    def _chunks(self, attachment: Attachment) -> list[tuple[str, Any]]:
        static = attachment.chunking.get("static") or AUTO_CHUNKING["static"]
        size, overlap = static["max_chunk_size_tokens"], static["chunk_overlap_tokens"]
        key = (attachment.file_id, f"{size}/{overlap}")
        cached = self._chunk_cache.get(key)
        if cached is None:
            cached = [(c, terms(c)) for c in chunk_text(attachment.file.text(), size, overlap)]
            if len(self._chunk_cache) > 20_000:
                self._chunk_cache.clear()
            self._chunk_cache[key] = cached
        return cached

    def search(
        self,
        store_id: str,
        queries: list[str],
        *,
        max_results: int = 10,
        threshold: float = 0.0,
        filters: Mapping[str, Any] | None = None,
        rewrite_query: bool = False,
    ) -> dict[str, Any]:
        if rewrite_query:
            queries = [rewrite(q) or q for q in queries]
        with self.lock:
            store = self.get_store(store_id)
            self.touch(store)
            now = self.now()
            query_terms = terms(" ".join(queries))
            hits: list[tuple[float, int, Attachment, str]] = []
            for attachment in store.files.values():
                if attachment.status(now) != "completed":
                    continue
                try:
                    if not matches(filters, attachment.attributes):
                        continue
                except FilterError as exc:
                    raise SimError(400, str(exc), param="filters") from None
                for i, (text, chunk_terms) in enumerate(self._chunks(attachment)):
                    value = score(query_terms, chunk_terms)
                    if value > 0 and value >= threshold:
                        hits.append((value, -i, attachment, text))
            hits.sort(key=lambda h: (-h[0], h[2].file_id, -h[1]))
            if self.flavor == LLAMA_STACK:
                data = [
                    {
                        "file_id": "",
                        "filename": "",
                        "score": value,
                        "attributes": {**(a.attributes or {}), "document_id": a.file_id},
                        "content": [{"type": "text", "text": text}],
                    }
                    for value, _, a, text in hits[:max_results]
                ]
                return {
                    "object": "vector_store.search_results.page",
                    "search_query": queries,
                    "data": data,
                    "has_more": False,
                    "next_page": None,
                }
            data = [
                {
                    "file_id": a.file_id,
                    "filename": a.file.filename,
                    "score": value,
                    "attributes": a.attributes if a.attributes is not None else {},
                    "content": [{"type": "text", "text": text}],
                }
                for value, _, a, text in hits[:max_results]
            ]
        return {
            "object": "vector_store.search_results.page",
            "search_query": queries,
            "data": data,
            "has_more": False,
            "next_page": None,
        }

    def content(self, store_id: str, file_id: str) -> dict[str, Any]:
        with self.lock:
            attachment = self.get_attachment(store_id, file_id)
            status = attachment.status(self.now())
            text = attachment.file.text() if status == "completed" else ""
            if self.flavor == LLAMA_STACK:
                return {
                    "file_id": file_id,
                    "filename": attachment.file.filename,
                    "attributes": attachment.attributes or {},
                    "content": [{"type": "text", "text": text}] if text else [],
                }
        return {
            "object": "vector_store.file_content.page",
            "data": [{"type": "text", "text": text}] if text else [],
            "has_more": False,
            "next_page": None,
        }

    def request_id(self, counter: int) -> str:
        digest = hashlib.sha256(f"{self.seed}:{counter}".encode()).hexdigest()
        return "req_" + digest[:32]
