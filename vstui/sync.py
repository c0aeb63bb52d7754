"""Sync a folder into a vector store: plan (what is new, changed, unchanged, removed,
skipped and why), then execute with progress callbacks. No UI: ``vstui sync`` and,
later, the TUI share it.

Each store file that sync attaches remembers its source in two attributes, the relative
path and the sha256 of the content (``{prefix}path``, ``{prefix}sha256``), so a re-run
classifies every file from one listing of the store, without downloading anything.

Safety rules:
- a changed file's new version is attached and *completed* before the old version is
  detached, so search never loses the document (a new version that fails keeps the old);
- an underlying file is deleted only when complete listings prove no other store holds
  it; when they cannot (a listing failed), it is kept and the report says so; nor when a
  store reports no file counts (its listing cannot be verified: a page that left the file
  out would look complete) unless ``Options.trust_unverified`` (the file is detached but
  kept, and the report names it: ``Report.kept_unverified``);
- a source that is skipped (empty now, too big) keeps what the store has.
"""

from __future__ import annotations

import functools
import hashlib
import os
import stat
import threading
import time
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pathspec

from . import fmt, listing
from .api import (
    APIError,
    NotFoundError,
    VectorStore,
    VectorStoreFile,
    VectorStoresService,
    limits,
)
from .cleanup import Tally, Task, delete_files, describe_unverified
from .text import clean

HASH_CHUNK = 1024 * 1024
DEFAULT_PREFIX = ""
Kind = Literal["new", "changed", "unchanged", "removed", "skipped"]
KINDS: tuple[Kind, ...] = ("new", "changed", "unchanged", "removed", "skipped")


TRUST_FLAG_REMEDY = "To delete them anyway, accepting that risk, add --trust-unverified-listings."
KEPT_REMEDY = (
    "To delete such files, accepting that risk, run `vstui cleanup --orphans "
    "--trust-unverified-listings` (it deletes every file no store lists), or sync with "
    "--trust-unverified-listings next time."
)
TUI_REMEDY = (
    "This cannot be overridden here: to delete them, use the command line with "
    "--trust-unverified-listings."
)
TUI_KEPT_REMEDY = (
    "Sync cannot override this: use the command line with --trust-unverified-listings, or "
    "the clean-up's orphaned files (O on the store list)."
)


def describe_kept_unverified(
    file_ids: Sequence[str], store_ids: Sequence[str], remedy: str = KEPT_REMEDY, shown: int = 3
) -> str:
    """One sentence: how many detached files were kept because no count verifies the
    listings that say no other store holds them, the first IDs, which stores, what to do."""
    ids = ", ".join(file_ids[:shown])
    if len(file_ids) > shown:
        ids += f" and {len(file_ids) - shown:,} more"
    stores = ", ".join(store_ids[:shown])
    if len(store_ids) > shown:
        stores += f" and {len(store_ids) - shown:,} more"
    verb = "reports" if len(store_ids) == 1 else "report"
    return (
        f"Kept {fmt.plural(len(file_ids), 'detached file')} ({ids}) instead of deleting "
        f"{'it' if len(file_ids) == 1 else 'them'}: {fmt.plural(len(store_ids), 'store')} "
        f"({stores}) {verb} no file counts, so nothing proves their file listings complete "
        f"and that no other store holds {'it' if len(file_ids) == 1 else 'them'}. {remedy}"
    )


class SyncError(Exception):
    """Something the user must fix (a bad option, an ambiguous store); the message says what."""


# -- options --------------------------------------------------------------------------------


def parse_chunking(text: str | None) -> dict[str, Any] | None:
    """``auto`` or ``static:MAX_TOKENS:OVERLAP``, validated as the API does."""
    if text is None:
        return None
    if text == "auto":
        return {"type": "auto"}
    parts = text.split(":")
    if len(parts) != 3 or parts[0] != "static":
        raise SyncError(f"--chunking must be 'auto' or 'static:MAX_TOKENS:OVERLAP', not {text!r}.")
    try:
        size, overlap = int(parts[1]), int(parts[2])
    except ValueError:
        raise SyncError(f"--chunking {text!r}: MAX_TOKENS and OVERLAP must be integers.") from None
    strategy: dict[str, Any] = {
        "type": "static",
        "static": {"max_chunk_size_tokens": size, "chunk_overlap_tokens": overlap},
    }
    problem = limits.check_chunking_strategy(strategy)
    if problem is not None:
        raise SyncError(f"--chunking {text!r}: {problem[1]}")
    return strategy


def parse_attrs(pairs: Sequence[str] | None) -> dict[str, str]:
    """``key=value`` pairs (repeatable ``--attr``)."""
    attrs: dict[str, str] = {}
    for pair in pairs or ():
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise SyncError(f"--attr {pair!r}: expected KEY=VALUE.")
        attrs[key] = value
    return attrs


