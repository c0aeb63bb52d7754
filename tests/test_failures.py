"""Every failure is one sentence with the right exit code; never a traceback, never the key."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from vstui import accounts, cli, config
from vstui.app import VstuiApp
from vstui.commands import cleanup as cleanup_command
from vstui.screens.cleanup import CleanupScreen
from vstui.screens.dialogs import ConfirmScreen, PromptScreen, whole_number
from vstui.screens.store_detail import StoreDetailScreen
from vstui.session import StateStore
from vstui.text import forget_secrets, register_secret

from .conftest import settle, watch_notifications
from .test_untrusted import painted

SECRET = "sk-proj-fake-secret-0042wxyz"
MASKED = "sk-…wxyz"


@pytest.fixture(autouse=True)
def _no_secrets_left():
    yield
    forget_secrets()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    (tmp_path / "config").mkdir()
    (tmp_path / "state").mkdir()
    return tmp_path


def vstui(home: Path, *argv: str, key: str | None = SECRET, stdin: str = "", **env: str):
    """Run the real command in a subprocess, as a user would."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "VSTUI_"))}
    environ.update(
        VSTUI_CONFIG_DIR=str(home / "config"),
        VSTUI_STATE_DIR=str(home / "state"),
        PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
        NO_COLOR="1",
    )
    if key is not None:
        environ["OPENAI_API_KEY"] = key
    environ.update(env)
    done = subprocess.run(
        [sys.executable, "-m", "vstui", *argv],
        input=stdin,
        capture_output=True,
        text=True,
        env=environ,
        timeout=120,
    )
    return done.returncode, done.stdout, done.stderr


def one_sentence(text: str) -> bool:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return len(lines) == 1 and lines[0].startswith("vstui") and lines[0].rstrip().endswith(".")


CLEANUP = ("cleanup", "--expired", "--dry-run")
NESTED = "a = " + "[" * 3000 + "]" * 3000 + "\n"


@pytest.mark.parametrize(
    ("argv", "env", "config_text", "expected"),
    [
        (["--base-url", "http://[::1/v1", *CLEANUP], {}, None, "cannot be parsed"),
        (["--base-url", "not a url", *CLEANUP], {}, None, "space or a control"),
        (["--base-url", "notaurl", *CLEANUP], {}, None, "http:// or https://"),
        (["--base-url", "ftp://example.com/v1", *CLEANUP], {}, None, "http:// or https://"),
        (["--base-url", "http://localhost:99999/v1", *CLEANUP], {}, None, "port"),
        (["--base-url", "ftp://example.com/v1"], {}, None, "http:// or https://"),  # the TUI
        ([*CLEANUP], {"OPENAI_BASE_URL": "http://[::1/v1"}, None, "OPENAI_BASE_URL"),
        ([*CLEANUP], {"OPENAI_API_KEY": "sk-ключ-0123456789abcd"}, None, "not plain ASCII"),
        ([*CLEANUP], {"OPENAI_API_KEY": "sk-abc\n0123456789abcd"}, None, "line break"),
        ([], {"OPENAI_API_KEY": "sk-abc\n0123456789abcd"}, None, "line break"),
        ([*CLEANUP], {"OPENAI_ORG_ID": "org-über"}, None, "OPENAI_ORG_ID"),
        (["cleanup", "--expired", "--concurrency", "0"], {}, None, "between 1 and 64"),
        (["--timeout", "0", *CLEANUP], {}, None, "seconds"),
        (["--timeout", "soon", *CLEANUP], {}, None, "not a number of seconds"),
        ([*CLEANUP], {}, "[profiles.default]\nbase_url = 'http://[::1/v1'\n", "base_url"),
        ([*CLEANUP], {}, "[profiles.default]\nbase_url = 'http://h:99999'\n", "base_url"),
        ([*CLEANUP], {}, NESTED, "levels deep"),
        ([*CLEANUP], {}, "storage_price_per_gb_day = inf\n", "storage_price_per_gb_day"),
        ([*CLEANUP], {}, "storage_price_per_gb_day = nan\n", "storage_price_per_gb_day"),
        ([*CLEANUP], {}, "cleanup_concurrency = 0\n", "cleanup_concurrency"),
        ([*CLEANUP], {}, "timeout = -1\n", "timeout"),
        ([*CLEANUP], {}, "connect_timeout = inf\n", "connect_timeout"),
        ([*CLEANUP], {}, 'default_profile = "wrok"\n[profiles.work]\n', "default_profile"),
    ],
)
def test_bad_input_is_one_sentence_and_exit_2(home, argv, env, config_text, expected):
    if config_text is not None:
        (home / "config" / "config.toml").write_text(config_text)
    code, out, err = vstui(home, *argv, **env)
    assert code == 2, err
    assert expected in err and "Traceback" not in out + err
    assert SECRET not in out + err and "ключ" not in err and "0123456789abcd" not in err
    if err.startswith("usage:"):  # argparse: the usage, then one line saying what is wrong
        assert err.strip().splitlines()[-1].startswith("vstui: error: argument")
    elif config_text is None:  # config problems list the file, then each problem
        assert one_sentence(err), err
    else:
        assert str(home / "config" / "config.toml") in err


