"""What a key costs the user in a headless Textual app: key → painted, without Pilot.

:class:`KeyProbe` hooks three places of Textual 8.2.8 (read in its sources, so it is tied to
that version):

* ``App.on_event``: the moment the app starts handling a key event (the clock starts);
* ``App._display``: the end of each screen repaint (``Screen._compositor_refresh`` renders
  the compositor's update and hands it to ``_display``; ``_refresh_layout`` ends in the same
  call). A headless app skips turning the update into terminal escape codes, which a real
  terminal pays, so the probe does that here (truecolor, like a modern terminal) and counts
  it as part of the repaint;
* ``MessagePump._dispatch_message``: the end of each message handled (for a key that paints
  nothing, its work ends with its last message).

:meth:`KeyProbe.press` sends a key the way a terminal driver does (``driver.send_message``)
and, instead of Pilot's polling, sleeps until the app has settled: no worker running, no
message queued, no repaint or ``call_after_refresh`` pending, no one-shot timer waiting, and
nothing painted for :data:`QUIET` seconds; repaints in the :data:`GAP` before the next key
are counted as :attr:`KeyProbe.stray` (they would mean a key's work was cut short).
Deferred work (``call_later``, a timer, a worker finishing through ``call_from_thread``) is
thus waited for and its repaint counted.

Per key it reports the **latency** (wall time from the key's handling to the end of the last
repaint it caused), the UI thread's **CPU** time in that window (``time.thread_time``, less
the probe's own polling and the ticker's ticks, see :meth:`KeyProbe.calibrate`) and the
longest **event-loop stall** (a 5 ms ``call_later`` ticker, cheaper than a Textual timer and
blind to nothing the loop does). A key that paints nothing has no latency.
"""

from __future__ import annotations

import asyncio
import io
import statistics
import time
import unicodedata
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

QUIET = 0.1  # seconds without a repaint before a key's work counts as finished
GAP = 0.05  # seconds between a key settling and the next (a late repaint shows up there)
POLL = 0.02  # how often the probe looks whether the app has settled
TIMEOUT = 20.0


@dataclass
class KeyTime:
    """One key: the latency to its first and to its last repaint (``None``: it painted
    nothing), the UI thread's CPU time, how many repaints and the longest event-loop stall
    (times in ms)."""

    first: float | None
    latency: float | None
    cpu: float
    repaints: int
    stall: float


class Ticker:
    """The gaps between 5 ms ticks of the event loop (a stall is a long gap), each tagged
    with a label (for example the rows in the table when it happened)."""

    def __init__(self) -> None:
        self.gaps: list[tuple[float, int]] = []
        self.label = 0
        self.last = time.perf_counter()
        self.ticks = 0  # every tick since the start (never reset)
        self.cost = 0.0  # the UI thread's CPU seconds a tick costs (see KeyProbe.calibrate)
        self._handle: asyncio.TimerHandle | None = None

    @property
    def spent(self) -> float:
        """The UI thread's CPU seconds the ticks so far have cost (estimated)."""
        return self.ticks * self.cost

    def start(self) -> None:
        self.last = time.perf_counter()
        self._handle = asyncio.get_running_loop().call_later(0.005, self._tick)

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _tick(self) -> None:
        self.ticks += 1
        now = time.perf_counter()
        self.gaps.append((now - self.last, self.label))
        self.last = now
        self._handle = asyncio.get_running_loop().call_later(0.005, self._tick)

    def reset(self) -> None:
        self.gaps.clear()
        self.last = time.perf_counter()

    def worst(self) -> float:
        """The longest gap since the last reset (the running one included), in ms."""
        gaps = [g for g, _ in self.gaps]
        gaps.append(time.perf_counter() - self.last)
        return max(gaps) * 1000


@dataclass
class _Window:
    start: float = 0.0
    start_cpu: float = 0.0
    start_harness: float = 0.0
    started: bool = False
    paints: list[tuple[float, float, float]] = field(default_factory=list)  # wall, cpu, harness
    last_message: tuple[float, float, float] | None = None


