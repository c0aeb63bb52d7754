"""The simulator's HTTP face: a Starlette app speaking the Vector Stores and Files API."""

from __future__ import annotations

import asyncio
import json
import math
import random
import re
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from ..api import limits
from ..api.settings import mask_key
from .account import Account, SimError

Handler = Callable[[Request], Awaitable[Response]]
POLL_AFTER_MS = "1000"


@dataclass
class Fault:
    """A scripted failure: the next ``times`` matching requests get ``status``.

    With ``after=True`` the request is carried out first and the failure is reported
    anyway (the server acted, the client cannot know). ``body`` replaces the JSON
    error object (for malformed answers).
    """

    path: str
    status: int
    method: str | None = None
    times: int = 1
    after: bool = False
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None
    skip: int = 0  # let this many matching requests through first

    def matches(self, method: str, path: str) -> bool:
        if self.times <= 0:
            return False
        if self.method is not None and self.method.upper() != method:
            return False
        return re.search(self.path, path) is not None


@dataclass
class SimConfig:
    api_key: str | None = None
    latency_ms: float = 0.0
    error_rate: float = 0.0
    rate_limit: float | None = None
    prefix: str = "/v1"


class RateLimiter:
    """A token bucket on real time: ``rps`` requests a second, a burst of one second."""

    def __init__(self, rps: float) -> None:
        self.rps = rps
        self.capacity = max(1.0, rps)
        self.tokens = self.capacity
        self.updated = time.monotonic()
        self.lock = threading.Lock()

    def take(self) -> float:
        """0 when the request may go, else the seconds until a token is free."""
        with self.lock:
            now = time.monotonic()
            self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rps)
            self.updated = now
            if self.tokens >= 1:
                self.tokens -= 1
                return 0.0
            return (1 - self.tokens) / self.rps


@dataclass
class RequestRecord:
    method: str
    path: str
    status: int


