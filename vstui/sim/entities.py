"""The simulator's records (files, stores, attachments, batches) and their JSON.

State that depends on time (a file's status, a store's expiry) is derived from the clock
reading passed in, so a test that moves a frozen clock sees files finish without sleeping.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .content import generated_text

DAY = 86_400
AUTO_CHUNKING: dict[str, Any] = {
    "type": "static",
    "static": {"max_chunk_size_tokens": 800, "chunk_overlap_tokens": 400},
}
TEXT_EXTENSIONS = frozenset(
    {"txt", "md", "json", "csv", "html", "py", "js", "ts", "java", "c", "go", "rb", "tex", "sh"}
)
# Bytes per second of "processing" and a floor, so small files finish in seconds.
PROCESSING_RATE = 256 * 1024
PROCESSING_FLOOR = 1.0
PROCESSING_CAP = 900.0
CANCEL_DELAY = 0.25


@dataclass
class SimFile:
    id: str
    filename: str
    bytes: int
    created_at: int
    purpose: str = "assistants"
    content: builtins.bytes | None = None
    expires_at: int | None = None
    seq: int = 0

    def text(self) -> str:
        if self.content is not None:
            try:
                return self.content.decode("utf-8")
            except UnicodeDecodeError:
                return ""
        return generated_text(self.id, self.filename, self.bytes)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "object": "file",
            "bytes": self.bytes,
            "created_at": self.created_at,
            "filename": self.filename,
            "purpose": self.purpose,
            "status": "processed",
        }
        if self.expires_at is not None:
            out["expires_at"] = self.expires_at
        return out


@dataclass
class Attachment:
    """A file attached to a store (a "vector store file")."""

    file: SimFile
    store_id: str
    created_at: int
    ready_at: float
    outcome: str  # "completed" or "failed"
    error: tuple[str, str] | None
    chunking: dict[str, Any]
    attributes: dict[str, Any] | None
    seq: int
    batch_id: str | None = None
    cancel_at: float | None = None

    @property
    def file_id(self) -> str:
        return self.file.id

    def status(self, now: float) -> str:
        finished = now >= self.ready_at
        if self.cancel_at is not None and now >= self.cancel_at and self.cancel_at < self.ready_at:
            return "cancelled"
        return self.outcome if finished else "in_progress"

    def usage_bytes(self, now: float) -> int:
        if self.status(now) != "completed":
            return 0
        ext = extension(self.file.filename)
        factor = 1.25 if ext in TEXT_EXTENSIONS else 0.4
        return max(1, int(self.file.bytes * factor))

    def to_json(self, now: float) -> dict[str, Any]:
        status = self.status(now)
        out: dict[str, Any] = {
            "id": self.file.id,
            "object": "vector_store.file",
            "usage_bytes": self.usage_bytes(now),
            "created_at": self.created_at,
            "vector_store_id": self.store_id,
            "status": status,
            "last_error": None,
            "chunking_strategy": self.chunking,
            "attributes": self.attributes if self.attributes is not None else {},
        }
        if status == "failed" and self.error is not None:
            out["last_error"] = {"code": self.error[0], "message": self.error[1]}
        return out


@dataclass
class Store:
    id: str
    name: str
    created_at: int
    last_active_at: int
    seq: int
    description: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    expires_after: dict[str, Any] | None = None
    expired: bool = False
    files: dict[str, Attachment] = field(default_factory=dict)
    duplicates: list[Attachment] = field(default_factory=list)  # a file attached again

    def listed(self) -> list[Attachment]:
        """What a listing of the store's files shows (a duplicate attachment twice)."""
        return [*self.files.values(), *self.duplicates]

    def drop(self, file_id: str) -> None:
        self.files.pop(file_id, None)
        self.duplicates = [a for a in self.duplicates if a.file_id != file_id]

    @property
    def expires_at(self) -> int | None:
        if self.expires_after is None:
            return None
        return self.last_active_at + int(self.expires_after["days"]) * DAY

    def refresh(self, now: float) -> None:
        """Latch expiry: once expired, a store stays expired."""
        expires_at = self.expires_at
        if not self.expired and expires_at is not None and now >= expires_at:
            self.expired = True

    def counts(self, now: float) -> dict[str, int]:
        return count_statuses(a.status(now) for a in self.files.values())

    def to_json(self, now: float) -> dict[str, Any]:
        self.refresh(now)
        counts = self.counts(now)
        if self.expired:
            status = "expired"
        elif counts["in_progress"]:
            status = "in_progress"
        else:
            status = "completed"
        out: dict[str, Any] = {
            "id": self.id,
            "object": "vector_store",
            "created_at": self.created_at,
            "name": self.name,
            "usage_bytes": sum(a.usage_bytes(now) for a in self.files.values()),
            "file_counts": counts,
            "status": status,
            "last_active_at": self.last_active_at,
            "metadata": dict(self.metadata),
            "expires_at": self.expires_at,
        }
        if self.description is not None:
            out["description"] = self.description
        if self.expires_after is not None:
            out["expires_after"] = dict(self.expires_after)
        return out


@dataclass
class Batch:
    id: str
    store_id: str
    created_at: int
    seq: int
    entries: dict[str, Attachment] = field(default_factory=dict)
    cancel_requested_at: float | None = None

    def status(self, now: float) -> str:
        counts = self.counts(now)
        if self.cancel_requested_at is not None:
            return "cancelling" if counts["in_progress"] else "cancelled"
        if counts["in_progress"]:
            return "in_progress"
        if counts["total"] and counts["failed"] == counts["total"]:
            return "failed"
        return "completed"

    def counts(self, now: float) -> dict[str, int]:
        return count_statuses(a.status(now) for a in self.entries.values())

    def to_json(self, now: float) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "vector_store.files_batch",
            "created_at": self.created_at,
            "vector_store_id": self.store_id,
            "status": self.status(now),
            "file_counts": self.counts(now),
        }


def count_statuses(statuses: Iterable[str]) -> dict[str, int]:
    counts = {"in_progress": 0, "completed": 0, "failed": 0, "cancelled": 0, "total": 0}
    for status in statuses:
        counts[status] = counts.get(status, 0) + 1
        counts["total"] += 1
    return counts


def extension(filename: str) -> str:
    return filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
