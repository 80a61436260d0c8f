"""A threaded WSGI server on 127.0.0.1 that wraps a face with the control API and faults.

Control API (same for every vendor)::

    GET    /_emulator/ledger     {"events": [{"op", "number", ...}, ...]}  oldest first
    GET    /_emulator/owned      {"numbers": [{"number", "vendor_id", "status", "routing"}]}
    POST   /_emulator/reset      clear faults, wait for in-flight requests (30 s at most),
                                 then forget ownership, ledger and face state
    POST   /_emulator/faults     {"latency_ms": N, "rules": [...]}  (see faults.py)
    GET    /_emulator/faults     the current fault state
    DELETE /_emulator/faults     clear faults
    POST   /_emulator/settings   {"<switch>": value}  vendor switches (KYC, payment ...)
    POST   /_emulator/release    {"number": "+E164"}  out-of-band release (as if in the console)
    GET    /_emulator/requests   {"requests": [{"method", "path", "query"}, ...]}  oldest first,
                                 every vendor request received (the last 10,000; a logging proxy)
    DELETE /_emulator/requests   forget the request log
"""

from __future__ import annotations

import collections
import contextlib
import importlib
import socket
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from werkzeug.serving import BaseWSGIServer, ThreadedWSGIServer, WSGIRequestHandler
from werkzeug.wrappers import Request, Response

from ..store import Store
from .base import BadRequest, Face, json_response
from .faults import Faults

__all__ = ["EMULATORS", "EmulatorApp", "RunningEmulator", "face_class", "start"]

EMULATORS: dict[str, str] = {
    "bolna": "pulumi_phonenumbers.emulators.bolna:BolnaFace",
    "krosai": "pulumi_phonenumbers.emulators.krosai:KrosAIFace",
    "plivo": "pulumi_phonenumbers.emulators.plivo:PlivoFace",
    "sinch": "pulumi_phonenumbers.emulators.sinch:SinchFace",
    "sondos": "pulumi_phonenumbers.emulators.sondos:SondosFace",
}


def face_class(vendor: str) -> type[Face]:
    """The face class of an emulated vendor (KeyError when unknown)."""
    module, _, name = EMULATORS[vendor].partition(":")
    cls: type[Face] = getattr(importlib.import_module(module), name)
    return cls


def _drop(environ: dict[str, Any]) -> Response:
    """Close the client's connection without an answer (a reset / lost response).

    The socket is shut down, not closed (the server thread still owns the descriptor), and
    the returned response is never delivered: writing it fails as a dropped connection,
    which the server ignores quietly.
    """
    sock = environ.get("werkzeug.socket")
    if not isinstance(sock, socket.socket):
        raise ConnectionAbortedError("fault injection dropped the connection")
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    return Response(b"", status=502)


