"""A proxy between the service and the simulator that makes it answer like other servers.

It is an httpx transport (``VectorStoresService(settings, transport=Proxy(...))``): every
request still goes over real HTTP to the simulator; the proxy can rewrite the request
(smaller pages, an ``order`` the server ignores) and the JSON answer (null ``file_counts``,
whole-list ``last_id``, a page cut short or missing one item, a 200 that is not a list),
and can run a hook
when a request goes out (a race: attach a file to a store once the first file DELETE is
sent).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from typing import Any

import httpx

from vstui.sim import SimServer

STORES = re.compile(r"^/v1/vector_stores$")
STORE = re.compile(r"^/v1/vector_stores/([^/]+)$")
STORE_FILES = re.compile(r"^/v1/vector_stores/([^/]+)/files$")
FILES = re.compile(r"^/v1/files$")

Rewrite = Callable[[httpx.Request, Any], Any]


class Proxy(httpx.BaseTransport):
    def __init__(self, server: SimServer | None = None) -> None:
        self._server = server  # needed only by the deviations that read the account
        self.inner = httpx.HTTPTransport()
        self.page_limit: int | None = None  # force every listing to pages of this size
        self.forced_order: str | None = None  # answer every listing in this order
        self.listings: list[str] = []  # the path of every GET that asked for a page
        self.rewrites: list[Rewrite] = []
        self.before: list[Callable[[httpx.Request], None]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        for hook in self.before:
            hook(request)
        limited = request.method == "GET" and "limit" in request.url.params
        if limited:
            self.listings.append(request.url.path)
        url = request.url
        if self.page_limit is not None and limited:
            url = url.copy_set_param("limit", str(self.page_limit))
        if self.forced_order is not None and limited:
            url = url.copy_set_param("order", self.forced_order)
        if url != request.url:
            request = httpx.Request(request.method, url, headers=request.headers)
        response = self.inner.handle_request(request)
        if request.method != "GET" or response.status_code != 200 or not self.rewrites:
            return response
        response.read()
        try:
            body = json.loads(response.content)
        except ValueError:
            return response
        for rewrite in self.rewrites:
            body = rewrite(request, body)
        headers = [
            (k, v)
            for k, v in response.headers.items()
            if k.lower() not in ("content-length", "content-encoding", "transfer-encoding")
        ]
        return httpx.Response(200, headers=headers, content=json.dumps(body).encode())

    def close(self) -> None:
        self.inner.close()

    @property
    def server(self) -> SimServer:
        assert self._server is not None, "this deviation needs Proxy(server)"
        return self._server

    # -- the ways other servers differ ---------------------------------------------------------

    def null_counts(self) -> Proxy:
        """``file_counts: null`` on every store (OpenAI-compatible servers do this)."""

        def rewrite(request: httpx.Request, body: Any) -> Any:
            if STORES.match(request.url.path):
                for store in body.get("data", []):
                    store["file_counts"] = None
            elif STORE.match(request.url.path):
                body["file_counts"] = None
            return body

        self.rewrites.append(rewrite)
        return self

    def ignore_order(self, answer: str = "desc") -> Proxy:
        """Every listing answered in one order whatever ``order`` asks (many compatible
        servers always answer newest first)."""
        self.forced_order = answer
        return self

    def whole_list_last_id(self) -> Proxy:
        """Store-file pages whose ``last_id`` is the last item of the whole list (llama-stack)."""

        def rewrite(request: httpx.Request, body: Any) -> Any:
            m = STORE_FILES.match(request.url.path)
            if m:
                account = self.server.account
                with account.lock:
                    attachments = sorted(
                        account.stores[m.group(1)].files.values(),
                        key=lambda a: (a.created_at, a.seq),
                    )
                if attachments:
                    last = attachments[-1 if request.url.params.get("order") == "asc" else 0]
                    body["last_id"] = last.file_id
            return body

        self.rewrites.append(rewrite)
        return self

    def truncate_store_files(self, store_id: str, keep: int) -> Proxy:
        """The store's file listing ends early: ``keep`` items and ``has_more: false``."""

        def rewrite(request: httpx.Request, body: Any) -> Any:
            m = STORE_FILES.match(request.url.path)
            if m and m.group(1) == store_id:
                body["data"] = body["data"][:keep]
                body["has_more"] = False
                body["last_id"] = body["data"][-1]["id"] if body["data"] else None
            return body

        self.rewrites.append(rewrite)
        return self

    def drop_store_file(self, store_id: str, file_id: str) -> Proxy:
        """The store's file listing silently leaves ``file_id`` out of its page (the rest,
        ``has_more`` and the paging as before): only a file count can show it."""

        def rewrite(request: httpx.Request, body: Any) -> Any:
            m = STORE_FILES.match(request.url.path)
            if m and m.group(1) == store_id and any(i["id"] == file_id for i in body["data"]):
                body["data"] = [i for i in body["data"] if i["id"] != file_id]
                if body.get("last_id") == file_id:
                    body["last_id"] = body["data"][-1]["id"] if body["data"] else None
            return body

        self.rewrites.append(rewrite)
        return self

    def garbage(self, path: re.Pattern[str]) -> Proxy:
        """A 200 that is not the list it claims to be."""

        def rewrite(request: httpx.Request, body: Any) -> Any:
            return {"hello": "world"} if path.match(request.url.path) else body

        self.rewrites.append(rewrite)
        return self

    def race(self, store_id: str, file_id: str) -> Proxy:
        """Attach ``file_id`` to ``store_id`` (as another client would) once the first file
        DELETE is sent."""
        fired = threading.Event()
        lock = threading.Lock()

        def hook(request: httpx.Request) -> None:
            if request.method != "DELETE" or not request.url.path.startswith("/v1/files/"):
                return
            with lock:
                if fired.is_set():
                    return
                fired.set()
            self.server.account.attach_file(
                store_id, file_id, attributes=None, chunking_strategy=None
            )

        self.before.append(hook)
        return self
