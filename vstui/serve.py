"""``vstui serve``: the same app in a web browser, one app process per browser tab.

Built on Textualize's ``textual-serve``: every websocket gets its own ``vstui`` child
process running Textual's web driver. The API key stays on the server: it reaches the
child through the environment, never a command line, and the page only ever shows the
masked key in the app's header.

Safe by default:

* loopback unless ``--host`` says otherwise; any other bind needs ``--read-only`` or
  ``--allow-writes`` and prints a warning;
* an optional token (``--token`` or config ``serve_token``) is required as ``?token=`` on
  the page (then an HttpOnly, SameSite=Strict cookie) and on the websocket and downloads,
  compared in constant time;
* the websocket must come from the page itself (its ``Origin`` names the host it was
  served from) and, on loopback, the ``Host`` must be a loopback name: another web page
  open in the same browser cannot drive the app (cross-site websockets, DNS rebinding);
* ``--max-sessions`` caps the concurrent app processes and the page says so when full.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import hmac
import html
import ipaddress
import shlex
import signal
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from string import Template
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from aiohttp import web

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
DEFAULT_MAX_SESSIONS = 4
COOKIE = "vstui_serve"
LOOPBACK_NAMES = {"localhost", "localhost.", "ip6-localhost"}


# -- checks that need no server ---------------------------------------------------------------


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach."""
    name = host.strip("[]").lower()
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def token_matches(expected: str | None, given: str | None) -> bool:
    """Constant-time comparison; no token configured means no check."""
    if expected is None:
        return True
    if given is None:
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def cookie_value(token: str) -> str:
    """What the browser keeps instead of the token itself."""
    return hmac.new(token.encode("utf-8"), b"vstui serve session", hashlib.sha256).hexdigest()


def child_command(args: argparse.Namespace) -> str:
    """The app each tab runs: the same options, never the key (that goes in the environment)."""
    parts = [sys.executable, "-m", "vstui"]
    for flag, value in (
        ("--config", args.config),
        ("--profile", args.profile),
        ("--theme", args.theme),
        ("--base-url", args.base_url),
        ("--timeout", None if args.timeout is None else str(args.timeout)),
    ):
        if value:
            parts += [flag, value]
    if args.demo:
        parts.append("--demo")
    if args.read_only:
        parts.append("--read-only")
    return shlex.join(parts)


# -- pages ------------------------------------------------------------------------------------

_PAGE = Template("""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="referrer" content="no-referrer">
<title>$title</title>
<link rel="stylesheet" href="static/css/xterm.css">
<link rel="preload" href="static/fonts/RobotoMono-VariableFont_wght.ttf" as="font"
      type="font/ttf" crossorigin>
<style>
@font-face { font-family: "Roboto Mono";
             src: url("static/fonts/RobotoMono-VariableFont_wght.ttf") format("truetype"); }
html, body { margin: 0; height: 100%; background: #0c181f; color: #e6edf3;
             font-family: "Roboto Mono", monospace; }
.message { max-width: 44em; margin: 15vh auto; padding: 2em; background: #12232d;
           line-height: 1.5; }
.message h1 { font-size: 1.2em; margin-top: 0; background: none; color: inherit; }
.message code { color: #ffcb6b; }
.message a { color: #82aaff; }
$extra_style
</style>
$head
</head>
<body>
$body
</body>
</html>
""")

_APP_STYLE = """
#terminal { position: absolute; inset: 0; }
#ended { display: none; position: absolute; inset: 0; z-index: 10; background: #0c181f; }
body.-closed #ended { display: block; }
"""

_APP_BODY = Template("""<div id="terminal" class="textual-terminal"
     data-session-websocket-url="$ws_url" data-font-size="$font_size"></div>
<div id="ended"><div class="message">
<h1>Session ended.</h1>
<p>The app in this tab has stopped. <a href="">Start a new session</a></p>
</div></div>""")


def message_page(title: str, text: str) -> str:
    body = f'<div class="message" id="refused"><h1>{html.escape(title)}</h1>{text}</div>'
    return _PAGE.substitute(
        title=html.escape(f"vstui: {title}"), extra_style="", head="", body=body
    )


def app_page(ws_url: str, font_size: int) -> str:
    body = _APP_BODY.substitute(ws_url=html.escape(ws_url), font_size=font_size)
    return _PAGE.substitute(
        title="vstui",
        extra_style=_APP_STYLE,
        head='<script src="static/js/textual.js"></script>',
        body=body,
    )


NEED_TOKEN = (
    "<p>This vstui server needs its token. Open the address it printed when it started, "
    "which ends in <code>?token=…</code>.</p>"
)


def _too_many(limit: int) -> str:
    return (
        f"<p>This server already runs {limit} app session{'s' if limit != 1 else ''}, "
        f"its limit (<code>--max-sessions {limit}</code>). Close another vstui tab, "
        "then reload this page.</p>"
    )


