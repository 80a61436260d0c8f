"""The one HTTP client factory: explicit timeouts, a bounded retry policy, error mapping.

Each vendor module builds one :class:`HttpClient` per provider process (``httpx.Client``
is thread-safe and pools connections, so the provider's 4 worker threads share it).

Retry rules (DESIGN.md §4), decided by :func:`should_retry`:

* ``read`` / ``write`` / ``release``: retried on connect errors, timeouts, resets, 408,
  429 and 5xx (these operations are idempotent).
* ``purchase``: retried only when the request provably never reached the vendor (connect
  error, no free pooled connection) or the vendor said 429. Any other failure (timeout,
  reset, 5xx) is raised at once as *ambiguous*, so that the caller can ask the vendor
  whether the purchase happened before doing anything else.

Backoff is exponential with full jitter; ``Retry-After`` (seconds or an HTTP date) is
honoured up to :attr:`RetryPolicy.retry_after_max`; every attempt's timeout is cut to
what is left of the call's deadline.

Every attempt is bounded as a whole, not per socket read: the answer is streamed and the
clock checked while its body arrives, so a body trickled a byte at a time cannot stretch
an attempt much beyond its timeout (at most one more socket read). Bodies above
:data:`MAX_BODY` (8 MiB) are refused while they arrive, never buffered whole
(:class:`~.errors.UnparsableAnswer`).

A 404 counts as the vendor's answer only when the vendor's own ``not_found`` predicate
(its wire module's error shape for a missing object) recognises it; any other 404 (a
wrong API prefix, a proxy's page) is a :class:`~.errors.ConfigError` naming the base-URL
config key, so that it is never read as "the number is gone".

Every message built here is passed through :func:`redact`, and the ``httpx``/``httpcore``
loggers get a filter that redacts the secrets of every live client (Plivo puts its auth id
in the URL path; Sinch's bearer tokens are added as they are fetched), so credentials never
reach an error, a log line or Pulumi state.
"""

from __future__ import annotations

import email.utils
import logging
import random
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote

import httpx

from ._pace import TokenBucket
from .errors import (
    AuthError,
    ConfigError,
    NotFound,
    PaymentError,
    PhoneNumbersError,
    RateLimited,
    ServerError,
    TimeoutError_,
    TransportError,
    UnparsableAnswer,
    ValidationError,
    VendorError,
)

__all__ = [
    "MAX_BODY",
    "ErrorMapper",
    "HttpClient",
    "Kind",
    "NotFoundShape",
    "RetryPolicy",
    "default_error",
    "parse_retry_after",
    "redact",
    "segment",
    "should_retry",
]

Kind = Literal["read", "write", "purchase", "release"]
ErrorMapper = Callable[[httpx.Response], VendorError]
#: ``not_found(response)``: is this 404 the vendor's own "no such object" answer?
NotFoundShape = Callable[[httpx.Response], bool]
#: Largest answer body read (bytes); a larger one is refused as it arrives.
MAX_BODY = 8 * 1024 * 1024
_USER_AGENT = "pulumi-phonenumbers/0.1"
_log = logging.getLogger("pulumi_phonenumbers.http")

#: The request never left this machine: safe to repeat even for a purchase.
_NOT_SENT: tuple[type[Exception], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.ProxyError,
)
#: A broken base URL or request: repeating cannot help.
_BROKEN: tuple[type[Exception], ...] = (httpx.UnsupportedProtocol, httpx.LocalProtocolError)


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded retries: at most ``attempts`` requests, all within ``deadline`` seconds."""

    attempts: int = 4
    deadline: float = 60.0
    backoff: float = 0.2
    backoff_max: float = 3.0
    retry_after_max: float = 10.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to sleep before attempt ``attempt + 1`` (``attempt`` counts from 1).

        The vendor's ``Retry-After`` wins (capped at ``retry_after_max``); otherwise full
        jitter over ``backoff * 2**(attempt-1)``, capped at ``backoff_max``.
        """
        if retry_after is not None:
            return max(0.0, min(retry_after, self.retry_after_max))
        return random.uniform(0, min(self.backoff_max, self.backoff * 2 ** (attempt - 1)))


def should_retry(kind: Kind, error: PhoneNumbersError) -> bool:
    """Whether a failed attempt of an operation of ``kind`` may be repeated."""
    if isinstance(error, UnparsableAnswer):
        return False  # the same endpoint will send the same page again
    if isinstance(error, TransportError):
        return not error.sent or kind != "purchase"
    if isinstance(error, VendorError):
        if error.status == 429:
            return True
        return kind != "purchase" and (error.status >= 500 or error.status == 408)
    return False


def segment(text: str) -> str:
    """``text`` percent-encoded as one URL path segment (``/``, ``..``, ``?`` cannot escape)."""
    encoded = quote(text, safe="")
    return encoded.replace(".", "%2E") if encoded in (".", "..") else encoded


