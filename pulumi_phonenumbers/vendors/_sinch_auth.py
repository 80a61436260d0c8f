"""Sinch OAuth2 client credentials: a thread-safe token cache and an ``httpx.Auth``.

``POST {authBase}/oauth2/token`` with HTTP Basic ``keyId:keySecret`` and the form body
``grant_type=client_credentials`` returns ``{"access_token", "expires_in", "token_type"}``.
The token is shared by every thread of the provider process, fetched once (double-checked
lock), renewed shortly before it expires, and renewed once more when the API answers 401
with a ``WWW-Authenticate`` header saying the token expired (what Sinch's own SDK does).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass

import httpx

from .._http import HttpClient, default_error
from ..errors import AuthError, VendorError

__all__ = ["SinchOAuth", "TokenCache", "token_error"]

_VENDOR = "sinch"
#: Renew this long before the announced expiry (capped at half the token's lifetime).
_MARGIN_SECONDS = 60.0


def token_error(response: httpx.Response) -> VendorError:
    """Map an OAuth2 error (``{"error", "error_description"}``) onto the error tree."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    message = response.reason_phrase
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        message = str(body["error"])
        if isinstance(body.get("error_description"), str):
            message += f": {body['error_description']}"
    error = default_error(
        _VENDOR,
        response,
        f"OAuth2 token request refused ({message})",
        code=str(body.get("error", "")) if isinstance(body, dict) else "",
    )
    if response.status_code == 400 and error.code == "invalid_client":
        return AuthError(str(error), vendor=_VENDOR, status=400, code=error.code)
    return error


@dataclass(frozen=True)
class _Token:
    value: str
    renew_at: float


class TokenCache:
    """One bearer token for a key id/secret, shared by all threads.

    ``clock`` is :func:`time.monotonic` unless a test needs another.
    """

    def __init__(
        self,
        http: HttpClient,
        key_id: str,
        key_secret: str,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.http = http
        #: Called with every new token (the vendor adds it to its redaction list).
        self.on_token: Callable[[str], None] = lambda token: None
        self._credentials = (key_id, key_secret)
        self._clock = clock
        self._lock = threading.Lock()
        self._token: _Token | None = None
        #: Tokens fetched by this cache (tests and benchmarks read it).
        self.fetches = 0

    def get(self) -> str:
        """A token that is not about to expire, fetching one when needed."""
        token = self._token
        if token is not None and self._clock() < token.renew_at:
            return token.value
        with self._lock:
            token = self._token
            if token is None or self._clock() >= token.renew_at:
                token = self._fetch()
            return token.value

    def renew(self, stale: str) -> str:
        """Replace ``stale`` (rejected by the API) unless another thread already did."""
        with self._lock:
            token = self._token
            if token is None or token.value == stale:
                token = self._fetch()
            return token.value

    def _fetch(self) -> _Token:
        started = self._clock()
        response = self.http.request(
            "POST",
            "/oauth2/token",
            kind="read",
            what="fetch an OAuth2 access token",
            data={"grant_type": "client_credentials"},
            auth=self._credentials,
        )
        try:
            body = response.json()
            value = str(body["access_token"])
            lifetime = float(body.get("expires_in", 3600))
        except (ValueError, KeyError, TypeError):
            raise AuthError(
                "sinch: the OAuth2 token endpoint answered without an access_token",
                vendor=_VENDOR,
                status=response.status_code,
            ) from None
        if not value:
            raise AuthError(
                "sinch: the OAuth2 token endpoint returned an empty access_token",
                vendor=_VENDOR,
                status=response.status_code,
            )
        self.http.add_secret(value)
        self.on_token(value)
        margin = min(_MARGIN_SECONDS, lifetime / 2)
        self._token = _Token(value, started + max(0.0, lifetime - margin))
        self.fetches += 1
        return self._token

    def close(self) -> None:
        """Close the token endpoint's connection pool."""
        self.http.close()


def _says_expired(response: httpx.Response) -> bool:
    header = response.headers.get("www-authenticate", "").lower()
    return "expired" in header


class SinchOAuth(httpx.Auth):
    """Bearer auth from a :class:`TokenCache`, retried once with a new token on expiry."""

    def __init__(self, tokens: TokenCache) -> None:
        self._tokens = tokens

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        token = self._tokens.get()
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code == 401 and _says_expired(response):
            request.headers["Authorization"] = f"Bearer {self._tokens.renew(token)}"
            yield request
