"""Sending requests: one pooled ``httpx.Client``, retries, the shared 429 pacer, typed errors.

Thread-safe: the UI's worker threads and the clean-up's pool share one :class:`Transport`.
Every message an error carries has the API key (and any ``Bearer`` token) masked, the
server's own text included.
"""

from __future__ import annotations

import email.utils
import itertools
import logging
import math
import random
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal, NamedTuple, TypedDict, TypeVar

import httpx
import pydantic

from .errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    MalformedResponseError,
    error_class_for,
)
from .models import APIModel, ErrorBody
from .settings import ClientSettings

log = logging.getLogger(__name__)

M = TypeVar("M", bound=APIModel)
RetryMode = Literal["safe", "create"]
"""``safe``: may be sent again whatever happened; ``create``: only if the server did not act."""

RETRY_STATUSES: Final = frozenset({408, 409, 429})
NOT_SENT: Final = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
MAX_RETRY_AFTER: Final = 60.0
MAX_TIMEOUT_RETRIES: Final = 1  # a hung server is reported after two timeouts, not five
UPLOAD_BYTES_PER_SECOND: Final = 128 * 1024  # uploads get this much extra time per byte
ERROR_TEXT_MAX: Final = 200


@dataclass
class ServiceStats:
    """What the service has done so far: requests, retries and rate-limit answers."""

    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    server_errors: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, **counts: int) -> None:
        with self._lock:
            for name, value in counts.items():
                setattr(self, name, getattr(self, name) + value)


class TransportOptions(TypedDict, total=False):
    """How a :class:`Transport` sends, besides its settings (tests inject these)."""

    transport: httpx.BaseTransport | None  # httpx's own transport (default: the network)
    sleep: Callable[[float], None]  # waits between retries (default: time.sleep)
    rng: random.Random | None  # jitter
    max_connections: int  # the pool's size (default 32)


@dataclass
class _WaitBudget:
    """Seconds one request may still spend waiting out 429s."""

    left: float

    def spend(self, seconds: float) -> bool:
        if seconds > self.left:
            return False
        self.left -= seconds
        return True


class InFlight(NamedTuple):
    """A request waiting for its answer; ``started`` is ``time.monotonic()`` at sending."""

    method: str
    path: str
    started: float


class _Pacer:
    """Spacing between requests, shared by every thread of one service.

    A 429 closes a gate until the server's ``retry-after`` and widens the spacing, so the
    threads that were waiting go one by one instead of stampeding back into the limit;
    each success narrows the spacing again (additive-increase/multiplicative-decrease).
    """

    MAX_INTERVAL = 1.0

    def __init__(self) -> None:
        self.interval = 0.0
        self.next_at = 0.0
        self.gate_until = 0.0
        self.lock = threading.Lock()

    def wait_time(self) -> float:
        with self.lock:
            now = time.monotonic()
            at = max(now, self.gate_until, self.next_at)
            self.next_at = at + self.interval
            return at - now

    def limited(self, delay: float) -> None:
        with self.lock:
            self.interval = min(self.MAX_INTERVAL, max(0.005, self.interval * 2))
            self.gate_until = max(self.gate_until, time.monotonic() + delay)

    def succeeded(self) -> None:
        with self.lock:
            if self.interval:
                self.interval = self.interval * 0.9 if self.interval > 0.002 else 0.0


def _should_retry(response: httpx.Response, mode: RetryMode) -> bool:
    explicit = response.headers.get("x-should-retry")
    if explicit == "true":
        return True
    if explicit == "false":
        return False
    status = response.status_code
    if mode == "create":
        # The server may have acted on anything but a rate-limit rejection: do not risk a
        # duplicate store or batch.
        return status == 429
    return status in RETRY_STATUSES or status >= 500


