"""What every vstui screen shares: I/O in worker threads, results as messages, errors as
notifications, and a stale-result guard."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, ClassVar, Generic, Protocol, TypeVar, runtime_checkable

from textual import on
from textual.message import Message
from textual.screen import Screen
from textual.widget import Widget
from textual.worker import get_current_worker

from ..api import APIError, VectorStore, VstuiError
from ..session import Session

T = TypeVar("T")
U = TypeVar("U")


@runtime_checkable
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

    # Actions that change the account: hidden and refused in read-only mode.
    MUTATING: ClassVar[frozenset[str]] = frozenset()
    HELP: ClassVar[str] = ""

    def __init__(self) -> None:
        super().__init__()
        self._generations: dict[str, int] = {}

    @property
    def session(self) -> Session:
        host = self.app
        assert isinstance(host, SessionHost)
        return host.session

    def on_mount(self) -> None:
        self.sub_title = (
            f"{self.session.account_label} · {self.session.host} · {self.session.masked_key}"
        )
        if self.session.read_only:
            self.sub_title += " · read-only"

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
            f"{what} changes the account, and vstui is in read-only mode "
            "(--read-only or the profile's read_only setting).",
            title="Read-only",
            severity="warning",
        )

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


class RowBuffer(Generic[T]):
    """Coalesces streamed rows on the UI thread: the first rows go to the table at once,
    later ones at most every ``interval`` seconds (a timer flushes them), so a big
    account re-sorts the table a few times a second rather than once per page, and rows
    never wait for the next page to arrive."""

    def __init__(
        self, owner: Widget, apply: Callable[[list[T]], None], interval: float = 0.1
    ) -> None:
        self._apply = apply
        self._interval = interval
        self._pending: list[T] = []
        self._last: float | None = None
        self._unfrozen = 0
        owner.set_interval(interval, self.flush)

    def push(self, rows: list[T]) -> None:
        self._pending.extend(rows)
        if self._last is None or time.monotonic() - self._last >= self._interval:
            self.flush()

    def flush(self) -> None:
        if self._pending:
            rows, self._pending = self._pending, []
            self._last = time.monotonic()
            self._apply(rows)
            # A full collection over 100,000 rows would stall a frame: every 1,000 rows
            # the loaded ones are moved out of the collector's way.
            self._unfrozen += len(rows)
            if self._unfrozen >= FREEZE_EVERY:
                self._unfrozen = 0
                freeze_rows()

    def reset(self) -> None:
        """Forget rows not yet shown (a new fetch started)."""
        self._pending = []
        self._last = None


FREEZE_EVERY = 1_000  # rows streamed between two freezes


def freeze_rows() -> None:
    """After a bulk load: move every object alive now (the rows just loaded) out of the
    garbage collector's generations, so later collections do not walk 100,000 rows and
    stall a frame. Frozen objects are still freed by reference counting (only cyclic
    garbage alive at the moment of a freeze is kept: it is done rarely)."""
    gc.freeze()


class _Stale(Exception):
    """Raised inside a streaming worker whose results nobody wants any more."""
