"""Themes: every shipped theme renders the store list; a bad theme file is skipped, not fatal."""

from __future__ import annotations

import pytest

from vstui.themes import builtin_dir, load_all, load_file

from .conftest import notes, settle, watch_notifications

SHIPPED = sorted(p.stem for p in builtin_dir().glob("*.toml"))


def test_three_themes_ship():
    assert {"vstui-dark", "vstui-light", "vstui-high-contrast"} <= set(SHIPPED)
    themes, problems = load_all([])
    assert not problems and {t.name for t in themes} >= set(SHIPPED)


@pytest.mark.parametrize("name", SHIPPED)
def test_theme_snapshot(snap_compare, make_app, name):
    app, _ = make_app("demo", theme=name)
    assert snap_compare(app, terminal_size=(120, 40), run_before=settle)


def test_bad_theme_files_are_reported_and_skipped(tmp_path):
    (tmp_path / "ok.toml").write_text('name = "mine"\nprimary = "#123456"\n')
    (tmp_path / "badcolour.toml").write_text('name = "bad"\nprimary = "#12345z"\n')
    (tmp_path / "badtoml.toml").write_text('name = "x\n')
    (tmp_path / "badvar.toml").write_text(
        'name = "v"\nprimary = "red"\n[variables]\n"footer-key-foreground" = "not a colour"\n'
    )
    themes, problems = load_all([tmp_path])
    assert "mine" in {t.name for t in themes}
    assert {p.path.name for p in problems} == {"badcolour.toml", "badtoml.toml", "badvar.toml"}
    by_name = {p.path.name: p.message for p in problems}
    assert "is not a colour" in by_name["badcolour.toml"]
    assert "TOML" in by_name["badtoml.toml"]
    with pytest.raises(ValueError):
        load_file(tmp_path / "badcolour.toml")


async def test_theme_problems_notify_and_choice_persists(make_app):
    from vstui.app import VstuiApp

    app, _ = make_app("demo")
    chosen: list[str] = []
    themes, _ = load_all([])
    app = VstuiApp(
        app.session,
        theme="vstui-dark",
        themes=themes,
        theme_problems=["bad.toml: primary: '#12345z' is not a colour"],
        on_theme_change=chosen.append,
    )
    watch_notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert app.theme == "vstui-dark"
        assert any("bad.toml" in n for n in notes(app))
        app.theme = "vstui-high-contrast"
        await pilot.pause()
        assert chosen == ["vstui-high-contrast"]
