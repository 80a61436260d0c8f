"""The OAuth2 side of the Sinch emulator: ``POST /oauth2/token`` and a bearer-token table.

Tokens are opaque random strings with an expiry. They are kept in memory and outlive a
control-API reset, as Sinch's signed tokens outlive any server state; an expired one is
refused with 401 and ``WWW-Authenticate: Bearer error="invalid_token", ... expired``.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import threading
import time
from typing import Literal

from werkzeug.wrappers import Request, Response

from .base import json_response

__all__ = ["TokenTable", "basic_credentials", "token_endpoint"]

TokenState = Literal["valid", "expired", "unknown"]


def basic_credentials(header: str) -> tuple[str, str] | None:
    """``(user, password)`` of a ``Basic`` Authorization header, else ``None``."""
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, _, password = base64.b64decode(value.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return user, password


class TokenTable:
    """Issued bearer tokens and their expiry times (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._expiry: dict[str, float] = {}

    def issue(self, ttl: int) -> str:
        """A new token valid for ``ttl`` seconds."""
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._expiry[token] = time.time() + ttl
        return token

    def state(self, token: str) -> TokenState:
        """Whether ``token`` is valid, expired, or was never issued here."""
        with self._lock:
            expires = self._expiry.get(token)
        if expires is None:
            return "unknown"
        return "valid" if time.time() < expires else "expired"

    def expire_all(self) -> None:
        """Expire every token issued so far (new ones are not affected)."""
        now = time.time()
        with self._lock:
            self._expiry = {t: min(e, now - 1) for t, e in self._expiry.items()}


def token_endpoint(
    request: Request, expected: tuple[str, str], table: TokenTable, ttl: int
) -> tuple[Response, bool]:
    """Answer ``POST /oauth2/token``; the flag says whether a token was issued.

    Client credentials come in Basic auth (what Sinch documents) or, as OAuth2 allows, as
    ``client_id`` / ``client_secret`` form fields. Errors use OAuth2's own shape.
    """
    form = request.form
    credentials = basic_credentials(request.headers.get("Authorization", "")) or (
        form.get("client_id", ""),
        form.get("client_secret", ""),
    )
    if credentials != expected:
        body = {"error": "invalid_client", "error_description": "Client authentication failed"}
        return json_response(body, 401, {"WWW-Authenticate": 'Basic realm="sinch"'}), False
    grant = form.get("grant_type")
    if grant != "client_credentials":
        error = "invalid_request" if not grant else "unsupported_grant_type"
        body = {"error": error, "error_description": "grant_type must be client_credentials"}
        return json_response(body, 400), False
    token = table.issue(ttl)
    issued = {"access_token": token, "expires_in": ttl, "scope": "", "token_type": "bearer"}
    return json_response(issued, 200, {"Cache-Control": "no-store"}), True
