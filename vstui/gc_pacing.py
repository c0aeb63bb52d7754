"""Garbage collection paced by the user: the long pauses happen between keys, not in them.

Python collects the oldest generation when enough objects have survived two younger
collections. With 100,000 rows loaded that walk costs 30 ms or more (the rows themselves
are frozen out of its way, see ``screens.base.freeze_rows``, but the table's sort orders
and filter results are big lists), and it lands in whatever key happens to allocate at
that moment. :class:`IdleCollector` turns off the automatic full collections and runs
them itself when the user has not pressed a key or moved the mouse for :attr:`idle`
seconds (or, while the user never pauses, every :attr:`longest` seconds regardless), and
only when Python would have run one by then. The young generation is collected somewhat
less often (every :data:`YOUNG` allocations instead of 700): each of its collections also
walks the big lists a key has just made, so fewer of them cost less in total; much less
often would make each one a frame's worth (20,000 allocations: 15 ms).

Nothing here imports Textual: the app calls :meth:`note_input` for each input event and
:meth:`tick` from a timer.
"""

from __future__ import annotations

import gc
import queue
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

YOUNG = 2_000  # allocations between two collections of the youngest generation
MIDDLE = 10  # young collections between two collections of the middle one (Python's)
FULL_DUE = 10  # middle collections after which a full collection is due (Python's)
NEVER = 1 << 30  # a threshold the counts never reach: no automatic full collection


_started_before = False  # an IdleCollector was started before in this process


class IdleCollector:
    """Full garbage collections at quiet moments. :meth:`start` and :meth:`stop` set and
    restore the interpreter's thresholds (they are process-wide)."""

    def __init__(
        self,
        idle: float = 0.3,
        longest: float = 20.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.idle = idle
        self.longest = longest
        self._clock = clock
        self._last_input = clock()
        self._last_full = clock()
        self._saved: tuple[int, int, int] | None = None
        self.collections = 0  # full collections run (for tests and benchmarks)

    @property
    def running(self) -> bool:
        return self._saved is not None

    def start(self) -> None:
        """Take over the full collections. In the first app of a process, everything
        alive now (modules, classes, the app: some 65,000 objects) is moved out of the
        collector's way for good, or every later collection walks them all again (the
        first freezes while rows stream in cost 40–60 ms, each full collection between
        keys 25 ms more). Without a collection first, which would cost as much and hold
        the first frame: nothing is garbage yet at this point (measured: none).

        A later app in the same process (tests run hundreds) freezes nothing here: the
        apps before it may be garbage by now, and frozen they would never be freed."""
        global _started_before
        if self._saved is None:
            self._saved = gc.get_threshold()
            gc.set_threshold(YOUNG, MIDDLE, NEVER)
            if not _started_before:
                gc.freeze()
            _started_before = True
            self._last_full = self._clock()

    def stop(self) -> None:
        """Give Python its own thresholds back (the next full collection is its call)."""
        if self._saved is not None:
            gc.set_threshold(*self._saved)
            self._saved = None

    def note_input(self) -> None:
        """A key, a click or a scroll: the user is doing something now."""
        self._last_input = self._clock()

    def due(self) -> bool:
        """Whether Python would have run a full collection by now."""
        return gc.get_count()[2] >= FULL_DUE

    def tick(self) -> bool:
        """Run a full collection if one is due and the moment is right; True if it ran."""
        if self._saved is None or not self.due():
            return False
        now = self._clock()
        quiet = now - self._last_input >= self.idle
        if not quiet and now - self._last_full < self.longest:
            return False
        gc.collect()
        self._last_full = self._clock()
        self.collections += 1
        return True


def freeze_long_lived() -> None:
    """Move every object alive now out of the collector's way for good (rows just
    loaded, a sort order just made), so that later collections do not walk them.

    Garbage goes first: a frozen garbage cycle is never freed (Textual's lines and
    httpx's requests make cycles; freezing them as a 100,000-row listing streams in
    kept about 50 MB per listing). That collection is cheap: everything frozen before
    is not looked at, only what was made since the last freeze."""
    gc.collect()
    gc.freeze()


@contextmanager
def building_long_lived() -> Iterator[None]:
    """Around the making of a big structure that will live long (a sort order of every
    row): garbage so far is collected (cheap, see :func:`freeze_long_lived`), no
    collection runs while the structure is half made (each one would walk all of it
    made so far, in whichever thread allocates, holding the interpreter), and once made
    it is frozen out of the collector's way.

    Frozen objects are still freed by reference counting, but a garbage cycle alive at
    the freeze is kept for good: the code inside must let go of any big data that
    something short-lived (its own worker and closure) would otherwise keep."""
    enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


DISCARD_SLICE = 512  # items let go of at once by the discarding thread


_doomed: queue.Queue[dict[Any, Any] | list[Any]] = queue.Queue()
_discarder: threading.Thread | None = None
_discarder_lock = threading.Lock()


def discard_later(*containers: dict[Any, Any] | list[Any]) -> None:
    """Let go of big containers (a sort order of 100,000 entries, a closed table's
    rows) in another thread, :data:`DISCARD_SLICE` items at a time.

    Dropping the last reference to a dict or list of 100,000 tuples frees them all in
    one C call: 25–30 ms during which the calling thread (the UI thread) paints nothing
    and no other thread runs. Here a thread empties them instead, slice by slice, and
    lets the others run between slices. Lists of lists (a ``SortedList``'s sublists) are
    emptied a sublist at a time.

    The caller gives the containers up: nothing else may use them afterwards (they are
    emptied in place). What they hold stays alive as long as something else holds it."""
    global _discarder
    for container in containers:
        _doomed.put(container)
    with _discarder_lock:
        if _discarder is None or not _discarder.is_alive():
            _discarder = threading.Thread(target=_discard, name="vstui-discard", daemon=True)
            _discarder.start()


def discarded(timeout: float = 10.0) -> bool:
    """Wait until everything given to :func:`discard_later` was let go of (for tests and
    benchmarks); False if that took longer than ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while _doomed.unfinished_tasks:
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.005)
    return True


def _discard() -> None:
    while True:
        container = _doomed.get()
        try:
            _empty(container)
        finally:
            del container
            _doomed.task_done()


def _empty(container: dict[Any, Any] | list[Any]) -> None:
    while container:
        if isinstance(container, dict):
            for _ in range(min(DISCARD_SLICE, len(container))):
                container.popitem()
        elif isinstance(container[-1], list):
            _empty(container.pop())
        else:
            del container[-DISCARD_SLICE:]
        time.sleep(0)  # the other threads' turn (the interpreter lock is let go of)
