"""`vstui serve` without a browser: refusals at start, tokens, pages over real HTTP."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from vstui import serve
from vstui.cli import build_parser, main
from vstui.sim.server import free_port


@pytest.fixture(autouse=True)
def no_account(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("VSTUI_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("VSTUI_STATE_DIR", str(tmp_path / "state"))


def test_loopback_addresses() -> None:
    for host in ("127.0.0.1", "127.0.0.53", "localhost", "::1", "[::1]"):
        assert serve.is_loopback(host), host
    for host in ("0.0.0.0", "::", "192.168.1.10", "example.com", "10.0.0.1"):
        assert not serve.is_loopback(host), host


def test_tokens_compare_exactly() -> None:
    assert serve.token_matches(None, None)
    assert serve.token_matches("abc", "abc")
    assert not serve.token_matches("abc", None)
    assert not serve.token_matches("abc", "abcd")
    assert not serve.token_matches("abc", "ab")
    assert serve.cookie_value("abc") != "abc"


def test_each_tab_runs_the_same_options_and_never_the_key() -> None:
    args = build_parser().parse_args(
        ["--profile", "work", "--read-only", "--theme", "vstui-light", "serve"]
    )
    command = serve.child_command(args)
    assert command.endswith("-m vstui --profile work --theme vstui-light --read-only")
    demo = serve.child_command(build_parser().parse_args(["--demo", "serve"]))
    assert demo.endswith("-m vstui --demo")


def test_a_public_address_needs_read_only_or_allow_writes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--demo", "serve", "--host", "0.0.0.0"]) == 2
    err = capsys.readouterr().err
    assert "0.0.0.0 is reachable from other machines" in err
    assert "--read-only" in err and "--allow-writes" in err


@pytest.mark.parametrize("flags", [["--read-only"], ["--allow-writes"]])
def test_a_public_address_warns_who_can_act_with_the_key(
    flags: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    # A port already in use: the command warns, then says it cannot listen, and stops.
    with socket.socket() as busy:
        busy.bind(("0.0.0.0", 0))
        busy.listen()
        port = busy.getsockname()[1]
        global_flags = ["--read-only"] if flags == ["--read-only"] else []
        serve_flags = [] if global_flags else flags
        argv = ["--demo", *global_flags, "serve", "--host", "0.0.0.0", "--port", str(port)]
        assert main([*argv, *serve_flags]) == 2
    err = capsys.readouterr().err
    assert "WARNING" in err and "Anyone who can" in err and f"port {port}" in err
    assert ("(read-only)" in err) == (global_flags == ["--read-only"])
    assert "cannot listen" in err


def test_without_a_key_it_says_how_to_give_one(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve"]) == 2
    err = capsys.readouterr().err
    assert "vstui serve:" in err and "OPENAI_API_KEY" in err


def test_bad_options_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--demo", "serve", "--max-sessions", "0"]) == 2
    assert main(["--demo", "serve", "--public-url", "ftp://x"]) == 2
    assert "--max-sessions" in capsys.readouterr().err


@pytest.fixture
def served_with_config_token(tmp_path: Path) -> Iterator[str]:
    config = tmp_path / "config.toml"
    config.write_text('serve_token = "from-the-config"\n', "utf-8")
    port = free_port()
    command = [sys.executable, "-m", "vstui", "--demo", "--config", str(config), "serve"]
    process = subprocess.Popen(
        [*command, "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=os.environ.copy(),
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        out, _ = process.communicate(timeout=30)
        # What it prints to its own terminal: where to go, token included; no access log.
        assert f"open {url}?token=from-the-config" in out


def test_the_config_token_guards_the_page(served_with_config_token: str) -> None:
    url = served_with_config_token
    refused = httpx.get(url)
    assert refused.status_code == 403 and "needs its token" in refused.text
    assert "from-the-config" not in refused.text
    page = httpx.get(url, params={"token": "from-the-config"})
    assert page.status_code == 200 and 'class="textual-terminal"' in page.text
    assert page.headers["x-frame-options"] == "DENY"
    cookie = page.cookies[serve.COOKIE]
    assert cookie == serve.cookie_value("from-the-config")
    # The cookie alone lets the page load again (the restart link has no token).
    again = httpx.get(url, cookies={serve.COOKIE: cookie})
    assert again.status_code == 200
    assert httpx.get(url, cookies={serve.COOKIE: "forged"}).status_code == 403
    # Downloads need it too.
    assert httpx.get(url + "download/abc").status_code == 403
    assert httpx.get(url + "download/abc", cookies={serve.COOKIE: cookie}).status_code == 404


async def test_behind_a_proxy_the_page_names_the_public_websocket() -> None:
    from aiohttp.test_utils import TestClient, TestServer

    server = serve.VstuiServer(
        "true", host="0.0.0.0", public_url="https://vstui.example.com/", token="tok"
    )
    async with TestClient(TestServer(server.make_app())) as client:
        public = {"Host": "vstui.example.com"}
        page = await client.get("/", params={"token": "tok"}, headers=public)
        assert page.status == 200
        assert 'data-session-websocket-url="wss://vstui.example.com/ws"' in await page.text()
        # Another name for this server is refused (DNS rebinding), even with the token.
        other = await client.get("/", params={"token": "tok"}, headers={"Host": "x.test"})
        assert other.status == 421
        # The websocket needs the page's own origin, whatever the token.
        for origin in ("https://evil.example", "null", None):
            headers = dict(public, Origin=origin) if origin else public
            ws = await client.get("/ws", params={"token": "tok"}, headers=headers)
            assert ws.status == 403, origin


async def test_static_files_are_served_without_a_listing() -> None:
    from aiohttp.test_utils import TestClient, TestServer

    server = serve.VstuiServer("true")
    async with TestClient(TestServer(server.make_app())) as client:
        script = await client.get("/static/js/textual.js")
        assert script.status == 200
        assert (await client.get("/static/")).status in (403, 404)


def test_an_unknown_theme_is_refused_before_serving(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--demo", "--theme", "no-such-theme", "serve"]) == 2
    assert "There is no theme 'no-such-theme'" in capsys.readouterr().err


async def test_an_app_that_cannot_start_says_so_in_the_tab() -> None:
    from aiohttp import WSMsgType
    from aiohttp.test_utils import TestClient, TestServer

    server = serve.VstuiServer("exit 3")
    async with TestClient(TestServer(server.make_app())) as client:
        origin = f"http://{client.host}:{client.port}"
        async with client.ws_connect("/ws", headers={"Origin": origin}) as ws:
            message = await ws.receive()
            assert message.type == WSMsgType.BINARY
            assert b"stopped unexpectedly" in message.data
            assert (await ws.receive()).type in (WSMsgType.CLOSE, WSMsgType.CLOSED)
        for _ in range(200):  # the handler lets go of the session as the socket closes
            if not server.sessions:
                break
            await asyncio.sleep(0.01)
        assert not server.sessions


def test_a_tab_says_where_the_server_found_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """The key reaches a tab through its environment; its header still names the keyring
    when that is where ``vstui serve`` found it, and the key is never on the command line."""
    import keyring

    from vstui import accounts
    from vstui.config import Config
    from vstui.session import StateStore

    from .conftest import KEY
    from .test_accounts import MemoryKeyring

    def label() -> str:
        account = accounts.resolve_account(Config(), None)
        return accounts.session_for(
            account, Config(), StateStore(None), read_only=False
        ).account_label

    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    backend.data[("vstui", "default")] = KEY
    keyring.set_keyring(backend)
    try:
        parent = accounts.resolve_account(Config(), None)  # `vstui serve`: no OPENAI_API_KEY
        assert parent.key_source == "keyring"
        env = accounts.child_environment(parent)
        assert env == {"OPENAI_API_KEY": KEY, "VSTUI_KEY_SOURCE": "keyring"}
        assert KEY not in serve.child_command(build_parser().parse_args(["serve"]))
        for name, value in env.items():  # what the tab's process sees
            monkeypatch.setenv(name, value)
        backend.data.clear()  # the tab uses the key it was handed, not the keyring
        assert label() == "default (keyring key)"
        monkeypatch.setenv("VSTUI_KEY_SOURCE", "anything else")  # only known labels
        assert label() == "default (environment key)"
        monkeypatch.delenv("VSTUI_KEY_SOURCE")  # a key from the server's environment
        parent = accounts.resolve_account(Config(), None)
        assert accounts.child_environment(parent)["VSTUI_KEY_SOURCE"] == "environment"
        assert label() == "default (environment key)"
    finally:
        keyring.set_keyring(previous)
