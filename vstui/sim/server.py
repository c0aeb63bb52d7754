"""Running the simulator: in-process on a free port (demo, tests) or as ``vstui sim``."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from types import TracebackType
from typing import Any, Self

import uvicorn

from .account import Account
from .clock import Clock, RealClock
from .http import SimConfig, Simulator
from .scenarios import make_account


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


class _Server(uvicorn.Server):
    """uvicorn's server, stopped as soon as it is asked: its own main loop looks for a
    stop every 0.1 s (each test that starts a simulator waited for that)."""

    _loop: asyncio.AbstractEventLoop | None = None
    _wake: asyncio.Event | None = None

    async def main_loop(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        if self.should_exit:
            return
        counter = 0
        should_exit = await self.on_tick(counter)
        while not should_exit:
            counter = (counter + 1) % 864_000
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), 0.1)
            should_exit = await self.on_tick(counter)

    def stop_now(self) -> None:
        self.should_exit = True
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None:
            with contextlib.suppress(RuntimeError):  # the loop has closed already
                loop.call_soon_threadsafe(wake.set)


class AppServer:
    """Any ASGI app served by uvicorn in a background thread (the simulator, test fakes)."""

    def __init__(self, app: Any, *, host: str = "127.0.0.1", port: int | None = None) -> None:
        self.host = host
        self.port = port or free_port(host)
        config = uvicorn.Config(
            app,
            host=host,
            port=self.port,
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_keep_alive=30,
            timeout_graceful_shutdown=2,
        )
        self._server = _Server(config)
        self._thread: threading.Thread | None = None

    @property
    def origin(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 10.0) -> None:
        self._thread = threading.Thread(target=self._server.run, name="vstui-sim", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError(f"the simulator could not start on {self.host}:{self.port}")
            if time.monotonic() > deadline:
                raise RuntimeError("the simulator did not start in time")
            time.sleep(0.01)

    def stop(self, wait: bool = True) -> None:
        """Stop serving. With ``wait=False`` this returns once the port no longer takes
        connections, and the server finishes closing in its thread (uvicorn gives open
        connections 0.1 s, which every test paid); ``stop()`` later waits for it."""
        self._server.stop_now()
        thread = self._thread
        if thread is None:
            return
        if wait:
            thread.join(timeout=5)
            self._thread = None
            return
        deadline = time.monotonic() + 5
        while thread.is_alive() and time.monotonic() < deadline:
            if self._server.servers and not any(s.is_serving() for s in self._server.servers):
                return
            time.sleep(0.002)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def serve_forever(self) -> None:
        """Run in the foreground until interrupted (``vstui sim``)."""
        self._server.run()


class SimServer(AppServer):
    """A simulator served by uvicorn in a background thread.

    >>> with SimServer.start_scenario("demo") as sim:
    ...     print(sim.base_url)
    """

    def __init__(
        self,
        simulator: Simulator,
        *,
        host: str = "127.0.0.1",
        port: int | None = None,
    ) -> None:
        super().__init__(simulator.app, host=host, port=port)
        self.simulator = simulator

    @classmethod
    def start_scenario(
        cls,
        scenario: str = "demo",
        *,
        clock: Clock | None = None,
        seed: int = 0,
        config: SimConfig | None = None,
        auto_create: bool = False,
        host: str = "127.0.0.1",
        port: int | None = None,
        flavor: str | None = None,
    ) -> SimServer:
        """``flavor`` (``openai``, ``llama-stack``) wins over ``config.flavor``."""
        flavor = flavor or (config.flavor if config is not None else None) or "openai"
        account = make_account(
            scenario, clock or RealClock(), seed=seed, auto_create=auto_create, flavor=flavor
        )
        server = cls(Simulator(account, config), host=host, port=port)
        server.start()
        return server

    @property
    def account(self) -> Account:
        return self.simulator.account

    @property
    def base_url(self) -> str:
        return self.origin + self.simulator.config.prefix.rstrip("/")
