"""A table that renders only the rows on screen.

Textual's ``DataTable`` measures every cell when rows are added (about a second for
10,000 rows, ten for 100,000), so large accounts use this instead: rows are plain
objects, cells are rendered on demand by each column's ``render`` function, and
filtering and sorting work on a list of row references.
"""

from __future__ import annotations

import asyncio
import heapq
import sys
import time
from bisect import bisect_left, insort
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import compress, repeat
from operator import contains, itemgetter, not_
from typing import Any, Generic, TypeVar, overload

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from sortedcontainers import SortedList
from textual import events
from textual.binding import Binding
from textual.cache import LRUCache
from textual.content import Content
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from ..gc_pacing import building_long_lived, discard_later
from ..text import clean
from . import palette
from .safe import clean_rich

R = TypeVar("R")
Cell = str | Text
# A row's place in one sort order: (sort key, arrival number, row key, search text). The
# first three make every entry unique and ordered; the search text rides along so a
# filter scans entries in C without looking rows up.
Entry = tuple[Any, int, str, str]


@dataclass
class Column(Generic[R]):
    """One column. ``width`` is the width it asks for; on a narrow terminal it can shrink
    to ``min_width`` (default: ``width``), and columns with the highest ``priority``
    number are hidden first when even that does not fit (1 = never hidden before
    others). On a wide terminal, columns with ``grow`` share the spare space up to
    ``max_width`` (None: no limit). ``export`` gives the raw value saved to CSV
    (default: the text shown); with ``export_keys`` it returns one value per key, saved
    as separate CSV columns (a count per status)."""

    key: str
    label: str
    width: int
    render: Callable[[R], Cell]
    sort_key: Callable[[R], Any] | None = None
    justify: str = "left"
    min_width: int | None = None
    max_width: int | None = None
    priority: int = 5
    grow: bool = False
    export: Callable[[R], Any] | None = None
    export_keys: tuple[str, ...] = ()

    @property
    def least(self) -> int:
        return min(self.width, self.min_width) if self.min_width is not None else self.width


@dataclass(frozen=True)
class ColumnLayout:
    """Which columns are shown, at what width, for one table width."""

    shown: tuple[int, ...]
    widths: tuple[int, ...]
    hidden: int

    @property
    def hidden_label(self) -> str:
        if not self.hidden:
            return ""
        return f"{self.hidden} column{'s' if self.hidden != 1 else ''} hidden"


def id_column(
    table: Callable[[], VirtualTable[Any]],
    label: str = "ID",
    *,
    width: int = 27,
    priority: int = 3,
) -> Column[Any]:
    """An object's ID: muted, never the first to grow past 40 cells, exported as it is.
    ``table`` gives the table (its theme's muted style) when a cell is drawn."""
    return Column(
        "id",
        label,
        width,
        lambda row: Text(row.id, style=table().muted_style()),
        lambda row: row.id,
        min_width=14,
        max_width=40,
        priority=priority,
        grow=True,
        export=lambda row: row.id,
    )