@dataclass(frozen=True)
class Options:
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    attributes: Mapping[str, str] = field(default_factory=dict)
    chunking: Mapping[str, Any] | None = None
    prefix: str = DEFAULT_PREFIX
    delete: bool = False
    # delete the file objects sync detaches (old versions; with ``delete``, removed files)
    # even when a store reports no file counts, so its listing cannot be shown complete
    # (``--trust-unverified-listings``, as in the clean-up)
    trust_unverified: bool = False

    @property
    def path_key(self) -> str:
        return f"{self.prefix}path"

    @property
    def hash_key(self) -> str:
        return f"{self.prefix}sha256"

    def validate(self) -> None:
        """Problems that would skip every file are usage errors, found before any work."""
        reserved = {self.path_key, self.hash_key} & set(self.attributes)
        if reserved:
            raise SyncError(
                f"--attr {sorted(reserved)[0]!r} is the attribute sync keeps the source in; "
                "choose another key or another --attr-prefix."
            )
        sample = {**self.attributes, self.path_key: "x", self.hash_key: "0" * 64}
        problem = limits.check_attributes(sample)
        if problem is not None:
            raise SyncError(
                f"attributes: {problem[1]} (sync adds {self.path_key!r} and {self.hash_key!r})"
            )
        if self.chunking is not None:
            problem = limits.check_chunking_strategy(self.chunking)
            if problem is not None:
                raise SyncError(f"chunking: {problem[1]}")

    def attributes_for(self, rel: str, sha256: str) -> dict[str, Any]:
        return {**self.attributes, self.path_key: rel, self.hash_key: sha256}


# -- the local side -------------------------------------------------------------------------


@dataclass(slots=True)
class LocalFile:
    rel: str  # posix, NFC-normalised, relative to the root
    path: str  # where to read it
    size: int
    sha256: str = ""
    skip_reason: str = ""


def _spec(lines: Iterable[str]) -> pathspec.GitIgnoreSpec | None:
    lines = [line for line in lines if line.strip()]
    return pathspec.GitIgnoreSpec.from_lines(lines) if lines else None


def _read_gitignore(folder: str) -> pathspec.GitIgnoreSpec | None:
    path = os.path.join(folder, ".gitignore")
    if not os.path.isfile(path):
        return None
    with open(path, encoding="utf-8", errors="replace") as handle:
        return _spec(handle.read().splitlines())