class Simulator:
    """An :class:`Account` behind HTTP, with auth, faults, latency and rate limits."""

    def __init__(self, account: Account, config: SimConfig | None = None) -> None:
        self.account = account
        self.config = config or SimConfig()
        self.faults: list[Fault] = []
        self.log: list[RequestRecord] = []
        self._counter = 0
        self._fault_rng = random.Random(account.seed + 1)
        self._limiter = RateLimiter(self.config.rate_limit) if self.config.rate_limit else None
        self._lock = threading.Lock()
        self.app = self._build()

    # -- test hooks ------------------------------------------------------------------------

    def inject(self, fault: Fault) -> Fault:
        with self._lock:
            self.faults.append(fault)
        return fault

    def count(self, method: str, pattern: str, status: int | None = None) -> int:
        with self._lock:
            return sum(
                1
                for r in self.log
                if r.method == method
                and re.search(pattern, r.path)
                and (status is None or r.status == status)
            )

    # -- plumbing --------------------------------------------------------------------------

    def _next_request_id(self) -> str:
        with self._lock:
            self._counter += 1
            counter = self._counter
        return self.account.request_id(counter)

    def _take_fault(self, method: str, path: str, after: bool) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.after == after and fault.matches(method, path):
                    if fault.skip > 0:
                        fault.skip -= 1
                        continue
                    fault.times -= 1
                    return fault
        return None

    @staticmethod
    def _fault_response(fault: Fault) -> Response:
        if fault.body is not None:
            return Response(fault.body, status_code=fault.status, media_type="application/json")
        kind = "server_error" if fault.status >= 500 else "invalid_request_error"
        if fault.status == 429:
            kind = "requests"
        message = {
            429: "Rate limit reached for requests. Please try again shortly.",
            404: "Not found.",
        }.get(fault.status, "The server had an error while processing your request.")
        error = SimError(fault.status, message, type=kind)
        return JSONResponse(error.body(), status_code=fault.status)

    def _authorize(self, request: Request) -> SimError | None:
        header = request.headers.get("authorization", "")
        if not header.lower().startswith("bearer ") or not header[7:].strip():
            return SimError(
                401,
                "You didn't provide an API key. You need to provide your API key in an "
                "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
            )
        key = header[7:].strip()
        if self.config.api_key is not None and key != self.config.api_key:
            return SimError(
                401,
                f"Incorrect API key provided: {mask_key(key)}. You can find your API key at "
                "https://platform.openai.com/account/api-keys.",
                code="invalid_api_key",
            )
        return None

    def _wrap(self, handler: Handler, poll_header: bool = False) -> Handler:
        async def endpoint(request: Request) -> Response:
            request_id = self._next_request_id()
            method, path = request.method, request.url.path
            response = await self._respond(handler, request, method, path)
            response.headers["x-request-id"] = request_id
            response.headers["openai-processing-ms"] = str(int(self.config.latency_ms))
            if poll_header and response.status_code == 200:
                response.headers["openai-poll-after-ms"] = POLL_AFTER_MS
            with self._lock:
                self.log.append(RequestRecord(method, path, response.status_code))
            return response

        return endpoint

    async def _respond(
        self, handler: Handler, request: Request, method: str, path: str
    ) -> Response:
        auth_error = self._authorize(request)
        if auth_error is not None:
            return JSONResponse(auth_error.body(), status_code=401)
        if self._limiter is not None:
            wait = self._limiter.take()
            if wait > 0:
                limit = self._limiter.rps
                error = SimError(
                    429,
                    f"Rate limit reached for requests: limit {limit:g}/s. "
                    f"Please try again in {wait * 1000:.0f}ms.",
                    type="requests",
                    code="rate_limit_exceeded",
                )
                return JSONResponse(
                    error.body(),
                    status_code=429,
                    headers={
                        "retry-after": str(max(1, math.ceil(wait))),
                        "retry-after-ms": str(max(1, math.ceil(wait * 1000))),
                        "x-ratelimit-limit-requests": f"{limit:g}",
                        "x-ratelimit-remaining-requests": "0",
                        "x-ratelimit-reset-requests": f"{wait:.3f}s",
                    },
                )
        fault = self._take_fault(method, path, after=False)
        if fault is not None:
            response = self._fault_response(fault)
            response.headers.update(fault.headers)
            return response
        if self.config.latency_ms:
            await asyncio.sleep(self.config.latency_ms / 1000)
        if self.config.error_rate:
            with self._lock:
                roll = self._fault_rng.random()
            if roll < self.config.error_rate:
                error = SimError(
                    500,
                    "The server had an error while processing your request. Sorry about that!",
                    type="server_error",
                )
                return JSONResponse(error.body(), status_code=500)
        try:
            response = await handler(request)
        except SimError as exc:
            return JSONResponse(exc.body(), status_code=exc.status)
        fault = self._take_fault(method, path, after=True)
        if fault is not None:
            response = self._fault_response(fault)
            response.headers.update(fault.headers)
        return response

    # -- routes ----------------------------------------------------------------------------

    def _build(self) -> Starlette:
        h = Handlers(self.account)
        w = self._wrap
        routes = [
            Route("/vector_stores", w(h.list_stores), methods=["GET"]),
            Route("/vector_stores", w(h.create_store), methods=["POST"]),
            Route("/vector_stores/{vs}", w(h.get_store), methods=["GET"]),
            Route("/vector_stores/{vs}", w(h.modify_store), methods=["POST"]),
            Route("/vector_stores/{vs}", w(h.delete_store), methods=["DELETE"]),
            Route("/vector_stores/{vs}/search", w(h.search), methods=["POST"]),
            Route("/vector_stores/{vs}/files", w(h.list_store_files), methods=["GET"]),
            Route("/vector_stores/{vs}/files", w(h.attach_file), methods=["POST"]),
            Route("/vector_stores/{vs}/files/{f}", w(h.get_store_file, True), methods=["GET"]),
            Route("/vector_stores/{vs}/files/{f}", w(h.update_store_file), methods=["POST"]),
            Route("/vector_stores/{vs}/files/{f}", w(h.detach_file), methods=["DELETE"]),
            Route("/vector_stores/{vs}/files/{f}/content", w(h.content), methods=["GET"]),
            Route("/vector_stores/{vs}/file_batches", w(h.create_batch, True), methods=["POST"]),
            Route("/vector_stores/{vs}/file_batches/{b}", w(h.get_batch, True), methods=["GET"]),
            Route(
                "/vector_stores/{vs}/file_batches/{b}/cancel",
                w(h.cancel_batch, True),
                methods=["POST"],
            ),
            Route(
                "/vector_stores/{vs}/file_batches/{b}/files",
                w(h.list_batch_files),
                methods=["GET"],
            ),
            Route("/files", w(h.list_files), methods=["GET"]),
            Route("/files", w(h.upload_file), methods=["POST"]),
            Route("/files/{f}", w(h.get_file), methods=["GET"]),
            Route("/files/{f}", w(h.delete_file), methods=["DELETE"]),
            Route("/files/{f}/content", w(h.file_content), methods=["GET"]),
        ]
        prefix = self.config.prefix.rstrip("/")
        mounted = [Mount(prefix, routes=routes)] if prefix else routes

        async def http_error(request: Request, exc: Exception) -> Response:
            status = exc.status_code if isinstance(exc, HTTPException) else 500
            error = SimError(status, f"Invalid URL ({request.method} {request.url.path})")
            headers = {"x-request-id": self._next_request_id()}
            return JSONResponse(error.body(), status_code=status, headers=headers)

        return Starlette(routes=mounted, exception_handlers={HTTPException: http_error})


