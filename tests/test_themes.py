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


def test_hostile_theme_files_are_skipped_never_fatal(tmp_path):
    (tmp_path / "ok.toml").write_text('name = "mine"\nprimary = "#123456"\n')
    (tmp_path / "deep.toml").write_text("a = " + "[" * 5000 + "]" * 5000 + "\n")
    (tmp_path / "nested.toml").write_text(
        'name = "n"\nprimary = "red"\n[variables]\nx = ' + "[" * 20 + "]" * 20 + "\n"
    )
    (tmp_path / "inf.toml").write_text('name = "i"\nprimary = "red"\nluminosity_spread = inf\n')
    (tmp_path / "binary.toml").write_bytes(b"\xff\xfe\x00name")
    themes, problems = load_all([tmp_path])
    assert "mine" in {t.name for t in themes}
    by_name = {p.path.name: p.message for p in problems}
    assert set(by_name) == {"deep.toml", "nested.toml", "inf.toml", "binary.toml"}
    assert "levels deep" in by_name["deep.toml"] and "levels deep" in by_name["nested.toml"]
    assert "luminosity_spread" in by_name["inf.toml"]


def test_a_bad_user_theme_never_blocks_start_up(tmp_path):
    import subprocess
    import sys

    themes = tmp_path / "config" / "themes"
    themes.mkdir(parents=True)
    (themes / "deep.toml").write_text("a = " + "[" * 5000 + "]" * 5000 + "\n")
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith("OPENAI_")}
    env.update(VSTUI_CONFIG_DIR=str(tmp_path / "config"), VSTUI_STATE_DIR=str(tmp_path / "s"))
    # Themes load before anything starts: the broken file is skipped, and the start-up
    # goes on to its next check (here: an unknown theme name, refused with a sentence).
    done = subprocess.run(
        [sys.executable, "-m", "vstui", "--demo", "--theme", "nosuch"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 2 and "There is no theme 'nosuch'" in done.stderr
    assert "Traceback" not in done.stderr and "vstui-light" in done.stderr


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