def walk(root: Path, options: Options) -> Iterator[LocalFile]:
    """Every regular file under ``root`` that the patterns select, in path order.

    Every ``.gitignore`` in the tree is honoured as git does (a deeper file's patterns,
    relative to its folder, override the ones above; ignored folders are not entered),
    and ``.git`` is never entered. ``--exclude`` wins over ``--include``.
    """
    include = _spec(options.include)
    exclude = _spec(options.exclude)
    # The .gitignore specs that apply inside each folder: (folder prefix, spec), outermost first.
    scopes: dict[str, list[tuple[str, pathspec.GitIgnoreSpec]]] = {}

    def ignored(rel: str, specs: list[tuple[str, pathspec.GitIgnoreSpec]]) -> bool:
        verdict = False
        for prefix, spec in specs:
            decided = spec.check_file(rel[len(prefix) :]).include
            if decided is not None:
                verdict = decided
        return verdict

    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        rel_dir = Path(dirpath).relative_to(root).as_posix()
        rel_dir = "" if rel_dir == "." else rel_dir + "/"
        specs = list(scopes.pop(rel_dir, []))
        own = _read_gitignore(dirpath)
        if own is not None:
            specs.append((rel_dir, own))
        kept_dirs = []
        for name in sorted(dirnames):
            rel = rel_dir + name + "/"
            if name == ".git" or ignored(rel, specs):
                continue
            if exclude is not None and exclude.match_file(rel):
                continue
            kept_dirs.append(name)
            scopes[rel] = specs
        dirnames[:] = kept_dirs
        for name in sorted(filenames):
            rel = rel_dir + name
            if ignored(rel, specs):
                continue
            if include is not None and not include.match_file(rel):
                continue
            if exclude is not None and exclude.match_file(rel):
                continue
            full = os.path.join(dirpath, name)
            try:
                info = os.lstat(full)
            except OSError as exc:
                yield LocalFile(_nfc(rel), full, 0, skip_reason=f"unreadable: {exc.strerror}")
                continue
            if stat.S_ISLNK(info.st_mode):
                yield LocalFile(_nfc(rel), full, 0, skip_reason="symbolic link (not followed)")
                continue
            if not stat.S_ISREG(info.st_mode):
                continue
            yield LocalFile(_nfc(rel), full, info.st_size)


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def sha256_of(path: str) -> str:
    """Streams the file: memory stays flat whatever its size."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def precheck(local: LocalFile, options: Options) -> str:
    """Why this file cannot go to file search ('' when it can)."""
    if local.skip_reason:
        return local.skip_reason
    if local.size == 0:
        return "empty"
    if local.size > limits.MAX_FILE_BYTES:
        return f"over the API's {limits.MAX_FILE_BYTES // 1024**2} MB file size limit"
    name = local.rel.rsplit("/", 1)[-1]
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if ext not in limits.FILE_SEARCH_EXTENSIONS:
        shown = f".{ext}" if ext else "no extension"
        return f"file type {shown} is not supported by file search"
    problem = limits.check_attributes(options.attributes_for(local.rel, "0" * 64))
    if problem is not None:
        return f"attributes over the API's limits: {problem[1]}"
    return ""


# -- the plan -------------------------------------------------------------------------------


@dataclass(slots=True)
class Item:
    kind: Kind
    rel: str
    local: LocalFile | None = None
    old: list[VectorStoreFile] = field(default_factory=list)  # attachments this replaces
    reason: str = ""  # why skipped / why changed
    current: VectorStoreFile | None = None  # the store's matching version (unchanged)

    @property
    def bytes(self) -> int:
        if self.local is not None:
            return self.local.size
        return sum(f.usage_bytes for f in self.old)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "path": self.rel, "bytes": self.bytes}
        if self.reason:
            out["reason"] = self.reason
        if self.old:
            out["replaces"] = [f.id for f in self.old]
        return out


@dataclass
class Plan:
    store: VectorStore
    root: str
    options: Options
    items: list[Item]
    create_store: bool = False  # the store does not exist yet (dry run of --create)
    listing_requests: int = 0
    # when the plan detaches files: the stores that report no file counts when planned
    # (their listings cannot be verified, so the detached files' objects will be kept
    # unless ``options.trust_unverified``); execution checks again
    uncounted: list[VectorStore] = field(default_factory=list)

    def of(self, kind: Kind) -> list[Item]:
        return [i for i in self.items if i.kind == kind]

    def counts(self) -> dict[str, dict[str, int]]:
        result: dict[str, dict[str, int]] = {k: {"files": 0, "bytes": 0} for k in KINDS}
        for item in self.items:
            result[item.kind]["files"] += 1
            result[item.kind]["bytes"] += item.bytes
        return result

    @property
    def uploads(self) -> list[Item]:
        return [i for i in self.items if i.kind in ("new", "changed")]

    @property
    def upload_bytes(self) -> int:
        return sum(i.bytes for i in self.uploads)

    @property
    def duplicates(self) -> list[VectorStoreFile]:
        """Stale attachments of unchanged files (left by an interrupted replacement)."""
        return [f for i in self.of("unchanged") for f in i.old]

    @property
    def has_work(self) -> bool:
        deletions = bool(self.of("removed")) and self.options.delete
        return bool(self.uploads) or deletions or bool(self.duplicates)

    @property
    def detaches(self) -> list[str]:
        """What the plan detaches (and then deletes when no store holds it), in words."""
        what = []
        if self.of("changed"):
            what.append("old versions of changed files")
        if self.duplicates:
            what.append("stale versions")
        if self.options.delete and self.of("removed"):
            what.append("files whose source is gone")
        return what

    def unverified_sentence(self, remedy: str = TRUST_FLAG_REMEDY) -> str:
        """What the plan's unverifiable listings mean for the files it detaches ('' when
        nothing rests on them); ``remedy`` says how to delete them anyway."""
        what = self.detaches
        if not (what and self.uncounted):
            return ""
        why = describe_unverified(self.uncounted)
        if self.options.trust_unverified:
            return (
                f"Trusting unverified listings (--trust-unverified-listings): {why}; such a "
                "file would be deleted."
            )
        listed = ", ".join(what[:-1]) + (" and " if len(what) > 1 else "") + what[-1]
        return (
            f"The {listed} are detached, but their file objects are kept (nothing can show "
            f"that no other store holds them): {why}. {remedy}"
        )

    def to_json(self, verbose: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "store": {"id": self.store.id, "name": self.store.name, "create": self.create_store},
            "root": self.root,
            "counts": self.counts(),
            "delete_removed": self.options.delete,
            "trust_unverified_listings": self.options.trust_unverified,
            # the stores no file count verifies that deleting what it detaches rests on
            "unverified_stores": [s.id for s in self.uncounted],
            "unverified_note": self.unverified_sentence(),
            "planning_requests": self.listing_requests,
        }
        if verbose:
            out["items"] = [i.to_json() for i in self.items]
        else:
            out["skipped"] = [i.to_json() for i in self.of("skipped")]
        return out


def _is_active(f: VectorStoreFile) -> bool:
    return f.status in ("completed", "in_progress")


def classify(
    local_files: Iterable[LocalFile], remote: Iterable[VectorStoreFile], options: Options
) -> list[Item]:
    """Compare the folder with the store's files (by the path and sha256 attributes)."""
    by_path: dict[str, list[VectorStoreFile]] = {}
    for f in remote:
        attrs = f.attributes or {}
        rel, sha = attrs.get(options.path_key), attrs.get(options.hash_key)
        if isinstance(rel, str) and isinstance(sha, str):
            by_path.setdefault(rel, []).append(f)
    items: list[Item] = []
    seen: set[str] = set()
    for local in local_files:
        seen.add(local.rel)
        versions = by_path.get(local.rel, [])
        reason = precheck(local, options)
        if reason:
            items.append(Item("skipped", local.rel, local, reason=reason))
            continue
        current = [
            f
            for f in versions
            if _is_active(f) and (f.attributes or {}).get(options.hash_key) == local.sha256
        ]
        if current:
            # Keep the newest matching version; anything else for this path is stale.
            keep = max(current, key=lambda f: (f.status == "completed", f.created_at))
            stale = [f for f in versions if f.id != keep.id]
            items.append(Item("unchanged", local.rel, local, old=stale, current=keep))
        elif versions:
            failed = all(not _is_active(f) for f in versions)
            why = "the store's version failed to process" if failed else "content changed"
            items.append(Item("changed", local.rel, local, old=versions, reason=why))
        else:
            items.append(Item("new", local.rel, local))
    for rel in sorted(set(by_path) - seen):
        items.append(Item("removed", rel, None, old=by_path[rel], reason="source is gone"))
    return items