def _server_retry_after(headers: httpx.Headers) -> float | None:
    """What ``retry-after-ms`` / ``retry-after`` ask for, if it is sensible (0-60 s)."""
    for name, divisor in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        raw = headers.get(name)
        if raw is None:
            continue
        try:
            seconds = float(raw) / divisor
        except ValueError:
            if name != "retry-after":
                continue
            try:  # an HTTP date; anything else ("soon") is ignored
                seconds = email.utils.parsedate_to_datetime(raw).timestamp() - time.time()
            except (TypeError, ValueError, OverflowError, IndexError):
                continue
        if math.isfinite(seconds) and 0 <= seconds <= MAX_RETRY_AFTER:
            return seconds
    return None


def _clip(text: str, limit: int = ERROR_TEXT_MAX) -> str:
    """One line of at most ``limit`` characters; control characters (a terminal escape a
    server slipped into its error) become ``?``."""
    text = " ".join(text.split())
    text = "".join(ch if ch.isprintable() else "?" for ch in text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _detail_text(detail: Any) -> str:
    """FastAPI-style ``detail``: a string, a list of errors or ``{"errors": [...]}``."""
    if isinstance(detail, str):
        return detail
    if isinstance(detail, dict):
        for key in ("message", "msg"):
            if isinstance(detail.get(key), str):
                return str(detail[key])
        detail = detail.get("errors", [])
    if isinstance(detail, list):
        parts = []
        for item in detail[:5]:
            if isinstance(item, dict):
                msg = item.get("msg") or item.get("message") or ""
                loc = item.get("loc")
                where = ".".join(str(x) for x in loc) if isinstance(loc, list) else ""
                parts.append(f"{where}: {msg}" if where and msg else str(msg or where))
            else:
                parts.append(str(item))
        return "; ".join(p for p in parts if p)
    return ""


def read_error_body(response: httpx.Response) -> ErrorBody:
    """The error's message, type, code and param, read tolerantly.

    ``{"error": {...}}`` (OpenAI), ``{"error": "..."}``, ``{"message": ...}``,
    ``{"detail": ...}`` (FastAPI, llama-stack); otherwise the raw body, clipped.
    """
    try:
        payload = response.json()
    except (ValueError, UnicodeDecodeError, RecursionError):
        payload = None
    body: ErrorBody | None = None
    if isinstance(payload, dict):
        error = payload.get("error")
        try:
            if isinstance(error, dict):
                body = ErrorBody.model_validate(error)
            elif isinstance(error, str):
                body = ErrorBody(message=error)
            elif isinstance(payload.get("message"), str):
                body = ErrorBody.model_validate(payload)
            elif "detail" in payload:
                body = ErrorBody(message=_detail_text(payload["detail"]))
        except pydantic.ValidationError:
            body = None
    if body is None:  # not a shape we know: the raw text says more than nothing
        try:
            raw = response.text
        except (UnicodeDecodeError, LookupError):
            raw = ""
        body = ErrorBody(message=raw)
    body.message = _clip(body.message)
    return body


class Transport:
    """Sends requests with retries; maps failures to typed errors."""

    def __init__(
        self,
        settings: ClientSettings,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        max_connections: int = 32,
    ) -> None:
        self.settings = settings
        self.stats = ServiceStats()
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._rng_lock = threading.Lock()
        self._pacer = _Pacer()
        self._inflight: dict[int, InFlight] = {}
        self._inflight_lock = threading.Lock()
        self._ticket = itertools.count()
        headers = {
            "OpenAI-Beta": "assistants=v2",
            "User-Agent": "vstui/0.1",
            "Accept": "application/json",
        }
        if settings.api_key:
            headers["Authorization"] = f"Bearer {settings.api_key}"
        if settings.organization:
            headers["OpenAI-Organization"] = settings.organization
        if settings.project:
            headers["OpenAI-Project"] = settings.project
        self._http = httpx.Client(
            base_url=settings.base_url.rstrip("/") + "/",
            headers=headers,
            timeout=httpx.Timeout(settings.timeout, connect=settings.connect_timeout),
            transport=transport,
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            ),
        )

    def close(self) -> None:
        self._http.close()

    @property
    def host(self) -> str:
        return self._http.base_url.host or str(self._http.base_url)

    def inflight(self) -> list[InFlight]:
        """The requests waiting for an answer right now, oldest first."""
        with self._inflight_lock:
            return sorted(self._inflight.values(), key=lambda r: r.started)

    def upload_timeout(self, size: int) -> httpx.Timeout:
        """The usual timeouts, with read/write stretched in proportion to ``size`` bytes."""
        extra = size / UPLOAD_BYTES_PER_SECOND
        return httpx.Timeout(self.settings.timeout + extra, connect=self.settings.connect_timeout)

    # -- the retry loop --------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        files: Any = None,
        data: Any = None,
        mode: RetryMode = "safe",
        timeout: httpx.Timeout | None = None,
    ) -> httpx.Response:
        """Send, retrying what may be retried; a 2xx response or a typed :class:`APIError`."""
        request = dict(
            params={k: v for k, v in (params or {}).items() if v is not None},
            json=json,
            files=files,
            data=data,
        )
        if timeout is not None:
            request["timeout"] = timeout
        headers: dict[str, str] = {}
        if mode == "create":
            headers["Idempotency-Key"] = f"vstui-{uuid.uuid4()}"
        budget = _WaitBudget(self.settings.rate_limit_budget)
        timeouts = 0
        max_retries = self.settings.max_retries
        for attempt in range(max_retries + 1):
            last = attempt == max_retries
            if attempt:
                headers["x-stainless-retry-count"] = str(attempt)
            try:
                response = self._send_admitted(method, path, request, headers, mode, budget)
            except httpx.TransportError as exc:
                timed_out = isinstance(exc, httpx.TimeoutException)
                timeouts += timed_out
                if last or not self._may_resend(exc, mode, timeouts):
                    raise self._transport_error(exc, method, path) from None
                self._pause(self._backoff(attempt))
                continue
            if response.is_success:
                self._pacer.succeeded()
                return response
            if response.status_code >= 500:
                self.stats.add(server_errors=1)
            if last or not _should_retry(response, mode):
                raise self.error(response, method, path)
            delay = self._retry_delay(response, attempt)
            log.debug(
                "retrying %s %s after HTTP %s in %.2fs", method, path, response.status_code, delay
            )
            response.close()
            self._pause(delay)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _send_admitted(
        self,
        method: str,
        path: str,
        request: dict[str, Any],
        headers: dict[str, str],
        mode: RetryMode,
        budget: _WaitBudget,
    ) -> httpx.Response:
        """Send once, and again for each 429 while the request's waiting budget lasts.

        Under a shared rate limit patience is what finishes the job, so 429s do not use up
        the retries that server errors get.
        """
        for waited in itertools.count():
            response = self._send(method, path, request, headers)
            if response.status_code != 429:
                return response
            self.stats.add(rate_limited=1)
            delay = self._retry_delay(response, min(waited, 4))
            if not _should_retry(response, mode) or not budget.spend(delay):
                return response
            self._pacer.limited(delay)
            response.close()
            self.stats.add(retries=1)
        raise AssertionError("unreachable")

    def _send(
        self, method: str, path: str, request: dict[str, Any], headers: dict[str, str]
    ) -> httpx.Response:
        wait = self._pacer.wait_time()
        if wait > 0:
            self._sleep(wait)
        self.stats.add(requests=1)
        ticket = next(self._ticket)
        with self._inflight_lock:
            self._inflight[ticket] = InFlight(method, path, time.monotonic())
        try:
            return self._http.request(method, path.lstrip("/"), headers=headers, **request)
        finally:
            with self._inflight_lock:
                self._inflight.pop(ticket, None)

    @staticmethod
    def _may_resend(exc: httpx.TransportError, mode: RetryMode, timeouts: int) -> bool:
        """A request that never reached the server is always safe to send again; one that
        may have (a read timeout, a dropped connection) only if it is safe. A timeout is
        retried once: a server that hangs twice is reported, not waited on five times."""
        if isinstance(exc, httpx.TimeoutException) and timeouts > MAX_TIMEOUT_RETRIES:
            return False
        if isinstance(exc, httpx.UnsupportedProtocol | httpx.LocalProtocolError):
            return False
        return isinstance(exc, NOT_SENT) or mode == "safe"

    def _backoff(self, attempt: int) -> float:
        base = min(self.settings.backoff_initial * 2.0**attempt, self.settings.backoff_max)
        with self._rng_lock:
            jitter = 1 - 0.25 * self._rng.random()
        return base * jitter

    def _retry_delay(self, response: httpx.Response, attempt: int) -> float:
        asked = _server_retry_after(response.headers)
        return self._backoff(attempt) if asked is None else asked

    def _pause(self, seconds: float) -> None:
        self.stats.add(retries=1)
        self._sleep(seconds)

    # -- errors and parsing ----------------------------------------------------------------

    def _transport_error(self, exc: httpx.TransportError, method: str, path: str) -> APIError:
        host = self.host
        if isinstance(exc, httpx.TimeoutException):
            if isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout):
                what = f"Connecting to {host} timed out"
            else:
                what = f"Request to {host} timed out: the server did not answer in time"
            return APITimeoutError(what, method=method, path=path)
        if isinstance(exc, httpx.UnsupportedProtocol):
            message = f"Could not reach {host}: the URL's protocol is not http or https"
        elif isinstance(exc, NOT_SENT):
            message = f"Could not connect to {host}: the server could not be reached"
        elif isinstance(exc, httpx.RemoteProtocolError):
            message = f"Connection to {host} failed: the server closed it or answered garbage"
        else:
            message = f"Connection to {host} failed"
        return APIConnectionError(self.settings.scrub(message), method=method, path=path)

    def error(self, response: httpx.Response, method: str, path: str) -> APIError:
        """The typed error for a non-2xx ``response``, its text scrubbed of the key."""
        body = read_error_body(response)
        scrub = self.settings.scrub
        message = body.message or response.reason_phrase or "request failed"
        cls = error_class_for(response.status_code)
        request_id = response.headers.get("x-request-id")
        return cls(
            scrub(message),
            status=response.status_code,
            type=scrub(body.type) if body.type else None,
            code=scrub(body.code) if body.code else None,
            param=scrub(body.param) if body.param else None,
            request_id=_clip(request_id, 80) if request_id else None,
            method=method,
            path=path,
        )

    @staticmethod
    def parse(response: httpx.Response, model: type[M], method: str, path: str) -> M:
        """``response``'s JSON as ``model``, or a :class:`MalformedResponseError`."""
        request_id = response.headers.get("x-request-id")
        try:
            obj = model.model_validate(response.json())
        except (ValueError, RecursionError, pydantic.ValidationError) as exc:
            what = "unexpected" if isinstance(exc, pydantic.ValidationError) else "not JSON"
            raise MalformedResponseError(
                f"The server's answer was {what} (expected {_describe(model)})",
                status=response.status_code,
                request_id=request_id,
                method=method,
                path=path,
            ) from None
        obj._request_id = request_id
        raw_poll = response.headers.get("openai-poll-after-ms")
        if raw_poll is not None:
            try:
                obj._poll_after_ms = max(0, int(raw_poll))
            except ValueError:
                obj._poll_after_ms = None
        return obj


def _describe(model: type[Any]) -> str:
    """What a model is, in words: 'a list of vector stores', 'a file'."""
    name = getattr(model, "__name__", "object")
    if name.startswith("ListPage[") and name.endswith("]"):
        return f"a list of {_words(name[len('ListPage[') : -1])}s"
    return f"a {_words(name)}"


def _words(name: str) -> str:
    """'VectorStoreFile' -> 'vector store file'."""
    out: list[str] = []
    for char in name:
        if char.isupper() and out:
            out.append(" ")
        out.append(char.lower())
    return "".join(out)