def test_default_profile_naming_no_profile_names_the_file_and_key(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('default_profile = "wrok"\n[profiles.work]\n')
    with pytest.raises(config.ConfigError) as info:
        config.load(path)
    assert str(path) in str(info.value) and "default_profile = 'wrok'" in str(info.value)
    assert "profiles: work" in str(info.value)


def test_no_keyring_backend_is_a_sentence(home):
    code, out, err = vstui(home, "key", "set", key=None, stdin=SECRET + "\n")
    assert code == 2 and "No usable keyring backend" in err and "Traceback" not in err
    assert SECRET not in out + err
    code, out, err = vstui(home, *CLEANUP, key=None)
    assert code == 2 and "OPENAI_API_KEY" in err and "Traceback" not in err


def test_key_set_refuses_a_key_that_cannot_be_sent(home):
    code, _, err = vstui(home, "key", "set", key=None, stdin="sk-é-0123456789abcdef\n")
    assert code == 2 and "not plain ASCII" in err and "0123456789abcdef" not in err


def test_timeouts_from_config_and_command_line(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    path = tmp_path / "config.toml"
    path.write_text("timeout = 12\nconnect_timeout = 3\n")
    loaded = config.load(path)
    account = accounts.resolve_account(loaded, None)
    assert (account.settings.timeout, account.settings.connect_timeout) == (12, 3)
    account = accounts.resolve_account(loaded, None, timeout=7)
    assert account.settings.timeout == 7
    args = cli.build_parser().parse_args(["--timeout", "2.5", "cleanup", "--expired"])
    assert args.timeout == 2.5


# -- a server that echoes the key back -------------------------------------------------------


class EchoAuth(BaseHTTPRequestHandler):
    """Answers everything 401 with the Authorization header in the message."""

    def _answer(self) -> None:
        auth = self.headers.get("Authorization", "")
        body = json.dumps(
            {
                "error": {
                    "message": f"Invalid header: {auth}; key {auth.removeprefix('Bearer ')}",
                    "type": "invalid_request_error",
                    "code": "invalid_api_key",
                }
            }
        ).encode()
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_DELETE = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def echo_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), EchoAuth)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def test_a_401_echoing_the_key_never_shows_it_headless(home, echo_server):
    for extra in ((), ("--json",)):
        code, out, err = vstui(home, "--base-url", echo_server, *CLEANUP, *extra)
        assert code == 1 and "401" in err
        assert SECRET not in out + err and "0042wxyz" not in out + err
        assert MASKED in err and "Traceback" not in err


