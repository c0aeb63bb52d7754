"""A line that says what vstui is waiting for, once a request has taken a while.

A slow or hung server should never look like a frozen app: after ``after`` seconds the
oldest request still waiting is named, with how long it has waited and when vstui gives
up on it. The line is hidden whenever nothing is slow.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from ..api import InFlight
from ..text import clean
from .safe import SafeStatic


def waiting_text(
    inflight: Sequence[InFlight], now: float, *, after: float, give_up: float
) -> str | None:
    """The sentence for the oldest request waiting longer than ``after`` seconds, if any."""
    slow = [r for r in inflight if now - r.started >= after]
    if not slow:
        return None
    oldest = slow[0]
    waited = int(now - oldest.started)
    more = f" (and {len(slow) - 1} more)" if len(slow) > 1 else ""
    return (
        f"⧗ Waiting {waited} s for {oldest.method} /{clean(oldest.path.lstrip('/'))}{more} — "
        f"the server is slow; vstui gives up after {give_up:g} s and retries once."
    )


class WaitingLine(SafeStatic):
    """Shown above the footer while a request is slow; hidden otherwise."""

    DEFAULT_CSS = """
    WaitingLine {
        dock: bottom;
        margin-bottom: 1;  /* just above the footer */
        height: auto;
        padding: 0 1;
        color: $warning;
        background: $surface;
        display: none;
    }
    """

    def __init__(
        self,
        inflight: Callable[[], Sequence[InFlight]],
        *,
        give_up: float,
        after: float = 3.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__("", id="waiting")
        self._inflight = inflight
        self._give_up = give_up
        self.after = after
        self._clock = clock

    def on_mount(self) -> None:
        self.set_interval(1.0, self.check)

    def check(self) -> None:
        text = waiting_text(
            self._inflight(), self._clock(), after=self.after, give_up=self._give_up
        )
        if self.display != (text is not None):
            # (Set only when it changes: the first assignment of the same value would lay
            # out the whole screen, a second after it appeared.)
            self.display = text is not None
        if text is not None:
            self.update(text)