class KeyProbe:
    """Install with :meth:`install` before the app starts; measure keys with :meth:`press`."""

    def __init__(self, ticker: Ticker, serialize: bool = True) -> None:
        self.ticker = ticker
        self.serialize = serialize
        self.harness = 0.0  # the UI thread's CPU spent by the probe itself (subtracted)
        self.paints = 0  # every repaint since install (to check that an idle app is idle)
        self.stray = 0  # repaints outside any key's window (a key's work finished too late)
        self._window: _Window | None = None
        self._console: Any = None

    def install(self) -> None:
        from rich.console import Console
        from textual import events
        from textual._compositor import CompositorUpdate
        from textual.app import App
        from textual.message_pump import MessagePump

        probe = self
        self._console = Console(
            color_system="truecolor",
            file=io.StringIO(),
            force_terminal=True,
            width=200,
            height=100,
            legacy_windows=False,
        )
        on_event = App.on_event
        display = App._display
        dispatch = MessagePump._dispatch_message

        async def timed_on_event(self: App[Any], event: events.Event) -> None:
            window = probe._window
            if (
                window is not None
                and not window.started
                and isinstance(event, events.Key)
                and not event.is_forwarded
            ):
                window.started = True
                window.start_cpu = time.thread_time()
                window.start_harness = probe.spent
                window.start = time.perf_counter()
            await on_event(self, event)

        def timed_display(self: App[Any], screen: Any, renderable: Any) -> None:
            display(self, screen, renderable)
            if renderable is None or self._batch_count:
                return  # nothing was painted
            if probe.serialize and self.is_headless and isinstance(renderable, CompositorUpdate):
                renderable.render_segments(probe._console)  # what a terminal driver writes
            probe.paints += 1
            window = probe._window
            if window is not None and window.started:
                window.paints.append((time.perf_counter(), time.thread_time(), probe.spent))
            else:
                probe.stray += 1

        async def timed_dispatch(self: MessagePump, message: Any) -> None:
            await dispatch(self, message)
            window = probe._window
            if window is not None and window.started:
                window.last_message = (time.perf_counter(), time.thread_time(), probe.spent)

        App.on_event = timed_on_event  # type: ignore[method-assign]
        App._display = timed_display  # type: ignore[method-assign]
        MessagePump._dispatch_message = timed_dispatch  # type: ignore[method-assign]

    async def press(self, app: Any, name: str) -> KeyTime:
        """Send one key as a terminal would and wait until the app has settled."""
        from textual import events
        from textual.keys import REPLACED_KEYS, _character_to_key, _get_unicode_name_from_key

        key = _character_to_key(name) if len(name) == 1 and not name.isalnum() else name
        try:
            char: str | None = unicodedata.lookup(
                _get_unicode_name_from_key(REPLACED_KEYS.get(key, key))
            )
        except KeyError:
            char = key if len(key) == 1 else None
        event = events.Key(key, char)
        event.set_sender(app)
        window = self._window = _Window()
        self.ticker.reset()
        app._driver.send_message(event)
        await self._settle(app, window)
        self._window = None
        stall = self.ticker.worst()
        await asyncio.sleep(GAP)
        first: float | None = None
        latency: float | None = None
        if window.paints:
            first = (window.paints[0][0] - window.start) * 1000
            wall, cpu, harness = window.paints[-1]
            latency = (wall - window.start) * 1000
        elif window.last_message is not None:
            wall, cpu, harness = window.last_message
        else:
            cpu, harness = window.start_cpu, window.start_harness
        used = (cpu - window.start_cpu) - (harness - window.start_harness)
        return KeyTime(first, latency, used * 1000, len(window.paints), stall)

    async def _settle(self, app: Any, window: _Window) -> None:
        begun = time.perf_counter()
        while True:
            await asyncio.sleep(POLL)
            cpu = time.thread_time()
            now = time.perf_counter()
            if now - begun > TIMEOUT:
                raise TimeoutError("the app did not settle after a key")
            last = window.paints[-1][0] if window.paints else window.start
            done = window.started and now - last >= QUIET and not busy(app)
            self.harness += time.thread_time() - cpu
            if done:
                return

    @property
    def spent(self) -> float:
        """The UI thread's CPU seconds the harness has cost so far: the probe's polling
        (measured) and the ticker's ticks (estimated by :meth:`calibrate`)."""
        return self.harness + self.ticker.spent

    async def calibrate(self, pairs: int = 5, seconds: float = 0.4) -> float:
        """Measure what a tick of the ticker costs the UI thread (its wake-up of the event
        loop and its callback: a few ms in a 300 ms key such as a background sort): the UI
        thread's CPU over ``seconds`` of idling with the ticker, then as long without it,
        ``pairs`` times; the median of the differences per tick (a garbage collection or
        a timer of the app's landing in one half of a pair moves that pair only) is
        subtracted from every key, like the probe's own polling. Returns the cost per
        tick in microseconds."""
        ticker = self.ticker
        costs: list[float] = []
        for _ in range(pairs):
            before, ticks = time.thread_time(), ticker.ticks
            await asyncio.sleep(seconds)
            with_ticker, ticks = time.thread_time() - before, ticker.ticks - ticks
            ticker.stop()
            before = time.thread_time()
            await asyncio.sleep(seconds)
            without = time.thread_time() - before
            ticker.start()
            if ticks:
                costs.append((with_ticker - without) / ticks)
        ticker.cost = max(0.0, statistics.median(costs)) if costs else 0.0
        return ticker.cost * 1e6

    async def idle_paints(self, seconds: float) -> int:
        """Repaints while nothing is pressed (should be 0, or keys would be charged for
        background work)."""
        before = self.paints
        await asyncio.sleep(seconds)
        return self.paints - before


def busy(app: Any) -> bool:
    """Anything the app still has to do: a worker, a queued message, a pending repaint or
    ``call_after_refresh``, a one-shot timer (a debounce) not yet fired."""
    if any(not worker.is_finished for worker in app.workers):
        return True
    screen = app.screen
    if (
        screen._layout_required
        or screen._repaint_required
        or screen._scroll_required
        or screen._dirty_widgets
        or screen._callbacks
    ):
        return True
    for node in (app, *screen.walk_children(with_self=True)):
        if node.message_queue_size or node._next_callbacks:
            return True
        for timer in node._timers:
            task = timer._task
            if timer._repeat == 0 and task is not None and not task.done():
                return True
    return False


def pause_background_timers(app: Any, min_interval: float = 1.0) -> int:
    """Pause the app's repeating timers of ``min_interval`` seconds or more (relative times
    re-rendered every 30 s, …): background repaints are not a key's cost. Returns how many."""
    paused = 0
    for node in (app, *app.screen.walk_children(with_self=True)):
        for timer in node._timers:
            if timer._repeat is None and timer._interval >= min_interval:
                timer.pause()
                paused += 1
    return paused


async def pilot_floor(press: Callable[[], Coroutine[Any, Any, None]], times: int = 5) -> float:
    """The old measure of a key, for comparison: the UI thread's CPU from ``pilot.press``
    until ``pilot.pause`` returns (ms, median). ``press`` presses and pauses."""
    import statistics

    costs = []
    for _ in range(times):
        t = time.thread_time()
        await press()
        costs.append((time.thread_time() - t) * 1000)
    return statistics.median(costs)
