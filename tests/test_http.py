"""The retry policy of ``_http.HttpClient``, with transport faults from ``httpx.MockTransport``.

Only transport behaviour is simulated here; the emulators prove the same rules over real
HTTP in test_faults.py and test_fault_matrix.py.
"""

from __future__ import annotations

import email.utils
import logging
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from pulumi_phonenumbers._http import (
    HttpClient,
    Kind,
    RetryPolicy,
    default_error,
    parse_retry_after,
    redact,
    should_retry,
)
from pulumi_phonenumbers.config import Settings
from pulumi_phonenumbers.errors import (
    AuthError,
    ConfigError,
    NotFound,
    RateLimited,
    ServerError,
    TimeoutError_,
    TransportError,
    ValidationError,
)

SECRET = "tok_5ecret-Value-42"
FAST = RetryPolicy(attempts=4, deadline=10.0, backoff=0.01, backoff_max=0.02, retry_after_max=2.0)

Step = int | type[Exception] | tuple[int, dict[str, str]]


class Script:
    """A MockTransport handler answering from a list: status, (status, headers) or an exception."""

    def __init__(self, *steps: Step) -> None:
        self.steps = list(steps)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        step = self.steps.pop(0) if len(self.steps) > 1 else self.steps[0]
        if isinstance(step, type):
            raise step("injected", request=request)  # type: ignore[call-arg]
        status, headers = step if isinstance(step, tuple) else (step, {})
        return httpx.Response(status, headers=headers, json={"error": f"status {status}"})


def _mapper(response: httpx.Response) -> Any:
    return default_error("acme", response, response.json().get("error", ""))


def client(
    script: Callable[[httpx.Request], httpx.Response],
    policy: RetryPolicy = FAST,
    timeout: float = 5.0,
) -> HttpClient:
    return HttpClient(
        "acme",
        "https://api.acme.test/v1/Account/" + SECRET,
        error_mapper=_mapper,
        timeout=timeout,
        secrets=[SECRET],
        policy=policy,
        transport=httpx.MockTransport(script),
    )


def call(c: HttpClient, kind: Kind, **kw: Any) -> httpx.Response:
    return c.request(
        "POST" if kind == "purchase" else "GET",
        "/Number/",
        kind=kind,
        what="buy +14155550100" if kind == "purchase" else "list numbers",
        **kw,
    )


# -- which failures are retried, per kind -------------------------------------------------
@pytest.mark.parametrize("kind", ["read", "write", "release"])
@pytest.mark.parametrize(
    "fault",
    [
        500,
        502,
        503,
        504,
        408,
        429,
        httpx.ConnectError,
        httpx.ConnectTimeout,
        httpx.ReadTimeout,
        httpx.RemoteProtocolError,
        httpx.ReadError,
        httpx.WriteError,
    ],
)
def test_idempotent_operations_are_retried(kind: Kind, fault: Step) -> None:
    script = Script(fault, fault, 200)
    response = call(client(script), kind)
    assert response.status_code == 200
    assert len(script.requests) == 3


@pytest.mark.parametrize(
    "fault", [429, httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout]
)
def test_purchase_retried_only_when_the_vendor_never_acted(fault: Step) -> None:
    script = Script(fault, 201)
    assert call(client(script), "purchase").status_code == 201
    assert len(script.requests) == 2


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (500, ServerError),
        (502, ServerError),
        (503, ServerError),
        (504, ServerError),
        (httpx.ReadTimeout, TimeoutError_),
        (httpx.WriteTimeout, TimeoutError_),
        (httpx.RemoteProtocolError, TransportError),
        (httpx.ReadError, TransportError),
    ],
)
def test_ambiguous_purchase_failure_is_raised_at_once(fault: Step, error: type[Exception]) -> None:
    script = Script(fault, 201)
    with pytest.raises(error) as info:
        call(client(script), "purchase")
    assert len(script.requests) == 1
    assert "buy +14155550100" in str(info.value)
    if isinstance(info.value, TransportError):
        assert info.value.sent is True  # the vendor may have committed it


