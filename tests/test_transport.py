"""The transport against a hostile or odd server over real HTTP: a small fake that echoes the
key in a 401, sends ``retry-after: soon``, hangs, answers garbage and odd error shapes."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from vstui.api import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ClientSettings,
    ConfigurationError,
    IncompleteListingError,
    MalformedResponseError,
    RateLimitError,
    ServerError,
    VectorStoresService,
    VstuiError,
    mask_key,
    scrub_key,
)
from vstui.api.transport import Transport
from vstui.sim import AppServer

from .conftest import KEY, Sleeps

Script = Callable[[Request], Response] | str  # a response maker, or "hang"
CLASS_NAMES = re.compile(r"\b[A-Z][a-z]+(Error|Exception|Timeout)\b")


@dataclass
class Fake:
    """A server whose answers a test scripts, one per request (the last one repeats)."""

    server: AppServer
    script: list[Script] = field(default_factory=list)
    seen: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    arrived: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    @property
    def base_url(self) -> str:
        return self.server.origin + "/v1"

    def service(self, sleeps: Sleeps, **settings: object) -> VectorStoresService:
        values: dict[str, object] = {"api_key": KEY, "base_url": self.base_url}
        values.update(settings)
        return VectorStoresService(ClientSettings(**values), sleep=sleeps)  # type: ignore[arg-type]


@pytest.fixture
def fake() -> Iterator[Fake]:
    holder: list[Fake] = []

    async def endpoint(request: Request) -> Response:
        me = holder[0]
        me.seen.append((request.method, request.url.path, dict(request.headers)))
        step = me.script.pop(0) if len(me.script) > 1 else me.script[0]
        if step == "hang":
            me.arrived.set()
            while not me.release.is_set():
                await asyncio.sleep(0.02)
            return JSONResponse({"object": "list", "data": [], "has_more": False})
        assert callable(step)
        return step(request)

    app = Starlette(routes=[Route("/v1/{path:path}", endpoint, methods=["GET", "POST"])])
    server = AppServer(app)
    server.start()
    holder.append(Fake(server))
    yield holder[0]
    holder[0].release.set()
    server.stop()


def answer(status: int, body: object = None, *, raw: str | None = None, **headers: str):
    def make(request: Request) -> Response:
        if raw is not None:
            return Response(raw, status_code=status, headers=headers)
        return JSONResponse(body, status_code=status, headers=headers)

    return make


EMPTY = answer(200, {"object": "list", "data": [], "has_more": False})


def assert_one_sentence(err: BaseException) -> None:
    text = str(err)
    assert text and "\n" not in text and "Traceback" not in text
    assert not CLASS_NAMES.search(text), text
    assert KEY not in text


# -- the key never leaks ---------------------------------------------------------------------


def test_a_401_that_echoes_the_key_is_scrubbed(fake, sleeps):
    def echo(request: Request) -> Response:
        header = request.headers["authorization"]
        body = {"error": {"message": f"Invalid header: {header}", "code": header}}
        return JSONResponse(body, status_code=401)

    fake.script = [echo]
    with pytest.raises(AuthenticationError) as info:
        fake.service(sleeps).list_stores()
    err = info.value
    assert fake.seen[0][2]["authorization"] == f"Bearer {KEY}"  # the key was sent...
    for text in (str(err), err.message, err.summary, err.code or ""):
        assert KEY not in text  # ...and is in no message
    assert f"Bearer {mask_key(KEY)}" in err.message


def test_any_bearer_token_or_key_shaped_text_is_masked():
    other = "sk-proj-Abcdefghijk-fake-0123"  # key-shaped (16+ characters), obviously fake
    text = scrub_key(f"got Bearer {other}, and {KEY} and bearer tok_secret_value_9876", KEY)
    assert other not in text and KEY not in text and "tok_secret_value_9876" not in text
    assert mask_key(other) in text and mask_key(KEY) in text


# -- retry-after that is not a number or a date ----------------------------------------------


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_soon_falls_back_to_backoff(fake, sleeps, status):
    fake.script = [answer(status, {"error": {"message": "busy"}}, **{"retry-after": "soon"})] * 2
    fake.script.append(EMPTY)
    service = fake.service(sleeps)
    assert service.list_stores().data == []
    assert len(fake.seen) == 3
    # the exponential backoff (0.5 s, then 1 s, less up to 25 % jitter), not an exception
    assert 0.375 <= sleeps[0] <= 0.5 and 0.375 <= sleeps[1] <= 1.0


def test_retry_after_in_seconds_or_as_a_date_is_honoured(fake, sleeps):
    fake.script = [
        answer(503, {}, **{"retry-after": "2"}),
        answer(503, {}, **{"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}),  # past: ignored
        EMPTY,
    ]
    fake.service(sleeps).list_stores()
    assert sleeps[0] == 2.0 and sleeps[1] <= 1.0


def test_a_rate_limit_that_never_lifts_ends_in_a_typed_error(fake, sleeps):
    fake.script = [answer(429, {"error": {"message": "slow down"}}, **{"retry-after": "soon"})]
    with pytest.raises(RateLimitError) as info:
        fake.service(sleeps, max_retries=2).list_stores()
    assert_one_sentence(info.value)
    assert "slow down" in str(info.value)


# -- a hung server ---------------------------------------------------------------------------


def test_a_hung_server_is_reported_after_one_retry(fake, sleeps):
    """Two read timeouts and one backoff, never five: a hung server is reported within
    (read timeout x 2 + one backoff), about a minute with the default 30 s."""
    fake.script = ["hang"]
    service = fake.service(sleeps, timeout=0.2, max_retries=4)
    with pytest.raises(APITimeoutError) as info:
        service.list_stores()
    assert len(fake.seen) == 2 and len(sleeps) == 1
    assert_one_sentence(info.value)
    assert "did not answer in time" in str(info.value)
    assert service.inflight() == []


def test_a_create_that_timed_out_is_not_sent_again(fake, sleeps):
    fake.script = ["hang"]
    with pytest.raises(APITimeoutError):
        fake.service(sleeps, timeout=0.2).create_store(name="maybe")
    assert len(fake.seen) == 1 and sleeps == []


def test_inflight_names_what_the_service_is_waiting_for(fake, sleeps):
    fake.script = ["hang"]
    service = fake.service(sleeps)
    errors: list[BaseException] = []

    def call() -> None:
        try:
            service.list_stores()
        except BaseException as exc:
            errors.append(exc)

    worker = threading.Thread(target=call)
    worker.start()
    assert fake.arrived.wait(10)
    waiting = service.inflight()
    assert [(r.method, r.path) for r in waiting] == [("GET", "/vector_stores")]
    assert waiting[0].started > 0
    fake.release.set()
    worker.join(10)
    assert errors == [] and service.inflight() == []


def test_default_timeouts_and_uploads_get_time_by_size():
    settings = ClientSettings(api_key=KEY)
    assert settings.connect_timeout == 10 and settings.timeout == 30
    transport = Transport(settings)
    small, big = transport.upload_timeout(1_000), transport.upload_timeout(512 * 1024 * 1024)
    assert small.connect == 10 and small.read is not None and 30 <= small.read < 31
    assert big.read is not None and big.write is not None and big.read > 3_600
    transport.close()


# -- garbage and odd error shapes ------------------------------------------------------------


def test_a_garbage_200_is_a_typed_error(fake, sleeps):
    fake.script = [answer(200, raw="\x1b[2J<html>hello</html>")]
    with pytest.raises(MalformedResponseError) as info:
        fake.service(sleeps).list_stores()
    assert_one_sentence(info.value)
    fake.script = [answer(200, {"hello": "world", "data": {"x": 1}})]
    with pytest.raises(MalformedResponseError):
        fake.service(sleeps).list_stores()


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"error": {"message": "OpenAI style", "param": "name"}}, "OpenAI style"),
        ({"error": "a bare string"}, "a bare string"),
        ({"message": "top-level message"}, "top-level message"),
        ({"detail": "llama-stack detail"}, "llama-stack detail"),
        (
            {"detail": [{"loc": ["body", "name"], "msg": "field required", "type": "missing"}]},
            "body.name: field required",
        ),
        ({"detail": {"errors": [{"loc": ["query", "limit"], "msg": "too big"}]}}, "too big"),
        ({"detail": {"message": "nested message"}}, "nested message"),
    ],
)
def test_error_text_is_read_tolerantly(fake, sleeps, body, expected):
    fake.script = [answer(400, body)]
    with pytest.raises(BadRequestError) as info:
        fake.service(sleeps).list_stores()
    assert expected in info.value.message
    assert_one_sentence(info.value)


def test_an_unreadable_error_body_is_clipped(fake, sleeps):
    fake.script = [answer(400, raw="<html>" + "x" * 5_000 + "\n</html>")]
    with pytest.raises(BadRequestError) as info:
        fake.service(sleeps).list_stores()
    assert info.value.message.startswith("<html>xxx") and len(info.value.message) <= 200
    fake.script = [answer(400, raw="")]
    with pytest.raises(BadRequestError) as info:
        fake.service(sleeps).list_stores()
    assert info.value.message == "Bad Request"


@pytest.mark.parametrize(
    "body", [{"detail": "bad \x1b[2J\x1b[31mred\x07"}, "bad \x1b[2J\x1b[31mred\x07"]
)
def test_control_characters_in_error_text_are_neutralised(fake, sleeps, body):
    fake.script = [answer(400, body) if isinstance(body, dict) else answer(400, raw=body)]
    with pytest.raises(BadRequestError) as info:
        fake.service(sleeps).list_stores()
    message = info.value.message
    assert "\x1b" not in message and "\x07" not in message
    assert message.startswith("bad ?[2J?[31mred")


def test_deep_json_in_an_error_is_not_a_crash(fake, sleeps):
    fake.script = [answer(500, raw="[" * 100_000 + "]" * 100_000)]
    with pytest.raises(ServerError) as info:
        fake.service(sleeps, max_retries=0).list_stores()
    assert len(info.value.message) <= 200


# -- paging against a server whose last_id is the whole list's -------------------------------


def test_paging_follows_the_last_item_not_last_id(fake, sleeps, caplog):
    items = [{"id": f"f{i:03d}", "object": "vector_store.file"} for i in range(250)]

    def page(request: Request) -> Response:
        after = request.query_params.get("after")
        start = 0 if after is None else [x["id"] for x in items].index(after) + 1
        chunk = items[start : start + 100]
        return JSONResponse(
            {
                "object": "list",
                "data": chunk,
                "first_id": chunk[0]["id"],
                "last_id": items[-1]["id"],  # the whole list's, as llama-stack answers
                "has_more": start + 100 < len(items),
            }
        )

    fake.script = [page]
    caplog.set_level(logging.WARNING, logger="vstui.api.paging")
    listed = [f.id for f in fake.service(sleeps).iter_store_files("vs_1")]
    assert listed == [x["id"] for x in items]
    assert len([r for r in caplog.records if "last_id" in r.getMessage()]) <= 1


def test_a_server_that_repeats_a_cursor_does_not_loop_forever(fake, sleeps):
    same = {"object": "list", "data": [{"id": "a"}, {"id": "b"}], "has_more": True}
    fake.script = [answer(200, same)]
    service = fake.service(sleeps)
    pages = list(service.iter_store_file_pages("vs_1"))
    assert len(pages) == 2
    # a listing a deletion depends on says it cannot be trusted, rather than ending early
    with pytest.raises(IncompleteListingError) as info:
        list(service.iter_store_files("vs_1", strict=True))
    assert_one_sentence(info.value)


@pytest.mark.parametrize(
    "pages",
    [
        [{"data": [{"id": "a"}, {"id": "b"}], "has_more": True}, {"data": [{"id": "b"}]}],
        [{"data": [{"id": "a"}], "has_more": True}, {"data": [], "has_more": True}],
    ],
)
def test_strict_listings_refuse_repeated_ids_and_empty_pages(fake, sleeps, pages):
    fake.script = [answer(200, {"object": "list", "has_more": False, **p}) for p in pages]
    with pytest.raises(IncompleteListingError):
        list(fake.service(sleeps).iter_files(strict=True))


# -- settings no request could succeed with fail at once -------------------------------------


@pytest.mark.parametrize(
    ("settings", "says"),
    [
        ({"base_url": "not a url"}, "must start with http:// or https://"),
        ({"base_url": "ftp://files.example.com/v1"}, "protocol is 'ftp'"),
        ({"base_url": "http://localhost:99999/v1"}, "port 99999 is out of range"),
        ({"base_url": "http://[::1/v1"}, "not a valid URL"),
        ({"base_url": "http:///v1"}, "no host"),
        ({"api_key": "sk-test-é-key-000000"}, "non-ASCII character at character 9"),
        ({"api_key": KEY + "\n"}, "line break"),
        ({"api_key": "sk-bad\x00key-000000000"}, "control character"),
        ({"organization": "org-\r\nX-Evil: 1"}, "organization ID"),
        ({"project": "proj_ü"}, "project ID"),
        ({"timeout": 0}, "positive number"),
        ({"connect_timeout": float("nan")}, "positive number"),
    ],
)
def test_unusable_settings_fail_before_any_request(settings, says):
    values: dict[str, object] = {"api_key": KEY, "base_url": "http://127.0.0.1:1/v1"}
    values.update(settings)
    with pytest.raises(ConfigurationError) as info:
        ClientSettings(**values)  # type: ignore[arg-type]
    assert says in str(info.value)
    assert_one_sentence(info.value)
    assert isinstance(info.value, VstuiError)


def test_from_env_checks_too():
    with pytest.raises(ConfigurationError):
        ClientSettings.from_env({"OPENAI_API_KEY": KEY, "OPENAI_BASE_URL": "ftp://x/v1"})


def test_an_unreachable_server_is_one_sentence(sleeps):
    client = VectorStoresService(
        ClientSettings(api_key=KEY, base_url="http://127.0.0.1:9/v1", max_retries=1),
        sleep=sleeps,
    )
    with pytest.raises(APIConnectionError) as info:
        client.list_stores()
    assert_one_sentence(info.value)
    assert "could not be reached" in str(info.value)


def test_error_details_are_json_safe(fake, sleeps):
    fake.script = [answer(404, {"error": {"message": "gone", "code": 404, "param": ["x"]}})]
    with pytest.raises(VstuiError) as info:
        fake.service(sleeps).retrieve_store("vs_x")
    err = info.value
    json.dumps({"message": str(err), "code": getattr(err, "code", None)})
    assert getattr(err, "code", None) == "404"
