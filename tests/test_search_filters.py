"""Search options: attribute filters typed as JSON or key=value, checked like the API;
sent over real HTTP to the simulator; the chunk pane highlights the query."""

from __future__ import annotations

import pytest

from vstui.filters import check_filter, parse_filter

from .conftest import screen_text, settle


def test_short_form_and_json():
    assert parse_filter("team=docs") == {"type": "eq", "key": "team", "value": "docs"}
    assert parse_filter("version>=2 and public=true") == {
        "type": "and",
        "filters": [
            {"type": "gte", "key": "version", "value": 2},
            {"type": "eq", "key": "public", "value": True},
        ],
    }
    compound = '{"type": "or", "filters": [{"type": "in", "key": "k", "value": ["a", 1]}]}'
    assert parse_filter(compound)["type"] == "or"
    assert parse_filter("  ") is None


@pytest.mark.parametrize(
    "text, fragment",
    [
        ('{"type": "like", "key": "a", "value": 1}', "expected one of"),
        ('{"type": "eq", "key": "a"}', "value: missing"),
        ('{"type": "in", "key": "a", "value": 1}', "list of strings or numbers"),
        ('{"type": "eq", "key": "a", "value": [1]}', "only goes with"),
        ('{"type": "and", "filters": []}', "non-empty list"),
        ('{"type": "eq", "key": "", "value": 1}', "attribute's name"),
        ('{"type": "eq"', "Not valid JSON"),
        ("team ~ docs", "Could not read"),
    ],
)
def test_invalid_filters_say_why(text, fragment):
    with pytest.raises(ValueError, match=fragment):
        parse_filter(text)


def test_deep_nesting_is_refused():
    value: dict = {"type": "eq", "key": "a", "value": 1}
    for _ in range(12):
        value = {"type": "and", "filters": [value]}
    assert "nest" in (check_filter(value) or "")


async def _search_screen(pilot, name="support-faq"):
    app = pilot.app
    table = app.screen.table
    table.cursor = next(i for i, s in enumerate(table.view) if s.name == name)
    await pilot.press("enter")
    await settle(pilot)
    await pilot.press("s")
    await settle(pilot)


async def test_search_sends_options_and_highlights(make_app):
    app, _ = make_app("demo")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await _search_screen(pilot)
        screen = app.screen
        screen.query_one("#filters").value = "nonexistent=zzz"
        await pilot.press(*"refund policy", "enter")
        await settle(pilot)
        assert "0 results" in screen_text(app)
        screen.query_one("#filters").value = "bogus ~ x"
        await pilot.press("ctrl+f", "enter")
        await settle(pilot)
        assert "not sent — Could not read" in screen_text(app)
        screen.query_one("#filters").value = ""
        screen.query_one("#max").value = "2"
        screen.query_one("#threshold").value = "0"
        await pilot.press("ctrl+f", "enter")
        await settle(pilot)
        assert len(screen.results.view) <= 2 and screen.results.view
        chunk = screen.query_one("#chunk")
        lines = [chunk.render_line(y) for y in range(chunk.size.height)]
        marked = [
            segment.text.lower()
            for line in lines
            for segment in line
            if segment.style is not None and segment.style.reverse
        ]
        assert marked and all(word in ("refund", "policy") for word in marked)
        assert screen.query_one("#chunk-box").scroll_offset.y == 0
        screen.query_one("#max").value = "99"
        await pilot.press("ctrl+f", "enter")
        await settle(pilot)
        assert "max results" in screen_text(app)
