"""Shared fixtures: simulators on loopback with a frozen clock, and clients bound to them."""

from __future__ import annotations

import html
import os
import re
import threading
import weakref
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

# Snapshots must not depend on the developer's terminal settings.
for _var in ("NO_COLOR", "TEXTUAL_THEME", "OPENAI_API_KEY", "OPENAI_BASE_URL"):
    os.environ.pop(_var, None)

from vstui.api import ClientSettings, VectorStoresService  # noqa: E402
from vstui.sim import FLAVORS, FROZEN_EPOCH, FrozenClock, SimConfig, SimServer  # noqa: E402

KEY = "sk-test-fake-key-stuv"


class Sleeps(list[float]):
    """A stand-in for time.sleep that records what it was asked to wait."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "flavored: run the module's simulator tests on every server flavour"
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests marked ``flavored`` that use a simulator run once per flavour (``openai``,
    ``llama-stack``); every other test gets the faithful ``openai`` simulator."""
    if "flavor" in metafunc.fixturenames and metafunc.definition.get_closest_marker("flavored"):
        metafunc.parametrize("flavor", FLAVORS, indirect=True)


@pytest.fixture
def flavor(request: pytest.FixtureRequest) -> str:
    """The kind of server the simulator behaves like (see ``vstui.sim.flavors``)."""
    return str(getattr(request, "param", "openai"))


@pytest.fixture
def llama(flavor: str) -> bool:
    return flavor == "llama-stack"


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(FROZEN_EPOCH)


SimFactory = Callable[..., SimServer]


@pytest.fixture
def make_sim(clock: FrozenClock, flavor: str) -> Iterator[SimFactory]:
    servers: list[SimServer] = []

    def start(scenario: str = "empty", *, seed: int = 0, **config: Any) -> SimServer:
        config.setdefault("api_key", KEY)
        auto_create = config.pop("auto_create", False)
        use_clock = config.pop("clock", clock)
        config.setdefault("flavor", flavor)
        server = SimServer.start_scenario(
            scenario,
            clock=use_clock,
            seed=seed,
            config=SimConfig(**config),
            auto_create=auto_create,
        )
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop(wait=False)  # (its thread finishes closing while the next test runs)
        _closing.append(server)
    while len(_closing) > 8:
        _closing.pop(0).stop()  # (a few at most: joined long before they would be waited for)


_closing: list[SimServer] = []  # simulators stopped, still closing in their threads


@pytest.fixture(autouse=True, scope="session")
def _simulators_closed() -> Iterator[None]:
    """Every simulator's thread has ended before the interpreter does (a thread still
    writing to stderr at exit can abort it)."""
    yield
    while _closing:
        _closing.pop().stop()


@pytest.fixture
def sim(make_sim: SimFactory) -> SimServer:
    return make_sim("empty")


@pytest.fixture
def demo_sim(make_sim: SimFactory) -> SimServer:
    return make_sim("demo")


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


def make_service(server: SimServer, sleeps: Callable[[float], None] | None = None, **kw: Any):
    settings = ClientSettings(api_key=KEY, base_url=server.base_url, **kw)
    if sleeps is None:
        return VectorStoresService(settings)
    return VectorStoresService(settings, sleep=sleeps)


@pytest.fixture
def service(sim: SimServer, sleeps: Sleeps) -> Iterator[VectorStoresService]:
    client = make_service(sim, sleeps)
    yield client
    client.close()


@pytest.fixture
def demo_service(demo_sim: SimServer, sleeps: Sleeps) -> Iterator[VectorStoresService]:
    client = make_service(demo_sim, sleeps)
    yield client
    client.close()


# -- the app, bound to a simulator with a frozen clock -------------------------------------