async def test_a_401_echoing_the_key_never_shows_it_in_a_notification(
    home, echo_server, monkeypatch
):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    loaded = config.Config()
    account = accounts.resolve_account(loaded, None, base_url=echo_server, max_retries=0)
    session = accounts.session_for(account, loaded, StateStore(None), read_only=False)
    app = VstuiApp(session, theme="textual-dark")
    shown = watch_notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = painted(app)
        assert shown and any("401" in text for text in shown)
        assert all(SECRET not in text and MASKED in text for text in shown)
        assert SECRET not in screen and "0042wxyz" not in screen.replace(MASKED, "")
    session.service.close()


# -- unexpected exceptions -----------------------------------------------------------------


def test_cli_guard_turns_a_crash_into_a_sentence_and_a_log(home, monkeypatch, capsys):
    monkeypatch.setenv("VSTUI_STATE_DIR", str(home / "state"))
    register_secret(SECRET)

    def boom(args):
        raise RuntimeError(f"something broke near Bearer {SECRET}")

    monkeypatch.setattr(cleanup_command, "run", boom)
    code = cli.main(["--demo", *CLEANUP])
    err = capsys.readouterr().err
    assert code == 1 and one_sentence(err) and "running the clean-up" in err
    assert "RuntimeError" in err and "Traceback" not in err and SECRET not in err
    logs = list((home / "state" / "crashes").glob("crash-*.log"))
    assert len(logs) == 1 and str(logs[0]) in err
    log = logs[0].read_text()
    assert "Traceback" in log and "boom" in log and SECRET not in log and MASKED in log


async def test_tui_crash_is_a_sentence_and_a_log(make_app, home, monkeypatch, capfd):
    monkeypatch.setenv("VSTUI_STATE_DIR", str(home / "state"))
    app, _ = make_app("demo")

    def boom() -> None:
        raise ZeroDivisionError("a bug")

    with pytest.raises(ZeroDivisionError):
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            app.call_later(boom)
            await pilot.pause()
    assert app.return_code == 1
    logs = list((home / "state" / "crashes").glob("crash-*.log"))
    assert len(logs) == 1 and "ZeroDivisionError" in logs[0].read_text()
    said = app.crash_message or ""  # printed by the launcher once the terminal is back
    assert "vstui stopped unexpectedly while showing Stores (ZeroDivisionError)" in said
    assert str(logs[0]) in said and "\n" not in said
    printed = capfd.readouterr()
    assert "Traceback" not in printed.out + printed.err


# -- numeric input --------------------------------------------------------------------------


def test_attribute_numbers_that_json_cannot_carry_are_refused():
    from vstui.screens.dialogs import PairRow, values_from_rows

    assert values_from_rows([PairRow("c", "2", "number")]) == {"c": 2}
    for text in ("1e999", "NaN", "-Infinity"):
        with pytest.raises(ValueError, match="is not a number"):
            values_from_rows([PairRow("a", text, "number")])
    assert values_from_rows([PairRow("a", "1e999", "text")]) == {"a": "1e999"}


@pytest.mark.parametrize("text", ["²", "١٢", "12²", "1e3", "-1", "9" * 40, " "])
def test_whole_number_accepts_only_plain_digits(text):
    assert whole_number(text) is None


async def test_superscript_two_in_the_expiry_dialog_is_refused_politely(make_app):
    app, _ = make_app("demo")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, StoreDetailScreen)
        await pilot.press("x", "ctrl+u", "²", "enter")
        await pilot.pause()
        assert isinstance(app.screen, PromptScreen)
        assert "whole number of days" in painted(app)


async def test_superscript_in_the_typed_confirmation_is_refused(make_app):
    app, server = make_app("demo")
    stores = set(server.account.stores)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("X")
        await settle(pilot)
        assert isinstance(app.screen, CleanupScreen)
        await pilot.press("ctrl+d")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("²", "enter")
        await pilot.pause()
        assert "Nothing was deleted" in painted(app)
        assert set(server.account.stores) == stores