CHILD_FAILED = (
    "\r\n  The vstui app stopped unexpectedly; the terminal running `vstui serve` says why.\r\n"
)


# -- the server -------------------------------------------------------------------------------


def _app_service_class() -> type[Any]:
    from textual_serve.app_service import AppService

    class VstuiAppService(AppService):
        """One tab's app process, with the key added to its environment only."""

        def __init__(
            self,
            command: str,
            *,
            extra_env: Mapping[str, str],
            closed: Callable[[], bool],
            **kw: Any,
        ) -> None:
            super().__init__(command, **kw)
            self._extra_env = dict(extra_env)
            self._closed = closed

        async def run(self) -> None:
            try:
                await super().run()
            except asyncio.CancelledError:
                # A process that exits at once can beat textual-serve's stderr reader, whose
                # cancellation then surfaces here: only a cancellation of this task ends it.
                task = asyncio.current_task()
                if task is not None and task.cancelling():
                    raise
            if not self._closed():  # it ended without quitting: it failed to start or crashed
                with contextlib.suppress(Exception):
                    await self.remote_write_bytes(CHILD_FAILED.encode("utf-8"))
                    await self.remote_close()

        def _build_environment(self, width: int = 80, height: int = 24) -> dict[str, str]:
            env: dict[str, str] = super()._build_environment(width=width, height=height)
            env.update(self._extra_env)
            return env

    return VstuiAppService


