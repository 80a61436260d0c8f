"""Count the vendor API requests an emulator serves: :class:`RequestCounter`.

WSGI middleware put in front of a running emulator's app (the server looks its app up on
every request, so swapping ``server.app`` is enough; :meth:`RequestCounter.install`). It sees
requests before the emulator's latency and fault handling, so a request answered with an
injected fault counts as well. Control calls (``/_emulator/*``) are the test's own and are
not counted. One counter serves the tests and the benchmark: what was asked
(:meth:`~RequestCounter.take`, :meth:`~RequestCounter.since`), how many requests were being
served at once (:attr:`~RequestCounter.peak`), and hooks that see each request first.
"""

from __future__ import annotations

import io
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

from pulumi_phonenumbers.emulators.server import RunningEmulator

__all__ = ["NUMBER_RE", "UUID_RE", "Hook", "Request", "RequestCounter", "shape"]

#: A phone number as it stands in a path, query or body (``%2B`` is an escaped ``+``).
NUMBER_RE = re.compile(r"%2B\d{6,15}|\+?\d{6,15}")
#: A UUID (the id shape several vendors use).
UUID_RE = re.compile(r"[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")
_ID_RE = re.compile(r"[A-Za-z0-9_-]{12,}")
_CONTROL = "/_emulator/"


def _segment(segment: str) -> str:
    if segment.isdigit() and len(segment) < 6:  # a short numeric record id
        return "{id}"
    if UUID_RE.fullmatch(segment) or (
        _ID_RE.fullmatch(segment)
        and any(c.isdigit() for c in segment)
        and not segment.lstrip("+").isdigit()
    ):
        return "{id}"
    return NUMBER_RE.sub("{n}", segment)


def shape(method: str, path: str) -> str:
    """``METHOD /path`` with numbers and ids replaced, so requests of one kind group."""
    return f"{method} {'/'.join(_segment(s) for s in path.split('/'))}"


class Request(NamedTuple):
    """One request the emulator served (unpacks as ``method, path``)."""

    method: str
    path: str

    @property
    def shape(self) -> str:
        """The grouping key (see :func:`shape`)."""
        return shape(self.method, self.path)


#: Called as ``hook(method, path?query, body)`` before a vendor request is served.
Hook = Callable[[str, str, bytes], None]


class RequestCounter:
    """WSGI middleware recording every vendor request and how many are in flight, thread-safe."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self._lock = threading.Lock()
        self._requests: list[Request] = []
        self._taken = 0
        self._hooks: list[Hook] = []
        self._in_flight = 0
        self._peak = 0

    @classmethod
    def install(cls, emulator: RunningEmulator) -> RequestCounter:
        """Put a counter in front of ``emulator`` (idempotent)."""
        current = emulator.server.app
        if isinstance(current, cls):
            return current
        counter = cls(current)
        emulator.server.app = counter
        return counter

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        path = str(environ.get("PATH_INFO", ""))
        if path.startswith(_CONTROL):
            return self.app(environ, start_response)
        method = str(environ.get("REQUEST_METHOD", "GET"))
        with self._lock:
            self._requests.append(Request(method, path))
            hooks = list(self._hooks)
            self._in_flight += 1
            self._peak = max(self._peak, self._in_flight)
        try:
            if hooks:
                body = _buffer_body(environ)
                query = str(environ.get("QUERY_STRING", ""))
                for hook in hooks:
                    hook(method, f"{path}?{query}", body)
            # The whole answer is made before the request stops counting as in flight.
            response = self.app(environ, start_response)
            try:
                return list(response)
            finally:
                close = getattr(response, "close", None)
                if close is not None:
                    close()
        finally:
            with self._lock:
                self._in_flight -= 1

    # -- reading ------------------------------------------------------------------------
    def mark(self) -> int:
        """A position to count from (see :meth:`since`)."""
        with self._lock:
            return len(self._requests)

    def since(self, mark: int) -> list[Request]:
        """Requests served after ``mark``."""
        with self._lock:
            return self._requests[mark:]

    def take(self) -> list[Request]:
        """Requests served since the last ``take`` (since the start, the first time)."""
        with self._lock:
            taken, self._taken = self._requests[self._taken :], len(self._requests)
        return taken

    @property
    def peak(self) -> int:
        """The most vendor requests being served at one moment so far."""
        with self._lock:
            return self._peak

    @staticmethod
    def breakdown(requests: Iterable[Request]) -> dict[str, int]:
        """``{"GET /path": count}`` in first-seen order."""
        return dict(Counter(r.shape for r in requests))

    # -- hooks ---------------------------------------------------------------------------
    def add_hook(self, hook: Hook) -> None:
        """Call ``hook(method, path?query, body)`` before each vendor request is served."""
        with self._lock:
            self._hooks.append(hook)

    def remove_hook(self, hook: Hook) -> None:
        """Stop calling ``hook``."""
        with self._lock:
            self._hooks.remove(hook)


def _buffer_body(environ: dict[str, Any]) -> bytes:
    """Read the request body and put an equivalent stream back for the app."""
    stream = environ.get("wsgi.input")
    if stream is None:
        return b""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > 0:
        body = stream.read(length)
    elif environ.get("wsgi.input_terminated"):
        body = stream.read()
    else:
        body = b""
    environ["wsgi.input"] = io.BytesIO(body)
    return bytes(body)
