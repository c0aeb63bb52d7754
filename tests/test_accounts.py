"""Keys in the keyring, profiles and the config file: never a traceback, never the key."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import keyring
import keyring.backend
import keyring.backends.fail
import keyring.errors
import pytest

from vstui import accounts, cli, config, keys
from vstui.app import VstuiApp
from vstui.session import StateStore

from .conftest import KEY, notes, settle, watch_notifications


class MemoryKeyring(keyring.backend.KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.data.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.data[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if (service, username) not in self.data:
            raise keyring.errors.PasswordDeleteError("no such password")
        del self.data[(service, username)]


@pytest.fixture
def memory_keyring(monkeypatch, tmp_path):
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("VSTUI_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("VSTUI_STATE_DIR", str(tmp_path / "state"))
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture
def no_keyring(monkeypatch, tmp_path):
    previous = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("VSTUI_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("VSTUI_STATE_DIR", str(tmp_path / "state"))
    yield
    keyring.set_keyring(previous)


def run(argv, capsys, stdin: str | None = None, monkeypatch=None):
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = cli.main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_key_set_show_delete(memory_keyring, capsys, monkeypatch):
    code, out, err = run(["key", "set", "--profile", "work"], capsys, KEY + "\n", monkeypatch)
    assert code == 0 and "sk-…stuv" in out
    assert memory_keyring.data[("vstui", "work")] == KEY
    code, out, _ = run(["key", "show", "--profile", "work"], capsys)
    assert code == 0 and "sk-…stuv" in out and "keyring" in out
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-the-environment-9999")
    code, out, _ = run(["key", "show", "--profile", "work"], capsys)
    assert "sk-…9999" in out and "environment" in out  # the environment wins
    monkeypatch.delenv("OPENAI_API_KEY")
    code, out, _ = run(["key", "delete", "--profile", "work"], capsys)
    assert code == 0 and ("vstui", "work") not in memory_keyring.data
    code, out, err = run(["key", "delete", "--profile", "work"], capsys)
    assert code == 1 and not out and "no key for profile 'work'" in err
    code, out, err = run(["key", "show", "--profile", "work"], capsys)
    assert code == 1 and not out  # stdout carries only the masked key
    assert "OPENAI_API_KEY" in err and "vstui key set" in err
    everything = out + err
    assert KEY not in everything


def test_empty_key_is_refused(memory_keyring, capsys, monkeypatch):
    code, _, err = run(["key", "set"], capsys, "\n", monkeypatch)
    assert code == 2 and "nothing was stored" in err and not memory_keyring.data


def test_no_keyring_backend_says_so_plainly(no_keyring, capsys, monkeypatch):
    for argv in (["key", "set"], ["key", "show"], ["key", "delete"], []):
        code, out, err = run(argv, capsys, KEY + "\n", monkeypatch)
        assert code == 2 and not out  # like every usage error: stderr, exit 2
        assert "OPENAI_API_KEY" in err and "keyring" in err
        assert "Traceback" not in err and KEY not in err


def test_plaintext_backend_is_not_used(monkeypatch, capsys, tmp_path):
    class PlaintextKeyring(MemoryKeyring):
        pass

    previous = keyring.get_keyring()
    keyring.set_keyring(PlaintextKeyring())
    try:
        with pytest.raises(keys.KeyringUnavailable, match="plain-text"):
            keys.store("default", KEY)
    finally:
        keyring.set_keyring(previous)


def test_no_key_tells_how_to_provide_one(memory_keyring, capsys):
    code, _, err = run([], capsys)
    assert code == 2
    assert "OPENAI_API_KEY" in err and "vstui key set --profile default" in err
    assert "vstui --demo" in err


GOOD = """
default_profile = "work"
theme = "vstui-light"
storage_price_per_gb_day = 0.2
cleanup_concurrency = 4

[profiles.work]
base_url = "https://api.example.com/v1"
organization = "org-1"
project = "proj_1"
read_only = true