@pytest.fixture
def make_app(make_sim: SimFactory, clock: FrozenClock):
    from vstui.api import mask_key
    from vstui.app import VstuiApp
    from vstui.session import RememberedBatch, Session

    def build(
        scenario: str = "demo",
        *,
        read_only: bool = False,
        remember: bool = True,
        transport: httpx.BaseTransport | None = None,
        theme: str = "vstui-dark",
        refresh: float = 0.0,
        **cfg,
    ):
        server = make_sim(scenario, **cfg)
        settings = ClientSettings(
            api_key=KEY, base_url=server.base_url, backoff_initial=0.01, max_retries=2
        )
        session = Session(
            service=VectorStoresService(settings, transport=transport),
            account_label="test",
            host="simulator",
            masked_key=mask_key(KEY),
            now=clock.now,
            read_only=read_only,
            refresh_seconds=refresh,  # auto-refresh off unless a test asks for it
        )
        if remember:
            for batch in server.account.batches.values():
                session.state.remember_batch(
                    session.account_key, RememberedBatch(batch.store_id, batch.id)
                )
        from vstui.themes import load_all

        themes, _ = load_all([])
        app = VstuiApp(session, theme=theme, themes=themes)
        watch_notifications(app)
        return app, server

    return build


# -- what the user sees ----------------------------------------------------------------------

_notifications: weakref.WeakKeyDictionary[Any, list[str]] = weakref.WeakKeyDictionary()


def watch_notifications(app) -> list[str]:
    """Record every notification the app shows (the text, in order), from now on."""
    seen = _notifications.setdefault(app, [])
    show = app.notify

    def notify(message, *args, **kwargs):
        seen.append(str(message))
        return show(message, *args, **kwargs)

    app.notify = notify
    return seen


def notes(app) -> list[str]:
    """The notifications shown so far (the app must have been built by ``make_app`` or
    passed to :func:`watch_notifications`)."""
    return _notifications[app]


def screen_lines(app) -> list[str]:
    """What the terminal shows, line by line, as plain text (from the SVG screenshot)."""
    svg = app.export_screenshot()
    lines: dict[int, list[str]] = {}
    for number, text in re.findall(
        r'<text[^>]*clip-path="url\(#terminal-(?:\d+-)?line-(\d+)\)">(.*?)</text>', svg
    ):
        lines.setdefault(int(number), []).append(text)
    return [
        html.unescape("".join(lines.get(i, []))).replace("\xa0", " ").rstrip()
        for i in range(max(lines, default=-1) + 1)
    ]


def screen_text(app) -> str:
    """What the terminal shows, as one plain text."""
    return "\n".join(screen_lines(app))


class GatedTransport(httpx.BaseTransport):
    """Real HTTP to the simulator, except that follow-up pages (requests with ``after=``)
    wait while the gate is closed: a test can look at the screen while a page is pending."""

    def __init__(self, path: str = "") -> None:
        self.path = re.compile(path)  # only requests to matching paths are held
        self._inner = httpx.HTTPTransport()
        self._open = threading.Event()
        self._open.set()
        self.holding = threading.Event()

    def close_gate(self) -> None:
        self.holding.clear()
        self._open.clear()

    def open_gate(self) -> None:
        self._open.set()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        held = "after" in request.url.params and self.path.search(request.url.path)
        if held and not self._open.is_set():
            self.holding.set()
            self._open.wait(timeout=60)  # a failing test must not hang the run
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._open.set()
        self._inner.close()


async def settle(pilot, rounds: int = 3) -> None:
    """Let workers finish and their messages land (a worker cancelled meanwhile, such as
    a filter's scan taken over by the next filter, has finished too)."""
    from contextlib import suppress

    from textual.worker import WorkerCancelled

    for _ in range(rounds):
        with suppress(WorkerCancelled):
            await pilot.app.workers.wait_for_complete()
        await pilot.pause()


@pytest.fixture(autouse=True)
def _new_servers_learned_afresh():
    """What a server lacks is remembered per base URL for the life of the process, and a
    simulator may get the port of one started by an earlier test (another flavour): a
    test that met a server without usage once made the next one's clean-up plan print a
    "usage is not reported" line (seen with two workers)."""
    from vstui.api.capabilities import forget_all

    forget_all()


@pytest.fixture(autouse=True)
def _forget_secrets():
    """Secrets registered by one test (launch registers the key) do not mask another's output."""
    yield
    from vstui.text import forget_secrets

    forget_secrets()