class EmulatorApp:
    """WSGI app: control API + faults around one face."""

    def __init__(self, face: Face) -> None:
        self.face = face
        self.faults = Faults()
        self._in_flight = 0
        self._idle = threading.Condition()
        #: ``(method, path, query)`` of every vendor request received, oldest first.
        self.requests: collections.deque[tuple[str, str, str]] = collections.deque(maxlen=10_000)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        if request.path.startswith("/_emulator/"):
            response = self._control(request)
        else:
            self.requests.append(
                (request.method, request.path, request.query_string.decode("latin-1"))
            )
            with self._idle:
                self._in_flight += 1
            try:
                response = self._vendor(request, environ)
            finally:
                with self._idle:
                    self._in_flight -= 1
                    self._idle.notify_all()
        return response(environ, start_response)

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Wait until no vendor request is being served (slow faults finish committing)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._in_flight == 0, timeout)

    def _vendor(self, request: Request, environ: dict[str, Any]) -> Response:
        if self.faults.latency_ms:
            time.sleep(self.faults.latency_ms / 1000)
        rule = self.faults.take(request.method, request.path)
        if rule is not None and not rule.after_commit:
            if rule.slow_ms:
                time.sleep(rule.slow_ms / 1000)
            if rule.reset:
                return _drop(environ)
            if rule.status:
                return self._fault_response(rule.status, rule.retry_after)
        try:
            response = self.face.dispatch(request)
        except Exception:
            traceback.print_exc()
            response = self.face.error(500, "internal error")
        if rule is not None and rule.after_commit:
            if rule.slow_ms:
                time.sleep(rule.slow_ms / 1000)
            if rule.status:
                return self._fault_response(rule.status, rule.retry_after)
            return _drop(environ)
        return response

    def _fault_response(self, status: int, retry_after: float | None) -> Response:
        messages = {
            429: "Too Many Requests",
            500: "Internal Server Error",
            502: "Bad Gateway",
            503: "Service Unavailable",
            504: "Gateway Timeout",
        }
        response = self.face.error(status, messages.get(status, "injected fault"))
        if retry_after is not None:
            seconds = int(retry_after) if float(retry_after).is_integer() else retry_after
            response.headers["Retry-After"] = str(seconds)
        return response

    def _control(self, request: Request) -> Response:
        action = request.path[len("/_emulator/") :].strip("/")
        store = self.face.store
        try:
            if action == "ledger" and request.method == "GET":
                return json_response({"events": store.ledger()})
            if action == "owned" and request.method == "GET":
                return json_response(
                    {
                        "numbers": [
                            {
                                "number": r.number,
                                "vendor_id": r.vendor_id,
                                "status": r.status,
                                "routing": r.routing,
                            }
                            for r in store.owned()
                        ]
                    }
                )
            if action == "requests" and request.method in ("GET", "DELETE"):
                if request.method == "DELETE":
                    self.requests.clear()
                rows = [{"method": m, "path": p, "query": q} for m, p, q in list(self.requests)]
                return json_response({"requests": rows})
            if action == "reset" and request.method == "POST":
                self.faults.clear()
                self.wait_idle()
                store.reset()
                self.faults.clear()
                self.face.reset()
                self.requests.clear()
                return json_response({"reset": True})
            if action == "faults":
                if request.method == "DELETE":
                    self.faults.clear()
                elif request.method == "POST":
                    self.faults.configure(Face.json_body(request, required=True))
                return json_response(self.faults.snapshot())
            if action == "settings" and request.method == "POST":
                body = Face.json_body(request, required=True)
                for key, value in body.items():
                    allowed = self.face.switches.get(key)
                    if allowed is None or value not in allowed:
                        raise BadRequest(f"setting {key!r} must be one of {allowed}")
                for key, value in body.items():
                    store.set_setting(key, value)
                return json_response({k: store.setting(k) for k in self.face.switches})
            if action == "release" and request.method == "POST":
                number = Face.json_body(request, required=True).get("number")
                if not isinstance(number, str):
                    raise BadRequest("number is required")
                return json_response({"released": store.release(number, vendor="console")})
        except (BadRequest, ValueError) as exc:
            return json_response({"error": str(exc)}, status=400)
        return json_response(
            {"error": f"unknown control call {request.method} {request.path}"}, status=404
        )


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass

    def log_error(self, format: str, *args: Any) -> None:
        pass


class _PooledWSGIServer(ThreadedWSGIServer):
    """Werkzeug's threaded server on a reused pool of threads.

    Werkzeug closes every connection, so a thread per connection meant a thread (and a
    SQLite connection, which the store keeps per thread) per request; pooled threads keep
    theirs, which halves the emulator's CPU per request.
    """

    def __init__(self, host: str, port: int, app: Any) -> None:
        super().__init__(host, port, app, handler=_QuietHandler)
        self._pool = ThreadPoolExecutor(max_workers=32, thread_name_prefix="emulator")

    def process_request(self, request: Any, client_address: Any) -> None:
        self._pool.submit(self.process_request_thread, request, client_address)

    def server_close(self) -> None:
        super().server_close()
        self._pool.shutdown(wait=False, cancel_futures=True)


@dataclass
class RunningEmulator:
    """An emulator serving in a background thread of this process."""

    vendor: str
    url: str
    config: dict[str, str]
    store: Store
    app: EmulatorApp
    server: BaseWSGIServer = field(repr=False)
    thread: threading.Thread = field(repr=False)

    def stop(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def start(vendor: str, port: int = 0, store_path: str | Path | None = None) -> RunningEmulator:
    """Serve ``vendor``'s emulator on 127.0.0.1:``port`` (0 = any free port) in a thread."""
    store = Store(store_path)
    face = face_class(vendor)(store)
    app = EmulatorApp(face)
    server = _PooledWSGIServer("127.0.0.1", port, app)
    url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, name=f"emulator-{vendor}", daemon=True)
    thread.start()
    return RunningEmulator(vendor, url, face.config(url), store, app, server, thread)
