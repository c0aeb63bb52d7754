"""The screen–worker contract: results reach the typed callbacks on the UI thread, a key
started again drops older results, errors go to ``on_error`` (or a notification)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

from textual.app import App

from vstui.screens.base import VstuiScreen

from .conftest import notes, settle, watch_notifications


class Probe(VstuiScreen):
    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[str, object, bool]] = []

    def record(self, kind: str) -> Callable[[object], None]:
        def callback(value: object) -> None:
            # Callbacks run on the UI thread, where widgets may be touched.
            self.seen.append((kind, value, threading.current_thread() is threading.main_thread()))

        return callback


class ProbeApp(App[None]):
    def __init__(self, session) -> None:
        super().__init__()
        self.session = session

    def on_mount(self) -> None:
        self.push_screen(Probe())


def probe_app(make_app) -> ProbeApp:
    app, _ = make_app("empty")
    probe = ProbeApp(app.session)
    watch_notifications(probe)
    return probe


async def test_partials_then_result_on_the_ui_thread(make_app):
    app = probe_app(make_app)
    async with app.run_test() as pilot:
        screen = app.screen
        assert isinstance(screen, Probe)

        def fetch(emit: Callable[[int], None]) -> str:
            for page in range(3):
                emit(page)
            return "done"

        screen.run_stream("k", fetch, screen.record("partial"), screen.record("result"))
        await settle(pilot)
        assert screen.seen == [
            ("partial", 0, True),
            ("partial", 1, True),
            ("partial", 2, True),
            ("result", "done", True),
        ]


async def test_starting_a_key_again_drops_the_older_result(make_app):
    app = probe_app(make_app)
    async with app.run_test() as pilot:
        screen = app.screen
        release = threading.Event()
        started = threading.Event()

        def slow() -> str:
            started.set()
            release.wait(30)
            return "old"

        screen.run_io("k", slow, screen.record("result"))
        assert await asyncio.to_thread(started.wait, 30)
        screen.run_io("k", lambda: "new", screen.record("result"))
        await pilot.pause()
        release.set()
        await settle(pilot)
        assert [value for _, value, _ in screen.seen] == ["new"]


async def test_errors_go_to_on_error_or_become_a_notification(make_app):
    app = probe_app(make_app)
    async with app.run_test() as pilot:
        screen = app.screen

        def broken() -> int:
            raise ValueError("bad answer")

        screen.run_io("a", broken, screen.record("result"), screen.record("error"))
        await settle(pilot)
        assert [(kind, str(value)) for kind, value, _ in screen.seen] == [("error", "bad answer")]
        screen.run_io("b", broken, screen.record("result"))
        await settle(pilot)
        assert any("ValueError: bad answer" in n for n in notes(app))
        assert len(screen.seen) == 1