def _hash_all(files: list[LocalFile], concurrency: int) -> None:
    """Hash on a few threads, each over its own stride (no future per file: memory stays
    proportional to the plan, not to the number of queued tasks)."""
    workers = max(1, min(concurrency, 8))

    def stride(start: int) -> None:
        for local in files[start::workers]:
            if local.skip_reason or local.size == 0 or local.size > limits.MAX_FILE_BYTES:
                continue
            try:
                local.sha256 = sha256_of(local.path)
            except OSError as exc:
                local.skip_reason = f"unreadable: {exc.strerror or exc}"

    threads = [threading.Thread(target=stride, args=(i,), daemon=True) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def find_store(service: VectorStoresService, ref: str) -> VectorStore | None:
    """A store by ID, or by exact name (more than one store with the name is an error).

    By name, the store listing must be complete (:func:`vstui.listing.all_stores`): a
    store missed on the way would read as "no such store" and ``--create`` would make a
    second one, so a listing that cannot be shown whole is refused with a sentence.
    """
    if ref.startswith("vs_"):
        try:
            return service.retrieve_store(ref)
        except NotFoundError:
            pass
    try:
        every = listing.all_stores(service)
    except listing.IncompleteListing as error:
        raise SyncError(
            f"Could not list every store to find the one named {ref!r} ({error.reason}); "
            "give the store's ID instead."
        ) from None
    matches = [s for s in every if s.name == ref]
    if not matches:  # some servers' IDs have no vs_ prefix (llama-stack: the name is the ID)
        matches = [s for s in every if s.id == ref]
    if len(matches) > 1:
        ids = ", ".join(s.id for s in matches)
        raise SyncError(f"{len(matches)} stores are named {ref!r} ({ids}); give the store's ID.")
    return matches[0] if matches else None


def build_plan(
    service: VectorStoresService,
    root: Path,
    store_ref: str,
    options: Options,
    *,
    create: bool = False,
    concurrency: int = 8,
    progress: Callable[[str], None] | None = None,
) -> Plan:
    """Reads only (the store is not created here even with ``create``)."""
    options.validate()
    if not root.is_dir():
        raise SyncError(f"{root} is not a folder.")
    before = service.stats.requests
    store = find_store(service, store_ref)
    missing = store is None
    if store is None:
        if not create:
            raise SyncError(f"There is no store {store_ref!r}. Add --create to make it.")
        store = VectorStore(id="(new)", name=store_ref)
    elif store.is_expired:
        raise SyncError(
            f"Store {clean(store.display_name)!r} ({clean(store.id)}) has expired: the API no "
            "longer accepts files for it, so nothing was uploaded. Sync into another store."
        )
    local = list(walk(root, options))
    if progress is not None:
        progress(f"hashing {len(local):,} files")
    _hash_all(local, concurrency)
    remote: list[VectorStoreFile] = []
    if not missing:
        if progress is not None:
            progress("listing the store's files")
        # a file attached twice is listed twice by some servers: once is enough here
        remote = list({f.id: f for f in service.iter_store_files(store.id)}.values())
    items = classify(local, remote, options)
    uncounted: list[VectorStore] = []
    detaches = any(i.kind == "changed" or (i.kind == "unchanged" and i.old) for i in items)
    if detaches or (options.delete and any(i.kind == "removed" for i in items)):
        if progress is not None:
            progress("listing the stores (to read their file counts)")
        try:  # a prediction for the plan: execution checks again, and fails closed
            every = listing.all_stores(service)
        except (APIError, listing.IncompleteListing):
            every = []
        uncounted = sorted(
            (s for s in every if not s.counts_reported), key=lambda s: (s.created_at, s.id)
        )
    return Plan(
        store=store,
        root=str(root),
        options=options,
        items=items,
        create_store=missing,
        listing_requests=service.stats.requests - before,
        uncounted=uncounted,
    )


# -- execution ------------------------------------------------------------------------------

Stage = Literal["upload", "attach", "wait", "replace", "delete", "done"]


@dataclass
class Progress:
    stage: Stage
    files_done: int
    files_total: int
    bytes_done: int
    bytes_total: int
    started: float
    message: str = ""

    @property
    def rate(self) -> float:
        """Bytes per second so far."""
        elapsed = time.monotonic() - self.started
        return self.bytes_done / elapsed if elapsed > 0 else 0.0

    @property
    def eta(self) -> float | None:
        rate = self.rate
        if rate <= 0 or self.bytes_done >= self.bytes_total:
            return None
        return (self.bytes_total - self.bytes_done) / rate


@dataclass
class Report:
    store_id: str = ""
    uploaded: list[str] = field(default_factory=list)  # paths
    attached: dict[str, str] = field(default_factory=dict)  # file_id -> path
    replaced: list[str] = field(default_factory=list)  # paths whose old version went
    detached: list[str] = field(default_factory=list)  # file ids
    deleted: list[str] = field(default_factory=list)  # file ids
    kept: dict[str, str] = field(default_factory=dict)  # file id -> why not deleted
    # detached, but not deleted: no other store was seen holding it, yet some store reports
    # no file counts, so that could not be shown (without --trust-unverified-listings)
    kept_unverified: list[str] = field(default_factory=list)  # file ids
    # the stores reporting no file counts that the deletions rested on: the reason for
    # ``kept_unverified``, or the stores trusted with ``trusted_unverified``
    unverified_stores: list[str] = field(default_factory=list)
    trusted_unverified: bool = False  # --trust-unverified-listings was given
    failed: list[tuple[str, str]] = field(default_factory=list)  # (path or id, reason)
    batches: list[str] = field(default_factory=list)
    unattached: list[str] = field(default_factory=list)  # uploaded, never attached
    one_by_one: bool = False  # the server has no file batches: attached file by file
    interrupted: bool = False
    seconds: float = 0.0
    requests: int = 0

    @property
    def ok(self) -> bool:
        return not self.failed and not self.interrupted

    def summary(self) -> str:
        parts = [
            f"{len(self.uploaded)} uploaded",
            f"{len(self.attached)} attached",
            f"{len(self.replaced)} replaced",
            f"{len(self.detached)} detached",
            f"{len(self.deleted)} files deleted",
            f"{len(self.failed)} failed",
        ]
        kept = len(self.kept) + len(self.kept_unverified)
        if kept:
            parts.append(f"{kept} files kept")
        return ", ".join(parts)

    def unverified_sentence(self, remedy: str = KEPT_REMEDY) -> str:
        """What unverifiable listings changed in this run, in one sentence ('' if nothing)."""
        if self.kept_unverified:
            return describe_kept_unverified(self.kept_unverified, self.unverified_stores, remedy)
        if self.trusted_unverified and self.unverified_stores:
            ids = self.unverified_stores
            shown = ", ".join(ids[:10]) + (" …" if len(ids) > 10 else "")
            return (
                f"Trusted unverified listings (--trust-unverified-listings) of "
                f"{fmt.plural(len(ids), 'store')}: {shown}; a file one of them held but did "
                "not list would have been deleted."
            )
        return ""

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "store_id": self.store_id,
            "interrupted": self.interrupted,
            "uploaded": self.uploaded,
            "attached": sorted(self.attached),
            "replaced": self.replaced,
            "detached": self.detached,
            "deleted": self.deleted,
            "kept": [{"id": k, "reason": v} for k, v in self.kept.items()],
            "kept_unverified": self.kept_unverified,
            "unverified_stores": self.unverified_stores,
            "trusted_unverified_listings": self.trusted_unverified,
            "unverified_note": self.unverified_sentence(),
            "failed": [{"item": k, "reason": v} for k, v in self.failed],
            "batches": self.batches,
            "unattached": self.unattached,
            "attached_one_by_one": self.one_by_one,
            "seconds": round(self.seconds, 3),
            "requests": self.requests,
        }


