"""What a server implements, learnt from its answers, never from its name.

OpenAI-compatible servers (llama-stack and others) implement the Vector Stores API with
gaps: no ``file_batches`` endpoint, ``usage_bytes`` always 0, ``expires_at`` always null,
``file_counts`` null, no ``x-request-id``. vstui notices each gap the first time an answer
shows it and degrades with a sentence instead of showing a wrong number.

A capability is ``None`` until some answer says either way. A single positive answer
(a store with usage, a dated expiry) settles it as supported for good; zeros where a
value was due mark it missing only while nothing positive was seen. Capabilities are kept
per base URL for the life of the process (:func:`for_base_url`).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Final

from .models import VectorStore, VectorStoreFile

NOT_REPORTED: Final = "not reported by this server"


@dataclass
class _Evidence:
    yes: bool = False
    no: bool = False

    @property
    def value(self) -> bool | None:
        if self.yes:
            return True
        return False if self.no else None


@dataclass
class Capabilities:
    """What one server (one base URL) has shown it supports; ``None`` is "not known yet"."""

    base_url: str
    _batches: bool | None = None
    _usage: _Evidence = field(default_factory=_Evidence)
    _expiry: _Evidence = field(default_factory=_Evidence)
    _counts: _Evidence = field(default_factory=_Evidence)
    _request_ids: _Evidence = field(default_factory=_Evidence)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    # -- what is known -----------------------------------------------------------------------

    @property
    def batches(self) -> bool | None:
        """``file_batches`` works (False: it answered 404/405 for a store that exists)."""
        return self._batches

    @property
    def usage(self) -> bool | None:
        """``usage_bytes`` is reported (False: 0 for completed files, and never more)."""
        return self._usage.value

    @property
    def expiry(self) -> bool | None:
        """``expires_at`` is reported for stores with an expiry policy."""
        return self._expiry.value

    @property
    def file_counts(self) -> bool | None:
        """Stores carry ``file_counts``."""
        return self._counts.value

    @property
    def request_ids(self) -> bool | None:
        """Answers carry ``x-request-id``."""
        return self._request_ids.value

    def missing(self) -> list[str]:
        """Short phrases for what this server was seen not to support."""
        gaps = [
            ("no batches", self.batches),
            ("no usage", self.usage),
            ("no expiry dates", self.expiry),
            ("no file counts", self.file_counts),
            ("no request IDs", self.request_ids),
        ]
        return [text for text, known in gaps if known is False]

    def describe(self) -> str:
        """One line for help and headers: ``"Server: no batches, no usage"``."""
        gaps = self.missing()
        if gaps:
            return "Server: " + ", ".join(gaps)
        return "Server: nothing missing seen so far"

    # -- learning from answers ---------------------------------------------------------------

    def _see(self, evidence: _Evidence, present: bool) -> None:
        with self._lock:
            if present:
                evidence.yes = True
            else:
                evidence.no = True

    def saw_batches(self, works: bool) -> None:
        with self._lock:
            self._batches = works

    def saw_request_id(self, present: bool) -> None:
        self._see(self._request_ids, present)

    def saw_store(self, store: VectorStore) -> None:
        self._see(self._counts, store.counts_reported)
        if store.expires_after is not None:
            self._see(self._expiry, store.expires_at is not None)
        if store.usage_bytes > 0:
            self._see(self._usage, True)
        elif store.counts_reported and store.file_counts.completed > 0:
            self._see(self._usage, False)

    def saw_store_file(self, f: VectorStoreFile) -> None:
        if f.status != "completed":
            return
        self._see(self._usage, f.usage_bytes > 0)

    # -- judging one object ------------------------------------------------------------------

    def usage_known(self, store: VectorStore) -> bool:
        """Whether ``store.usage_bytes`` can be shown as a number."""
        if store.usage_bytes > 0:
            return True
        if self.usage is False:
            return False
        return not (store.file_counts.completed > 0 or not store.counts_reported)

    def expiry_known(self, store: VectorStore) -> bool:
        """Whether ``store.expires_at`` (null: "never") can be shown as it is."""
        return store.expires_at is not None or store.expires_after is None


_registry: dict[str, Capabilities] = {}
_registry_lock = threading.Lock()


def for_base_url(base_url: str) -> Capabilities:
    """The capabilities of the server at ``base_url``, shared while the process runs."""
    key = base_url.rstrip("/")
    with _registry_lock:
        caps = _registry.get(key)
        if caps is None:
            caps = _registry[key] = Capabilities(key)
        return caps


def forget_all() -> None:
    """Forget what every server was seen to support (for tests: a new simulator may get a
    port that an earlier one had, and must not inherit what that one lacked)."""
    with _registry_lock:
        _registry.clear()