[profiles.local]
base_url = "http://localhost:8000/v1"
"""


def test_config_parses(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(GOOD)
    loaded = config.load(path)
    name, profile = loaded.profile(None)
    assert name == "work" and profile.read_only and profile.organization == "org-1"
    assert loaded.storage_price_per_gb_day == 0.2 and loaded.cleanup_concurrency == 4
    assert loaded.profile("local")[1].base_url == "http://localhost:8000/v1"
    with pytest.raises(config.ConfigError, match="no profile 'nope'"):
        loaded.profile("nope")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("theme = [", "not valid TOML"),
        ("colour = 'red'", "colour: unknown setting"),
        ("cleanup_concurrency = 'many'", "cleanup_concurrency"),
        (
            "cleanup_concurrency = 500",
            "cleanup_concurrency: Input should be less than or equal to 64",
        ),
        ("[profiles.x]\nbase_url = 'ftp://nope'", "profiles.x.base_url"),
        ("[profiles.x]\nread_only = 'maybe'", "profiles.x.read_only"),
        ("storage_price_per_gb_day = -1", "storage_price_per_gb_day"),
    ],
)
def test_broken_config_is_explained(tmp_path, capsys, memory_keyring, text, expected):
    path = tmp_path / "config.toml"
    path.write_text(text)
    with pytest.raises(config.ConfigError) as info:
        config.load(path)
    assert str(path) in str(info.value) and expected in str(info.value)
    code, out, err = run(["--config", str(path)], capsys)
    assert code == 2 and expected in err and "Traceback" not in err + out


def test_unknown_theme_is_refused_before_starting(capsys, memory_keyring):
    code, _, err = run(["--demo", "--theme", "no-such-theme"], capsys)
    assert code == 2 and "no-such-theme" in err and "vstui-light" in err


def test_missing_explicit_config(tmp_path, capsys, memory_keyring):
    code, _, err = run(["--config", str(tmp_path / "nope.toml")], capsys)
    assert code == 2 and "does not exist" in err


def test_profiles_resolve_keys_and_settings(memory_keyring, tmp_path, monkeypatch):
    path = tmp_path / "config.toml"
    path.write_text(GOOD)
    loaded = config.load(path)
    with pytest.raises(accounts.LaunchError, match="No API key for profile 'work'"):
        accounts.resolve_account(loaded, None)
    keys.store("work", KEY)
    account = accounts.resolve_account(loaded, None)
    assert account.settings.base_url == "https://api.example.com/v1"
    assert account.settings.organization == "org-1" and account.key_source == "keyring"
    session = accounts.session_for(account, loaded, StateStore(None), read_only=False)
    assert session.read_only  # the profile says so
    assert session.storage_price_per_gb_day == 0.2 and session.cleanup_concurrency == 4
    assert KEY not in repr(account) + repr(session)


async def test_switch_profiles_in_the_app(memory_keyring, make_sim, tmp_path):
    first, second = make_sim("demo"), make_sim("empty")
    second.account.create_store(name="only-in-second")
    path = tmp_path / "config.toml"
    path.write_text(
        f'default_profile = "one"\n[profiles.one]\nbase_url = "{first.base_url}"\n'
        f'[profiles.two]\nbase_url = "{second.base_url}"\n[profiles.nokey]\n'
    )
    loaded = config.load(path)
    keys.store("one", KEY)
    keys.store("two", KEY)
    state = StateStore(tmp_path / "state.json")

    def factory(name: str):
        return accounts.session_for(
            accounts.resolve_account(loaded, name), loaded, state, read_only=False
        )

    app = VstuiApp(factory("one"), profiles=sorted(loaded.profiles), session_factory=factory)
    watch_notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert app.screen.table.row_count == len(first.account.stores)
        switch = next(
            c for c in app.get_system_commands(app.screen) if c.title == "Switch profile: two"
        )
        switch.callback()
        await settle(pilot)
        assert [s.name for s in app.screen.table.rows] == ["only-in-second"]
        broken = next(
            c for c in app.get_system_commands(app.screen) if c.title == "Switch profile: nokey"
        )
        broken.callback()
        await settle(pilot)
        assert [s.name for s in app.screen.table.rows] == ["only-in-second"]  # kept
        assert any("No API key" in n for n in notes(app))


def test_state_persists(tmp_path):
    path = tmp_path / "state" / "state.json"
    state = StateStore(path)
    state.set("theme", "vstui-light")
    state.set("last_profile", "work")
    again = StateStore(path)
    assert again.get("theme") == "vstui-light" and again.get("last_profile") == "work"
    path.write_text("{broken")
    assert StateStore(path).get("theme") is None  # a broken state file is not fatal


def test_paths_follow_the_platform(monkeypatch):
    monkeypatch.delenv("VSTUI_CONFIG_DIR", raising=False)
    assert config.default_path().name == "config.toml"
    assert "vstui" in str(config.default_path())
    assert isinstance(config.state_path(), Path)
