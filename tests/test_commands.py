"""The command line: one module per subcommand, every option explained, and the account the
global options name reaching every command the same way (over real HTTP to the simulator)."""

from __future__ import annotations

import json
import pkgutil
from pathlib import Path

import pytest

from vstui import accounts, cli, commands
from vstui.commands import cleanup as cleanup_command
from vstui.commands import key as key_command
from vstui.commands import serve as serve_command
from vstui.commands import sim as sim_command
from vstui.commands import sync as sync_command
from vstui.commands import tui
from vstui.commands import watch as watch_command

from .conftest import KEY

SUBCOMMANDS = ["tui", "cleanup", "sync", "watch", "key", "serve", "sim"]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No config, no state, no keyring: only what a test sets."""
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("VSTUI_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("VSTUI_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    monkeypatch.setenv("COLUMNS", "100")
    (tmp_path / "config").mkdir()
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def help_of(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    with pytest.raises(SystemExit) as done:
        cli.main([*argv, "--help"])
    assert done.value.code == 0
    return capsys.readouterr().out


def unexplained(text: str, sections: tuple[str, ...]) -> list[str]:
    """The arguments a help text lists without a word about them."""
    lines = text.splitlines()
    missing: list[str] = []
    section = None
    for i, line in enumerate(lines):
        if line and not line.startswith(" "):
            section = line if line in sections else None
            continue
        if section is None or not line.startswith("  ") or line.startswith("   "):
            continue
        invocation, _, said = line.strip().partition("  ")
        following = lines[i + 1] if i + 1 < len(lines) else ""
        said_below = following.startswith("   ") and not following.strip().startswith("-")
        if not said.strip() and not said_below:
            missing.append(invocation)
    return missing


# -- help ------------------------------------------------------------------------------------


def test_vstui_help_lists_every_command_with_what_it_does(home, capsys):
    text = help_of(capsys)
    for name in SUBCOMMANDS:
        (line,) = [line for line in text.splitlines() if line.strip().startswith(name + " ")]
        assert len(line.split()) > 3, line  # the command and a phrase about it
    assert unexplained(text, ("options:",)) == []
    for option in ("--demo", "--base-url URL", "--profile NAME", "--config PATH", "--timeout"):
        assert option in text
    assert "Without a COMMAND, vstui opens the browser" in text


@pytest.mark.parametrize("name", SUBCOMMANDS)
def test_every_option_of_every_command_is_explained(home, capsys, name):
    text = help_of(capsys, name)
    assert text.startswith(f"usage: vstui {name} ")
    assert unexplained(text, ("options:", "positional arguments:")) == []
    description = text.split("\n\n")[1]
    assert len(description.split()) > 8, description  # a sentence about the command


def test_every_command_module_is_on_the_command_line():
    modules = {m.name for m in pkgutil.iter_modules(commands.__path__)} - {"console"}
    assert modules == set(SUBCOMMANDS) == {m.__name__.rsplit(".", 1)[1] for m in cli.commands()}


def test_the_browser_is_the_default_and_a_command_too(home, capsys):
    parser = cli.build_parser()
    assert parser.parse_args([]).run is tui.run
    assert parser.parse_args(["--demo", "tui"]).run is tui.run
    assert parser.parse_args(["sim"]).run is sim_command.run
    assert parser.parse_args(["serve"]).run is serve_command.run
    for argv in ([], ["tui"]):  # no key anywhere: told how to give one, nothing started
        code, out, err = run(capsys, *argv)
        assert code == 2 and not out
        assert "OPENAI_API_KEY" in err and "vstui --demo" in err


# -- the global options reach every command --------------------------------------------------


def test_global_timeout_is_the_http_timeout_and_wait_timeouts_are_their_own(home, monkeypatch):
    parser = cli.build_parser()
    args = parser.parse_args(["--timeout", "2.5", "watch", "vs_x", "--timeout", "9"])
    assert (args.timeout, args.wait_timeout) == (2.5, 9)
    args = parser.parse_args(["--timeout", "4", "sync", ".", "s", "--wait", "--timeout", "60"])
    assert (args.timeout, args.wait_timeout) == (4, 60)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    with accounts.connect(args) as account:
        assert account.service.settings.timeout == 4
        assert account.service.settings.max_retries == 8  # headless: patient with 429s


def test_headless_commands_use_the_global_account(home, sim, capsys, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    url = sim.base_url
    code, out, err = run(capsys, "--base-url", url, "watch", "no-such-store")
    assert code == 2 and "There is no store 'no-such-store'" in err  # asked the simulator
    code, out, _ = run(capsys, "--base-url", url, "cleanup", "--expired", "--dry-run", "--json")
    assert code == 0 and json.loads(out)["plan"]["stores"] == []
    assert KEY not in out + err


def test_a_read_only_profile_refuses_every_change(home, sim, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    (home / "config" / "config.toml").write_text(
        f'[profiles.ro]\nbase_url = "{sim.base_url}"\nread_only = true\n'
    )
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.md").write_text("a\n")
    code, _, err = run(capsys, "--profile", "ro", "sync", str(folder), "s", "--create", "--yes")
    assert code == 2 and "read-only" in err and not list(sim.account.stores)
    code, _, err = run(capsys, "--demo", "--read-only", "cleanup", "--expired", "--yes")
    assert code == 2 and "read-only; nothing was deleted" in err


def test_a_problem_with_the_account_is_one_sentence_for_every_command(home, capsys):
    for argv in (
        ["cleanup", "--expired", "--dry-run"],
        ["sync", ".", "s", "--dry-run"],
        ["watch", "vs_x"],
        ["serve"],
    ):
        code, out, err = run(capsys, "--profile", "nope", *argv)
        assert code == 2 and not out, argv
        assert "profile 'nope'" in err and len(err.strip().splitlines()) == 1, err
        assert "Traceback" not in err


# -- the crash guard names what was running --------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "module", "doing"),
    [
        (["key", "show"], key_command, "running `vstui key show`"),
        (["--demo", "sync", ".", "s"], sync_command, "syncing a folder"),
        (["--demo", "watch", "vs_x"], watch_command, "watching ingestion"),
        (["--demo", "cleanup", "--expired"], cleanup_command, "running the clean-up"),
        (["sim"], sim_command, "serving the simulator"),
        ([], tui, "running the browser"),
    ],
)
def test_a_crash_names_the_command(home, capsys, monkeypatch, argv, module, doing):
    def boom(args):
        raise RuntimeError("a bug")

    monkeypatch.setattr(module, "run", boom)
    code, out, err = run(capsys, *argv)
    assert code == 1 and not out
    assert f"vstui stopped unexpectedly while {doing} (RuntimeError)" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


# -- sim ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "value"),
    [("--error-rate", "1.5"), ("--latency-ms", "-5"), ("--rate-limit", "0"), ("--port", "70000")],
)
def test_sim_refuses_nonsense_before_serving(home, capsys, option, value):
    code, out, err = run(capsys, "sim", option, value)
    assert code == 2 and not out
    assert err.startswith(f"vstui sim: {option} ")


def test_serve_tabs_get_the_global_timeout_too(home):
    from vstui.serve import child_command

    args = cli.build_parser().parse_args(["--demo", "--timeout", "7", "serve"])
    assert child_command(args).endswith("-m vstui --timeout 7.0 --demo")


def test_the_command_line_starts_fetching_before_anything_heavy_is_imported():
    """`vstui` paints its first stores before a script could print them only if `main`
    runs (and starts the prefetch) before the commands, httpx, pydantic or Textual are
    imported: importing the entry point and the prefetch imports none of them."""
    import subprocess
    import sys

    code = (
        "import sys, vstui.cli, vstui.prefetch\n"
        "heavy = ('httpx', 'pydantic', 'textual', 'rich', 'vstui.commands', 'vstui.api')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy or m in heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