# -- request parsing -----------------------------------------------------------------------


async def _json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise SimError(
            400,
            "We could not parse the JSON body of your request. (HINT: This likely means you "
            "aren't using your HTTP library correctly.)",
        ) from None
    if not isinstance(body, dict):
        raise SimError(400, "The request body must be a JSON object.")
    return body


def _list_params(
    request: Request,
    *,
    max_limit: int = limits.LIST_LIMIT_MAX,
    default_limit: int = 20,
    statuses: bool = False,
) -> dict[str, Any]:
    query = request.query_params
    raw_limit = query.get("limit")
    try:
        limit = default_limit if raw_limit is None else int(raw_limit)
    except ValueError:
        raise SimError(
            400, f"Invalid 'limit': {raw_limit!r} is not an integer.", param="limit"
        ) from None
    if not limits.LIST_LIMIT_MIN <= limit <= max_limit:
        raise SimError(
            400,
            f"Invalid 'limit': expected a value between {limits.LIST_LIMIT_MIN} and {max_limit}, "
            f"got {limit}.",
            param="limit",
        )
    order = query.get("order", "desc")
    if order not in ("asc", "desc"):
        raise SimError(400, f"Invalid 'order': expected 'asc' or 'desc', got {order!r}.")
    params: dict[str, Any] = {
        "limit": limit,
        "order": order,
        "after": query.get("after") or None,
        "before": query.get("before") or None,
    }
    if statuses:
        status = query.get("filter") or None
        if status is not None and status not in ("in_progress", "completed", "failed", "cancelled"):
            raise SimError(
                400,
                "Invalid 'filter': expected one of in_progress, completed, failed, cancelled.",
                param="filter",
            )
        params["status"] = status
    return params


def _list_body(items: list[dict[str, Any]], has_more: bool) -> dict[str, Any]:
    return {
        "object": "list",
        "data": items,
        "first_id": items[0]["id"] if items else None,
        "last_id": items[-1]["id"] if items else None,
        "has_more": has_more,
    }


