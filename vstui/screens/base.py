"""What every vstui screen shares: I/O in worker threads, results as messages, errors as
notifications, and a stale-result guard."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on
from textual.message import Message
from textual.screen import Screen
from textual.worker import get_current_worker

from ..api import APIError, VstuiError

if TYPE_CHECKING:
    from ..app import VstuiApp
    from ..session import Session


class IODone(Message, bubble=False):
    """A worker finished (``final``) or streamed a partial result for ``key``."""

    def __init__(self, key: str, generation: int, result: Any, final: bool = True) -> None:
        super().__init__()
        self.key = key
        self.generation = generation
        self.result = result
        self.final = final


class IOFailed(Message, bubble=False):
    def __init__(self, key: str, generation: int, error: BaseException) -> None:
        super().__init__()
        self.key = key
        self.generation = generation
        self.error = error


def describe_error(error: BaseException) -> str:
    """One sentence for a notification: status, message and request ID; never a traceback."""
    if isinstance(error, APIError):
        return error.summary
    if isinstance(error, VstuiError):
        return str(error)
    return f"Unexpected error: {type(error).__name__}: {error}"


class VstuiScreen(Screen[Any]):
    """Base screen. Subclasses call :meth:`io` and implement ``loaded_<key>`` handlers."""

    # Actions that change the account: hidden and refused in read-only mode.
    MUTATING: ClassVar[frozenset[str]] = frozenset()
    HELP: ClassVar[str] = ""

    def __init__(self) -> None:
        super().__init__()
        self._generations: dict[str, int] = {}

    @property
    def vstui(self) -> VstuiApp:
        from ..app import VstuiApp

        assert isinstance(self.app, VstuiApp)
        return self.app

    @property
    def session(self) -> Session:
        return self.vstui.session

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

    def io(
        self,
        key: str,
        fn: Callable[..., Any],
        *args: Any,
        stream: bool = False,
        **kwargs: Any,
    ) -> int:
        """Run ``fn(*args, **kwargs)`` in a thread; its result arrives as ``loaded_<key>``.

        With ``stream=True`` ``fn`` gets an ``emit`` keyword to send partial results
        (``loaded_<key>(value, final=False)``) while it runs. Starting ``key`` again makes
        every earlier result for ``key`` stale: it is dropped when it arrives.
        """
        generation = self._generations.get(key, 0) + 1
        self._generations[key] = generation
        self.run_worker(
            partial(self._run_io, key, generation, fn, args, kwargs, stream),
            thread=True,
            group=key,
            exclusive=True,
            exit_on_error=False,
            name=key,
        )
        return generation

    def _run_io(
        self,
        key: str,
        generation: int,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        stream: bool,
    ) -> None:
        worker = get_current_worker()

        def emit(value: Any) -> None:
            if worker.is_cancelled or self.is_stale(key, generation):
                raise _Stale
            self.post_message(IODone(key, generation, value, final=False))

        try:
            if stream:
                kwargs = {**kwargs, "emit": emit}
            result = fn(*args, **kwargs)
        except _Stale:
            return
        except Exception as error:  # reported on screen, never raised into Textual
            self.post_message(IOFailed(key, generation, error))
            return
        self.post_message(IODone(key, generation, result))

    def is_stale(self, key: str, generation: int) -> bool:
        return self._generations.get(key) != generation

    @on(IODone)
    def _io_done(self, message: IODone) -> None:
        if self.is_stale(message.key, message.generation):
            return
        handler = getattr(self, f"loaded_{message.key}", None)
        if handler is not None:
            handler(message.result, final=message.final)

    @on(IOFailed)
    def _io_failed(self, message: IOFailed) -> None:
        if self.is_stale(message.key, message.generation):
            return
        handler = getattr(self, f"failed_{message.key}", None)
        if handler is not None:
            handler(message.error)
        else:
            self.notify_error(message.error)

    def notify_error(self, error: BaseException, title: str = "Request failed") -> None:
        self.notify(describe_error(error), title=title, severity="error", timeout=10)


class Coalescer:
    """Batches streamed items so the UI handles a few updates, not one per page.

    The first batch goes out at once (the first page shows before the rest is fetched);
    later ones at most every ``interval`` seconds; :meth:`flush` sends what is left.
    """

    def __init__(self, emit: Callable[[list[Any]], None], interval: float = 0.1) -> None:
        self._emit = emit
        self._interval = interval
        self._pending: list[Any] = []
        self._last: float | None = None

    def push(self, items: list[Any]) -> None:
        self._pending.extend(items)
        now = time.monotonic()
        if self._last is None or now - self._last >= self._interval:
            self.flush()

    def flush(self) -> None:
        if self._pending:
            batch, self._pending = self._pending, []
            self._last = time.monotonic()
            self._emit(batch)


class _Stale(Exception):
    """Raised inside a streaming worker whose results nobody wants any more."""