class VstuiServer:
    """An aiohttp server for the app: pages, the websocket per tab, downloads, static files."""

    def __init__(
        self,
        command: str,
        *,
        host: str = DEFAULT_HOST,
        port: int = DEFAULT_PORT,
        public_url: str | None = None,
        token: str | None = None,
        max_sessions: int = DEFAULT_MAX_SESSIONS,
        child_env: Mapping[str, str] | None = None,
    ) -> None:
        from textual_serve.download_manager import DownloadManager

        self.command = command
        self.host = host
        self.port = port
        self.public_url = public_url.rstrip("/") if public_url else None
        self.token = token
        self.max_sessions = max_sessions
        self.child_env = dict(child_env or {})
        self.sessions: set[Any] = set()
        self.websockets: set[web.WebSocketResponse] = set()
        self.download_manager = DownloadManager()
        import textual_serve

        self.statics_path = Path(textual_serve.__file__).parent / "static"

    # requests

    def _host_allowed(self, request: web.Request) -> bool:
        """On loopback only loopback names (no DNS rebinding); else the public URL's host."""
        host = request.host
        name = urlsplit(f"//{host}").hostname or ""
        if self.public_url and host == urlsplit(self.public_url).netloc:
            return True
        if is_loopback(self.host):
            return is_loopback(name)
        # Bound to a public address: behind --public-url only that name, else any name.
        return self.public_url is None

    def _origin_allowed(self, request: web.Request) -> bool:
        """A websocket must come from this server's own page."""
        origin = request.headers.get("Origin")
        if not origin:
            return False
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https"):
            return False
        if parts.netloc == request.host:
            return True
        public = self.public_url
        return public is not None and origin.rstrip("/") == self._origin_of(public)

    @staticmethod
    def _origin_of(url: str) -> str:
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.netloc}"

    def _authorised(self, request: web.Request) -> bool:
        if self.token is None:
            return True
        if token_matches(self.token, request.query.get("token")):
            return True
        return token_matches(cookie_value(self.token), request.cookies.get(COOKIE))

    def _html(self, text: str, status: int = 200) -> web.Response:
        from aiohttp import web

        response = web.Response(text=text, status=status, content_type="text/html")
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Content-Security-Policy"] = "frame-ancestors 'none'"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    def _ws_url(self, request: web.Request) -> str:
        base = self.public_url or f"{request.scheme}://{request.host}"
        scheme, rest = base.split(":", 1)
        return ("wss:" if scheme == "https" else "ws:") + rest + "/ws"

    async def handle_index(self, request: web.Request) -> web.Response:
        if not self._host_allowed(request):
            return self._html(message_page("Wrong address", "<p>Unknown host.</p>"), 421)
        if not self._authorised(request):
            return self._html(message_page("Token required", NEED_TOKEN), 403)
        if len(self.sessions) >= self.max_sessions:
            return self._html(message_page("Too many sessions", _too_many(self.max_sessions)), 503)
        try:
            font_size = max(8, min(32, int(request.query.get("fontsize", "16"))))
        except ValueError:
            font_size = 16
        response = self._html(app_page(self._ws_url(request), font_size))
        if self.token is not None:
            response.set_cookie(
                COOKIE,
                cookie_value(self.token),
                httponly=True,
                samesite="Strict",
                secure=request.secure or (self.public_url or "").startswith("https:"),
            )
        return response

    async def handle_websocket(self, request: web.Request) -> web.StreamResponse:
        from aiohttp import WSMsgType, web

        if not (self._host_allowed(request) and self._origin_allowed(request)):
            return web.Response(status=403, text="This websocket only serves vstui's own page.")
        if not self._authorised(request):
            return web.Response(status=403, text="Token required.")
        websocket = web.WebSocketResponse(heartbeat=15)
        await websocket.prepare(request)
        if len(self.sessions) >= self.max_sessions:
            note = (
                f"\r\n  This server already runs {self.max_sessions} app sessions, its limit "
                f"(--max-sessions {self.max_sessions}).\r\n  Close another vstui tab, "
                "then start a new session.\r\n"
            )
            await websocket.send_bytes(note.encode("utf-8"))
            await websocket.close()
            return websocket
        width = _int(request.query.get("width"), 80)
        height = _int(request.query.get("height"), 24)
        service = _app_service_class()(
            self.command,
            extra_env=self.child_env,
            closed=lambda: websocket.closed,
            write_bytes=websocket.send_bytes,
            write_str=websocket.send_str,
            close=websocket.close,
            download_manager=self.download_manager,
        )
        self.sessions.add(service)
        self.websockets.add(websocket)
        try:
            await service.start(width, height)
            async for message in websocket:
                if message.type != WSMsgType.TEXT:
                    continue
                await _forward(message.data, service, websocket)
        except asyncio.CancelledError:
            await websocket.close()
        finally:
            self.sessions.discard(service)
            self.websockets.discard(websocket)
            with contextlib.suppress(Exception):
                await service.stop()
        return websocket

    async def handle_download(self, request: web.Request) -> web.StreamResponse:
        from aiohttp import web

        if not (self._host_allowed(request) and self._authorised(request)):
            return web.Response(status=403, text="Token required.")
        key = request.match_info["key"]
        try:
            meta = await self.download_manager.get_download_metadata(key)
        except KeyError:
            return web.Response(status=404, text="This download has expired.")
        response = web.StreamResponse()
        content_type = meta.mime_type + (f"; charset={meta.encoding}" if meta.encoding else "")
        response.headers["Content-Type"] = content_type
        disposition = "inline" if meta.open_method == "browser" else "attachment"
        safe_name = "".join(c for c in meta.file_name if c.isalnum() or c in "-_.") or "download"
        response.headers["Content-Disposition"] = f'{disposition}; filename="{safe_name}"'
        await response.prepare(request)
        async for chunk in self.download_manager.download(key):
            await response.write(chunk)
        await response.write_eof()
        return response

    def make_app(self) -> web.Application:
        from aiohttp import web

        app = web.Application()
        app.add_routes(
            [
                web.get("/", self.handle_index),
                web.get("/ws", self.handle_websocket),
                web.get("/download/{key}", self.handle_download),
                web.static("/static", self.statics_path),
            ]
        )
        return app

    async def _close_websockets(self, _app: web.Application) -> None:
        """On Ctrl+C every tab's app is asked to quit, rather than waited for."""
        from aiohttp import WSCloseCode

        for websocket in list(self.websockets):
            await websocket.close(code=WSCloseCode.GOING_AWAY, message=b"vstui serve stopped")

    def serve(self, on_ready: Callable[[], None] | None = None) -> None:
        """Serve until SIGINT/SIGTERM. No access log: it would record the token."""
        from aiohttp import web
        from aiohttp.web_runner import GracefulExit

        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)

        def stop() -> None:
            raise GracefulExit()

        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop)

        async def started(_app: web.Application) -> None:
            if on_ready is not None:
                on_ready()

        app = self.make_app()
        app.on_startup.append(started)
        app.on_shutdown.append(self._close_websockets)
        web.run_app(
            app,
            host=self.host,
            port=self.port,
            handle_signals=False,
            loop=loop,
            access_log=None,
            print=None,
        )


def _int(value: str | None, default: int) -> int:
    try:
        return max(10, min(1000, int(value))) if value is not None else default
    except ValueError:
        return default


async def _forward(data: str, service: Any, websocket: web.WebSocketResponse) -> None:
    """One message from the browser: keys, a resize, a ping, focus changes."""
    import json

    try:
        envelope = json.loads(data)
    except ValueError:
        return
    if not isinstance(envelope, list) or not envelope:
        return
    kind = envelope[0]
    payload = envelope[1] if len(envelope) > 1 else None
    if kind == "stdin" and isinstance(payload, str):
        await service.send_bytes(payload.encode("utf-8"))
    elif kind == "resize" and isinstance(payload, dict):
        await service.set_terminal_size(
            _int(str(payload.get("width")), 80), _int(str(payload.get("height")), 24)
        )
    elif kind == "ping" and isinstance(payload, str):
        await websocket.send_json(["pong", payload])
    elif kind == "blur":
        await service.blur()
    elif kind == "focus":
        await service.focus()
