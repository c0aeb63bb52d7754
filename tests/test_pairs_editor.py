"""The metadata and attributes editors round-trip exactly: what opens is what saves."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vstui.api import limits
from vstui.screens.dialogs import (
    PairRow,
    PairsEditor,
    rows_from_values,
    same_values,
    values_from_rows,
)

from .conftest import settle
from .test_ui_flows import open_store, screen_text

keys = st.text(min_size=1, max_size=limits.MAX_KEY_LENGTH)
text_values = st.text(max_size=limits.MAX_VALUE_LENGTH)
metadata = st.dictionaries(keys, text_values, max_size=limits.MAX_METADATA_PAIRS)
attribute_values = st.one_of(
    text_values,
    st.booleans(),
    st.integers(min_value=-(2**53), max_value=2**53),
    st.floats(allow_nan=False, allow_infinity=False),
)
attributes = st.dictionaries(keys, attribute_values, max_size=limits.MAX_METADATA_PAIRS)


@given(metadata)
def test_metadata_round_trips_exactly(values):
    assert limits.check_metadata(values) is None  # every generated value is one the API takes
    rows = rows_from_values(values)
    assert [r.kind for r in rows] == ["text"] * len(values)
    again = values_from_rows(rows)
    assert same_values(again, values) and list(again) == list(values)


@given(attributes)
def test_attributes_round_trip_exactly_with_their_types(values):
    assert limits.check_attributes(values) is None
    again = values_from_rows(rows_from_values(values))
    assert same_values(again, values)
    assert [type(v) for v in again.values()] == [type(v) for v in values.values()]


def test_types_are_not_confused_and_bad_rows_are_named():
    assert not same_values({"a": 1}, {"a": True}) and not same_values({"a": 1}, {"a": 1.0})
    assert same_values(None, {})
    assert values_from_rows([PairRow("", ""), PairRow("k", "")]) == {"k": ""}
    for rows, message in [
        ([PairRow("", "v")], "Row 1: the key is empty"),
        ([PairRow("k", "1"), PairRow("k", "2")], "Row 2: key 'k' appears twice"),
        ([PairRow("n", "1,5", "number")], "Row 1: '1,5' is not a number"),
        ([PairRow("b", "yes", "boolean")], "a boolean is true or false"),
        ([PairRow("n", "true", "number")], "is not a number"),
    ]:
        with pytest.raises(ValueError, match=message):
            values_from_rows(rows)


ODD = {
    "#tag": "v1",
    "a=b": "c",
    "pad": "  x  ",
    "colon:key": "v: w",
    "quoted": '"007"',
    "empty": "",
    "ünïcødé": "日本語 ✓",
    "x": "[b]not markup[/b]",
}


async def test_editor_opens_on_odd_metadata_and_saves_it_unchanged(make_app):
    app, server = make_app("demo")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        open_store(app, "support-faq")
        await pilot.press("enter")
        await settle(pilot)
        store_id = app.screen.store_id
        server.account.stores[store_id].metadata = dict(ODD)
        await pilot.press("r")  # refresh: the screen now holds the odd metadata
        await settle(pilot)
        await pilot.press("m")
        await pilot.pause()
        editor = app.screen
        assert isinstance(editor, PairsEditor)
        shown = screen_text(app)
        for key in ("#tag", "a=b", "colon:key", "ünïcødé", "[b]not markup[/b]", '"007"'):
            assert key in shown
        assert same_values(values_from_rows(editor.rows), ODD)
        posts = server.simulator.count("POST", rf"^/v1/vector_stores/{store_id}$")
        await pilot.press("ctrl+s")  # unchanged: nothing is sent
        await settle(pilot)
        assert not isinstance(app.screen, PairsEditor)
        assert server.simulator.count("POST", rf"^/v1/vector_stores/{store_id}$") == posts
        assert server.account.stores[store_id].metadata == ODD
        # one change: everything else is sent back exactly as it was
        await pilot.press("m")
        await pilot.pause()
        editor = app.screen
        editor.query(".value").last().value = "changed "
        await pilot.click("#add")
        await pilot.pause()
        await pilot.press(*"new key", "tab", *" spaced ")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert server.account.stores[store_id].metadata == {
            **ODD,
            "x": "changed ",
            "new key": " spaced ",
        }


async def test_attributes_editor_keeps_types_and_removes_rows(make_app):
    app, server = make_app("demo")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        open_store(app, "eng-handbook")
        store_id = app.screen.table.current.id
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("f")
        await settle(pilot)
        target = app.screen.table.current
        odd = {"code": "007", "n": 3, "ratio": 0.5, "flag": False, "t=x": "true"}
        server.account.stores[store_id].files[target.id].attributes = dict(odd)
        await pilot.press("r")
        await settle(pilot)
        await pilot.press("e")
        await pilot.pause()
        editor = app.screen
        assert isinstance(editor, PairsEditor)
        assert same_values(values_from_rows(editor.rows), odd)
        await pilot.click(list(editor.query(".remove"))[1])  # remove "n"
        await pilot.pause()
        await pilot.press("ctrl+s")
        await settle(pilot)
        saved = server.account.stores[store_id].files[target.id].attributes
        expected = {k: v for k, v in odd.items() if k != "n"}
        assert same_values(saved, expected)
