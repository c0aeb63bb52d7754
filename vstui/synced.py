"""What a store's files say about the syncs that put them there. No UI.

``vstui sync`` (and the TUI's sync) gives every file it attaches a relative path and the
sha256 of its content as attributes (``{prefix}path``, ``{prefix}sha256``). From one
listing of the store (at most a few pages: this is a courtesy, kept cheap) this tells how
many files came from a sync, under which common folder, and when the last one arrived.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from .api import VectorStoreFile, VectorStoresService

MAX_PAGES = 10  # the newest 1,000 files: one request for most stores
LATEST = 3
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class SyncedSummary:
    files: int  # files that carry a sync path and content hash
    scanned: int  # files looked at
    complete: bool  # every file of the store was looked at
    folder: str  # the common folder of their paths ('' : the synced folder itself)
    attr_prefix: str  # the attribute prefix most of them use
    last_sync: int  # created_at of the newest one (Unix seconds)
    latest: list[str] = field(default_factory=list)  # the newest few paths


def sync_source(f: VectorStoreFile) -> tuple[str, str] | None:
    """``(attribute prefix, relative path)`` when ``f`` was attached by a sync."""
    attrs = f.attributes or {}
    for key, value in attrs.items():
        if not key.endswith("sha256") or not isinstance(value, str) or not _SHA256.fullmatch(value):
            continue
        prefix = key[: -len("sha256")]
        path = attrs.get(f"{prefix}path")
        if isinstance(path, str) and path:
            return prefix, path
    return None


def summarize(files: Iterable[VectorStoreFile], *, complete: bool) -> SyncedSummary | None:
    """None when no file came from a sync."""
    scanned = 0
    found: list[tuple[int, str, str]] = []  # (created_at, path, prefix)
    for f in files:
        scanned += 1
        source = sync_source(f)
        if source is not None:
            found.append((f.created_at, source[1], source[0]))
    if not found:
        return None
    found.sort(key=lambda entry: (-entry[0], entry[1]))
    prefixes: dict[str, int] = {}
    for _, _, prefix in found:
        prefixes[prefix] = prefixes.get(prefix, 0) + 1
    folders = {posixpath.dirname(path) for _, path, _ in found}
    try:
        folder = posixpath.commonpath(sorted(folders)) if "" not in folders else ""
    except ValueError:  # absolute and relative paths mixed: no common folder
        folder = ""
    return SyncedSummary(
        files=len(found),
        scanned=scanned,
        complete=complete,
        folder=folder,
        attr_prefix=max(prefixes, key=lambda p: prefixes[p]),
        last_sync=found[0][0],
        latest=[path for _, path, _ in found[:LATEST]],
    )


def scan(
    service: VectorStoresService, store_id: str, *, max_pages: int = MAX_PAGES
) -> SyncedSummary | None:
    """The newest ``max_pages`` pages of the store's files, summarised."""
    files: list[VectorStoreFile] = []
    complete = True
    for number, page in enumerate(service.iter_store_file_pages(store_id), start=1):
        files.extend(page.data)
        if number >= max_pages and page.has_more:
            complete = False
            break
    return summarize(files, complete=complete)
