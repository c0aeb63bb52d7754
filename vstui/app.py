"""The Textual app: wiring, global bindings and the command palette. Screens do the work."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

from textual import events
from textual.app import SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.theme import Theme

from .gc_pacing import IdleCollector
from .screens.base import StoreRef, VstuiScreen
from .screens.batch_monitor import BatchMonitorScreen
from .screens.dialogs import HelpScreen
from .screens.file_list import FileListScreen
from .screens.store_list import StoreListScreen
from .session import Session
from .widgets.safe import SafeApp


class VstuiApp(SafeApp):
    """Browse one account. The :class:`Session` (service, clock, state) is injected."""

    TITLE = "vstui"
    crash_message: str | None = None  # set when an unexpected exception ended the app
    CSS_PATH = "vstui.tcss"
    ENABLE_COMMAND_PALETTE = True
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", priority=True),
        Binding("question_mark", "help", "Help"),
        # Declaring any palette binding stops Textual adding ctrl+p itself: keep both.
        Binding("ctrl+p", "command_palette", "Commands", show=False, priority=True),
        Binding("colon", "command_palette", "Jump", show=False),
    ]

    def __init__(
        self,
        session: Session,
        *,
        theme: str | None = None,
        themes: Iterable[Theme] = (),
        theme_problems: Iterable[str] = (),
        on_theme_change: Callable[[str], None] | None = None,
        profiles: Iterable[str] = (),
        session_factory: Callable[[str], Session] | None = None,
    ) -> None:
        super().__init__()
        self.session = session
        self._initial_theme = theme
        self._on_theme_change: Callable[[str], None] | None = None
        self._pending_theme_callback = on_theme_change
        self._theme_problems = list(theme_problems)
        self.profiles = list(profiles)
        self._session_factory = session_factory
        self._told_about_browser_clipboard = False
        self.collector = IdleCollector()
        for item in themes:
            self.register_theme(item)

    def on_mount(self) -> None:
        if self._initial_theme and self._initial_theme in self.available_themes:
            self.theme = self._initial_theme
        self._on_theme_change = self._pending_theme_callback
        for problem in self._theme_problems:
            self.notify(
                f"Skipped a theme file — {problem}",
                title="Theme",
                severity="warning",
                markup=False,  # TOML errors quote brackets
            )
        self.push_screen(StoreListScreen())
        # Full garbage collections wait for a pause in the user's keys (see gc_pacing).
        self.collector.start()
        self.set_interval(0.25, self.collector.tick, name="idle gc")

    def on_unmount(self) -> None:
        self.collector.stop()

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.InputEvent):
            self.collector.note_input()
        await super().on_event(event)

    # -- untrusted text and unexpected errors -----------------------------------------------

    def _handle_exception(self, error: Exception) -> None:
        """An unexpected exception: one sentence on exit, the traceback in a crash log."""
        from .crash import crash_sentence

        self._return_code = 1
        # Pilot re-raises the first exception in tests: keep Textual's bookkeeping.
        if self._exception is None:
            self._exception = error
            self._exception_event.set()
        screen = self.screen_stack[-1] if self.screen_stack else None
        doing = f"showing {getattr(screen, 'TITLE', None) or 'the app'}"
        # Printed by the launcher once the terminal is restored: one line, the path whole.
        self.crash_message = crash_sentence(error, doing)
        self._close_messages_no_wait()

    # -- profiles --------------------------------------------------------------------------

    def switch_profile(self, name: str) -> None:
        """Reload everything against another profile's account."""
        if self._session_factory is None:
            return
        try:
            session = self._session_factory(name)
        except Exception as exc:  # LaunchError: no key, bad profile — said, not raised
            self.notify(
                str(exc),
                title=f"Cannot switch to {name}",
                severity="error",
                timeout=10,
                markup=False,
            )
            return
        old = self.session
        self.session = session
        while len(self.screen_stack) > 1:
            self.pop_screen()
        self.push_screen(StoreListScreen())
        old.service.close()
        self.notify(f"Switched to profile {name} ({session.host})", timeout=4, markup=False)

    def copy_to_clipboard(self, text: str) -> None:
        super().copy_to_clipboard(text)
        if self.is_web and not self._told_about_browser_clipboard:
            # `vstui serve`: the page hands the text to the browser's clipboard (OSC 52).
            self._told_about_browser_clipboard = True
            self.notify(
                "In a browser the copy goes to the browser's clipboard, which browsers "
                "allow only on https:// or localhost pages.",
                title="Clipboard",
                timeout=6,
            )

    def watch_theme(self, theme: str) -> None:
        if self._on_theme_change is not None:
            self._on_theme_change(theme)

    # -- navigation ------------------------------------------------------------------------

    def _find(self, kind: type[Screen[Any]]) -> Screen[Any] | None:
        return next((s for s in reversed(self.screen_stack) if isinstance(s, kind)), None)

    def action_stores(self) -> None:
        while len(self.screen_stack) > 2 and not isinstance(self.screen, StoreListScreen):
            self.pop_screen()

    def action_batches(self) -> None:
        if isinstance(self.screen, BatchMonitorScreen):
            return
        existing = self._find(BatchMonitorScreen)
        if existing is not None:
            while self.screen is not existing:
                self.pop_screen()
            return
        screen = self.screen
        in_view = screen.store_in_view() if isinstance(screen, VstuiScreen) else None
        self.push_screen(BatchMonitorScreen(in_view.id if in_view else None))

    def action_files(self) -> None:
        selected = self._selected_store()
        if selected is None:
            self.notify("Open a store first (Enter on a row), then its files.", severity="warning")
            return
        self.push_screen(FileListScreen(selected.id, store=selected.store))

    def _selected_store(self) -> StoreRef | None:
        screen = self.screen
        return screen.selected_store() if isinstance(screen, VstuiScreen) else None

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    # -- command palette -------------------------------------------------------------------

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield SystemCommand("Go to: stores", "The store list", self.action_stores)
        yield SystemCommand(
            "Go to: batch monitor", "Batches and stores ingesting", self.action_batches
        )
        selected = screen.selected_store() if isinstance(screen, VstuiScreen) else None
        where = "Open a store first"
        if selected is not None:
            where = (
                f"Files of {selected.store.display_name}"
                if selected.store is not None
                else f"Files of {selected.id}"
            )
        yield SystemCommand("Go to: files", where, self.action_files)
        yield SystemCommand("Help", "Keys for this screen", self.action_help)
        yield from super().get_system_commands(screen)
        for name in self.profiles:
            yield SystemCommand(
                f"Switch profile: {name}",
                "Reload everything against this profile's account",
                partial(self.switch_profile, name),
            )
        yield from self._screen_commands(screen)

    def _screen_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """Every action bound on the screen, by name; write actions left out when read-only."""
        if not isinstance(screen, VstuiScreen):
            return
        title = screen.TITLE or "Screen"
        seen: set[str] = set()
        for cls in type(screen).__mro__:
            for binding in getattr(cls, "BINDINGS", []):
                if not isinstance(binding, Binding) or not binding.description:
                    continue
                action = binding.action
                if action in seen or action.startswith("app."):
                    continue
                seen.add(action)
                key = binding.key.split(",")[0]
                if self.session.read_only and action in screen.MUTATING:
                    continue  # hidden, as in the footer and the help
                callback: Callable[[], Any] = partial(screen.run_action, action)
                yield SystemCommand(f"{title}: {binding.description}", f"key: {key}", callback)