def redact(text: str, secrets: Iterable[str]) -> str:
    """Replace every secret value in ``text`` with ``***``."""
    for secret in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def parse_retry_after(value: str | None) -> float | None:
    """``Retry-After`` as seconds (delta-seconds or an HTTP date), or ``None``."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if seconds == seconds else None  # NaN is junk
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when.timestamp() - time.time())


def default_error(
    vendor: str, response: httpx.Response, message: str, code: str = ""
) -> VendorError:
    """The shared class for an HTTP status, carrying ``message`` and the vendor's ``code``."""
    status = response.status_code
    retry_after = parse_retry_after(response.headers.get("retry-after"))
    cls: type[VendorError]
    if status in (401, 403):
        cls = AuthError
    elif status == 404:
        cls = NotFound
    elif status == 402:
        cls = PaymentError
    elif status == 429:
        cls = RateLimited
    elif status >= 500:
        cls = ServerError
    else:
        cls = ValidationError
    text = f"{vendor}: HTTP {status}: {message}" if message else f"{vendor}: HTTP {status}"
    return cls(text, vendor=vendor, status=status, code=code, retry_after=retry_after)


class _RedactingFilter(logging.Filter):
    """Redacts the secrets of every live :class:`HttpClient` from library log records."""

    def __init__(self) -> None:
        super().__init__()
        self.clients: weakref.WeakSet[HttpClient] = weakref.WeakSet()

    def filter(self, record: logging.LogRecord) -> bool:
        secrets = [s for client in list(self.clients) for s in client.secrets]
        if secrets:
            message = record.getMessage()
            clean = redact(message, secrets)
            if clean != message:
                record.msg, record.args = clean, None
        return True


_FILTER = _RedactingFilter()
for _name in (
    "httpx",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
):
    logging.getLogger(_name).addFilter(_FILTER)