class Handlers:
    """One coroutine per endpoint; domain rules live in :class:`Account`."""

    def __init__(self, account: Account) -> None:
        self.a = account

    def _now(self) -> float:
        return self.a.now()

    # stores
    async def list_stores(self, request: Request) -> Response:
        p = _list_params(request)
        with self.a.lock:
            stores, more = self.a.list_stores(
                order=p["order"], after=p["after"], before=p["before"], limit=p["limit"]
            )
            now = self._now()
            return JSONResponse(_list_body([s.to_json(now) for s in stores], more))

    async def create_store(self, request: Request) -> Response:
        body = await _json_body(request)
        name = body.get("name")
        if name is not None and not isinstance(name, str):
            raise SimError(400, "Invalid type for 'name': expected a string.", param="name")
        file_ids = body.get("file_ids") or []
        if not isinstance(file_ids, list):
            raise SimError(400, "'file_ids' must be an array.", param="file_ids")
        store = self.a.create_store(
            name=name or "",
            description=body.get("description"),
            metadata=body.get("metadata"),
            expires_after=body.get("expires_after"),
            file_ids=file_ids,
            chunking_strategy=body.get("chunking_strategy"),
        )
        return JSONResponse(store.to_json(self._now()))

    async def get_store(self, request: Request) -> Response:
        with self.a.lock:
            store = self.a.get_store(request.path_params["vs"])
            return JSONResponse(store.to_json(self._now()))

    async def modify_store(self, request: Request) -> Response:
        body = await _json_body(request)
        unknown = set(body) - {"name", "expires_after", "metadata"}
        if unknown:
            name = sorted(unknown)[0]
            raise SimError(400, f"Unrecognized request argument supplied: {name}", param=name)
        store = self.a.modify_store(request.path_params["vs"], body)
        return JSONResponse(store.to_json(self._now()))

    async def delete_store(self, request: Request) -> Response:
        store_id = request.path_params["vs"]
        self.a.delete_store(store_id)
        return JSONResponse({"id": store_id, "object": "vector_store.deleted", "deleted": True})

    async def search(self, request: Request) -> Response:
        body = await _json_body(request)
        return JSONResponse(self.a.search(request.path_params["vs"], body))

    # store files
    async def list_store_files(self, request: Request) -> Response:
        p = _list_params(request, statuses=True)
        with self.a.lock:
            store = self.a.get_store(request.path_params["vs"])
            files, more = self.a.list_attachments(store.files.values(), **p)
            now = self._now()
            return JSONResponse(_list_body([f.to_json(now) for f in files], more))

    async def attach_file(self, request: Request) -> Response:
        body = await _json_body(request)
        file_id = body.get("file_id")
        if not isinstance(file_id, str) or not file_id:
            raise SimError(400, "Missing required parameter: 'file_id'.", param="file_id")
        attachment = self.a.attach_file(
            request.path_params["vs"],
            file_id,
            attributes=body.get("attributes"),
            chunking_strategy=body.get("chunking_strategy"),
        )
        return JSONResponse(attachment.to_json(self._now()))

    async def get_store_file(self, request: Request) -> Response:
        with self.a.lock:
            a = self.a.get_attachment(request.path_params["vs"], request.path_params["f"])
            return JSONResponse(a.to_json(self._now()))

    async def update_store_file(self, request: Request) -> Response:
        body = await _json_body(request)
        if "attributes" not in body:
            raise SimError(400, "Missing required parameter: 'attributes'.", param="attributes")
        a = self.a.update_attributes(
            request.path_params["vs"], request.path_params["f"], body["attributes"]
        )
        return JSONResponse(a.to_json(self._now()))

    async def detach_file(self, request: Request) -> Response:
        file_id = request.path_params["f"]
        self.a.detach(request.path_params["vs"], file_id)
        return JSONResponse({"id": file_id, "object": "vector_store.file.deleted", "deleted": True})

    async def content(self, request: Request) -> Response:
        return JSONResponse(self.a.content(request.path_params["vs"], request.path_params["f"]))

    # batches
    async def create_batch(self, request: Request) -> Response:
        body = await _json_body(request)
        batch = self.a.create_batch(request.path_params["vs"], body)
        return JSONResponse(batch.to_json(self._now()))

    async def get_batch(self, request: Request) -> Response:
        with self.a.lock:
            batch = self.a.get_batch(request.path_params["vs"], request.path_params["b"])
            return JSONResponse(batch.to_json(self._now()))

    async def cancel_batch(self, request: Request) -> Response:
        batch = self.a.cancel_batch(request.path_params["vs"], request.path_params["b"])
        return JSONResponse(batch.to_json(self._now()))

    async def list_batch_files(self, request: Request) -> Response:
        p = _list_params(request, statuses=True)
        with self.a.lock:
            store = self.a.get_store(request.path_params["vs"])
            batch = self.a.get_batch(store.id, request.path_params["b"])
            live = [a for fid, a in batch.entries.items() if store.files.get(fid) is a]
            files, more = self.a.list_attachments(live, **p)
            now = self._now()
            return JSONResponse(_list_body([f.to_json(now) for f in files], more))

    # files API
    async def list_files(self, request: Request) -> Response:
        p = _list_params(request, max_limit=10_000, default_limit=10_000)
        files, more = self.a.list_files(
            purpose=request.query_params.get("purpose") or None,
            order=p["order"],
            after=p["after"],
            limit=p["limit"],
        )
        return JSONResponse(_list_body([f.to_json() for f in files], more))

    async def upload_file(self, request: Request) -> Response:
        try:
            form = await request.form()
        except Exception:  # malformed multipart is the client's fault
            raise SimError(
                400, "The request body could not be parsed as multipart/form-data."
            ) from None
        purpose = form.get("purpose")
        upload = form.get("file")
        if not isinstance(purpose, str) or not purpose:
            raise SimError(400, "Missing required parameter: 'purpose'.", param="purpose")
        valid = {"assistants", "batch", "fine-tune", "vision", "user_data", "evals"}
        if purpose not in valid:
            raise SimError(
                400,
                f"Invalid value for 'purpose': {purpose!r}. Expected one of "
                + ", ".join(sorted(valid))
                + ".",
                param="purpose",
            )
        if upload is None or isinstance(upload, str):
            raise SimError(400, "Missing required parameter: 'file'.", param="file")
        data = await upload.read()
        if len(data) > limits.MAX_FILE_BYTES:
            raise SimError(400, "The file is larger than the 512 MB limit.", param="file")
        expires_at = None
        seconds = form.get("expires_after[seconds]")
        if isinstance(seconds, str):
            try:
                value = int(seconds)
            except ValueError:
                value = -1
            if not 3600 <= value <= 2_592_000:
                raise SimError(
                    400,
                    "Invalid 'expires_after.seconds': expected between 3600 and 2592000.",
                    param="expires_after.seconds",
                )
            expires_at = int(self._now()) + value
        sim_file = self.a.add_file(
            upload.filename or "upload.bin",
            len(data),
            content=data,
            purpose=purpose,
            expires_at=expires_at,
        )
        return JSONResponse(sim_file.to_json())

    async def get_file(self, request: Request) -> Response:
        with self.a.lock:
            return JSONResponse(self.a.get_file(request.path_params["f"]).to_json())

    async def delete_file(self, request: Request) -> Response:
        file_id = request.path_params["f"]
        self.a.delete_file(file_id)
        return JSONResponse({"id": file_id, "object": "file", "deleted": True})

    async def file_content(self, request: Request) -> Response:
        with self.a.lock:
            sim_file = self.a.get_file(request.path_params["f"])
            data = sim_file.content
            if data is None:
                data = sim_file.text().encode()
        return Response(data, media_type="application/octet-stream")
