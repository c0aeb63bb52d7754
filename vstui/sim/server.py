"""Running the simulator: in-process on a free port (demo, tests) or as ``vstui sim``."""

from __future__ import annotations

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
        self._server = uvicorn.Server(config)
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

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

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
