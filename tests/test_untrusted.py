"""Untrusted text never drives the terminal, and the key never shows.

Server data (store names, descriptions, metadata, file names, error messages) goes
through one sanitiser where it becomes output: the table's cells, detail fields,
notifications, the header, and the headless printers.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import re

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from rich.table import Table
from rich.text import Text
from textual.app import App, ComposeResult
from textual.widgets import Header

from vstui.api import ClientSettings, VectorStoresService
from vstui.commands import cleanup as headless
from vstui.text import (
    NEWLINE_MARK,
    clean,
    clean_block,
    forget_secrets,
    register_secret,
    safe_stream,
    scrub,
)
from vstui.widgets.safe import SafeApp, SafeDataTable, SafeStatic
from vstui.widgets.table import Column, VirtualTable

from .conftest import KEY, settle

# What must never reach a terminal from server data: C0 (but newline and tab in multi-line
# text), DEL, C1, bidi embeddings/overrides/isolates/marks, line and paragraph separators.
FORBIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
FORBIDDEN_LINE = re.compile(f"[\n\t{FORBIDDEN.pattern[1:-1]}\u2028\u2029]")
ATTACK = "\u001b[2J\u001b]0;pwned\u0007evil"

nasty_chars = st.sampled_from(
    [chr(c) for c in range(0x20)]
    + ["\x7f", "\x9b", "\x85", "\u061c", "\u200e", "\u200f", "\u2028", "\u2029"]
    + [chr(c) for c in range(0x202A, 0x202F)]
    + [chr(c) for c in range(0x2066, 0x206A)]
    + ["[b]", "[/]", "\\", "é", "漢", "x", " ", "sk-", "Bearer "]
)
nasty = st.lists(nasty_chars | st.text(max_size=3), min_size=1, max_size=12).map("".join)


@pytest.fixture(autouse=True)
def _no_secrets_left():
    yield
    forget_secrets()


# -- the sanitiser -------------------------------------------------------------------------


def test_escapes_are_visible():
    assert clean(ATTACK) == "\\x1b[2J\\x1b]0;pwned\\x07evil"
    assert clean("a\u202eb\x9bc\x00") == "a\\u202eb\\x9bc\\x00"
    assert clean("two\nlines\r\nthree") == f"two{NEWLINE_MARK}lines{NEWLINE_MARK}three"
    assert clean_block("keep\n\tindent\x1b") == "keep\n\tindent\\x1b"
    assert clean("[b]markup[/b] stays text") == "[b]markup[/b] stays text"
    plain = "an ordinary name — café 漢字"
    assert clean(plain) is plain  # nothing to do: no copy


def test_secrets_and_bearer_tokens_are_masked():
    secret = "sk-proj-very-secret-0123456789wxyz"
    register_secret(secret)
    assert scrub(f"Invalid header: {secret}") == "Invalid header: sk-…wxyz"
    assert scrub("Authorization: Bearer abcdefghijklmnop1234") == "Authorization: Bearer …1234"
    assert clean(f'{{"message": "Bearer {secret}"}}') == '{"message": "Bearer sk-…wxyz"}'


@given(nasty)
def test_clean_leaves_nothing_that_drives_a_terminal(value):
    assert not FORBIDDEN_LINE.search(clean(value))
    assert not FORBIDDEN.search(clean_block(value))


@given(st.lists(nasty, min_size=1, max_size=4))
def test_headless_printing_helper(values):
    raw = io.StringIO()
    out = safe_stream(raw)
    for value in values:
        print(f"  {value}  {value[:5]:5}", file=out)
    lines = raw.getvalue().split("\n")
    assert len(lines) == len(values) + 1  # a newline in a value never splits a line
    assert not FORBIDDEN_LINE.search("".join(lines))


# -- every renderer ------------------------------------------------------------------------


class Renderers(SafeApp):
    """A table cell, a detail field (a rich grid), metadata cells, the header."""

    def compose(self) -> ComposeResult:
        yield Header()
        yield VirtualTable(
            [
                Column("name", "Name", 14, lambda r: r[0]),
                Column("styled", "Styled", 14, lambda r: Text.assemble(("•", "red"), r[0])),
            ],
            row_key=lambda r: r[1],
        )
        yield SafeStatic("", id="field")
        yield SafeDataTable(id="meta")


def painted(app: App[object]) -> str:
    """Every character on the screen, as sent to the terminal."""
    strips = app.screen._compositor.render_strips()
    return "\n".join("".join(segment.text for segment in strip) for strip in strips)


async def _render(values: list[str]) -> str:
    app = Renderers()
    async with app.run_test(size=(100, 40)) as pilot:
        table = app.query_one(VirtualTable)
        table.set_rows([(v, str(i)) for i, v in enumerate(values)])
        grid = Table.grid()
        grid.add_column()
        grid.add_column()
        for value in values:
            grid.add_row("Name", Text(value, style="bold"))
        app.query_one("#field", SafeStatic).update(grid)
        meta = app.query_one(SafeDataTable)
        meta.add_columns("Key", "Value")
        for value in values:
            meta.add_row(value, Text(value))
        app.title = values[0]
        app.sub_title = values[-1]
        app.notify(values[0], title=values[-1])
        await pilot.pause()
        return painted(app)


# Each example starts an app: no shrinking (a failure prints its example as it is).
@settings(
    max_examples=8,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.lists(nasty, min_size=1, max_size=6))
def test_every_renderer_escapes_controls(values):
    screen = asyncio.run(_render([*values, ATTACK]))
    assert not FORBIDDEN.search(screen.replace("\n", ""))
    assert "\\x1b[2J" in screen


@settings(
    max_examples=10,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(nasty, min_size=1, max_size=4), nasty)
def test_headless_plan_and_report_escape_controls(make_sim, names, reason):
    from vstui.sim import Fault

    server = make_sim("empty")
    for name in names:
        store = server.account.create_store(name=name, description=name)
        store.expired = True
        sim_file = server.account.add_file(name + ".txt", 10)
        server.account.attach(store, sim_file)
    error = {"error": {"message": reason, "type": "invalid_request_error", "code": None}}
    server.simulator.inject(
        Fault(
            path="/vector_stores/vs_", method="DELETE", status=400, times=99, body=json.dumps(error)
        )
    )
    service = VectorStoresService(ClientSettings(api_key=KEY, base_url=server.base_url))

    def run(**kw):
        out, err = io.StringIO(), io.StringIO()
        values = {"expired": True, "store": None, "delete_files": True, "orphans": False}
        values.update(dry_run=False, yes=True, concurrency=None, json=False)
        code = headless.run_with(argparse.Namespace(**(values | kw)), service, out=out, err=err)
        return code, out.getvalue(), err.getvalue()

    try:
        code, plan_out, plan_err = run(dry_run=True)
        assert code == 0
        # One line per store and per file, whatever the names hold.
        assert plan_out.count("\n") == 2 * len(names) + 4
        code, out, err = run()
        assert code == 1 and out.count("  failed store") == len(names)
        _, json_out, _ = run(dry_run=True, json=True)
    finally:
        service.close()
    assert not FORBIDDEN.search(plan_out + plan_err + out + err)
    plan = json.loads(json_out)["plan"]
    assert sorted(s["name"] for s in plan["stores"]) == sorted(names)  # --json stays exact


# -- the attack, end to end ----------------------------------------------------------------


async def test_hostile_store_cannot_clear_the_screen_or_set_the_title(make_app):
    app, server = make_app("demo")
    store = server.account.create_store(
        name=ATTACK, description="\u202eevil\u202c", metadata={"k\x1b": "v\x9b\n2"}
    )
    hostile = server.account.add_file("\x1b]8;;http://x\x07link\x1b]8;;\x07.md", 20)
    server.account.attach(store, hostile)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        table = app.screen.table
        table.cursor = next(i for i, s in enumerate(table.view) if s.id == store.id)
        await pilot.pause()
        screen = painted(app)
        assert not FORBIDDEN.search(screen.replace("\n", ""))
        assert "\\x1b[2J\\x1b]0;pwned" in screen
        await pilot.press("enter")
        await settle(pilot)
        screen = painted(app)
        assert not FORBIDDEN.search(screen.replace("\n", ""))
        assert "\\u202eevil" in screen and "v\\x9b⏎2" in screen
        assert "\\x1b[2J" in screen  # the title and the Name field
        await pilot.press("f")
        await settle(pilot)
        screen = painted(app)
        assert not FORBIDDEN.search(screen.replace("\n", ""))
        assert "\\x1b]8;;http" in screen


def test_logs_never_carry_the_key():
    import logging

    from vstui.text import install_log_scrubber

    install_log_scrubber()
    secret = "sk-proj-log-fake-zz99"
    register_secret(secret)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("vstui.test.logs")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("sending %s with Bearer %s\x1b[2J", "headers", secret)
    finally:
        logger.removeHandler(handler)
    logged = stream.getvalue()
    assert secret not in logged and "Bearer sk-…zz99" in logged and "\x1b" not in logged