def test_connect_failure_is_marked_not_sent() -> None:
    script = Script(httpx.ConnectError)
    with pytest.raises(TransportError) as info:
        call(client(script), "purchase")
    assert info.value.sent is False
    assert len(script.requests) == FAST.attempts
    assert "gave up after 4 attempts" in str(info.value)


@pytest.mark.parametrize("status", [400, 401, 403, 409, 422])
def test_client_errors_are_never_retried(status: int) -> None:
    script = Script(status)
    with pytest.raises((ValidationError, AuthError)):
        call(client(script), "read")
    assert len(script.requests) == 1


def test_only_the_vendors_own_404_is_not_found() -> None:
    script = Script(404)  # body {"error": "status 404"}
    with pytest.raises(ConfigError, match="phonenumbers:acmeBaseUrl") as info:
        call(client(script), "read")  # no not_found shape: no 404 is the vendor's
    assert "HTTP 404" in str(info.value) and len(script.requests) == 1
    shaped = client(script)
    shaped._not_found = lambda r: "status 404" in r.text
    with pytest.raises(NotFound):
        call(shaped, "read")
    html = client(lambda r: httpx.Response(404, html="<h1>Not Found</h1>", request=r))
    html._not_found = lambda r: r.json() is not None  # a predicate that chokes: not recognised
    with pytest.raises(ConfigError, match="text/html"):
        call(html, "read")


def test_should_retry_table() -> None:
    unsent, sent = TransportError("x", sent=False), TransportError("x")
    assert should_retry("purchase", unsent) and not should_retry("purchase", sent)
    assert should_retry("purchase", RateLimited("x", status=429))
    assert not should_retry("purchase", ServerError("x", status=503))
    assert should_retry("release", ServerError("x", status=500))
    assert should_retry("write", sent) and should_retry("read", TimeoutError_("x"))
    assert not should_retry("read", ValidationError("x", status=400))
    assert not should_retry("read", ConfigError("x"))


def test_ok_hook_accepts_a_handled_status() -> None:
    script = Script(404)
    response = call(client(script), "release", ok=lambda r: r.status_code == 404)
    assert response.status_code == 404 and len(script.requests) == 1


def test_broken_base_url_is_a_config_error_without_retries() -> None:
    script = Script(httpx.UnsupportedProtocol)
    with pytest.raises(ConfigError, match="phonenumbers:acmeBaseUrl"):
        call(client(script), "read")
    assert len(script.requests) == 1


# -- bounds: attempts, deadline, per-attempt timeout -----------------------------------------
def test_attempts_are_bounded_and_the_error_says_so() -> None:
    script = Script(503)
    with pytest.raises(ServerError) as info:
        call(client(script), "read")
    assert len(script.requests) == FAST.attempts
    assert "HTTP 503" in str(info.value) and "gave up after 4 attempts" in str(info.value)


def test_total_deadline_bounds_the_call() -> None:
    policy = RetryPolicy(attempts=50, deadline=0.6, backoff=0.2, backoff_max=0.2)
    script = Script(503)
    started = time.monotonic()
    with pytest.raises(ServerError):
        call(client(script, policy), "read")
    assert time.monotonic() - started < 5  # 50 attempts at 0.2 s would take 10 s
    assert 1 < len(script.requests) < 50


def test_each_attempt_timeout_is_cut_to_the_remaining_deadline() -> None:
    policy = RetryPolicy(attempts=3, deadline=1.0, backoff=0.3, backoff_max=0.3)
    script = Script(503, 503, 200)
    call(client(script, policy, timeout=15.0), "read")
    reads = [r.extensions["timeout"]["read"] for r in script.requests]
    assert reads[0] <= 1.0 and reads[-1] < reads[0]


def test_configured_timeout_reaches_every_request() -> None:
    settings = Settings(raw={"timeoutSeconds": "2.5"}, environ={})
    assert Settings(raw={}, environ={}).timeout == 15.0
    script = Script(200)
    call(client(script, timeout=settings.timeout), "read")
    assert script.requests[0].extensions["timeout"]["read"] == 2.5
    with pytest.raises(ConfigError, match="timeoutSeconds"):
        _ = Settings(raw={"timeoutSeconds": "-1"}, environ={}).timeout