class HttpClient:
    """A vendor's pooled HTTP client with retries and error mapping."""

    def __init__(
        self,
        vendor: str,
        base_url: str,
        *,
        error_mapper: ErrorMapper,
        timeout: float = 15.0,
        auth: httpx.Auth | tuple[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        secrets: Iterable[str] = (),
        policy: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
        not_found: NotFoundShape | None = None,
        base_url_key: str = "",
        max_body: int = MAX_BODY,
        pacer: TokenBucket | None = None,
    ) -> None:
        """``not_found`` recognises the vendor's own 404 for a missing object (without it,
        every 404 is a configuration error); ``base_url_key`` is the config key named in
        configuration errors (default ``<vendor>BaseUrl``); ``pacer`` is the vendor's
        process-wide bucket (:mod:`._pace`): every attempt waits for a token."""
        self.vendor = vendor
        self.base_url_key = f"phonenumbers:{base_url_key or vendor + 'BaseUrl'}"
        self.max_body = max_body
        self.pacer = pacer
        self._not_found = not_found
        self.timeout = float(timeout)
        self.policy = policy or RetryPolicy()
        self.secrets = tuple(s for s in secrets if s)
        self._error_mapper = error_mapper
        self._client = httpx.Client(
            base_url=base_url,
            auth=auth,
            headers={
                "User-Agent": _USER_AGENT,
                "Accept": "application/json",
                # Bodies are counted against MAX_BODY as they arrive: no compression.
                "Accept-Encoding": "identity",
                **(headers or {}),
            },
            timeout=self._timeout(self.timeout),
            limits=httpx.Limits(max_connections=16, max_keepalive_connections=8),
            transport=transport,
        )
        self._lock = threading.Lock()
        #: Requests sent (one per attempt); the benchmarks and tests read it.
        self.requests_sent = 0
        _FILTER.clients.add(self)

    @staticmethod
    def _timeout(seconds: float) -> httpx.Timeout:
        return httpx.Timeout(seconds, connect=min(seconds, 10.0))

    def close(self) -> None:
        """Close the pool."""
        self._client.close()

    def add_secret(self, value: str) -> None:
        """Redact ``value`` too from now on (e.g. a bearer token fetched at run time)."""
        if value and value not in self.secrets:
            self.secrets = (*self.secrets, value)

    def request(
        self,
        method: str,
        path: str,
        *,
        kind: Kind,
        what: str,
        params: Any = None,
        json: Any = None,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        auth: httpx.Auth | tuple[str, str] | None = None,
        ok: Callable[[httpx.Response], bool] | None = None,
    ) -> httpx.Response:
        """Send with the retry policy; return a 2xx response or raise from the error tree.

        ``what`` names the operation and object for messages (``"buy +14155550100"``).
        ``ok`` may accept a non-2xx response (e.g. a 404 the caller handles itself).
        A failed purchase that is not retried is a :class:`TransportError` with
        ``sent=True`` or a :class:`ServerError`: the vendor may have committed it.
        """
        started = time.monotonic()
        deadline_at = started + self.policy.deadline
        kwargs: dict[str, Any] = {"params": params, "json": json, "data": data, "headers": headers}
        if auth is not None:
            kwargs["auth"] = auth
        attempt = 0
        while True:
            attempt += 1
            with self._lock:
                self.requests_sent += 1
            budget = min(self.timeout, max(deadline_at - time.monotonic(), 0.05))
            retry_after: float | None = None
            error: PhoneNumbersError
            if self.pacer is not None:
                self.pacer.take()
            try:
                response = self._exchange(method, path, budget, what, kwargs)
            except _BROKEN as exc:
                raise ConfigError(
                    self._msg(
                        what,
                        f"the request cannot be sent ({type(exc).__name__}); check the "
                        f"vendor's base URL setting ({self.base_url_key})",
                    )
                ) from None
            except UnparsableAnswer:
                raise  # above the size cap: the same request would get the same answer
            except TimeoutError_ as exc:
                error = exc
            except _NOT_SENT as exc:
                error = TransportError(
                    self._msg(what, f"could not connect ({type(exc).__name__})"), sent=False
                )
            except httpx.TimeoutException as exc:
                error = TimeoutError_(
                    self._msg(what, f"no answer within {budget:g}s ({type(exc).__name__})")
                )
            except httpx.HTTPError as exc:
                error = TransportError(
                    self._msg(what, f"connection lost before an answer ({type(exc).__name__})")
                )
            else:
                if response.is_success or (ok is not None and ok(response)):
                    return response
                error = self._map(response, what)
                retry_after = parse_retry_after(response.headers.get("retry-after"))
                if retry_after is None and isinstance(error, VendorError):
                    retry_after = error.retry_after
            elapsed = time.monotonic() - started
            if not should_retry(kind, error) or attempt >= self.policy.attempts:
                raise self._final(error, attempt, elapsed)
            pause = self.policy.delay(attempt, retry_after)
            if time.monotonic() + pause >= deadline_at:
                raise self._final(error, attempt, elapsed)
            _log.info(
                "%s; retrying in %.2fs (attempt %d of %d)",
                error,
                pause,
                attempt + 1,
                self.policy.attempts,
            )
            time.sleep(pause)

    def _exchange(
        self, method: str, path: str, budget: float, what: str, kwargs: dict[str, Any]
    ) -> httpx.Response:
        """One attempt, body included, within ``budget`` seconds and :attr:`max_body` bytes."""
        deadline = time.monotonic() + budget
        with self._client.stream(method, path, timeout=self._timeout(budget), **kwargs) as got:
            declared = got.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > self.max_body:
                raise self._too_large(got, what, f"{int(declared)} bytes announced")
            chunks: list[bytes] = []
            size = 0
            for chunk in got.iter_bytes():
                size += len(chunk)
                if size > self.max_body:
                    raise self._too_large(got, what, "still arriving")
                chunks.append(chunk)
                if time.monotonic() > deadline:
                    raise TimeoutError_(
                        self._msg(what, f"no complete answer within {budget:g}s (body too slow)")
                    )
            headers = [(k, v) for k, v in got.headers.multi_items() if k != "content-encoding"]
            return httpx.Response(
                got.status_code,
                headers=headers,
                content=b"".join(chunks),
                request=got.request,
                extensions=got.extensions,
            )

    def _too_large(self, response: httpx.Response, what: str, detail: str) -> UnparsableAnswer:
        return UnparsableAnswer(
            self._msg(
                what,
                f"refused an answer larger than {self.max_body // (1024 * 1024)} MiB "
                f"(HTTP {response.status_code}, {detail})",
            ),
            vendor=self.vendor,
            status=response.status_code,
        )

    def _msg(self, what: str, detail: str) -> str:
        return redact(f"{self.vendor}: {detail} (while trying to {what})", self.secrets)

    def _final(self, error: PhoneNumbersError, attempt: int, elapsed: float) -> PhoneNumbersError:
        if attempt > 1:
            error.args = (f"{error}; gave up after {attempt} attempts in {elapsed:.1f}s",)
        return error

    def _map(self, response: httpx.Response, what: str) -> PhoneNumbersError:
        if response.status_code == 404 and not self._vendors_404(response):
            return ConfigError(
                self._msg(
                    what,
                    f"HTTP 404 {_sample(response)} is not {self.vendor}'s answer for a missing "
                    f"object: the URL is not the vendor's API; check {self.base_url_key}",
                )
            )
        try:
            error = self._error_mapper(response)
        except Exception:  # a malformed error body must not hide the status
            error = default_error(self.vendor, response, response.reason_phrase)
        message = redact(f"{error} (while trying to {what})", self.secrets)
        error.args = (message,)
        return error

    def _vendors_404(self, response: httpx.Response) -> bool:
        if self._not_found is None:
            return False
        try:
            return self._not_found(response)
        except Exception:  # a predicate choking on a strange body has not recognised it
            return False


def _sample(response: httpx.Response) -> str:
    """``(text/html, 162 bytes: '<html><head>...')`` for messages about a strange answer."""
    kind = response.headers.get("content-type", "no content type").split(";")[0]
    text = " ".join(response.content[:60].decode("utf-8", "replace").split())
    return f"({kind}, {len(response.content)} bytes{': ' + repr(text) if text else ''})"
