"""Count every vendor API request an emulator serves, and stage a purchase race.

:class:`RequestCounter` is WSGI middleware put in front of a running emulator's app (the
server looks its app up on every request, so swapping ``server.app`` is enough). It sees
requests before the emulator's latency and fault handling, so a request answered with an
injected fault counts as well. Control calls (``/_emulator/*``) are the benchmark's own and
are not counted.
"""

from __future__ import annotations

import io
import re
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from pulumi_phonenumbers.emulators.server import RunningEmulator
from pulumi_phonenumbers.store import Store, Unavailable

__all__ = ["PurchaseRace", "Request", "RequestCounter", "shape"]

_NUMBER_RE = re.compile(r"%2B\d{6,15}|\+?\d{6,15}")
_UUID_RE = re.compile(r"[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")
_ID_RE = re.compile(r"[A-Za-z0-9_-]{12,}")


def _segment(segment: str) -> str:
    if segment.isdigit() and len(segment) < 6:  # a short numeric record id
        return "{id}"
    if _UUID_RE.fullmatch(segment) or (
        _ID_RE.fullmatch(segment)
        and any(c.isdigit() for c in segment)
        and not segment.lstrip("+").isdigit()
    ):
        return "{id}"
    return _NUMBER_RE.sub("{n}", segment)


def shape(method: str, path: str) -> str:
    """``METHOD /path`` with numbers and ids replaced, so requests of one kind group."""
    return f"{method} {'/'.join(_segment(s) for s in path.split('/'))}"


@dataclass(frozen=True)
class Request:
    """One request the emulator served."""

    method: str
    path: str

    @property
    def shape(self) -> str:
        """The grouping key (see :func:`shape`)."""
        return shape(self.method, self.path)


Hook = Callable[[str, str, bytes], None]


class RequestCounter:
    """WSGI middleware recording ``(method, path)`` of every vendor request, thread-safe."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self._lock = threading.Lock()
        self._requests: list[Request] = []
        self._hooks: list[Hook] = []

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
        method = str(environ.get("REQUEST_METHOD", "GET"))
        if not path.startswith("/_emulator/"):
            with self._lock:
                self._requests.append(Request(method, path))
                hooks = list(self._hooks)
            if hooks:
                body = _buffer_body(environ)
                query = str(environ.get("QUERY_STRING", ""))
                for hook in hooks:
                    hook(method, f"{path}?{query}", body)
        return self.app(environ, start_response)

    # -- reading ------------------------------------------------------------------------
    def mark(self) -> int:
        """A position to count from (see :meth:`since`)."""
        with self._lock:
            return len(self._requests)

    def since(self, mark: int) -> list[Request]:
        """Requests served after ``mark``."""
        with self._lock:
            return self._requests[mark:]

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


class PurchaseRace:
    """Someone else buys the candidate just before our purchase request lands (once).

    Armed as a :class:`RequestCounter` hook, it watches non-GET requests for an available
    number (its digits, in the path, query or body) or an inventory id, takes that number
    off sale in the store as a console purchase would, then disarms. The vendor then
    answers our purchase in its own "not available" way.
    """

    def __init__(self, store: Store, foreign_id: Callable[[], str] | None = None) -> None:
        self.store = store
        #: Ids in the vendor's own shape (the emulators list every owned number).
        self.foreign_id = foreign_id or (lambda: f"race_{uuid.uuid4().hex}")
        self.taken: str | None = None
        self._lock = threading.Lock()

    def __call__(self, method: str, target: str, body: bytes) -> None:
        if method == "GET":
            return
        with self._lock:
            if self.taken is not None:
                return
            text = f"{target} {body.decode('utf-8', 'replace')}"
            for number in self._candidates(text):
                try:
                    self.store.buy(number, vendor="console", vendor_id=self.foreign_id())
                except Unavailable:
                    continue
                self.taken = number
                return

    def _candidates(self, text: str) -> list[str]:
        found: list[str] = []
        for raw in _NUMBER_RE.findall(text):
            digits = raw.replace("%2B", "").lstrip("+")
            if self.store.available(f"+{digits}") is not None:
                found.append(f"+{digits}")
        for ref in _UUID_RE.findall(text):
            item = self.store.item_by_ref(ref.lower())
            if item is not None and self.store.available(item.number) is not None:
                found.append(item.number)
        return found

    def undo(self) -> None:
        """Give the raced number back to the inventory."""
        if self.taken is not None:
            self.store.release(self.taken, vendor="console")