# -- backoff and Retry-After ---------------------------------------------------------------
def test_backoff_is_exponential_with_full_jitter() -> None:
    policy = RetryPolicy(backoff=0.1, backoff_max=0.5)
    for attempt, cap in ((1, 0.1), (2, 0.2), (3, 0.4), (4, 0.5), (8, 0.5)):
        delays = [policy.delay(attempt, None) for _ in range(200)]
        assert all(0 <= d <= cap for d in delays)
        assert max(delays) > cap * 0.7 and min(delays) < cap * 0.3  # jitter spreads out


def test_retry_after_is_honoured() -> None:
    script = Script((429, {"Retry-After": "1"}), 200)
    started = time.monotonic()
    assert call(client(script), "purchase").status_code == 200
    assert time.monotonic() - started >= 0.95
    assert len(script.requests) == 2


def test_retry_after_is_capped() -> None:
    policy = RetryPolicy(attempts=2, retry_after_max=0.2, backoff=0.01)
    script = Script((503, {"Retry-After": "3600"}), 200)
    started = time.monotonic()
    call(client(script, policy), "read")
    assert time.monotonic() - started < 30  # not the hour the vendor asked for


def test_retry_after_beyond_the_deadline_gives_up_at_once() -> None:
    policy = RetryPolicy(attempts=3, deadline=1.0, retry_after_max=30.0)
    script = Script((429, {"Retry-After": "20"}))
    started = time.monotonic()
    with pytest.raises(RateLimited) as info:
        call(client(script, policy), "read")
    assert time.monotonic() - started < 10 and len(script.requests) == 1  # not 20 s
    assert info.value.retry_after == 20.0


def test_parse_retry_after_forms() -> None:
    assert parse_retry_after("7") == 7.0 and parse_retry_after("0.5") == 0.5
    assert parse_retry_after("-3") == 0.0
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    assert parse_retry_after("nan") is None
    future = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25 <= (parse_retry_after(future) or 0) <= 31


# -- error mapping and secrets -------------------------------------------------------------
def test_a_broken_error_mapper_keeps_the_status() -> None:
    def bad_mapper(response: httpx.Response) -> Any:
        raise KeyError("no such field")

    c = HttpClient(
        "acme",
        "https://api.acme.test",
        error_mapper=bad_mapper,
        policy=FAST,
        transport=httpx.MockTransport(Script(402)),
    )
    with pytest.raises(Exception) as info:
        c.request("GET", "/x", kind="read", what="read x")
    assert "HTTP 402" in str(info.value)


def test_secrets_are_redacted_from_messages_and_library_logs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def leaky_mapper(response: httpx.Response) -> Any:
        return default_error("acme", response, f"bad token {SECRET}")

    script = Script(503)
    c = HttpClient(
        "acme",
        "https://api.acme.test/v1/Account/" + SECRET,
        error_mapper=leaky_mapper,
        secrets=[SECRET],
        policy=FAST,
        transport=httpx.MockTransport(script),
        headers={"Authorization": f"Bearer {SECRET}"},
    )
    with caplog.at_level(logging.DEBUG), pytest.raises(ServerError) as info:
        c.request("GET", f"/Number/?key={SECRET}", kind="read", what=f"list with {SECRET}")
    assert script.requests[0].headers["Authorization"].endswith(SECRET)  # it was sent...
    assert SECRET not in str(info.value) and "***" in str(info.value)  # ...but never shown
    assert "retrying" in caplog.text and "api.acme.test" in caplog.text
    assert SECRET not in caplog.text


def test_redact_prefers_the_longest_secret() -> None:
    assert redact("abcdefgh abcd", ["abcd", "abcdefgh"]) == "*** ***"
    assert redact("short ab", ["ab"]) == "short ab"  # too short to be a credential


def test_requests_sent_counts_every_attempt() -> None:
    c = client(Script(500, 500, 200))
    call(c, "read")
    assert c.requests_sent == 3
