"""What every vstui screen shares: I/O in worker threads, results as messages, errors as
notifications, and a stale-result guard."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from textual import events, on
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen
from textual.widget import Widget
from textual.worker import get_current_worker

from .. import fmt
from ..api import APIError, VectorStore, VstuiError
from ..gc_pacing import freeze_long_lived
from ..refresh import Pacer
from ..session import Session
from ..text import clean
from ..widgets.waiting import WaitingLine

T = TypeVar("T")
U = TypeVar("U")
T_contra = TypeVar("T_contra", contravariant=True)


class SessionHost(Protocol):
    """What a screen needs from the app: the session. Screens never import the app."""

    session: Session


@dataclass(frozen=True)
class StoreRef:
    """A store a screen points at: its ID, and the object when the screen has it."""

    id: str
    store: VectorStore | None = None


class _Delivery(Message, bubble=False):
    """A worker's result (or partial result, or error) on its way to the UI thread.

    ``deliver`` is the typed callback :meth:`VstuiScreen.run_io` was given, already bound
    to its value: the handler is never looked up by name.
    """

    def __init__(self, key: str, generation: int, deliver: Callable[[], None]) -> None:
        super().__init__()
        self.key = key
        self.generation = generation
        self.deliver = deliver


def describe_error(error: BaseException) -> str:
    """One sentence for a notification: status, message and request ID; never a traceback."""
    if isinstance(error, APIError):
        return error.summary
    if isinstance(error, VstuiError):
        return str(error)
    return f"Unexpected error: {type(error).__name__}: {error}"


class VstuiScreen(Screen[Any]):
    """Base screen: the session, read-only refusals, and I/O through :meth:`run_io`."""

    # First in every footer, so it is never cut off on a narrow terminal.
    BINDINGS: ClassVar[list[BindingType]] = [Binding("question_mark", "app.help", "Help")]

    # Actions that change the account: hidden and refused in read-only mode.
    MUTATING: ClassVar[frozenset[str]] = frozenset()
    HELP: ClassVar[str] = ""

    def __init__(self) -> None:
        super().__init__()
        self._generations: dict[str, int] = {}
        self._pacer = Pacer(0)
        self._refreshing = False
        self._refresh_due = 0.0
        # When the data on screen was last read from the server (the session's clock).
        self.refreshed_at: float | None = None

    @property
    def session(self) -> Session:
        # (Read on every cell drawn: a concrete isinstance, not the Protocol's, which
        # walks the Protocol's members each time.)
        session = getattr(self.app, "session", None)
        assert isinstance(session, Session), "the app is not a SessionHost"
        return session

    def on_mount(self) -> None:
        self._fit_header()
        if not self.query(WaitingLine):  # (subclasses may call this again via super())
            service = self.session.service
            self.mount(WaitingLine(service.inflight, give_up=service.settings.timeout))

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: Any = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """Notifications quote names and server messages: never parse them as markup."""
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)

    def on_resize(self, event: events.Resize) -> None:
        """Narrow terminals: the footer drops its padding so more keys fit, and the
        header keeps the masked key whole."""
        from textual.widgets import Footer

        for footer in self.query(Footer):
            footer.compact = event.size.width < 120
        self._fit_header()

    def watch_title(self) -> None:
        self._fit_header()

    def _fit_header(self) -> None:
        """The sub-title (account · host · masked key) for the terminal's width now."""
        if not self.is_mounted:
            return
        session = self.session
        self.sub_title = fmt.header_sub_title(
            clean(self.title or self.app.title),
            session.account_label,
            session.host,
            session.masked_key,
            session.read_only,
            self.app.size.width,
        )
        from textual.widgets import Header, Static

        # The header cuts the title to what the sub-title leaves (App.format_title): the
        # width changed, the sub-title perhaps not (its watcher would not run).
        for header in self.query(Header):
            for line in header.query("HeaderTitle").results(Static):
                line.update(header.format_title())

    # What the app asks a screen (it never digs into a screen's widgets).

    def store_in_view(self) -> StoreRef | None:
        """The store this screen is about (a store's detail, files, search), or None.
        The batch monitor opened from here takes it as the default store for batch IDs."""
        return None

    def selected_store(self) -> StoreRef | None:
        """The store "Go to: files" opens: the one in view, or the one under the cursor."""
        return self.store_in_view()

    # -- read-only -------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return not (self.session.read_only and action in self.MUTATING)

    def refuse_read_only(self, what: str = "That action") -> None:
        self.notify(
            f"{what} changes the account: read-only profile "
            "(--read-only or the profile's read_only setting).",
            title="Read-only",
            severity="warning",
        )

    def on_key(self, event: events.Key) -> None:
        """A write key pressed in read-only mode says so instead of doing nothing (its
        binding is hidden, so Textual would otherwise drop the key silently)."""
        if not self.session.read_only or not self.MUTATING:
            return
        for binding in self._bindings.key_to_bindings.get(event.key, ()):
            if binding.action in self.MUTATING:
                event.stop()
                event.prevent_default()
                self.refuse_read_only(binding.description or binding.action)
                return

    # -- auto-refresh ----------------------------------------------------------------------
    #
    # A screen that follows the account calls :meth:`start_auto_refresh` once and
    # implements :meth:`live_poll` (start the poll, under the key "auto") and
    # :meth:`live_poll_ready` (not while its own full load runs). The poll's callbacks
    # call :meth:`refresh_finished`; only then is the next one scheduled, so polls never
    # overlap. Nothing is polled while the screen is hidden or a dialog is open.

    def start_auto_refresh(self) -> None:
        self._pacer = Pacer(self.session.refresh_seconds)
        self._refresh_due = time.monotonic() + self._pacer.delay
        self.set_interval(0.5, self._refresh_check)

    def live_poll(self) -> None:
        """Start one poll (see :meth:`refresh_finished`)."""
        self.refresh_finished()

    def live_poll_ready(self) -> bool:
        return True

    def show_data_age(self) -> None:
        """Repaint whatever shows :meth:`data_age` (called twice a second)."""

    def _refresh_check(self) -> None:
        self.show_data_age()
        if not self._pacer.enabled or self._refreshing or not self.is_active:
            return
        if time.monotonic() < self._refresh_due or not self.live_poll_ready():
            return
        self._refreshing = True
        self.live_poll()

    def refresh_finished(
        self, *, poll_after_ms: int | None = None, rate_limited: bool = False, failed: bool = False
    ) -> None:
        self._refreshing = False
        if failed:
            delay = self._pacer.failed()
        else:
            delay = self._pacer.done(poll_after_ms=poll_after_ms, rate_limited=rate_limited)
            if not rate_limited:
                self.mark_fresh()
        self._refresh_due = time.monotonic() + delay

    def cancel_auto_refresh(self) -> None:
        """A full reload started: a poll in flight would only bring older news."""
        if self._refreshing:
            self._generations["auto"] = self._generations.get("auto", 0) + 1
            self._refreshing = False
        self._refresh_due = time.monotonic() + self._pacer.delay

    def mark_fresh(self) -> None:
        self.refreshed_at = self.session.now()
        self.show_data_age()  # at once, not at the next half-second tick

    def data_age(self) -> str:
        """How old the data on screen is, for a status line: "updated 12s ago"."""
        if self.refreshed_at is None:
            return ""
        age = max(0.0, self.session.now() - self.refreshed_at)
        if not self._pacer.enabled and age < 60:
            return ""  # refreshed by hand a moment ago: nothing worth saying
        when = "just now" if age < 1 else f"{fmt.duration(age)} ago"
        off = "" if self._pacer.enabled else " (auto-refresh off: r refreshes)"
        return f"updated {when}{off}"

    # -- I/O -------------------------------------------------------------------------------
    #
    # The contract between a screen and its workers: ``fetch`` runs in a thread and only
    # talks to the service; its result arrives on the UI thread at ``on_result`` (typed:
    # mypy checks that ``on_result`` takes what ``fetch`` returns), an exception at
    # ``on_error`` (default: a notification). Streaming work gets an ``emit`` callable
    # whose values arrive at ``on_partial``. Starting ``key`` again makes every earlier
    # result for ``key`` stale: it is dropped when it arrives. Widgets are only touched in
    # the callbacks, never in ``fetch``.

    def run_io(
        self,
        key: str,
        fetch: Callable[[], T],
        on_result: Callable[[T], None],
        on_error: Callable[[BaseException], None] | None = None,
    ) -> int:
        """Run ``fetch()`` in a worker thread; its value goes to ``on_result``."""
        return self._launch_io(key, lambda _emit: fetch(), on_result, on_error, None)

    def run_stream(
        self,
        key: str,
        fetch: Callable[[Callable[[U], None]], T],
        on_partial: Callable[[U], None],
        on_result: Callable[[T], None],
        on_error: Callable[[BaseException], None] | None = None,
    ) -> int:
        """Run ``fetch(emit)`` in a worker thread: each ``emit(value)`` goes to
        ``on_partial``, the return value to ``on_result``."""
        return self._launch_io(key, fetch, on_result, on_error, on_partial)

    def _launch_io(
        self,
        key: str,
        fetch: Callable[[Callable[[U], None]], T],
        on_result: Callable[[T], None],
        on_error: Callable[[BaseException], None] | None,
        on_partial: Callable[[U], None] | None,
    ) -> int:
        generation = self._generations.get(key, 0) + 1
        self._generations[key] = generation
        report_error = on_error or self.notify_error

        def work() -> None:
            worker = get_current_worker()

            def deliver(callback: Callable[[], None]) -> None:
                self.post_message(_Delivery(key, generation, callback))

            def emit(value: U) -> None:
                if worker.is_cancelled or self.is_stale(key, generation):
                    raise _Stale
                if on_partial is not None:
                    deliver(partial(on_partial, value))

            try:
                result = fetch(emit)
            except _Stale:
                return
            except Exception as error:  # reported on screen, never raised into Textual
                deliver(partial(report_error, error))
                return
            deliver(partial(on_result, result))

        self.run_worker(work, thread=True, group=key, exclusive=True, exit_on_error=False, name=key)
        return generation

    def is_stale(self, key: str, generation: int) -> bool:
        return self._generations.get(key) != generation

    @on(_Delivery)
    def _delivered(self, message: _Delivery) -> None:
        if not self.is_stale(message.key, message.generation):
            message.deliver()

    def notify_error(self, error: BaseException, title: str = "Request failed") -> None:
        self.notify(describe_error(error), title=title, severity="error", timeout=10)


