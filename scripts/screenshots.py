"""Regenerate screenshots/*.svg from the demo account (frozen clock: same pictures each run).

python scripts/screenshots.py
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from vstui.accounts import demo_session
from vstui.app import VstuiApp
from vstui.sim import FROZEN_EPOCH, FrozenClock
from vstui.themes import load_all

OUT = Path(__file__).resolve().parent.parent / "screenshots"
SIZE = (120, 36)


async def settle(pilot) -> None:  # type: ignore[no-untyped-def]
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def shoot() -> list[str]:
    clock = FrozenClock(FROZEN_EPOCH)
    session, server = demo_session(clock=clock)
    themes, _ = load_all([])
    app = VstuiApp(session, theme="vstui-dark", themes=themes)
    saved: list[str] = []

    def save(name: str) -> None:
        app.save_screenshot(f"{name}.svg", str(OUT))
        saved.append(name)

    try:
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            save("store-list")
            table = app.screen.table  # type: ignore[attr-defined]
            table.cursor = next(
                i for i, s in enumerate(table.view) if s.name == "customer-tickets-q3"
            )
            await pilot.press("enter")
            await settle(pilot)
            save("store-detail")
            await pilot.press("f")
            await settle(pilot)
            save("file-list")
            await pilot.press("escape", "s")
            await pilot.press(*"how long do refunds take", "enter")
            await settle(pilot)
            save("search")
            await pilot.press("escape", "escape")
            clock.advance(45)  # the demo's batches are under way
            await pilot.press("b")
            await settle(pilot)
            clock.advance(20)
            await pilot.press("r")
            await settle(pilot)
            save("batch-monitor")
            await pilot.press("escape")
            await pilot.press("X")
            await settle(pilot)
            await pilot.press("o")
            save("cleanup-review")
            await pilot.press("escape")
            await pilot.press("question_mark")
            save("help")
    finally:
        session.service.close()
        server.stop()
    saved += await shoot_small()
    return saved


async def shoot_small() -> list[str]:
    """The store list and its files at 80x24: what fits on the smallest terminal."""
    clock = FrozenClock(FROZEN_EPOCH)
    session, server = demo_session(clock=clock)
    themes, _ = load_all([])
    app = VstuiApp(session, theme="vstui-dark", themes=themes)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            app.save_screenshot("store-list-80x24.svg", str(OUT))
    finally:
        session.service.close()
        server.stop()
    return ["store-list-80x24"]


def main() -> None:
    OUT.mkdir(exist_ok=True)
    for name in asyncio.run(shoot()):
        print(f"screenshots/{name}.svg")


if __name__ == "__main__":
    main()
