"""The HTTP face of an emulator: routing, auth and the vendor's error shape.

A face subclasses :class:`Face`, lists its routes as ``(method, regex, handler)`` and
implements :meth:`Face.error` in the vendor's own wire format (moto style: state lives
in the :class:`~.store.Store`, the face only speaks HTTP).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from werkzeug.wrappers import Request, Response

from ..store import Store

__all__ = ["BadRequest", "Face", "Handler", "json_response"]

Handler = Callable[..., Response]


class BadRequest(Exception):
    """Raised by handlers for a malformed request; turned into the vendor's 400."""

    def __init__(self, message: str, status: int = 400, code: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.code = code


def json_response(
    body: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """A JSON response."""
    return Response(
        json.dumps(body), status=status, headers=dict(headers or {}), mimetype="application/json"
    )


class Face:
    """Base of the vendor faces. Subclasses set ``vendor`` and ``routes``."""

    vendor: ClassVar[str]
    #: Regexes searched in the raw path (with query) of the vendor's purchase request (a POST)
    #: and of its search request (a GET): shared tests tamper with or count these.
    purchase_path: ClassVar[str] = ""
    search_path: ClassVar[str] = ""
    #: No get-one endpoint: a listing is the client's only witness that a number is gone.
    list_only: ClassVar[bool] = False
    #: How precisely an owned-number object says when it was bought: "second", "day" or "".
    purchase_time: ClassVar[str] = ""
    #: Switches the control API may set (``POST /_emulator/settings``): name -> allowed values.
    switches: ClassVar[Mapping[str, tuple[Any, ...]]] = {}

    def __init__(self, store: Store) -> None:
        self.store = store
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = [
            (method, re.compile(pattern + r"\Z"), handler)
            for method, pattern, handler in self.routes()
        ]

    # -- for subclasses ---------------------------------------------------------------
    def routes(self) -> list[tuple[str, str, Handler]]:
        """``(METHOD, path regex, handler(request, **groups))`` tuples."""
        raise NotImplementedError

    def authenticate(self, request: Request, groups: Mapping[str, str]) -> Response | None:
        """``None`` when the request is authorised, else the vendor's auth-failure response."""
        return None

    def error(self, status: int, message: str, code: str = "") -> Response:
        """An error response in the vendor's own shape."""
        raise NotImplementedError

    def config(self, url: str) -> dict[str, str]:
        """The ``phonenumbers:*`` stack config that points the provider at this emulator."""
        raise NotImplementedError

    def reset(self) -> None:
        """Forget face-level state (tokens, assistants...) on ``POST /_emulator/reset``."""

    # -- dispatch -----------------------------------------------------------------------
    def dispatch(self, request: Request) -> Response:
        """Route, authenticate and run a handler; every failure is in the vendor's shape."""
        path = request.path
        allowed = False
        for method, pattern, handler in self._routes:
            match = pattern.match(path)
            if match is None:
                continue
            allowed = True
            if method != request.method:
                continue
            groups = match.groupdict()
            denied = self.authenticate(request, groups)
            if denied is not None:
                return denied
            try:
                return handler(request, **groups)
            except BadRequest as exc:
                return self.error(exc.status, str(exc), exc.code)
        if allowed:
            return self.error(405, "method not allowed")
        return self.error(404, "not found")

    @staticmethod
    def json_body(request: Request, *, required: bool = False) -> dict[str, Any]:
        """The JSON object body; ``{}`` when empty and not required; BadRequest on junk."""
        raw = request.get_data(cache=True)
        if not raw.strip():
            if required:
                raise BadRequest("request body is required")
            return {}
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise BadRequest("request body is not valid JSON") from None
        if not isinstance(body, dict):
            raise BadRequest("request body must be a JSON object")
        return body
