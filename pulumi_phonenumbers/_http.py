"""The one HTTP client factory: explicit timeouts, a bounded retry policy, error mapping.

Each vendor module builds one :class:`HttpClient` per provider process (``httpx.Client``
is thread-safe and pools connections, so the provider's 4 worker threads share it).

Retry rules (DESIGN.md §4):

* ``read`` / ``write`` / ``release``: retried on connect errors, timeouts, resets, 429 and 5xx.
* ``purchase``: retried only when the request provably never reached the vendor (connect
  error) or the vendor said 429. Any other failure is raised at once, so that the caller
  can ask the vendor whether the purchase happened before doing anything else.

Backoff is exponential with full jitter, ``Retry-After`` is honoured up to a cap, and the
whole call is bounded by a deadline. Every message built here is passed through
:func:`redact`, so credentials never reach an error, a log line or Pulumi state.
"""

from __future__ import annotations

import email.utils
import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import httpx

from .errors import (
    AuthError,
    NotFound,
    PaymentError,
    RateLimited,
    ServerError,
    TimeoutError_,
    TransportError,
    ValidationError,
    VendorError,
)

__all__ = [
    "ErrorMapper",
    "HttpClient",
    "Kind",
    "RetryPolicy",
    "default_error",
    "redact",
]

Kind = Literal["read", "write", "purchase", "release"]
ErrorMapper = Callable[[httpx.Response], VendorError]
_USER_AGENT = "pulumi-phonenumbers/0.1"


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded retries: ``attempts`` in all, within ``deadline`` seconds."""

    attempts: int = 4
    deadline: float = 60.0
    backoff: float = 0.2
    backoff_max: float = 3.0
    retry_after_max: float = 10.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to sleep before attempt ``attempt + 1`` (``attempt`` counts from 1)."""
        if retry_after is not None:
            return max(0.0, min(retry_after, self.retry_after_max))
        return random.uniform(0, min(self.backoff_max, self.backoff * 2 ** (attempt - 1)))


def redact(text: str, secrets: Iterable[str]) -> str:
    """Replace every secret value in ``text`` with ``***``."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return text


def parse_retry_after(value: str | None) -> float | None:
    """``Retry-After`` as seconds (delta-seconds or an HTTP date), or ``None``."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def default_error(vendor: str, response: httpx.Response, message: str, code: str = "") -> VendorError:
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
    ) -> None:
        self.vendor = vendor
        self.policy = policy or RetryPolicy()
        self.secrets = tuple(s for s in secrets if s)
        self._error_mapper = error_mapper
        self._client = httpx.Client(
            base_url=base_url,
            auth=auth,
            headers={"User-Agent": _USER_AGENT, "Accept": "application/json", **(headers or {})},
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            limits=httpx.Limits(max_connections=16, max_keepalive_connections=8),
            transport=transport,
        )
        self._lock = threading.Lock()
        #: Requests sent (one per attempt); the benchmarks and tests read it.
        self.requests_sent = 0

    def close(self) -> None:
        """Close the pool."""
        self._client.close()

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
        """
        started = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            error: Exception
            retryable: bool
            retry_after: float | None = None
            try:
                with self._lock:
                    self.requests_sent += 1
                kwargs: dict[str, Any] = {"params": params, "json": json, "data": data,
                                          "headers": headers}
                if auth is not None:
                    kwargs["auth"] = auth
                response = self._client.request(method, path, **kwargs)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                error = TransportError(self._msg(what, f"could not connect ({type(exc).__name__})"),
                                       sent=False)
                retryable = True
            except httpx.TimeoutException as exc:
                error = TimeoutError_(self._msg(what, f"no answer in time ({type(exc).__name__})"))
                retryable = kind != "purchase"
            except httpx.TransportError as exc:
                error = TransportError(self._msg(what, f"connection lost ({type(exc).__name__})"))
                retryable = kind != "purchase"
            else:
                if response.is_success or (ok is not None and ok(response)):
                    return response
                error = self._map(response, what)
                retry_after = getattr(error, "retry_after", None)
                status = response.status_code
                retryable = status == 429 or (status >= 500 and kind != "purchase")
            elapsed = time.monotonic() - started
            if not retryable or attempt >= self.policy.attempts:
                raise error
            pause = self.policy.delay(attempt, retry_after)
            if elapsed + pause >= self.policy.deadline:
                raise error
            time.sleep(pause)

    def _msg(self, what: str, detail: str) -> str:
        return redact(f"{self.vendor}: {detail} (while trying to {what})", self.secrets)

    def _map(self, response: httpx.Response, what: str) -> VendorError:
        try:
            error = self._error_mapper(response)
        except Exception:  # a malformed error body must not hide the status
            error = default_error(self.vendor, response, response.reason_phrase)
        message = redact(f"{error} (while trying to {what})", self.secrets)
        error.args = (message,)
        return error
