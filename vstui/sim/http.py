"""The simulator's HTTP face: a Starlette app speaking the Vector Stores and Files API.

Every request body is validated here the way the API validates it (a 400 naming the
parameter); the :class:`Account` behind it only sees well-formed requests.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import re
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
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
from .flavors import LLAMA_STACK, Flavor, check, error_body, file_json, store_json
from .paging import list_body

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
    log_size: int = 50_000  # requests remembered (a ring buffer: the oldest are dropped)
    flavor: str | None = None  # "openai" or "llama-stack" (:mod:`.flavors`); None: the account's


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
        if self.config.flavor is not None:
            account.flavor = check(self.config.flavor)
        self.flavor: Flavor = account.flavor
        self.faults: list[Fault] = []
        self.log: deque[RequestRecord] = deque(maxlen=self.config.log_size)
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

    def _error(self, error: SimError, headers: dict[str, str] | None = None) -> Response:
        status = error.status
        if self.flavor == LLAMA_STACK and status == 404:
            status = 400  # llama-stack answers 400 for a missing object
        body = error_body(error.message, error.param, self.flavor, error.body())
        return JSONResponse(body, status_code=status, headers=headers)

    def _fault_response(self, fault: Fault) -> Response:
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
        body = error_body(error.message, None, self.flavor, error.body())
        return JSONResponse(body, status_code=fault.status)

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
            if self.flavor != LLAMA_STACK:
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
            return self._error(auth_error)
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
                return self._error(
                    error,
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
                return self._error(error)
        try:
            response = await handler(request)
        except SimError as exc:
            return self._error(exc)
        fault = self._take_fault(method, path, after=True)
        if fault is not None:
            response = self._fault_response(fault)
            response.headers.update(fault.headers)
        return response

    # -- routes ----------------------------------------------------------------------------

    def _build(self) -> Starlette:
        h = Handlers(self.account, self.flavor)
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
        ]
        batch_routes = [
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
        ]
        if self.flavor != LLAMA_STACK:  # llama-stack has no file batches: 404
            routes += batch_routes
        routes += [
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
            with self._lock:
                self.log.append(RequestRecord(request.method, request.url.path, status))
            if self.flavor == LLAMA_STACK:  # FastAPI's own answer for an unknown route
                detail = "Not Found" if status == 404 else "Method Not Allowed"
                return JSONResponse({"detail": detail}, status_code=status)
            error = SimError(status, f"Invalid URL ({request.method} {request.url.path})")
            headers = {"x-request-id": self._next_request_id()}
            return JSONResponse(error.body(), status_code=status, headers=headers)

        return Starlette(routes=mounted, exception_handlers={HTTPException: http_error})


# -- request validation --------------------------------------------------------------------

MAX_FILTER_DEPTH = 8
FILTER_COMPARISONS = ("eq", "ne", "gt", "gte", "lt", "lte", "in", "nin")
FILE_STATUSES = ("in_progress", "completed", "failed", "cancelled")
PURPOSES = frozenset({"assistants", "batch", "fine-tune", "vision", "user_data", "evals"})


def bad_request(problem: limits.Problem | None) -> None:
    if problem is not None:
        raise SimError(400, problem[1], param=problem[0])


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


class Body:
    """A request's JSON object, read the way the API reads it: unknown arguments, wrong
    types and values out of range are a 400 naming the parameter."""

    def __init__(self, raw: dict[str, Any], allowed: Iterable[str]) -> None:
        unknown = sorted(set(raw) - set(allowed))
        if unknown:
            raise SimError(
                400, f"Unrecognized request argument supplied: {unknown[0]}", param=unknown[0]
            )
        self.raw = raw

    @classmethod
    async def read(cls, request: Request, allowed: Iterable[str]) -> Body:
        raw = await request.body()
        if not raw.strip():
            return cls({}, allowed)
        try:
            value = json.loads(raw, parse_constant=_reject_constant)
        except (ValueError, RecursionError):
            raise SimError(
                400,
                "We could not parse the JSON body of your request. (HINT: This likely means "
                "you aren't using your HTTP library correctly.)",
            ) from None
        if not isinstance(value, dict):
            raise SimError(400, "The request body must be a JSON object.")
        return cls(value, allowed)

    def __contains__(self, name: str) -> bool:
        return name in self.raw

    def get(self, name: str) -> Any:
        return self.raw.get(name)

    def string(self, name: str, *, required: bool = False) -> str | None:
        value = self.raw.get(name)
        if value is None:
            if required:
                raise SimError(400, f"Missing required parameter: '{name}'.", param=name)
            return None
        if not isinstance(value, str):
            raise SimError(400, f"Invalid type for '{name}': expected a string.", param=name)
        if required and not value:
            raise SimError(400, f"Invalid '{name}': expected a non-empty string.", param=name)
        return value

    def strings(self, name: str, *, most: int) -> list[str] | None:
        value = self.raw.get(name)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise SimError(
                400, f"Invalid type for '{name}': expected an array of strings.", param=name
            )
        if len(value) > most:
            raise SimError(
                400,
                f"Invalid '{name}': expected an array with maximum length {most}, "
                f"but got an array with length {len(value)} instead.",
                param=name,
            )
        return value

    def boolean(self, name: str) -> bool:
        value = self.raw.get(name)
        if value is None:
            return False
        if not isinstance(value, bool):
            raise SimError(400, f"Invalid type for '{name}': expected a boolean.", param=name)
        return value

    def metadata(self, name: str = "metadata") -> dict[str, str] | None:
        bad_request(limits.check_metadata(self.raw.get(name), name))
        value = self.raw.get(name)
        return dict(value) if value is not None else None

    def attributes(self, name: str = "attributes") -> dict[str, Any] | None:
        return attributes(self.raw.get(name), name)

    def chunking(self, name: str = "chunking_strategy") -> dict[str, Any] | None:
        return chunking(self.raw.get(name), name)

    def expires_after(self, name: str = "expires_after") -> dict[str, Any] | None:
        value = self.raw.get(name)
        bad_request(limits.check_expires_after(value, name))
        if value is not None and set(value) - {"anchor", "days"}:
            extra = sorted(set(value) - {"anchor", "days"})[0]
            raise SimError(400, f"Unknown parameter: '{name}.{extra}'.", param=f"{name}.{extra}")
        return dict(value) if value is not None else None


def attributes(value: Any, param: str) -> dict[str, Any] | None:
    bad_request(limits.check_attributes(value, param))
    return dict(value) if value is not None else None


def chunking(value: Any, param: str) -> dict[str, Any] | None:
    bad_request(limits.check_chunking_strategy(value, param))
    if value is None:
        return None
    allowed = {"type"} if value.get("type") == "auto" else {"type", "static"}
    extra = sorted(set(value) - allowed)
    if not extra and value.get("type") == "static":
        extra = sorted(set(value["static"]) - {"max_chunk_size_tokens", "chunk_overlap_tokens"})
    if extra:
        raise SimError(400, f"Unknown parameter: '{param}.{extra[0]}'.", param=param)
    return dict(value)


def check_filter(value: Any, param: str = "filters", depth: int = 0) -> None:
    """A ComparisonFilter or CompoundFilter, nested at most :data:`MAX_FILTER_DEPTH` deep."""
    if depth > MAX_FILTER_DEPTH:
        raise SimError(
            400, f"Invalid '{param}': filters nest at most {MAX_FILTER_DEPTH} deep.", param=param
        )
    if not isinstance(value, dict):
        raise SimError(400, f"Invalid type for '{param}': expected an object.", param=param)
    kind = value.get("type")
    if kind in ("and", "or"):
        subs = value.get("filters")
        if set(value) - {"type", "filters"} or not isinstance(subs, list) or not subs:
            raise SimError(
                400,
                f"Invalid '{param}': a compound filter has 'type' and a non-empty 'filters' array.",
                param=param,
            )
        for i, sub in enumerate(subs):
            check_filter(sub, f"{param}.filters[{i}]", depth + 1)
        return
    if kind not in FILTER_COMPARISONS:
        raise SimError(
            400,
            f"Invalid value for '{param}.type': expected one of "
            + ", ".join((*FILTER_COMPARISONS, "and", "or"))
            + ".",
            param=f"{param}.type",
        )
    target = value.get("value")
    scalar = (str, int, float)
    ok = isinstance(target, scalar) or (
        isinstance(target, list)
        and all(isinstance(v, str | int | float) and not isinstance(v, bool) for v in target)
    )
    if (
        set(value) - {"type", "key", "value"}
        or not isinstance(value.get("key"), str)
        or "value" not in value
        or not ok
    ):
        raise SimError(
            400,
            f"Invalid '{param}': a comparison filter has 'type', a string 'key' and a string, "
            "number, boolean or array 'value'.",
            param=param,
        )


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
            400, f"Invalid 'limit': {str(raw_limit)[:40]!r} is not an integer.", param="limit"
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
        raise SimError(
            400, f"Invalid 'order': expected 'asc' or 'desc', got {order[:40]!r}.", param="order"
        )
    params: dict[str, Any] = {
        "limit": limit,
        "order": order,
        "after": query.get("after") or None,
        "before": query.get("before") or None,
    }
    if statuses:
        status = query.get("filter") or None
        if status is not None and status not in FILE_STATUSES:
            raise SimError(
                400,
                "Invalid 'filter': expected one of " + ", ".join(FILE_STATUSES) + ".",
                param="filter",
            )
        params["status"] = status
    return params


class Handlers:
    """One coroutine per endpoint: validate the request, then ask the :class:`Account`."""

    def __init__(self, account: Account, flavor: Flavor = "openai") -> None:
        self.a = account
        self.flavor = flavor

    def _store(self, store: Any, now: float) -> dict[str, Any]:
        return store_json(store.to_json(now), self.flavor)

    def _file(self, attachment: Any, now: float) -> dict[str, Any]:
        return file_json(attachment.to_json(now), self.flavor)

    def _list(self, items: list[dict[str, Any]], more: bool, whole: list[Any]) -> dict[str, Any]:
        """The list envelope; llama-stack's ``last_id`` is the whole list's (``whole``
        is every item from the cursor on)."""
        body = list_body(items, more)
        if self.flavor == LLAMA_STACK and whole:
            last = whole[-1]
            body["last_id"] = last.id if hasattr(last, "id") else last.file_id
        return body

    def _now(self) -> float:
        return self.a.now()

    # stores
    async def list_stores(self, request: Request) -> Response:
        p = _list_params(request)
        with self.a.lock:
            stores, more = self.a.list_stores(
                order=p["order"], after=p["after"], before=p["before"], limit=p["limit"]
            )
            whole: list[Any] = []
            if self.flavor == LLAMA_STACK:
                whole, _ = self.a.list_stores(
                    order=p["order"], after=p["after"], before=p["before"], limit=10**9
                )
            now = self._now()
            return JSONResponse(self._list([self._store(s, now) for s in stores], more, whole))

    async def create_store(self, request: Request) -> Response:
        body = await Body.read(
            request,
            ("name", "description", "metadata", "expires_after", "file_ids", "chunking_strategy"),
        )
        store = self.a.create_store(
            name=body.string("name", required=self.flavor == LLAMA_STACK) or "",
            description=body.string("description"),
            metadata=body.metadata(),
            expires_after=body.expires_after(),
            file_ids=body.strings("file_ids", most=limits.STORE_FILE_IDS_MAX) or [],
            chunking_strategy=body.chunking(),
        )
        return JSONResponse(self._store(store, self._now()))

    async def get_store(self, request: Request) -> Response:
        with self.a.lock:
            store = self.a.get_store(request.path_params["vs"])
            return JSONResponse(self._store(store, self._now()))

    async def modify_store(self, request: Request) -> Response:
        body = await Body.read(request, ("name", "expires_after", "metadata"))
        changes: dict[str, Any] = {}
        if "name" in body:
            changes["name"] = body.string("name")
        if "metadata" in body:
            changes["metadata"] = body.metadata()
        if "expires_after" in body:
            changes["expires_after"] = body.expires_after()
        store = self.a.modify_store(request.path_params["vs"], changes)
        return JSONResponse(self._store(store, self._now()))

    async def delete_store(self, request: Request) -> Response:
        store_id = request.path_params["vs"]
        self.a.delete_store(store_id)
        return JSONResponse({"id": store_id, "object": "vector_store.deleted", "deleted": True})

    async def search(self, request: Request) -> Response:
        body = await Body.read(
            request, ("query", "rewrite_query", "max_num_results", "filters", "ranking_options")
        )
        query = body.get("query")
        if isinstance(query, str):
            queries = [query]
        elif isinstance(query, list) and query and all(isinstance(q, str) for q in query):
            queries = list(query)
        else:
            raise SimError(400, "'query' must be a string or a non-empty array.", param="query")
        max_results = body.get("max_num_results")
        max_results = 10 if max_results is None else max_results
        if (
            isinstance(max_results, bool)
            or not isinstance(max_results, int)
            or not limits.SEARCH_RESULTS_MIN <= max_results <= limits.SEARCH_RESULTS_MAX
        ):
            raise SimError(
                400,
                f"Invalid 'max_num_results': expected an integer between "
                f"{limits.SEARCH_RESULTS_MIN} and {limits.SEARCH_RESULTS_MAX}.",
                param="max_num_results",
            )
        ranking = body.get("ranking_options") or {}
        if not isinstance(ranking, dict) or set(ranking) - {"ranker", "score_threshold"}:
            raise SimError(
                400,
                "Invalid 'ranking_options': expected an object with 'ranker' and "
                "'score_threshold'.",
                param="ranking_options",
            )
        if ranking.get("ranker", "auto") not in ("none", "auto", "default-2024-11-15"):
            raise SimError(
                400,
                "Invalid value for 'ranking_options.ranker': expected one of none, auto, "
                "default-2024-11-15.",
                param="ranking_options.ranker",
            )
        threshold = ranking.get("score_threshold", 0)
        if (
            isinstance(threshold, bool)
            or not isinstance(threshold, int | float)
            or not 0 <= threshold <= 1
        ):
            raise SimError(
                400,
                "Invalid 'ranking_options.score_threshold': expected a number between 0 and 1.",
                param="ranking_options.score_threshold",
            )
        filters = body.get("filters")
        if filters is not None:
            check_filter(filters)
        result = self.a.search(
            request.path_params["vs"],
            queries,
            max_results=max_results,
            threshold=float(threshold),
            filters=filters,
            rewrite_query=body.boolean("rewrite_query"),
        )
        return JSONResponse(result)

    # store files
    async def list_store_files(self, request: Request) -> Response:
        p = _list_params(request, statuses=True)
        with self.a.lock:
            store = self.a.get_store(request.path_params["vs"])
            files, more = self.a.list_attachments(store.listed(), **p)
            whole: list[Any] = []
            if self.flavor == LLAMA_STACK:
                whole, _ = self.a.list_attachments(store.listed(), **{**p, "limit": 10**9})
            now = self._now()
            return JSONResponse(self._list([self._file(f, now) for f in files], more, whole))

    async def attach_file(self, request: Request) -> Response:
        body = await Body.read(request, ("file_id", "attributes", "chunking_strategy"))
        file_id = body.string("file_id", required=True)
        assert file_id is not None
        attachment = self.a.attach_file(
            request.path_params["vs"],
            file_id,
            attributes=body.attributes(),
            chunking_strategy=body.chunking(),
        )
        return JSONResponse(self._file(attachment, self._now()))

    async def get_store_file(self, request: Request) -> Response:
        with self.a.lock:
            a = self.a.get_attachment(request.path_params["vs"], request.path_params["f"])
            return JSONResponse(self._file(a, self._now()))

    async def update_store_file(self, request: Request) -> Response:
        body = await Body.read(request, ("attributes",))
        if "attributes" not in body:
            raise SimError(400, "Missing required parameter: 'attributes'.", param="attributes")
        a = self.a.update_attributes(
            request.path_params["vs"], request.path_params["f"], body.attributes()
        )
        return JSONResponse(self._file(a, self._now()))

    async def detach_file(self, request: Request) -> Response:
        file_id = request.path_params["f"]
        self.a.detach(request.path_params["vs"], file_id)
        return JSONResponse({"id": file_id, "object": "vector_store.file.deleted", "deleted": True})

    async def content(self, request: Request) -> Response:
        return JSONResponse(self.a.content(request.path_params["vs"], request.path_params["f"]))

    # batches
    async def create_batch(self, request: Request) -> Response:
        body = await Body.read(request, ("file_ids", "files", "attributes", "chunking_strategy"))
        if (body.get("file_ids") is None) == (body.get("files") is None):
            raise SimError(400, "Provide exactly one of 'file_ids' or 'files'.", param="file_ids")
        entries: list[tuple[str, Any, Any]] = []
        file_ids = body.strings("file_ids", most=limits.BATCH_FILES_MAX)
        if file_ids is not None:
            bad_request(limits.check_batch_size(len(file_ids)))
            attrs, chunk = body.attributes(), body.chunking()
            entries = [(f, attrs, chunk) for f in file_ids]
        else:
            files = body.get("files")
            if not isinstance(files, list):
                raise SimError(400, "Invalid type for 'files': expected an array.", param="files")
            bad_request(limits.check_batch_size(len(files), "files"))
            for i, entry in enumerate(files):
                where = f"files[{i}]"
                if not isinstance(entry, dict) or not isinstance(entry.get("file_id"), str):
                    raise SimError(400, f"{where}.file_id is required.", param=where)
                extra = sorted(set(entry) - {"file_id", "attributes", "chunking_strategy"})
                if extra:
                    raise SimError(
                        400,
                        f"Unrecognized request argument supplied: {where}.{extra[0]}",
                        param=f"{where}.{extra[0]}",
                    )
                entries.append(
                    (
                        entry["file_id"],
                        attributes(entry.get("attributes"), f"{where}.attributes"),
                        chunking(entry.get("chunking_strategy"), f"{where}.chunking_strategy"),
                    )
                )
        batch = self.a.create_batch(request.path_params["vs"], entries)
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
            return JSONResponse(list_body([f.to_json(now) for f in files], more))

    # files API
    async def list_files(self, request: Request) -> Response:
        p = _list_params(request, max_limit=10_000, default_limit=10_000)
        files, more = self.a.list_files(
            purpose=request.query_params.get("purpose") or None,
            order=p["order"],
            after=p["after"],
            limit=p["limit"],
        )
        return JSONResponse(list_body([f.to_json() for f in files], more))

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
        if purpose not in PURPOSES:
            raise SimError(
                400,
                f"Invalid value for 'purpose': {purpose[:40]!r}. Expected one of "
                + ", ".join(sorted(PURPOSES))
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