def plan_layout(columns: Sequence[Column[Any]], available: int, gutter: int = 2) -> ColumnLayout:
    """Fit ``columns`` into ``available`` cells (one space between columns).

    Low-priority columns are dropped until the minimum widths fit (a note saying how
    many are hidden takes its place at the right); then columns grow toward the width
    they ask for, most important first; what is left goes to ``grow`` columns (name, ID,
    error), up to their ``max_width``, and finally to the last column."""
    shown = list(range(len(columns)))

    def needed(indexes: list[int]) -> int:
        hidden = len(columns) - len(indexes)
        note = len(ColumnLayout((), (), hidden).hidden_label) + 1 if hidden else 0
        return gutter + sum(columns[i].least for i in indexes) + len(indexes) - 1 + note

    while len(shown) > 1 and needed(shown) > available:
        drop = max(shown, key=lambda i: (columns[i].priority, i))
        shown.remove(drop)
    widths = {i: columns[i].least for i in shown}
    spare = available - needed(shown)
    for i in sorted(shown, key=lambda i: (columns[i].priority, i)):
        if spare <= 0:
            break
        add = min(spare, columns[i].width - widths[i])
        widths[i] += add
        spare -= add
    growers = [i for i in shown if columns[i].grow]
    while spare > 0 and growers:
        room = [
            i
            for i in growers
            if columns[i].max_width is None or widths[i] < (columns[i].max_width or 0)
        ]
        if not room:
            break
        share = max(1, spare // len(room))
        for i in room:
            limit = columns[i].max_width
            add = min(share, spare, (limit - widths[i]) if limit is not None else share)
            widths[i] += add
            spare -= add
            if spare <= 0:
                break
    hidden = len(columns) - len(shown)
    if spare > 0 and shown and not hidden:
        widths[shown[-1]] += spare
    return ColumnLayout(tuple(shown), tuple(widths[i] for i in shown), hidden)


ORDERS_KEPT = 3  # sort orders kept current as rows arrive: the one shown and two before
BACKGROUND_SORT_ROWS = 20_000  # from this many rows a new sort order is built in a thread
SORT_CHUNK = 4_096  # rows sorted at once in that thread (each sort holds the interpreter lock)


def presorted(values: list[Entry]) -> SortedList:
    """A ``SortedList`` of ``values`` that are already in ascending order, made without
    sorting them again. ``SortedList(values)`` sorts them: on an ordered list that is
    still a comparison per value, 100,000 of them in one C call (about 20 ms) during
    which no other thread runs, the UI thread included. Here the values are cut into
    the list's sublists directly, in Python (the interpreter lock passes between steps).

    This fills in ``SortedList``'s own layout as its ``update`` does (sortedcontainers
    2.4, pinned): ``_lists`` of at most ``_load`` values, each sublist's last value in
    ``_maxes``, the length, and an empty position index.
    """
    result = SortedList()
    load = result._load
    result._lists = [values[start : start + load] for start in range(0, len(values), load)]
    result._maxes = [chunk[-1] for chunk in result._lists]
    result._len = len(values)
    return result


def sort_label(label: str, mark: str, width: int) -> str:
    """A sorted column's header: its label cut to leave room for the ``mark`` (▲, ▼ or
    …), which is always shown, even in a narrow column."""
    room = width - cell_len(mark)
    if cell_len(label) > room:
        label = set_cell_size(label, room - 1) + "…" if room > 1 else ""
    return label + mark if room > 0 else mark.strip()


def _copy(text: str) -> str:
    """A new string equal to ``text`` (slicing or ``str()`` would give back the same one)."""
    return "".join((text, ""))


def _next_growth(size: int) -> int:
    """How many keys a dict of ``size`` keys, grown only by insertions, holds when the
    next insertion makes it grow (CPython 3.11: tables of 2**k slots, two thirds usable,
    doubled when full): 5, 10, 21, …, 43,690, 87,381, 174,762."""
    slots = 8
    while (slots * 2) // 3 < size:
        slots *= 2
    return (slots * 2) // 3


GROWTH_NOTED_ROWS = 20_000  # from this many rows the table says when its dicts will grow


def grow_now(mapping: dict[str, Any]) -> None:
    """Make ``mapping`` grow now rather than at its next insertion that would: keys no
    row has (they start with NUL) are put in until it grows, then taken out (a dict does
    not shrink on deletion)."""
    size = sys.getsizeof(mapping)
    added: list[str] = []
    for i in range(_next_growth(len(mapping)) - len(mapping) + 1):
        key = f"\0grow{i}"
        mapping[key] = None
        added.append(key)
        if sys.getsizeof(mapping) != size:
            break
    for key in added:
        del mapping[key]


class _Order:
    """Every row's entry for one sort column, in ascending order."""

    __slots__ = ("column", "entries", "sorted")

    def __init__(
        self,
        column: str | None = None,
        entries: dict[str, Entry] | None = None,
        ordered: list[Entry] | None = None,
    ) -> None:
        """``ordered``: the entries already in ascending order (not sorted again)."""
        self.column = column
        self.entries = entries or {}
        self.sorted = SortedList(self.entries.values()) if ordered is None else presorted(ordered)

    def put(self, key: str, entry: Entry) -> None:
        self.entries[key] = entry
        self.sorted.add(entry)

    def discard(self, key: str) -> None:
        entry = self.entries.pop(key, None)
        if entry is not None:
            self.sorted.remove(entry)

    def release(self) -> None:
        """Let go of every entry, in another thread (:func:`discard_later`: freeing
        100,000 entries here would hold a frame for 25 ms). The order is empty after."""
        entries, lists = self.entries, self.sorted._lists
        self.entries, self.sorted = {}, SortedList()
        discard_later(entries, lists)


SCAN_CHUNK = 4_096  # entries a filter tests at once (in C, with the slicing: 1–2 ms)
SCAN_BUDGET = 0.004  # seconds a filter scans before a frame gets its turn
SCAN_FIRST_CHUNK = 1_024  # entries tested at once while looking for a first screenful
# A scan with no more than this many entries left once a screenful is found finishes in
# the key's own frame (about 2 ms here): one repaint instead of two (the second, for the
# final count and scrollbar, costs more than the rest of such a scan).
SCAN_FINISH_NOW = 32_768


class _Scan:
    """A filter still looking at rows: ``source`` (entries in ascending order) up to
    ``position`` has been looked at (counted from the end when the sort is reversed).
    ``keep`` is the row the cursor was on and ``cursor`` where the cursor was put: when
    the scan ends with the cursor untouched, it goes back to that row if it passes."""

    __slots__ = ("cache_key", "cursor", "keep", "position", "source")

    def __init__(
        self, source: Sequence[Entry], position: int, cache_key: object, keep: str | None
    ) -> None:
        self.source = source
        self.position = position
        self.cache_key = cache_key
        self.keep = keep
        self.cursor = 0


class TableView(Sequence[R]):
    """The rows a :class:`VirtualTable` shows, in order: indexing and iteration read the
    table's sorted entries directly (nothing is copied)."""

    __slots__ = ("_table",)

    def __init__(self, table: VirtualTable[R]) -> None:
        self._table = table

    def __len__(self) -> int:
        return self._table.shown_count

    @overload
    def __getitem__(self, index: int) -> R: ...

    @overload
    def __getitem__(self, index: slice) -> list[R]: ...

    def __getitem__(self, index: int | slice) -> R | list[R]:
        count = len(self)
        if isinstance(index, slice):
            return [self._table.row_at(i) for i in range(*index.indices(count))]
        if index < 0:
            index += count
        if not 0 <= index < count:
            raise IndexError("table view index out of range")
        return self._table.row_at(index)

    def __iter__(self) -> Iterator[R]:
        table = self._table
        table._finish_scan()
        rows = table._rows
        entries = table._visible_entries()
        ordered = reversed(entries) if table._backwards else iter(entries)
        return (rows[entry[2]] for entry in ordered)

    def __bool__(self) -> bool:
        return len(self) > 0


class VirtualTable(ScrollView, Generic[R], can_focus=True):
    """Rows of any type ``R``, rendered line by line."""

    COMPONENT_CLASSES = {
        "virtual-table--header",
        "virtual-table--cursor",
        "virtual-table--marked",
        "virtual-table--empty",
        "virtual-table--sorted",
    }

    DEFAULT_CSS = """
    VirtualTable {
        background: $surface;
        height: 1fr;
        scrollbar-gutter: stable;
    }
    VirtualTable > .virtual-table--header {
        text-style: bold;
        background: $panel;
        color: $foreground;
    }
    VirtualTable > .virtual-table--sorted {
        text-style: bold underline;
        color: $accent;
        background: $panel;
    }
    VirtualTable > .virtual-table--cursor {
        background: $foreground 12%;
    }
    VirtualTable:focus > .virtual-table--cursor {
        background: $accent 35%;
    }
    VirtualTable > .virtual-table--marked {
        color: $warning;
        text-style: bold;
    }
    VirtualTable > .virtual-table--empty {
        color: $text-muted;
        text-style: italic;
    }
    """

    BINDINGS = [
        Binding("up,k", "cursor(-1)", "Up", show=False),
        Binding("down,j", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home,g", "jump(0)", "First", show=False),
        Binding("end,G", "jump(-1)", "Last", show=False),
        Binding("enter", "select", "Open", show=False),
    ]

    cursor = reactive(0, always_update=True, repaint=False)  # watch_cursor paints its lines

    class RowMessage(Message):
        def __init__(self, table: VirtualTable[Any], row: Any) -> None:
            super().__init__()
            self.table = table
            self.row = row

        @property
        def control(self) -> VirtualTable[Any]:
            return self.table

    class Selected(RowMessage):
        """Enter or double-click on a row."""

    class Highlighted(RowMessage):
        """The cursor moved to another row (or the rows changed under it)."""

    class Filtered(Message):
        """A filter finished: :attr:`VirtualTable.shown_count` is final."""

        def __init__(self, table: VirtualTable[Any]) -> None:
            super().__init__()
            self.table = table

        @property
        def control(self) -> VirtualTable[Any]:
            return self.table

    def __init__(
        self,
        columns: Sequence[Column[R]],
        *,
        row_key: Callable[[R], str],
        empty_text: str = "Nothing here.",
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.columns = list(columns)
        self.row_key = row_key
        self._empty_text = empty_text
        # The data, kept so that a page of rows costs O(page · log n), never O(n):
        # ``_rows`` holds every row in arrival order; ``_orders`` for the sort column (and
        # the last few used before it, so switching back costs nothing) every row's entry
        # ``(sort key, arrival number, row key)`` in ascending order (a reversed sort is
        # read backwards); ``_shown`` the entries of the current order that pass the
        # filter (None: all do); ``_filtered`` earlier filter results for the same data
        # and order (typing back over a filter costs nothing).
        self._rows: dict[str, R] = {}
        self._order = _Order()
        self._orders: dict[str | None, _Order] = {None: self._order}
        self._shown: list[Entry] | None = None
        self._scan: _Scan | None = None  # a filter still looking at rows (see set_filter)
        self._filtered: dict[object, list[Entry]] = {}
        self._arrivals = 0
        self._filter: Callable[[R], bool] | None = None
        self._needle: tuple[str, bool] | None = None  # (lower-case text, inverted)
        self._search_fields: Callable[[R], Iterable[str]] | None = None
        self.sort_column: str | None = None
        self.sort_reverse = False
        self._backwards = False  # read the ascending entries from the end
        # A sort being built in a worker: (column, reverse), the rows changed meanwhile.
        self._pending_sort: tuple[str | None, bool] | None = None
        self._journal: set[str] | None = None
        self._sort_generation = 0
        self.marked: set[str] = set()
        # Rendered lines and theme styles, dropped whenever data, layout or theme change.
        self._line_cache: LRUCache[tuple[Any, ...], Strip] = LRUCache(4000)
        self._style_cache: dict[str, Style] = {}
        self._bar_styles: dict[str, Style] | None = None
        self._layout: tuple[int, ColumnLayout, list[Column[R]]] | None = None

    @property
    def empty_text(self) -> str:
        """What the table says when no row is shown."""
        return self._empty_text

    @empty_text.setter
    def empty_text(self, text: str) -> None:
        if text != self._empty_text:
            self._empty_text = text
            if not self.shown_count:
                self.refresh()

    @property
    def search_fields(self) -> Callable[[R], Iterable[str]] | None:
        """The texts a text filter searches in a row (made once per row, as it arrives)."""
        return self._search_fields

    @search_fields.setter
    def search_fields(self, fields: Callable[[R], Iterable[str]] | None) -> None:
        self._search_fields = fields
        if self._rows:
            self._rebuild(self._keep())

    def on_unmount(self) -> None:
        """Let go of every row. A screen alive when rows were frozen (rows streamed in, a
        big sort built; see ``vstui.gc_pacing``) is frozen with them, and a frozen garbage
        cycle is never collected: closed, the screen and its widgets stay in memory for
        good (a few kilobytes), but not the rows, which only this table holds (frozen
        objects are still freed by reference counting)."""
        self._scan = None
        self._sort_generation += 1  # a sort still being built is not shown
        self._pending_sort = None
        self._journal = None
        for order in self._orders.values():
            order.release()
        discard_later(self._rows)
        self._rows = {}
        self._order = _Order()
        self._orders = {None: self._order}
        self._shown = None
        self._filtered.clear()
        self._line_cache.clear()
        self.marked = set()

    def on_mount(self) -> None:
        # Relative times ("3m ago") age: re-render now and then even when nothing changed.
        self.set_interval(30, self.refresh_rows)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._style_cache.clear()
        self._bar_styles = None
        self._line_cache.clear()

    def refresh_rows(self) -> None:
        """Re-render every row (after the rows' objects changed in place)."""
        self._line_cache.clear()
        self.refresh()

    # -- data ------------------------------------------------------------------------------

    @property
    def rows(self) -> list[R]:
        """Every row, in arrival order."""
        return list(self._rows.values())

    def iter_rows(self) -> Iterable[R]:
        """Every row, in arrival order, without copying."""
        return self._rows.values()

    @property
    def view(self) -> TableView[R]:
        """The rows shown, filtered and sorted (a read-only sequence, not a copy)."""
        return TableView(self)

    @property
    def shown_count(self) -> int:
        return len(self._visible_entries())

    @property
    def row_count(self) -> int:
        return len(self._rows)

    def _visible_entries(self) -> Sequence[Entry]:
        return self._order.sorted if self._shown is None else self._shown

    def row_at(self, index: int) -> R:
        """The row shown at ``index`` (0 is the top)."""
        entries = self._visible_entries()
        if self._backwards:
            index = len(entries) - 1 - index
        return self._rows[entries[index][2]]

    def _index_of(self, key: str) -> int | None:
        entry = self._order.entries.get(key)
        if entry is None:
            return None
        entries = self._visible_entries()
        if self._shown is None:
            index = int(self._order.sorted.index(entry))
        else:
            index = bisect_left(self._shown, entry)
            if index >= len(self._shown) or self._shown[index] != entry:
                return None
        return len(entries) - 1 - index if self._backwards else index

    @property
    def current(self) -> R | None:
        if 0 <= self.cursor < self.shown_count:
            return self.row_at(self.cursor)
        return None

    def get(self, key: str) -> R | None:
        return self._rows.get(key)

    def set_rows(self, rows: Iterable[R]) -> None:
        keep = self._keep()
        old = self._rows
        self._rows = {self.row_key(r): r for r in rows}
        discard_later(old)  # (100,000 rows freed at once would hold a frame)
        self.marked &= set(self._rows)
        self._order = _Order()  # new rows: numbered afresh
        self._rebuild(keep)

    def add_rows(self, rows: Iterable[R]) -> None:
        """Add rows, or replace rows with the same key. Each row is inserted where the
        sort puts it (a page of ``k`` rows costs O(k log n)); a cursor on the top row
        stays on the top row, otherwise it stays on its row.

        Adding no rows re-sorts everything (for rows whose objects changed in place).
        """
        rows = list(rows)
        self._finish_scan()
        if not rows:
            self.resort()
            return
        top = self.cursor == 0
        keep = self._keep()
        self._filtered.clear()
        shown = self._shown
        orders = [(order, self._column(column)) for column, order in self._orders.items()]
        replaced = False
        current = self._order.entries  # every row's entry: its arrival number
        for row in rows:
            key = self.row_key(row)
            old = current.get(key)
            arrival = self._arrival_of(old)
            if old is not None:
                self._drop(key)
                replaced = True
            self._rows[key] = row
            if self._journal is not None:
                self._journal.add(key)
            hay = self._search_text(row)
            for order, column in orders:
                order.put(key, self._entry(row, key, arrival, column, hay))
            if shown is not None and self._passes(row, hay):
                insort(shown, current[key])
        if replaced:
            self._line_cache.clear()  # rows drawn before may have changed
        if not top and keep is not None and self._index_of(keep) is None:
            keep = None  # the cursor's row left the filter: the cursor stays put
        self._changed(0 if top else None, keep)

    def rows_before_growth(self, rows: Sequence[R]) -> int | None:
        """How many of ``rows`` the table takes before its dicts of every row (the rows,
        each kept order's entries: they hold the same keys) grow, which copies them all
        at once (7–8 ms at 87,381 rows here); None when these rows do not make them grow,
        or under :data:`GROWTH_NOTED_ROWS` rows, where growing is cheap. Only new keys
        count (a row listed again replaces its old one). The growth points are those of
        dicts grown only by insertions; rows removed make the guess late, never wrong."""
        size = len(self._rows)
        if size < GROWTH_NOTED_ROWS:
            return None
        room = _next_growth(size) - size
        for index, row in enumerate(rows):
            if self.row_key(row) not in self._rows:
                if room == 0:
                    return index
                room -= 1
        return None

    def grow_ahead(self) -> bool:
        """Grow one kept order's dict of entries that the next new row would make grow,
        now: True if one was. Called in a turn of the event loop of its own before that
        row is added (which then grows the rows' dict only), so the two copies of every
        key (about 4 ms each at 87,381 rows here) are not made in the same turn."""
        size = len(self._rows)
        if size < GROWTH_NOTED_ROWS or _next_growth(size) != size:
            return False  # the rows' dict is not full: the next row does not grow it
        full = sys.getsizeof(self._rows)
        for order in self._orders.values():
            entries: dict[str, Any] = order.entries
            # (As big as the rows' dict, with as many keys: full too. Once grown, bigger.)
            if len(entries) == size and sys.getsizeof(entries) == full:
                grow_now(entries)
                return True
        return False

    def _drop(self, key: str) -> None:
        """Take a row's entries out of every order and the shown list."""
        shown = self._shown
        if shown is not None:
            entry = self._order.entries[key]
            index = bisect_left(shown, entry)
            if index < len(shown) and shown[index] == entry:
                del shown[index]
        for order in self._orders.values():
            order.discard(key)

    def remove_rows(self, keys: Iterable[str]) -> None:
        self._finish_scan()
        keep = self._keep()
        self._filtered.clear()
        removed = False
        for key in keys:
            if key not in self._rows:
                continue
            removed = True
            self._drop(key)
            if self._journal is not None:
                self._journal.add(key)
            del self._rows[key]
            self.marked.discard(key)
        if removed:
            # Their lines go too: a row added later under the same key (a file attached
            # again, a store a listing left out) is drawn afresh, never as it was.
            self._line_cache.clear()
        if keep is not None and keep not in self._rows:
            keep = None  # the cursor's row went: the cursor stays put, on the next row
        self._changed(None, keep)

    def set_filter(
        self,
        predicate: Callable[[R], bool] | None,
        *,
        text: str = "",
        narrower: bool = False,
        cache_key: object = None,
    ) -> None:
        """Show rows for which ``predicate`` holds and whose :attr:`search_fields`
        contain ``text`` (case-insensitive; ``!text`` keeps the rest). With
        ``narrower`` the caller promises the new filter keeps a subset of what the
        previous one kept: only the rows shown now are tested. A ``cache_key`` names
        the filter: while the rows and the order stay the same, asking for it again
        reuses its result (backspace over a filter typed a moment ago).

        A big table is filtered in slices, top of the screen first: what the first
        few milliseconds find is painted at once, the rest follows between frames
        (:attr:`filtering` is true meanwhile; :class:`Filtered` is posted when the
        count is final). The next filter takes over a scan still running."""
        keep = self._scan_keep() or self._keep()
        scan = self._scan
        self._filter = predicate
        invert = text.startswith("!")
        wanted = (text[1:] if invert else text).lower()
        self._needle = (wanted, invert) if wanted and self.search_fields is not None else None
        cached = self._filtered.get(cache_key) if cache_key is not None else None
        self._scan = None
        if self._filter is None and self._needle is None:
            self._shown = None
        elif cached is not None:
            # Shared with the cache, not copied: the shown list is changed in place only
            # by new or removed rows, and those clear the cache first.
            self._shown = cached
        else:
            if narrower and scan is not None:
                # Narrow what was found so far; the rows not looked at yet are looked
                # at with the new filter only.
                found = self._matching(self._shown or [])
                source, position = scan.source, scan.position
            else:
                found = []
                # Read in place, not copied (a copy of 100,000 entries is a big young
                # list for every garbage collection to walk): the rows and the order do
                # not change while a scan runs, they finish it first.
                source = self._visible_entries() if narrower else self._order.sorted
                position = 0
            self._begin_scan(found, _Scan(source, position, cache_key, keep))
        self._changed(None, keep)
        self._scan_started()

    def _begin_scan(self, found: list[Entry], scan: _Scan) -> None:
        """Start a scan with the rows ``found`` so far: its first slices look for a
        screenful before the next frame."""
        self._shown = found
        self._scan = scan
        self._scan_for(SCAN_BUDGET, self._screenful())
        if self._scan is not None and len(scan.source) - scan.position <= SCAN_FINISH_NOW:
            self._scan_for(float("inf"))

    def _scan_started(self) -> None:
        """After a filter was set (its first slices shown): the rest of its scan runs
        between frames, or the count is final already."""
        if self._scan is not None:
            self._scan.cursor = self.cursor
            # (The function, not a coroutine: a worker cancelled before it starts leaves
            # no coroutine never awaited. Textual's WorkType cannot infer None here.)
            work: Any = self._scan_rest
            self.run_worker(work, group="filter", exclusive=True)
        else:
            self.post_message(self.Filtered(self))

    def _scan_keep(self) -> str | None:
        """The row a running scan will put the cursor back on (None: no scan, or the
        cursor was moved since): the scan only put the cursor on its first rows, the
        row the user was on is still that one."""
        scan = self._scan
        if scan is not None and self.cursor == scan.cursor:
            return scan.keep
        return None

    @property
    def filtering(self) -> bool:
        """A filter is still looking at rows (the rows shown so far are its first)."""
        return self._scan is not None

    def _matching(self, entries: Sequence[Entry]) -> list[Entry]:
        """The entries that pass the text filter and the predicate."""
        if self._needle is not None:
            wanted, invert = self._needle
            # One pass in C iterators (no Python frame per row): each entry's search
            # text, whether it holds the needle, and the entries kept.
            found: Iterable[bool] = map(contains, map(itemgetter(3), entries), repeat(wanted))
            if invert:
                found = map(not_, found)
            kept = list(compress(entries, found))
        else:
            kept = list(entries)
        predicate = self._filter
        if predicate is not None:
            rows = self._rows
            kept = [e for e in kept if predicate(rows[e[2]])]
        return kept

    def _scan_for(self, budget: float, enough: int | None = None) -> None:
        """Look at the next slices of the scan for about ``budget`` seconds (at least one
        slice), or until ``enough`` rows are found (a screenful, for the frame that
        follows a key); finish it when the source is exhausted. Slices go from the top of
        the screen down (from the end of the ascending order when the sort is reversed)."""
        scan = self._scan
        shown = self._shown
        if scan is None or shown is None:
            return
        source = scan.source
        deadline = time.perf_counter() + budget
        # Looking for a screenful: smaller slices, so a filter most rows pass stops soon.
        chunk = SCAN_CHUNK if enough is None else min(SCAN_CHUNK, SCAN_FIRST_CHUNK)
        while scan.position < len(source):
            end = min(len(source), scan.position + chunk)
            if self._backwards:
                # Position counts from the end of the ascending source.
                lo, hi = len(source) - end, len(source) - scan.position
                shown[:0] = self._matching(source[lo:hi])
            else:
                shown.extend(self._matching(source[scan.position : end]))
            scan.position = end
            if time.perf_counter() >= deadline or (enough is not None and len(shown) >= enough):
                return
        self._scan = None
        if scan.cache_key is not None:
            if len(self._filtered) >= 16:
                self._filtered.clear()
            self._filtered[scan.cache_key] = shown  # shared (see set_filter)

    async def _scan_rest(self) -> None:
        """The rest of a scan, a slice per turn of the event loop (keys and frames get
        their turn in between)."""
        while self._scan is not None:
            await asyncio.sleep(0)
            scan = self._scan
            if scan is None:
                return
            before = self.shown_count
            self._scan_for(SCAN_BUDGET)
            if self._scan is None:
                self._scan_done(scan, before)
                return
            # Rows found below the screen wait for the end of the scan: the scrollbar is
            # painted once, not on every frame (unless the user moved the cursor: it may
            # need rows below to scroll to).
            if self._on_screen(before) or self.cursor != scan.cursor:
                self._resize_virtual(Size(self._content_width(), self.shown_count + 1))
            if self._on_screen(before):
                self.refresh()

    def _screenful(self) -> int:
        """How many rows the first slices of a scan look for before the next frame: as
        many as the screen shows down to its bottom line (the rest follows between frames)."""
        return int(self.scroll_offset.y) + max(self.size.height, 1)

    def _on_screen(self, index: int) -> bool:
        """Whether the row shown at ``index`` would be on screen (rows a scan finds go
        below those it found before: they need painting only when they show)."""
        return index <= int(self.scroll_offset.y) + self.size.height

    def _finish_scan(self) -> None:
        """Finish a filter still scanning, now (before the rows or the order change, or
        before all the rows shown are read)."""
        if self._scan is not None:
            scan = self._scan
            before = self.shown_count
            self._scan_for(float("inf"))
            self._scan_done(scan, before)

    def _scan_done(self, scan: _Scan, before: int) -> None:
        """A scan ended (``before``: rows shown before its last slice): the cursor goes
        back to the row it was on (when that row passes and the cursor was not moved
        meanwhile); the count is final. The rows on screen are painted again only when
        the last slice put some there."""
        index = None
        if scan.keep is not None and self.cursor == scan.cursor:
            index = self._index_of(scan.keep)
        self._changed(index, None, repaint=self._on_screen(before))
        self.post_message(self.Filtered(self))

    def sort_by(self, column_key: str | None, reverse: bool = False) -> None:
        """Sort by a column. An order used recently is kept up to date as rows arrive,
        so switching back to it (or reversing) sorts nothing. A new order for a big table
        is built in a worker thread: the table keeps answering keys meanwhile, and shows
        the new order (with rows that arrived in between) when it is ready."""
        self._finish_scan()
        self._pending_sort = None
        self._journal = None
        column = self._column(column_key)
        wanted = column.key if column is not None and column.sort_key is not None else None
        if (
            wanted not in self._orders
            and len(self._rows) >= BACKGROUND_SORT_ROWS
            and self.is_attached
        ):
            self._sort_in_background(column_key, reverse)
            return
        self._switch_order(column_key, reverse, self._orders.pop(wanted, None))

    def _switch_order(self, column_key: str | None, reverse: bool, order: _Order | None) -> None:
        self._finish_scan()
        keep = self._keep()
        self.sort_column = column_key
        self.sort_reverse = reverse
        column = self._sort_column()
        self._backwards = reverse and column is not None
        wanted = column.key if column is not None else None
        if order is None and wanted == self._order.column and wanted in self._orders:
            order = self._order
        if order is None:
            order = self._orders.pop(wanted, None) or self._build_order(column)
        self._orders.pop(wanted, None)
        self._orders[wanted] = order  # most recently used last
        if wanted is not None and None in self._orders:
            # The arrival order is kept only while it is shown: no key leads back to it
            # once a column is sorted (``s`` and the headers cycle through columns), and
            # keeping it current would cost every new row a second insertion.
            self._orders.pop(None).release()
        while len(self._orders) > ORDERS_KEPT:
            self._orders.pop(next(iter(self._orders))).release()
        rescan = False
        if order is not self._order:
            self._order = order
            self._filtered.clear()
            if self._shown is not None:
                # The filter runs again over the new order, in slices like a filter
                # typed (top of the screen first): picking the rows shown out of the
                # new order at once would hold a frame for every row.
                self._begin_scan([], _Scan(order.sorted, 0, None, keep))
                rescan = True
        self._changed(None, keep)
        if rescan:
            self._scan_started()

    def _sort_in_background(self, column_key: str | None, reverse: bool) -> None:
        column = self._column(column_key)
        # The keys are listed by the worker: list() of a dict is one C call, which no
        # other thread interrupts, and here it cost 2.5 ms of the key's frame at 100,000
        # rows. Rows changed from now on are in the journal (also if listed).
        keys: list[str] = []
        rows = self._rows
        # Arrival numbers and search texts from the order shown. Rows still arrive and go
        # while this sort is pending (its entries change with them): the worker reads an
        # entry once, skips the rows gone, and the journal brings the rest up to date.
        current = self._order.entries
        self._sort_generation += 1
        generation = self._sort_generation
        self._pending_sort = (column_key, reverse)
        self._journal = set()

        def build() -> None:
            nonlocal keys, current, rows
            try:
                order = make()
            except Exception as error:  # a sort key that cannot order some row
                keys, current, rows = [], {}, {}  # (see below)
                self.app.call_from_thread(self._sort_failed, generation, type(error).__name__)
                return
            self.app.call_from_thread(self._sorted, generation, order)

        def make() -> _Order:
            nonlocal keys, current, rows
            sort_key = column.sort_key if column is not None else None
            with building_long_lived():
                keys = list(rows)
                # (Entries compare by value and arrival number, unique: never further.)
                values: list[Entry] = []
                for key in keys:
                    row = rows.get(key)
                    known = current.get(key)
                    if row is None or known is None:
                        continue  # removed meanwhile
                    # (The search text is taken now: the row may be dropped from the
                    # shown order's entries before the end; the journal brings it back.)
                    number, hay = known[1], known[3]
                    values.append((sort_key(row) if sort_key else number, number, key, hay))
                # Sorted in chunks and merged (Python code, so the interpreter lock passes
                # to the UI thread between steps): one sort of every row would hold it.
                chunks = [
                    sorted(values[i : i + SORT_CHUNK]) for i in range(0, len(values), SORT_CHUNK)
                ]
                del values
                ordered = heapq.merge(*chunks)
                # The entries are made in the new order, search texts copied: a filter
                # reads them in the order shown, and entries strewn over memory (as the
                # rows arrived) cost it a cache miss or three each, 2-3x the time of
                # entries laid out in order (35 vs 12 ms for 100,000 rows, measured here).
                merged = [(value, n, key, _copy(hay)) for value, n, key, hay in ordered]
                del ordered, chunks
                entries = {entry[2]: entry for entry in merged}
                column_key = column.key if column is not None and sort_key else None
                order = _Order(column_key, entries, merged)
                # This worker and its closure form a cycle that is frozen here and freed
                # only by a full collection (so, once frozen, never): the closure lets go
                # of the keys, the rows and the old order's entries first.
                keys, current, rows = [], {}, {}
            return order

        def start() -> None:
            if generation == self._sort_generation and self._pending_sort is not None:
                self.run_worker(
                    build, thread=True, group="sort", exclusive=True, exit_on_error=False
                )

        # The header says the sort is on its way (only its line is painted again: the
        # rows stay as they are until the new order is shown); the thread starts once
        # that is painted (while it runs, the UI thread shares the interpreter with it).
        self.refresh_header()
        self.call_after_refresh(start)

    def refresh_header(self) -> None:
        """Paint the header line again (and nothing else)."""
        self.refresh(Region(0, 0, max(self.size.width, 1), 1))

    def _sort_failed(self, generation: int, error: str) -> None:
        """A background sort raised (``error``: the exception's type; its text may quote a
        row): the order shown stays, the header loses its "…", and the user is told."""
        if generation != self._sort_generation or self._pending_sort is None:
            return
        column = self._column(self._pending_sort[0])
        self._pending_sort = None
        self._journal = None
        self.refresh_header()
        label = column.label if column is not None else "arrival"
        self.notify(
            f"Could not sort by {label} ({error}). The order shown is kept.",
            severity="warning",
            markup=False,
        )

    def _sorted(self, generation: int, order: _Order) -> None:
        """A background sort finished: catch up with rows changed meanwhile, then show."""
        if generation != self._sort_generation or self._pending_sort is None:
            return
        column_key, reverse = self._pending_sort
        column = self._column(order.column)
        for key in self._journal or ():
            order.discard(key)
            row = self._rows.get(key)
            if row is not None:
                _, number, _, hay = self._order.entries[key]
                order.put(key, self._entry(row, key, number, column, hay))
        self._pending_sort = None
        self._journal = None
        self._switch_order(column_key, reverse, order)

    def resort(self) -> None:
        """Sort and filter everything again (after rows changed in place). A cursor on
        the top row stays there; otherwise it stays on its row."""
        kept = self._scan_keep()
        if kept is not None:  # a filter was scanning: back to the row it would go back to
            self._rebuild(kept)
            return
        self._rebuild(self._keep(), 0 if self.cursor == 0 else None)

    @property
    def sorting(self) -> tuple[str | None, bool]:
        """The sort asked for last, ``(column, reverse)``: the one being built in the
        background if any, else the one shown."""
        return self._pending_sort or (self.sort_column, self.sort_reverse)

    def sort_announcement(self, label: str) -> str | None:
        """What to tell the user after sorting by the column ``label``: nothing when the
        header shows it (its ▲/▼, or … while a big sort is built), else a sentence."""
        key = self.sorting[0]
        if any(column.key == key for column in self._drawn_columns()[0]):
            return None
        return f"Sorted by {label} (a column hidden at this width)"

    def cycle_sort(self) -> str:
        """Sort by the next sortable column; returns its label."""
        sortable = [c for c in self.columns if c.sort_key is not None]
        keys = [c.key for c in sortable]
        current = self.sorting[0]
        index = keys.index(current) + 1 if current in keys else 0
        column = sortable[index % len(sortable)]
        self.sort_by(column.key, False)
        return column.label

    def _keep(self) -> str | None:
        current = self.current
        return self.row_key(current) if current is not None else None

    def _column(self, key: str | None) -> Column[R] | None:
        return next((c for c in self.columns if c.key == key), None) if key else None

    def _sort_column(self) -> Column[R] | None:
        column = self._column(self.sort_column)
        return column if column is not None and column.sort_key is not None else None

    @staticmethod
    def _entry(row: R, key: str, arrival: int, column: Column[R] | None, hay: str) -> Entry:
        if column is None or column.sort_key is None:
            return (arrival, arrival, key, hay)
        return (column.sort_key(row), arrival, key, hay)

    def _build_order(self, column: Column[R] | None, fresh: bool = False) -> _Order:
        """Every row's entry for ``column``: arrival numbers and search texts from the
        current order (``fresh``: search texts made again, new rows numbered)."""
        rows = self._rows
        current = self._order.entries
        sort_key = column.sort_key if column is not None else None
        entries: dict[str, Entry] = {}
        for key, row in rows.items():
            old = current.get(key)
            number = self._arrival_of(old)
            hay = self._search_text(row) if fresh or old is None else old[3]
            entries[key] = (sort_key(row) if sort_key else number, number, key, hay)
        return _Order(column.key if column is not None and sort_key else None, entries)

    def _arrival_of(self, old: Entry | None) -> int:
        """A row's arrival number: the one its entry has, or the next one."""
        if old is not None:
            return int(old[1])
        self._arrivals += 1
        return self._arrivals - 1

    def _search_text(self, row: R) -> str:
        """What a text filter searches in a row (made once, as the row arrives)."""
        fields = self.search_fields
        return "\0".join(fields(row)).lower() if fields is not None else ""

    def _passes(self, row: R, hay: str) -> bool:
        if self._needle is not None:
            wanted, invert = self._needle
            if (wanted in hay) == invert:
                return False
        return self._filter is None or self._filter(row)

    def _rebuild(self, keep: str | None, index: int | None = None) -> None:
        if self._pending_sort is not None:  # everything is sorted again here and now
            self.sort_column, self.sort_reverse = self._pending_sort
            self._backwards = self.sort_reverse and self._sort_column() is not None
            self._pending_sort = None
            self._journal = None
            self._sort_generation += 1
        column = self._sort_column()
        self._filtered.clear()
        self._line_cache.clear()  # rows may have changed in place
        self._order = self._build_order(column, fresh=True)
        for old in self._orders.values():
            old.release()
        self._orders = {self._order.column: self._order}
        scanning = self._scan is not None
        self._scan = None
        if self._filter is None and self._needle is None:
            self._shown = None
        else:
            self._shown = self._matching(self._order.sorted)
        self._changed(index, keep)
        if scanning:  # filtered here in full: the count a scan would have given is final
            self.post_message(self.Filtered(self))

    def _changed(self, index: int | None, keep: str | None, repaint: bool = True) -> None:
        """After the data changed: size, cursor (``index``, else the ``keep`` row's place,
        else where it was, within bounds) and a repaint (``repaint=False``: the rows on
        screen are the same; a cursor that moves repaints its lines by itself)."""
        count = self.shown_count
        # (A row's line does not depend on where it is: filtering, sorting and new rows
        # keep the lines drawn so far.)
        self._resize_virtual(Size(self._content_width(), count + 1))
        if index is None and keep is not None:
            index = self._index_of(keep)
            if index is None:
                index = 0
        if index is None:
            index = self.cursor
        self.cursor = min(index, max(0, count - 1))
        if repaint:
            self.refresh()

    def _resize_virtual(self, size: Size) -> None:
        """Set the scrollable size without laying out the whole screen.

        Setting ``virtual_size`` lays out every widget on the screen (the table's own
        size does not depend on it: its height is ``1fr``). Here only the scrollbars
        follow; when one of them appears or goes, Textual lays out as usual.
        """
        if size == self.virtual_size:
            return
        if not self.is_mounted or not self.size:
            self.virtual_size = size
            return
        self.set_reactive(VirtualTable.virtual_size, size)
        # Textual's own step after a resize (pinned textual): scrollbar visibility,
        # their thumb, and the scroll offset kept within the new bounds.
        self._scroll_update(size)

    def _scroll_update(self, virtual_size: Size) -> None:
        super()._scroll_update(virtual_size)
        # Textual moves a thumb only while its bar is shown: a scroll made while a filter
        # showed too few rows for a bar (the first slice of a scan, say) would leave the
        # thumb where it was when the bar comes back.
        if self.show_vertical_scrollbar:
            self.vertical_scrollbar.position = self.scroll_y
        if self.show_horizontal_scrollbar:
            self.horizontal_scrollbar.position = self.scroll_x

    def status_style(self, status: str) -> Style:
        """The theme's style for a status (see :mod:`vstui.widgets.palette`)."""
        cached = self._style_cache.get(status)
        if cached is None:
            cached = palette.status_style(self.app.get_css_variables(), status)
            self._style_cache[status] = cached
        return cached

    def _base_style(self) -> Style:
        """The table's own style (Textual computes it from every ancestor, so once per
        style change, not once per line)."""
        cached = self._style_cache.get(" base")
        if cached is None:
            cached = self._style_cache[" base"] = self.rich_style
        return cached

    def muted_style(self) -> Style:
        """Secondary text (IDs, attributes, the empty message)."""
        cached = self._style_cache.get(" muted")
        if cached is None:
            cached = palette.muted_style(self.app.get_css_variables())
            self._style_cache[" muted"] = cached
        return cached

    def bar_styles(self) -> dict[str, Style]:
        """Styles for a progress bar in a cell (:func:`vstui.widgets.bars.stacked`)."""
        if self._bar_styles is None:
            self._bar_styles = palette.bar_styles(self.app.get_css_variables())
        return self._bar_styles

    def export_rows(self) -> list[list[Any]]:
        """The header and every row shown (filtered, sorted), every column, as raw values
        (a column's ``export``: ISO timestamps, integer bytes) or else the text shown."""
        out: list[list[Any]] = [[k for c in self.columns for k in c.export_keys or (c.key,)]]
        for row in self.view:
            cells: list[Any] = []
            for column in self.columns:
                if column.export is not None:
                    value = column.export(row)
                    if column.export_keys:
                        cells.extend("" if v is None else v for v in value)
                    else:
                        cells.append("" if value is None else value)
                else:
                    value = column.render(row)
                    cells.append(value.plain if isinstance(value, Text) else str(value))
            out.append(cells)
        return out

    # -- marks -----------------------------------------------------------------------------

    def toggle_mark(self) -> None:
        row = self.current
        if row is None:
            return
        key = self.row_key(row)
        if key in self.marked:
            self.marked.discard(key)
        else:
            self.marked.add(key)
        self.refresh_rows()

    def mark_all_visible(self) -> None:
        self.marked |= {self.row_key(r) for r in self.view}
        self.refresh_rows()

    def clear_marks(self) -> None:
        self.marked.clear()
        self.refresh_rows()

    @property
    def marked_rows(self) -> list[R]:
        return [r for k, r in self._rows.items() if k in self.marked]

    # -- cursor ----------------------------------------------------------------------------

    def validate_cursor(self, value: int) -> int:
        count = self.shown_count
        return max(0, min(value, count - 1)) if count else 0

    def watch_cursor(self, old: int, new: int) -> None:
        if self._scan is not None and new >= self.virtual_size.height - 1:
            # A scan sizes the table for the rows found below the screen only when it
            # ends: the cursor moved past them needs room to scroll to now.
            self._resize_virtual(Size(self._content_width(), self.shown_count + 1))
        top = int(self.scroll_offset.y)
        self._scroll_cursor_into_view()
        if int(self.scroll_offset.y) == top:
            # Only the two rows whose highlight changed are painted again (a scroll
            # repaints everything by itself).
            for index in {old, new}:
                if 0 <= index - top < self.size.height:
                    self.refresh(Region(0, index - top + 1, self.size.width, 1))
        self.post_message(self.Highlighted(self, self.current))

    def _scroll_cursor_into_view(self) -> None:
        visible = max(1, self.scrollable_content_region.height - 1)
        top = int(self.scroll_offset.y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + visible:
            self.scroll_to(y=self.cursor - visible + 1, animate=False, immediate=True)

    def action_cursor(self, delta: int) -> None:
        self.cursor += delta

    def action_page(self, direction: int) -> None:
        self.cursor += direction * max(1, self.scrollable_content_region.height - 2)

    def action_jump(self, where: int) -> None:
        if where != 0:
            self._finish_scan()  # the last row of the filter, not of its rows so far
        self.cursor = 0 if where == 0 else self.shown_count - 1

    def action_select(self) -> None:
        if self.current is not None:
            self.post_message(self.Selected(self, self.current))

    def on_resize(self) -> None:
        self._line_cache.clear()
        self._layout = None
        self.virtual_size = Size(self._content_width(), self.shown_count + 1)
        self._scroll_cursor_into_view()

    async def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        if offset.y == 0:
            column = self._column_at(offset.x + int(self.scroll_offset.x))
            if column is not None and column.sort_key is not None:
                reverse = not self.sort_reverse if self.sort_column == column.key else False
                self.sort_by(column.key, reverse)
            return
        index = int(self.scroll_offset.y) + offset.y - 1
        if 0 <= index < self.shown_count:
            self.cursor = index
            if event.chain >= 2:
                self.action_select()

    # -- rendering -------------------------------------------------------------------------

    GUTTER = 2

    @property
    def column_layout(self) -> ColumnLayout:
        """The columns shown at the current width (recomputed when the width changes)."""
        return self._layout_for(self.scrollable_content_region.width)[1]

    def _layout_for(self, available: int) -> tuple[int, ColumnLayout, list[Column[R]]]:
        """The layout for ``available`` cells, with the columns it shows (cached)."""
        cached = self._layout
        if cached is None or cached[0] != available:
            layout = plan_layout(self.columns, available, self.GUTTER)
            cached = (available, layout, [self.columns[i] for i in layout.shown])
            self._layout = cached
        return cached

    @property
    def shown_columns(self) -> list[Column[R]]:
        return list(self._drawn_columns()[0])

    def _drawn_columns(self, width: int | None = None) -> tuple[list[Column[R]], tuple[int, ...]]:
        """The columns shown and their widths at ``width`` (default: the table's; no
        copies: drawn once per line)."""
        if width is None:
            width = self.scrollable_content_region.width
        _, layout, columns = self._layout_for(width)
        return columns, layout.widths

    @property
    def hidden_columns(self) -> list[Column[R]]:
        shown = set(self.column_layout.shown)
        return [c for i, c in enumerate(self.columns) if i not in shown]

    def _content_width(self) -> int:
        layout = self.column_layout
        note = len(layout.hidden_label) + 1 if layout.hidden else 0
        return self.GUTTER + sum(layout.widths) + len(layout.widths) - 1 + note

    def _column_at(self, x: int) -> Column[R] | None:
        position = self.GUTTER
        for column, width in zip(*self._drawn_columns(), strict=True):
            if position <= x < position + width + 1:
                return column
            position += width + 1
        return None

    def cell_text(self, row: R, column: Column[R]) -> str:
        """A cell's whole text, as plain (cleaned) text."""
        value = column.render(row)
        return clean(value.plain if isinstance(value, Text) else str(value))

    def clipped_cells(self, row: R) -> list[tuple[str, str]]:
        """``(label, full text)`` of the row's cells that are hidden or cut short."""
        out = []
        layout = self.column_layout
        widths = dict(zip(layout.shown, layout.widths, strict=True))
        for i, column in enumerate(self.columns):
            text = self.cell_text(row, column)
            if not text:
                continue
            width = widths.get(i)
            if width is None or cell_len(text) > width:
                out.append((column.label, text))
        return out

    def detail_line(self, row: R | None = None) -> str:
        """The full values the table cannot show for ``row`` (default: the cursor's)."""
        row = self.current if row is None else row
        if row is None:
            return ""
        return " · ".join(f"{label}: {text}" for label, text in self.clipped_cells(row))

    def on_mouse_move(self, event: events.MouseMove) -> None:
        """A tooltip with the whole value of a cell that is cut short."""
        offset = event.get_content_offset(self)
        tip: Content | None = None
        if offset is not None and offset.y > 0:
            index = int(self.scroll_offset.y) + offset.y - 1
            column = self._column_at(offset.x + int(self.scroll_offset.x))
            if column is not None and 0 <= index < self.shown_count:
                row = self.row_at(index)
                text = self.cell_text(row, column)
                clipped = dict(self.clipped_cells(row))
                if column.label in clipped:
                    tip = Content(text)  # server text: shown as typed, never markup
        if tip != self.tooltip:
            self.tooltip = tip

    def _cell_segments(self, value: Cell, width: int, justify: str, base: Style) -> list[Segment]:
        """One cell, truncated with an ellipsis and padded to ``width``.

        Plain and single-style cells (nearly all of them) become one segment directly;
        only cells with several styles go through rich's full rendering. Cell text is
        untrusted: controls and bidi characters are escaped, line breaks shown as ``⏎``.
        """
        if isinstance(value, Text) and value.spans:
            text = clean_rich(value)
            text = text.copy() if text is value else text
            text.truncate(width, overflow="ellipsis", pad=False)
            pad = " " * (width - text.cell_len)
            if justify == "right":
                text = Text(pad) + text
            else:
                text.append(pad)
            return [
                Segment(seg.text, base + seg.style if seg.style else base)
                for seg in text.render(self.app.console)
                if seg.text
            ]
        if isinstance(value, Text):
            own = Style.parse(value.style) if isinstance(value.style, str) else value.style
            plain, style = value.plain, base + own
        else:
            plain, style = str(value), base
        plain = clean(plain)
        length = cell_len(plain)
        if length > width:
            plain = set_cell_size(plain, max(0, width - 1)) + "…" if width else ""
            length = width
        pad = " " * (width - length)
        return [Segment(pad + plain if justify == "right" else plain + pad, style)]

    def _row_strip(
        self,
        cells: Sequence[Cell],
        gutter: Segment,
        base: Style,
        width: int,
        note: str = "",
        note_style: Style | None = None,
    ) -> Strip:
        segments = [gutter]
        space = Segment(" ", base)
        columns, widths = self._drawn_columns(width)
        for i, (value, cell_width, column) in enumerate(zip(cells, widths, columns, strict=True)):
            if i:
                segments.append(space)
            segments.extend(self._cell_segments(value, cell_width, column.justify, base))
        if note:
            segments.append(Segment(" " + note, note_style or base))
        x = int(self.scroll_offset.x)
        return Strip(segments).crop(x, x + width).extend_cell_length(width, base)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self._base_style()
        if y == 0:
            header = self.get_component_rich_style("virtual-table--header")
            sorted_style = self.get_component_rich_style("virtual-table--sorted")
            labels: list[Cell] = []
            for column, cell_width in zip(*self._drawn_columns(width), strict=True):
                if self._pending_sort is not None and column.key == self._pending_sort[0]:
                    mark = " …"
                elif column.key == self.sort_column:
                    mark = " ▼" if self.sort_reverse else " ▲"
                else:
                    labels.append(column.label)
                    continue
                labels.append(Text(sort_label(column.label, mark, cell_width), style=sorted_style))
            head = base + header
            layout = self.column_layout
            note = ""
            if layout.hidden:
                # Right-aligned in the space the layout kept for it.
                room = width - (self.GUTTER + sum(layout.widths) + len(layout.widths) - 1) - 1
                note = layout.hidden_label.rjust(max(room, len(layout.hidden_label)))
            return self._row_strip(
                labels,
                Segment("  ", head),
                head,
                width,
                note,
                head + self.muted_style() + Style(italic=True, bold=False),
            )
        index = int(self.scroll_offset.y) + y - 1
        count = self.shown_count
        if not count:
            if y == 2:
                empty = base + self.muted_style() + Style(italic=True)
                # While a filter still looks at rows, none found so far is not "none".
                text = "Filtering…" if self.filtering else self.empty_text
                line = [Segment("  " + text, empty)]
                return Strip(line).crop(0, width).extend_cell_length(width, base)
            return Strip.blank(width, base)
        if index >= count:
            return Strip.blank(width, base)
        row = self.row_at(index)
        key = self.row_key(row)
        is_cursor = index == self.cursor
        cache_key = (key, is_cursor, key in self.marked, width, int(self.scroll_offset.x))
        cached = self._line_cache.get(cache_key)
        if cached is not None:
            return cached
        cells = [column.render(row) for column in self._drawn_columns(width)[0]]
        if key in self.marked:
            marked = self.get_component_rich_style("virtual-table--marked")
            gutter = Segment("● ", base + marked)
        else:
            gutter = Segment("  ", base)
        strip = self._row_strip(cells, gutter, base, width)
        if is_cursor:
            cursor = self.get_component_rich_style("virtual-table--cursor")
            strip = Strip(
                Segment.apply_style(list(strip), post_style=Style(bgcolor=cursor.bgcolor))
            )
        self._line_cache[cache_key] = strip
        return strip