class _Interrupted(Exception):
    pass


@dataclass
class _Uploaded:
    item: Item
    file_id: str
    sha256: str


class _ByteBudget:
    """Bounds the bytes held in memory by concurrent uploads (one file always fits)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0
        self.cond = threading.Condition()

    def acquire(self, size: int) -> None:
        with self.cond:
            self.cond.wait_for(lambda: self.used == 0 or self.used + size <= self.limit)
            self.used += size

    def release(self, size: int) -> None:
        with self.cond:
            self.used -= size
            self.cond.notify_all()


UPLOAD_MEMORY = 256 * 1024**2


def _upload(service: VectorStoresService, item: Item, budget: _ByteBudget) -> _Uploaded:
    assert item.local is not None
    size = item.local.size
    budget.acquire(size)
    try:
        with open(item.local.path, "rb") as handle:
            content = handle.read(limits.MAX_FILE_BYTES + 1)
        if len(content) > limits.MAX_FILE_BYTES:
            raise OSError(f"grew over the {limits.MAX_FILE_BYTES // 1024**2} MB limit")
        # What is uploaded is what the attributes describe, even if the file changed since.
        sha = hashlib.sha256(content).hexdigest()
        name = item.rel.rsplit("/", 1)[-1]
        uploaded = service.upload_file(name, content)
    finally:
        budget.release(size)
    return _Uploaded(item, uploaded.id, sha)


def _error_text(error: BaseException) -> str:
    if isinstance(error, APIError):
        return str(error)
    if isinstance(error, OSError):
        return f"could not read: {error.strerror or error}"
    return f"{type(error).__name__}: {error}"


def _gone(service: VectorStoresService, error: APIError, retrieve: Callable[[], object]) -> bool:
    """A 404, or a 400 confirmed by reading the object again: it is already gone."""
    try:
        return service.confirm_gone(error, retrieve)
    except Exception:  # the check failed: not proven gone
        return False


def held_elsewhere(
    service: VectorStoresService, store_id: str, file_ids: Iterable[str], holdings: listing.Holdings
) -> dict[str, str]:
    """Why each of ``file_ids`` that must be kept is kept: a store holds it, or the
    listings could not be shown complete (:mod:`vstui.listing`, the rule the clean-up
    uses). A file not in the answer is held by no store right now. ``holdings`` is
    refreshed here and can be refreshed again cheaply right before the delete."""
    wanted = list(dict.fromkeys(file_ids))
    try:
        holdings.refresh(service)
    except (APIError, listing.IncompleteListing) as error:
        detail = error.summary if isinstance(error, APIError) else str(error)
        why = f"could not list every store to prove no other store holds it ({detail})"
        return dict.fromkeys(wanted, why)
    kept: dict[str, str] = {}
    for file_id in wanted:
        holders = [sid for sid, held in holdings.held.items() if file_id in held]
        if any(sid != store_id for sid in holders):
            kept[file_id] = "another store holds it"
        elif holders:
            kept[file_id] = "the store still lists it after it was detached"
    return kept


def _unverified_ids(holdings: listing.Holdings) -> list[str]:
    return [s.id for s in sorted(holdings.unverified(), key=lambda s: (s.created_at, s.id))]


def _delete_unheld(
    service: VectorStoresService,
    store_id: str,
    detached: Sequence[str],
    report: Report,
    trust_unverified: bool = False,
) -> None:
    """Delete the detached files no store holds; every other one is kept, with why.

    What every store holds is read completely first; the deletion itself goes through
    :func:`vstui.cleanup.delete_files`, which reads it again right before deleting. When a
    store (this one included: the re-check reads it too) reports no file counts, "no store
    holds it" rests on a listing nothing verifies: the files are kept
    (``report.kept_unverified``) unless ``trust_unverified``."""
    holdings = listing.Holdings()
    kept = held_elsewhere(service, store_id, detached, holdings)
    report.kept.update(kept)
    tasks: list[Task] = [("file", fid, fid) for fid in dict.fromkeys(detached) if fid not in kept]
    if not tasks:
        return
    if holdings.unverified() and not trust_unverified:
        report.kept_unverified.extend(fid for _, fid, _ in tasks)
        report.unverified_stores = _unverified_ids(holdings)
        return
    trusted: list[str] = []
    outcomes = delete_files(
        service,
        tasks,
        holdings,
        concurrency=8,
        tally=Tally(total=len(tasks)),
        trust_unverified=trust_unverified,
        trusted=trusted,
    )
    report.unverified_stores = trusted
    # a store without counts that appeared between the two readings stops the rest too
    refused = f"not deleted: {describe_unverified(holdings.unverified())}"
    for outcome in outcomes:
        if outcome.result == "failed" and outcome.reason == refused:
            report.kept_unverified.append(outcome.id)
            report.unverified_stores = _unverified_ids(holdings)
        elif outcome.result in ("deleted", "already gone"):
            report.deleted.append(outcome.id)
        elif outcome.result == "skipped":
            report.kept[outcome.id] = "a store held it again when checked right before deleting"
        elif outcome.reason.startswith("not deleted"):  # the re-check could not be completed
            report.kept[outcome.id] = outcome.reason
        else:
            report.kept[outcome.id] = f"delete failed: {outcome.reason}"


def execute(
    service: VectorStoresService,
    plan: Plan,
    *,
    concurrency: int = 16,
    on_progress: Callable[[Progress], None] | None = None,
    cancelled: threading.Event | None = None,
    sleep: Callable[[float], None] = time.sleep,
    batch_size: int = limits.BATCH_FILES_MAX,
    replace_timeout: float = 3600.0,
) -> Report:
    """Carry out a plan. Progress callbacks run on the calling thread.

    Ctrl-C (``KeyboardInterrupt`` on the calling thread) or ``cancelled`` stops new
    uploads; what was uploaded is still attached so the next run converges; the report
    says ``interrupted``.
    """
    started = time.monotonic()
    requests_before = service.stats.requests
    cancelled = cancelled or threading.Event()
    report = Report(trusted_unverified=plan.options.trust_unverified)
    options = plan.options
    store = plan.store
    if plan.create_store:
        store = service.create_store(name=plan.store.name)
    report.store_id = store.id
    uploads = plan.uploads
    progress = Progress("upload", 0, len(uploads), 0, plan.upload_bytes, started)

    def emit(stage: Stage, message: str = "") -> None:
        progress.stage = stage
        progress.message = message
        if on_progress is not None:
            on_progress(progress)

    budget = _ByteBudget(UPLOAD_MEMORY)
    pending: list[_Uploaded] = []
    new_versions: dict[str, str] = {}  # path -> new file id (changed files only)
    batch_of: dict[str, str] = {}  # path -> batch id

    def attach(entries: list[_Uploaded]) -> None:
        for start in range(0, len(entries), batch_size):
            chunk = entries[start : start + batch_size]
            files = []
            for u in chunk:
                entry: dict[str, Any] = {
                    "file_id": u.file_id,
                    "attributes": options.attributes_for(u.item.rel, u.sha256),
                }
                if options.chunking is not None:
                    entry["chunking_strategy"] = dict(options.chunking)
                files.append(entry)
            try:
                result = service.attach_files(
                    store.id,
                    files,
                    on_each=lambda i, n: emit("attach", f"attached {i}/{n} one by one"),
                )
            except APIError as error:
                for u in chunk:
                    report.failed.append((u.item.rel, f"attach: {error}"))
                    report.unattached.append(u.file_id)
                continue
            batch = result.batch
            if batch is None:  # no file batches on this server: attached one by one
                report.one_by_one = True
                failed = dict(result.failed)
                for u in chunk:
                    if u.file_id in failed:
                        report.failed.append((u.item.rel, f"attach: {failed[u.file_id]}"))
                        report.unattached.append(u.file_id)
                        continue
                    report.attached[u.file_id] = u.item.rel
                    if u.item.kind == "changed":
                        new_versions[u.item.rel] = u.file_id
                emit("attach", f"{len(chunk) - len(failed)} files attached one by one")
                continue
            report.batches.append(batch.id)
            for u in chunk:
                report.attached[u.file_id] = u.item.rel
                batch_of[u.item.rel] = batch.id
                if u.item.kind == "changed":
                    new_versions[u.item.rel] = u.file_id
            emit("attach", f"batch {batch.id}: {len(chunk)} files")

    try:
        with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="sync") as pool:
            queue = iter(uploads)
            running: dict[Future[_Uploaded], Item] = {}

            def fill() -> None:
                while len(running) < concurrency * 2 and not cancelled.is_set():
                    item = next(queue, None)
                    if item is None:
                        return
                    running[pool.submit(_upload, service, item, budget)] = item

            try:
                fill()
                while running:
                    done, _ = wait(list(running), timeout=0.25, return_when=FIRST_COMPLETED)
                    for future in done:
                        item = running.pop(future)
                        progress.files_done += 1
                        progress.bytes_done += item.bytes
                        try:
                            result = future.result()
                        except Exception as error:
                            report.failed.append((item.rel, f"upload: {_error_text(error)}"))
                            emit("upload", f"failed {item.rel}")
                            continue
                        report.uploaded.append(item.rel)
                        pending.append(result)
                        emit("upload", item.rel)
                    if len(pending) >= batch_size:
                        attach(pending[:batch_size])
                        del pending[:batch_size]
                    if cancelled.is_set():
                        raise _Interrupted
                    fill()
            except (KeyboardInterrupt, _Interrupted):
                cancelled.set()
                report.interrupted = True
                for future in running:
                    future.cancel()
                # In-flight uploads finish; they are attached below so nothing leaks.
                for future, item in list(running.items()):
                    if future.cancelled():
                        continue
                    try:
                        pending.append(future.result())
                        report.uploaded.append(item.rel)
                    except Exception as error:
                        report.failed.append((item.rel, f"upload: {_error_text(error)}"))
        if pending:
            attach(pending)
            pending.clear()
        if report.interrupted:
            emit("done")
            return _finish(report, service, started, requests_before)
        _replace(
            service,
            store.id,
            plan,
            report,
            new_versions,
            batch_of,
            emit,
            sleep,
            replace_timeout,
            cancelled,
        )
        if cancelled.is_set():
            report.interrupted = True
    except KeyboardInterrupt:
        report.interrupted = True
        # A second Ctrl-C while attaching: whatever was uploaded but not attached is named.
        attached = set(report.attached)
        report.unattached.extend(u.file_id for u in pending if u.file_id not in attached)
    emit("done")
    return _finish(report, service, started, requests_before)


def _finish(
    report: Report, service: VectorStoresService, started: float, requests_before: int
) -> Report:
    report.seconds = time.monotonic() - started
    report.requests = service.stats.requests - requests_before
    return report


def _wait_batches(
    service: VectorStoresService,
    store_id: str,
    batch_ids: Sequence[str],
    sleep: Callable[[float], None],
    timeout: float,
    cancelled: threading.Event,
    emit: Callable[[Stage, str], None],
) -> bool:
    """Poll until every batch is terminal; False on timeout or cancel."""
    left = list(dict.fromkeys(batch_ids))
    deadline = time.monotonic() + timeout
    while left:
        if cancelled.is_set() or time.monotonic() > deadline:
            return False
        poll_ms = 1000
        for batch_id in list(left):
            batch = service.retrieve_batch(store_id, batch_id)
            if batch.status != "in_progress":
                left.remove(batch_id)
            elif batch.poll_after_ms is not None:
                poll_ms = min(poll_ms, batch.poll_after_ms)
        if left:
            emit("wait", f"waiting for {len(left)} batch(es) to finish processing")
            sleep(max(0.05, poll_ms / 1000))
    return True


def _wait_files(
    service: VectorStoresService,
    store_id: str,
    file_ids: Sequence[str],
    sleep: Callable[[float], None],
    timeout: float,
    cancelled: threading.Event,
    emit: Callable[[Stage, str], None],
) -> set[str]:
    """Poll single store files until terminal; the IDs that completed."""
    left = set(file_ids)
    completed: set[str] = set()
    deadline = time.monotonic() + timeout
    while left and not cancelled.is_set() and time.monotonic() <= deadline:
        poll_ms = 1000
        for file_id in sorted(left):
            f = service.retrieve_store_file(store_id, file_id)
            if f.status != "in_progress":
                left.discard(file_id)
                if f.status == "completed":
                    completed.add(file_id)
            elif f.poll_after_ms is not None:
                poll_ms = min(poll_ms, f.poll_after_ms)
        if left:
            emit("wait", f"waiting for {len(left)} file(s) to finish processing")
            sleep(max(0.05, poll_ms / 1000))
    return completed


def _replace(
    service: VectorStoresService,
    store_id: str,
    plan: Plan,
    report: Report,
    new_versions: dict[str, str],
    batch_of: dict[str, str],
    emit: Callable[[Stage, str], None],
    sleep: Callable[[float], None],
    timeout: float,
    cancelled: threading.Event,
) -> None:
    """Old versions go only after the new one completed; then removed sources, if asked."""
    to_drop: list[tuple[str, VectorStoreFile]] = []  # (path, old attachment)
    changed = [i for i in plan.of("changed") if i.rel in new_versions]
    if changed:
        batches = [batch_of[i.rel] for i in changed if i.rel in batch_of]
        singles = [new_versions[i.rel] for i in changed if i.rel not in batch_of]
        finished = _wait_batches(service, store_id, batches, sleep, timeout, cancelled, emit)
        completed: set[str] = set()
        if finished:
            for batch_id in dict.fromkeys(batches):
                completed |= {
                    f.id for f in service.iter_batch_files(store_id, batch_id, filter="completed")
                }
        if singles:  # attached one by one (no batches): followed file by file
            completed |= _wait_files(service, store_id, singles, sleep, timeout, cancelled, emit)
            finished = finished and not cancelled.is_set()
        for item in changed:
            new_id = new_versions[item.rel]
            if new_id in completed:
                to_drop.extend((item.rel, old) for old in item.old if old.id != new_id)
                report.replaced.append(item.rel)
            elif finished:
                report.failed.append(
                    (item.rel, "the new version did not complete; the old version was kept")
                )
            else:
                report.failed.append(
                    (item.rel, "stopped before the new version completed; the old one was kept")
                )
    # Stale versions left by an interrupted run go once the current one has completed.
    resumed = [i for i in plan.of("unchanged") if i.old and i.current is not None]
    waiting = [i for i in resumed if i.current is not None and i.current.status != "completed"]
    done = _wait_files(
        service,
        store_id,
        [i.current.id for i in waiting if i.current is not None],
        sleep,
        timeout,
        cancelled,
        emit,
    )
    for item in resumed:
        assert item.current is not None
        if item.current.status == "completed" or item.current.id in done:
            to_drop.extend((item.rel, old) for old in item.old)
        else:
            report.failed.append(
                (item.rel, "its current version did not complete; older versions were kept")
            )
    if plan.options.delete:
        for item in plan.of("removed"):
            to_drop.extend((item.rel, old) for old in item.old)
    if not to_drop or cancelled.is_set():
        return
    emit("replace", f"detaching {len(to_drop)} old version(s)")
    detached: list[str] = []
    for rel, old in to_drop:
        if old.id in detached:
            continue  # a server that lists a file attached twice lists it twice
        try:
            service.delete_store_file(store_id, old.id)
        except APIError as error:
            again = functools.partial(service.retrieve_store_file, store_id, old.id)
            if not _gone(service, error, again):
                report.failed.append((rel, f"detach {old.id}: {error}"))
                continue
        detached.append(old.id)
    report.detached.extend(detached)
    if not detached:
        return
    emit("delete", f"checking whether other stores hold {len(detached)} file(s)")
    _delete_unheld(service, store_id, detached, report, plan.options.trust_unverified)
