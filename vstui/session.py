"""What every screen shares: the service, the clock, caches and remembered state. No UI."""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .api import FileObject, VectorStore, VectorStoresService


@dataclass(frozen=True)
class RememberedBatch:
    store_id: str
    batch_id: str


class StateStore:
    """Small JSON state that persists across runs (remembered batches, theme, profile).

    ``path=None`` keeps it in memory only (the demo and the tests).
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self.data: dict[str, Any] = {}
        if path is not None and path.exists():
            try:
                loaded = json.loads(path.read_text("utf-8"))
                self.data = loaded if isinstance(loaded, dict) else {}
            except (OSError, ValueError):
                self.data = {}  # a broken state file is not worth refusing to start over

    def get(self, key: str, default: Any = None) -> Any:
        with self._lock:
            return self.data.get(key, default)

    def set(self, key: str, value: Any) -> None:
        with self._lock:
            self.data[key] = value
            self._save()

    def _save(self) -> None:
        if self.path is None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".state-")
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(self.data, handle, indent=2, sort_keys=True)
            os.replace(tmp, self.path)
        except OSError:
            pass  # state is a convenience; never fail an action over it

    # remembered batches, per account
    def batches(self, account: str) -> list[RememberedBatch]:
        raw = self.get("batches", {}).get(account, [])
        return [RememberedBatch(b["store_id"], b["batch_id"]) for b in raw if isinstance(b, dict)]

    def remember_batch(self, account: str, batch: RememberedBatch) -> None:
        all_batches = dict(self.get("batches", {}))
        mine = [b for b in all_batches.get(account, []) if b.get("batch_id") != batch.batch_id]
        mine.append({"store_id": batch.store_id, "batch_id": batch.batch_id})
        all_batches[account] = mine[-50:]
        self.set("batches", all_batches)

    def forget_batch(self, account: str, batch_id: str) -> None:
        all_batches = dict(self.get("batches", {}))
        all_batches[account] = [
            b for b in all_batches.get(account, []) if b.get("batch_id") != batch_id
        ]
        self.set("batches", all_batches)


class FileCache:
    """Files API objects by ID, fetched in bulk (one listing), never one request per row."""

    def __init__(self) -> None:
        self._files: dict[str, FileObject] = {}
        self._lock = threading.Lock()
        self.loaded = False

    def load(self, service: VectorStoresService) -> int:
        files = {f.id: f for f in service.iter_files()}
        with self._lock:
            self._files = files
            self.loaded = True
        return len(files)

    def get(self, file_id: str) -> FileObject | None:
        with self._lock:
            return self._files.get(file_id)

    def forget(self, file_id: str) -> None:
        with self._lock:
            self._files.pop(file_id, None)


@dataclass
class Session:
    """The account in use and what the screens share about it."""

    service: VectorStoresService
    account_label: str
    host: str
    masked_key: str
    now: Callable[[], float] = time.time
    read_only: bool = False
    state: StateStore = field(default_factory=lambda: StateStore(None))
    files: FileCache = field(default_factory=FileCache)
    # Stores changed or deleted on another screen, applied by the store list on return.
    store_changes: dict[str, VectorStore | None] = field(default_factory=dict)
    storage_price_per_gb_day: float = 0.10
    cleanup_concurrency: int = 8
    # Seconds between auto-refreshes of what is on screen; 0 turns them off.
    refresh_seconds: float = 5.0

    @property
    def account_key(self) -> str:
        """Identifies the account in the state file (never the key itself)."""
        return f"{self.host}|{self.account_label}"

    def store_changed(self, store_id: str, store: VectorStore | None) -> None:
        self.store_changes[store_id] = store

    def take_store_changes(self) -> dict[str, VectorStore | None]:
        changes, self.store_changes = self.store_changes, {}
        return changes