class Grows(Protocol[T_contra]):
    """What :class:`RowBuffer` asks the table it fills (``VirtualTable``)."""

    def rows_before_growth(self, rows: Sequence[T_contra]) -> int | None: ...

    def grow_ahead(self) -> bool: ...


class RowBuffer(Generic[T]):
    """Coalesces streamed rows on the UI thread: the first rows go to the table at once,
    later ones at most every ``interval`` seconds (a timer flushes them), so a big
    account re-sorts the table a few times a second rather than once per page, and rows
    never wait for the next page to arrive.

    With the ``table`` the rows go to, a batch that would make the table's dicts of
    every row grow (``rows_before_growth``) is cut there: the table grows its other dicts
    first (``grow_ahead``, one per turn), then the row that grows the rows' dict goes
    alone, then the rest, each in a turn of the event loop of its own (a frame can come
    between). Growing copies every row's key at once (7–8 ms at 87,381 rows here), on
    top of a batch's own 3 ms."""

    def __init__(
        self,
        owner: Widget,
        apply: Callable[[list[T]], None],
        interval: float = 0.1,
        table: Grows[T] | None = None,
    ) -> None:
        self._owner = owner
        self._apply = apply
        self._interval = interval
        self._table = table
        self._pending: list[T] = []
        self._last: float | None = None
        self._unfrozen = 0
        owner.set_interval(interval, self._flush_some)

    def push(self, rows: list[T]) -> None:
        self._pending.extend(rows)
        if self._last is None or time.monotonic() - self._last >= self._interval:
            self._flush_some()

    def flush(self) -> None:
        """Show every row pending, now (the listing ended or failed)."""
        if self._pending:
            rows, self._pending = self._pending, []
            self._show(rows)

    def _flush_some(self) -> None:
        """Show the rows pending, up to where the table's dicts grow (the rest follows in
        the next turns)."""
        if not self._pending:
            return
        rows, self._pending = self._pending, []
        table = self._table
        room = table.rows_before_growth(rows) if table is not None else None
        if table is not None and room is not None:
            if room == 0 and table.grow_ahead():
                rows, self._pending = [], rows  # this turn grew a dict: the rows wait
            else:
                keep = max(room, 1)  # (room 0: the row that makes them grow, alone)
                rows, self._pending = rows[:keep], rows[keep:]
            self._owner.call_later(self._flush_some)  # (a flush in between takes them)
        if rows:
            self._show(rows)

    def _show(self, rows: list[T]) -> None:
        self._last = time.monotonic()
        self._apply(rows)
        # A full collection over 100,000 rows would stall a frame: every 2,500 rows
        # the loaded ones are moved out of the collector's way. Each freeze first
        # collects what was made since the last one (about 20 ms for 2,500 rows),
        # and keeps for good the lines drawn at that moment (Textual's lines are
        # cycles): about 4 MB per 100,000-row listing at this spacing.
        self._unfrozen += len(rows)
        if self._unfrozen >= FREEZE_EVERY:
            self._unfrozen = 0
            freeze_rows()

    def reset(self) -> None:
        """Forget rows not yet shown (a new fetch started)."""
        self._pending = []
        self._last = None


FREEZE_EVERY = 2_500  # rows streamed between two freezes


def freeze_rows() -> None:
    """After a bulk load: move the rows just loaded out of the garbage collector's
    generations, so later collections do not walk 100,000 rows and stall a frame (see
    :func:`vstui.gc_pacing.freeze_long_lived`: garbage is collected first)."""
    freeze_long_lived()


class _Stale(Exception):
    """Raised inside a streaming worker whose results nobody wants any more."""
