"""`vstui serve` in a real headless Chromium, driven with Playwright.

What the page shows is read from xterm.js itself: an init script catches each Terminal
as it is built, and the test reads the lines of its buffer (what the canvas paints).
The system's Chromium is used (no browser download); without one the module skips,
unless VSTUI_REQUIRE_BROWSER=1 (set by .ci/run), which makes that a failure.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from vstui.accounts import DEMO_KEY
from vstui.sim import SimConfig
from vstui.sim.server import SimServer, free_port


def _chromium() -> str | None:
    for candidate in (
        os.environ.get("VSTUI_CHROMIUM"),
        shutil.which("chromium"),
        shutil.which("chromium-browser"),
        shutil.which("google-chrome"),
    ):
        if candidate and Path(candidate).exists():
            return candidate
    return None


CHROMIUM = _chromium()
if CHROMIUM is None:
    reason = (
        "no Chromium on this machine (install the OS package `chromium`, "
        "or point VSTUI_CHROMIUM at one): the browser tests of `vstui serve` did not run"
    )
    if os.environ.get("VSTUI_REQUIRE_BROWSER") == "1":
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason, allow_module_level=True)

from playwright.sync_api import Browser, Page, sync_playwright  # noqa: E402
from playwright.sync_api import TimeoutError as PlaywrightTimeout  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "t0ken-for-the-browser-test"
# Recognisable, and never anywhere a browser could read it.
CANARY_KEY = "sk-canary-NEVER-IN-BROWSER-7f3a"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Catch every xterm.js Terminal as its constructor sets `_core`.
CATCH_TERMINALS = """
window.__terminals = [];
Object.defineProperty(Object.prototype, '_core', {
  configurable: true,
  set(value) {
    Object.defineProperty(this, '_core', {value, writable: true, configurable: true});
    if (typeof this.loadAddon === 'function') window.__terminals.push(this);
  },
});
"""
READ_LINES = """() => {
  const term = window.__terminals[0];
  if (!term) return [];
  const buffer = term.buffer.active, lines = [];
  for (let y = 0; y < term.rows; y++) {
    const line = buffer.getLine(buffer.viewportY + y);
    lines.push(line ? line.translateToString(true) : '');
  }
  return lines;
}"""
SHOWS = "(wanted) => (" + READ_LINES + ")().some((line) => line.includes(wanted))"


class Served:
    """`vstui … serve` in a subprocess on a free loopback port."""

    def __init__(
        self, tmp: Path, *global_args: str, serve_args: tuple[str, ...] = (), **env: str
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        environment = {
            k: v
            for k, v in os.environ.items()
            if k not in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "NO_COLOR", "TEXTUAL_THEME")
        }
        environment |= {"VSTUI_CONFIG_DIR": str(tmp / "config"), "VSTUI_STATE_DIR": str(tmp)}
        environment |= env
        command = [sys.executable, "-m", "vstui", *global_args, "serve"]
        command += ["--port", str(self.port), *serve_args]
        self.process = subprocess.Popen(
            command,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                output = self.process.stdout.read() if self.process.stdout else ""
                raise AssertionError(f"vstui serve exited: {output}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        raise AssertionError("vstui serve did not start listening")

    def stop(self) -> str:
        self.process.terminate()
        try:
            out, _ = self.process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            out, _ = self.process.communicate()
        return out or ""


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    served = Served(tmp_path_factory.mktemp("demo"), "--demo", serve_args=("--token", TOKEN))
    yield served
    served.stop()


def open_page(browser: Browser, url: str, size: tuple[int, int] = (1100, 640)) -> Page:
    context = browser.new_context(viewport={"width": size[0], "height": size[1]})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=url.rstrip("/"))
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.add_init_script(CATCH_TERMINALS)
    return page


def lines(page: Page) -> list[str]:
    result: list[str] = page.evaluate(READ_LINES)
    return result


def wait_for_text(page: Page, text: str) -> list[str]:
    try:
        page.wait_for_function(SHOWS, arg=text, polling=100)
    except PlaywrightTimeout:
        screen = "\n".join(lines(page))
        raise AssertionError(f"{text!r} never showed; the page shows:\n{screen}") from None
    return lines(page)


def watch_frames(page: Page) -> list[bytes]:
    """Every websocket frame the page sends and receives."""
    frames: list[bytes] = []

    def keep(payload: str | bytes) -> None:
        frames.append(payload if isinstance(payload, bytes) else payload.encode())

    def watch(ws: Any) -> None:
        ws.on("framereceived", keep)
        ws.on("framesent", keep)

    page.on("websocket", watch)
    return frames


def press(page: Page, key: str) -> None:
    page.focus(".xterm-helper-textarea")
    page.keyboard.press(key)


def test_the_demo_in_a_browser_lists_stores_opens_one_and_quits(
    browser: Browser, demo: Served
) -> None:
    page = open_page(browser, demo.url)
    frames = watch_frames(page)
    response = page.goto(demo.url + "?token=" + TOKEN)
    assert response is not None and response.status == 200
    screen = wait_for_text(page, "32 stores")  # every page of the listing arrived
    text = "\n".join(screen)
    assert "Stores" in screen[0] and "sk-…demo" in screen[0]
    assert "scratch" in text and "old-docs-snapshot-2024" in text
    assert "Traceback" not in text
    if os.environ.get("VSTUI_UPDATE_SCREENSHOTS") == "1":
        page.screenshot(path=str(ROOT / "screenshots" / "serve-browser.png"))

    # ctrl+s offers the table as a download instead of writing a file on the server.
    with page.expect_download() as download_info:
        press(page, "Control+s")
    wait_for_text(page, "Your browser downloads 32 rows")
    download = download_info.value
    for other in page.context.pages:  # the tab the download opened
        if other is not page:
            other.close()
    page.bring_to_front()
    assert download.suggested_filename.startswith("vstui-stores-")
    rows = Path(download.path()).read_text("utf-8").splitlines()
    assert rows[0].startswith("name,id,status,files_completed") and len(rows) == 33

    first = next(line for line in screen if "vs_" in line)
    store_id = next(word for word in first.split() if word.startswith("vs_"))
    # `c` copies the store's ID into the browser's clipboard.
    press(page, "c")
    wait_for_text(page, "Clipboard")  # the toast that says where the copy went
    assert page.evaluate("navigator.clipboard.readText()") == store_id

    press(page, "Enter")
    detail = wait_for_text(page, "vstui · Store ")
    assert any(store_id in line for line in detail)
    # Folders to sync are paths on the server, and the dialog says so.
    press(page, "f")
    wait_for_text(page, "vstui · Files")
    press(page, "u")
    wait_for_text(page, "Sync a folder on the server")

    press(page, "Control+q")
    page.locator("#ended").wait_for(state="visible")
    assert "Session ended." in page.locator("#ended").inner_text()
    assert frames and not any(DEMO_KEY[:-4].encode() in frame for frame in frames)
    page.context.close()


def test_a_missing_or_wrong_token_gets_the_refusal_page(browser: Browser, demo: Served) -> None:
    page = open_page(browser, demo.url)
    for url in (demo.url, demo.url + "?token=wrong", demo.url + "?token=" + TOKEN[:-1]):
        response = page.goto(url)
        assert response is not None and response.status == 403
        assert "needs its token" in page.locator("#refused").inner_text()
        assert page.evaluate("window.__terminals.length") == 0
    # Nor does the websocket start an app without the token (same origin, no cookie).
    outcome = page.evaluate(
        """(url) => new Promise((resolve) => {
          const ws = new WebSocket(url);
          ws.onopen = () => resolve('open');
          ws.onerror = () => resolve('refused');
        })""",
        demo.url.replace("http", "ws") + "ws",
    )
    assert outcome == "refused"
    page.context.close()


def test_max_sessions_says_so_in_the_page(
    browser: Browser, tmp_path_factory: pytest.TempPathFactory
) -> None:
    served = Served(tmp_path_factory.mktemp("max"), "--demo", serve_args=("--max-sessions", "1"))
    try:
        first = open_page(browser, served.url)
        first.goto(served.url)
        wait_for_text(first, "support-faq")
        second = open_page(browser, served.url)
        response = second.goto(served.url)
        assert response is not None and response.status == 503
        message = second.locator("#refused").inner_text()
        assert "already runs 1 app session" in message and "--max-sessions 1" in message
        first.context.close()  # its app process ends with its websocket
        for _ in range(100):
            response = second.goto(served.url)
            if response is not None and response.status == 200:
                break
            second.wait_for_timeout(100)
        wait_for_text(second, "support-faq")
        second.context.close()
    finally:
        served.stop()


def test_other_pages_and_other_host_names_cannot_drive_the_app(
    browser: Browser, tmp_path_factory: pytest.TempPathFactory
) -> None:
    served = Served(tmp_path_factory.mktemp("origin"), "--demo")
    try:
        # A page from another origin (here: none) opening the websocket is refused…
        page = open_page(browser, served.url)
        page.goto("about:blank")
        outcome = page.evaluate(
            """(url) => new Promise((resolve) => {
              const ws = new WebSocket(url);
              ws.onopen = () => resolve('open');
              ws.onerror = () => resolve('refused');
            })""",
            served.url.replace("http", "ws") + "ws",
        )
        assert outcome == "refused"
        page.context.close()
        # …and so is a name that resolves here by DNS rebinding.
        answer = httpx.get(served.url, headers={"Host": f"attacker.example:{served.port}"})
        assert answer.status_code == 421
    finally:
        served.stop()


def test_the_key_stays_on_the_server(
    browser: Browser, tmp_path_factory: pytest.TempPathFactory
) -> None:
    sim = SimServer.start_scenario("demo", config=SimConfig(api_key=CANARY_KEY))
    served = Served(
        tmp_path_factory.mktemp("key"),
        "--base-url",
        sim.base_url,
        OPENAI_API_KEY=CANARY_KEY,
    )
    try:
        page = open_page(browser, served.url)
        frames = watch_frames(page)
        response = page.goto(served.url)
        assert response is not None
        html = response.text()
        screen = wait_for_text(page, "support-faq")  # the simulator accepted the key
        assert "sk-…" + CANARY_KEY[-4:] in screen[0]
        press(page, "Enter")
        wait_for_text(page, "vstui · Store ")
        secret = CANARY_KEY[:-4]
        assert frames
        for data in [html.encode(), *frames]:
            assert secret.encode() not in data
            assert b"NEVER-IN-THE-BROWSER" not in data
        # Nor on the command line of any app process (the key goes through the environment).
        for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
            try:
                assert b"NEVER-IN-THE-BROWSER" not in cmdline.read_bytes()
            except OSError:
                continue
        press(page, "Control+q")
        page.locator("#ended").wait_for(state="visible")
        page.context.close()
    finally:
        served.stop()
        sim.stop()
