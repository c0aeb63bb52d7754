"""A key's changes reach the terminal in one frame (``vstui.widgets.frames.same_frame``):
the table, its scrollbar, the status line and the detail line together, not the table
first and the lines under it a frame (17 ms) later; and a filter's scan of the rows below
the screen paints only when it ends, not on every frame it takes."""

from __future__ import annotations

from typing import Any

from vstui.screens.store_list import StoreListScreen
from vstui.widgets import table as table_module

from .conftest import screen_lines, settle


def count_frames(app: Any) -> list[int]:
    """Count the frames the app paints from now on (each screen update it writes)."""
    frames = [0]
    display = app._display

    def counted(screen: Any, renderable: Any) -> None:
        display(screen, renderable)
        if renderable is not None and not app._batch_count:
            frames[0] += 1

    app._display = counted
    return frames


async def store_list(make_app, stores: int = 950):
    app, server = make_app("empty")
    for i in range(stores):
        server.account.create_store(name=f"store-{i:03d}", created_at=1_700_000_000 + i)
    return app


async def press_and_count(pilot, frames: list[int], *keys: str) -> int:
    await settle(pilot)
    before = frames[0]
    await pilot.press(*keys)
    await settle(pilot)
    await pilot.pause(0.1)  # a frame left for later would be painted by now
    return frames[0] - before


async def test_a_filter_key_paints_rows_count_and_detail_in_one_frame(make_app):
    app = await store_list(make_app)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, StoreListScreen)
        frames = count_frames(app)
        await pilot.press("slash")
        await settle(pilot)
        await pilot.pause(0.2)  # the footer, recomposed for the box's keys
        for key, shown in (("9", "filter: '9'"), ("4", "filter: '94'")):
            assert await press_and_count(pilot, frames, key) == 1
            painted = screen_lines(app)
            assert any(shown in line for line in painted), painted
            rows = [line.strip() for line in painted if line.strip().startswith("store-")]
            assert rows and "9" in rows[0]
            # The detail line names the row under the cursor (the new top row).
            top = screen.table.current
            assert top is not None
            assert any(top.id in line for line in painted[-4:]), painted[-4:]


async def test_moving_the_cursor_paints_the_row_and_its_detail_line_in_one_frame(make_app):
    app = await store_list(make_app)
    async with app.run_test(size=(80, 24)) as pilot:  # (the detail line shows at 80x24)
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, StoreListScreen)
        frames = count_frames(app)
        for key in ("pagedown", "down", "G", "g"):
            assert await press_and_count(pilot, frames, key) == 1, key
            current = screen.table.current
            assert current is not None
            assert any(current.id in line for line in screen_lines(app)[-4:])


async def test_a_long_scan_paints_its_first_rows_then_once_more_at_its_end(make_app, monkeypatch):
    """Slices that find rows below the screen paint nothing (the scrollbar is not redrawn
    on every frame): the key's frame, then the final count and scrollbar."""
    monkeypatch.setattr(table_module, "SCAN_CHUNK", 40)
    monkeypatch.setattr(table_module, "SCAN_FIRST_CHUNK", 40)  # a screenful at once
    monkeypatch.setattr(table_module, "SCAN_FINISH_NOW", 0)
    monkeypatch.setattr(table_module, "SCAN_BUDGET", 0.0)
    app = await store_list(make_app)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, StoreListScreen)
        slices: list[int] = []
        scan_for = table_module.VirtualTable._scan_for

        def counted(self: Any, budget: float, enough: int | None = None) -> None:
            slices.append(1)
            scan_for(self, budget, enough)

        monkeypatch.setattr(table_module.VirtualTable, "_scan_for", counted)
        frames = count_frames(app)
        await pilot.press("slash")
        await settle(pilot)
        await pilot.pause(0.2)  # the footer, recomposed for the box's keys
        assert await press_and_count(pilot, frames, *"store") <= 2 * len("store")
        assert len(slices) > 5 * 20  # 950 rows, 40 at a time: many slices, few frames
        painted = screen_lines(app)
        assert any("950 stores · filter: 'store'" in line for line in painted), painted
        assert not any("filtering" in line for line in painted)


async def test_the_datas_age_shows_as_soon_as_the_data_arrives(make_app):
    """Not at the next half-second tick of the age's timer (the screenshots script caught
    the store list without its "updated just now" when it was quicker than that tick)."""
    app, _ = make_app("demo", refresh=30.0)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        assert isinstance(screen, StoreListScreen)
        while screen.fetching:
            await pilot.pause()
        await pilot.pause()
        assert any("updated just now" in line for line in screen_lines(app)[:3])
