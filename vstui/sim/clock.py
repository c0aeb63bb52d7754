"""Clocks for the simulator: real time for the demo, a frozen one tests fast-forward."""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float: ...


class RealClock:
    """Wall-clock time."""

    def now(self) -> float:
        return time.time()


class FrozenClock:
    """Time stands still until a test moves it: ``advance(seconds)`` or ``set(epoch)``."""

    def __init__(self, start: float) -> None:
        self._now = float(start)
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> float:
        with self._lock:
            self._now += seconds
            return self._now

    def set(self, epoch: float) -> None:
        with self._lock:
            self._now = float(epoch)


# 2026-11-01 12:00:00 UTC: the instant frozen tests and snapshots are taken at.
FROZEN_EPOCH = 1_793_534_400.0
