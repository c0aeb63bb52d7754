"""Build a session from the command line and run the app (or the demo)."""

from __future__ import annotations

import argparse
import sys
from urllib.parse import urlparse

from .api import ClientSettings, VectorStoresService, mask_key
from .session import RememberedBatch, Session, StateStore

DEMO_KEY = "sk-demo-not-a-real-key-0000demo"


def demo_session(read_only: bool = False) -> tuple[Session, object]:
    """Start the simulator's demo account in-process and a session bound to it."""
    from .sim import RealClock, SimServer

    server = SimServer.start_scenario("demo", clock=RealClock())
    settings = ClientSettings(api_key=DEMO_KEY, base_url=server.base_url)
    state = StateStore(None)
    session = Session(
        service=VectorStoresService(settings),
        account_label="demo",
        host="simulator",
        masked_key=mask_key(DEMO_KEY),
        read_only=read_only,
        state=state,
    )
    for batch in server.account.batches.values():
        state.remember_batch(session.account_key, RememberedBatch(batch.store_id, batch.id))
    return session, server


def run_tui(args: argparse.Namespace) -> int:
    from .app import VstuiApp

    server = None
    if args.demo:
        session, server = demo_session(read_only=args.read_only)
    else:
        settings = ClientSettings.from_env(base_url=args.base_url)
        if not settings.api_key:
            print(
                "vstui: no API key. Set OPENAI_API_KEY, or store one with `vstui key set`.\n"
                "To look around without a key: vstui --demo",
                file=sys.stderr,
            )
            return 2
        host = urlparse(settings.base_url).hostname or settings.base_url
        session = Session(
            service=VectorStoresService(settings),
            account_label="env",
            host=host,
            masked_key=settings.masked_key,
            read_only=args.read_only,
        )
    try:
        VstuiApp(session, theme=args.theme).run()
    finally:
        session.service.close()
        if server is not None:
            server.stop()  # type: ignore[attr-defined]
    return 0
