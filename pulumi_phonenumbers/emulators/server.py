"""A threaded WSGI server on 127.0.0.1 that wraps a face with the control API and faults.

Control API (same for every vendor)::

    GET    /_emulator/ledger     {"events": [{"op", "number", ...}, ...]}  oldest first
    GET    /_emulator/owned      {"numbers": [{"number", "vendor_id", "status", "routing"}]}
    POST   /_emulator/reset      clear faults, wait for in-flight requests (30 s at most),
                                 then forget ownership, ledger and face state
    POST   /_emulator/faults     {"latency_ms": N, "rules": [...]}  (see faults.py)
    GET    /_emulator/faults     the current fault state
    DELETE /_emulator/faults     clear faults
    POST   /_emulator/settings   {"<switch>": value}  vendor switches (KYC, payment ...), and
                                 {"rate_limit": {"requests": N, "per_seconds": W} | null}
                                 (429 with Retry-After above that rate: ratelimit.py)
    GET    /_emulator/rate_limit {"rate_limit": {...} | null, "refused": <429s answered>}
    POST   /_emulator/release    {"number": "+E164"}  out-of-band release (as if in the console)
    GET    /_emulator/requests   {"requests": [{"method", "path", "query"}, ...]}  oldest first,
                                 every vendor request received (the last 10,000; a logging proxy)
    DELETE /_emulator/requests   forget the request log

Connections are kept alive (HTTP/1.1, every answer framed by its Content-Length), as the
vendors' own APIs keep them, so that the clients' connection pools are exercised.

No client can stall the server for the others: a connection reaches a worker thread only
once its request head is in, within ``IDLE_SECONDS`` of connecting or of its previous
answer (an idle kept-alive connection waits in the gate, not in a worker, and is closed
after as long); a worker's reads (of a body that comes slowly) time out after as long,
with 128 workers at most; a body over ``MAX_BODY`` is answered 413 unread, and the
connection closed.
"""

from __future__ import annotations

import collections
import contextlib
import errno
import importlib
import io
import selectors
import socket
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from werkzeug.serving import BaseWSGIServer, ThreadedWSGIServer, WSGIRequestHandler
from werkzeug.wrappers import Request, Response

from .. import registry
from ..config import config_key
from ..store import Store
from .base import BadRequest, Face, json_response
from .faults import Faults
from .ratelimit import RateLimit, retry_after_header

__all__ = ["EMULATORS", "EmulatorApp", "PortInUse", "RunningEmulator", "face_class", "start"]

#: Largest request body an emulator reads; a larger Content-Length is answered 413 unread.
MAX_BODY = 1 << 20
#: Seconds a connection may stay silent (before its first byte, or between reads).
IDLE_SECONDS = 10.0


class _Faces(Mapping[str, str]):
    """``{vendor: "module:Class"}`` of every registered vendor with an emulator face: a live
    view of :mod:`pulumi_phonenumbers.registry`."""

    def __getitem__(self, vendor: str) -> str:
        face = registry.entry(vendor).face
        if face is None:
            raise KeyError(vendor)
        return face

    def __iter__(self) -> Iterator[str]:
        return iter([e.name for e in registry.entries() if e.face is not None])

    def __len__(self) -> int:
        return sum(1 for _ in self)


EMULATORS: Mapping[str, str] = _Faces()


def face_class(vendor: str) -> type[Face]:
    """The face class of an emulated vendor (KeyError when unknown)."""
    module, _, name = EMULATORS[vendor].partition(":")
    cls: type[Face] = getattr(importlib.import_module(module), name)
    return cls


#: Set in the environ of a request whose connection fault injection dropped.
_DROPPED = "emulator.dropped"


def _drop(environ: dict[str, Any]) -> Response:
    """Close the client's connection without an answer (a reset / lost response).

    The socket is shut down, not closed (the server thread still owns the descriptor), and
    the returned response is never delivered: the server sees :data:`_DROPPED` and closes
    the connection (a server that does not know it fails writing it, quietly).
    """
    sock = environ.get("werkzeug.socket")
    if not isinstance(sock, socket.socket):
        raise ConnectionAbortedError("fault injection dropped the connection")
    environ[_DROPPED] = True
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    return Response(b"", status=502)


def _chunked_over_cap(request: Request) -> bool:
    """Read a chunked body (at most MAX_BODY bytes, cached for the face); True when cut."""
    if not request.environ.get("wsgi.input_terminated"):
        return False  # a Content-Length body: checked against the cap before any read
    return len(request.get_data(cache=True)) >= MAX_BODY


class EmulatorApp:
    """WSGI app: control API + faults around one face."""

    def __init__(self, face: Face) -> None:
        self.face = face
        self.faults = Faults()
        self.rate_limit = RateLimit()
        self._in_flight = 0
        self._idle = threading.Condition()
        #: ``(method, path, query)`` of every vendor request received, oldest first.
        self.requests: collections.deque[tuple[str, str, str]] = collections.deque(maxlen=10_000)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        request.max_content_length = MAX_BODY  # a chunked body is read up to the cap
        if (request.content_length or 0) > MAX_BODY or _chunked_over_cap(request):
            response = self.face.error(413, f"request body over {MAX_BODY} bytes")
        elif request.path.startswith("/_emulator/"):
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
        refused = self.rate_limit.admit()
        if refused is not None:
            response = self.face.error(429, "Too Many Requests")
            response.headers["Retry-After"] = retry_after_header(refused)
            return response
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
                self.rate_limit.configure(None)
                self.face.reset()
                self.requests.clear()
                return json_response({"reset": True})
            if action == "faults":
                if request.method == "DELETE":
                    self.faults.clear()
                elif request.method == "POST":
                    self.faults.configure(Face.json_body(request, required=True))
                return json_response(self.faults.snapshot())
            if action == "rate_limit" and request.method == "GET":
                return json_response(self.rate_limit.snapshot())
            if action == "settings" and request.method == "POST":
                body = dict(Face.json_body(request, required=True))
                # {"requests", "per_seconds"} or null; a string is a face's own switch of
                # that name (KrosAI "on"/"off": its documented per-endpoint limits).
                if "rate_limit" in body and not isinstance(body["rate_limit"], str):
                    self.rate_limit.configure(body.pop("rate_limit"))
                for key, value in body.items():
                    allowed = self.face.switches.get(key)
                    if allowed is None or value not in allowed:
                        raise BadRequest(f"setting {key!r} must be one of {allowed}")
                for key, value in body.items():
                    store.set_setting(key, value)
                settings = {k: store.setting(k) for k in self.face.switches}
                return json_response({**self.rate_limit.snapshot(), **settings})
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
    #: Seconds a read (or write) may wait on the client before the connection is dropped.
    timeout = IDLE_SECONDS

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass

    def log_error(self, format: str, *args: Any) -> None:
        pass


def _call(app: Any, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
    """Run a WSGI app: its status line, headers and whole body (the answers are small)."""
    started: list[Any] = []
    chunks: list[bytes] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        started[:] = [status, headers]
        return chunks.append

    result = app(environ, start_response)
    try:
        chunks.extend(result)
    finally:
        if hasattr(result, "close"):
            result.close()
    return started[0], started[1], b"".join(chunks)


#: :meth:`_KeepAliveHandler._ahead` when the next request has begun in the handler's buffer.
_READ_AHEAD = b"read ahead"


class _KeepAliveHandler(_QuietHandler):
    """Serves the requests of one connection while the client sends them (HTTP/1.1).

    Werkzeug's handler closes every connection (it cannot find where a request ends when
    the app leaves part of its body unread); this one reads a Content-Length body before
    the app runs, so the next request starts where it should, and frames every answer by
    its Content-Length. It closes the connection when the request's framing is lost (a
    chunked body, a body over :data:`MAX_BODY`, a bad Content-Length), when the client
    asks (``Connection: close``, HTTP/1.0) or fault injection dropped it.

    A connection idle after an answer is not waited on here: :attr:`kept` is set and the
    server hands it back to the gate, which passes it on once the next request head is in
    (or closes it after the idle timeout).
    """

    protocol_version = "HTTP/1.1"
    #: Set when the connection is idle after an answer: it goes back to the gate, open.
    kept = False

    def handle(self) -> None:
        self.close_connection = True
        try:
            self.handle_one_request()
            while not self.close_connection:
                ahead = self._ahead()
                if ahead != _READ_AHEAD:
                    # Idle (or the next request just coming): to the gate; gone: close.
                    self.kept = bool(ahead)
                    return
                self.handle_one_request()
        except (ConnectionError, TimeoutError):
            self.close_connection = True

    def _ahead(self) -> bytes:
        """:data:`_READ_AHEAD` when bytes of the next request are buffered here already;
        else what the gate's look at the socket says (:func:`_peek`), without waiting."""
        self.connection.settimeout(0.0)  # (with a timeout, even MSG_DONTWAIT waits)
        try:
            if self.rfile.peek(1):  # type: ignore[attr-defined]
                return _READ_AHEAD
            return _peek(self.connection)
        finally:
            self.connection.settimeout(self.timeout)

    def run_wsgi(self) -> None:
        self.environ = environ = self.make_environ()
        if not self._read_body(environ):
            self.close_connection = True
        try:
            status, headers, body = _call(self.server.app, environ)
        except Exception:
            traceback.print_exc()
            status, body = "500 INTERNAL SERVER ERROR", b"internal error"
            headers = [("Content-Type", "text/plain; charset=utf-8")]
            self.close_connection = True
        if environ.get(_DROPPED):
            self.close_connection = True
            return
        self._answer(status, headers, body)
        if self.close_connection:
            self._drain()

    def _read_body(self, environ: dict[str, Any]) -> bool:
        """Read a Content-Length body (up to :data:`MAX_BODY`) for the app; False when the
        connection cannot stay in step with the client (the app reads what it can)."""
        if environ.get("wsgi.input_terminated"):
            return False  # chunked: the app reads it up to the cap
        lengths = self.headers.get_all("Content-Length") or []
        if not lengths:
            environ["wsgi.input"] = io.BytesIO()
            return True
        raw = lengths[0].strip()
        if len(lengths) > 1 or not raw.isdigit() or int(raw) > MAX_BODY:
            return False  # answered 413 (over the cap) or without a body, unread
        body = self.rfile.read(int(raw))  # each socket read bounded by the idle timeout
        environ["wsgi.input"] = io.BytesIO(body)
        return len(body) == int(raw)

    def _answer(self, status: str, headers: list[tuple[str, str]], body: bytes) -> None:
        """Send the answer in one write, framed by its Content-Length."""
        code = int(status.split(None, 1)[0])
        self.log_request(code, len(body))
        bodiless = self.command == "HEAD" or code < 200 or code in (204, 304)
        lines = [
            f"{self.protocol_version} {status}",
            f"Server: {self.version_string()}",
            f"Date: {self.date_time_string()}",
        ]
        for key, value in headers:
            name = key.lower()
            if name in ("connection", "transfer-encoding") or (
                name == "content-length" and self.command != "HEAD"
            ):
                continue  # ours to say (a HEAD answer keeps the length of the GET's body)
            lines.append(f"{key}: {value}")
        if not bodiless:
            lines.append(f"Content-Length: {len(body)}")
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self.wfile.write(head if bodiless else head + body)

    def _drain(self) -> None:
        """Before closing, read what the client is still sending (a body left unread, up
        to 10 MB), so that the close is not a reset that may lose the answer."""
        total = 0
        with contextlib.suppress(OSError), selectors.DefaultSelector() as selector:
            selector.register(self.connection, selectors.EVENT_READ)
            while total < 10_000_000 and selector.select(timeout=0.01):
                data = self.rfile.read1(65536)
                if not data:
                    break
                total += len(data)


class PortInUse(OSError):
    """The emulator's port is taken by another program."""


def _listen(port: int) -> socket.socket:
    """A listening socket on 127.0.0.1:``port`` (0 = any free port)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise PortInUse(
                errno.EADDRINUSE,
                f"emulator: port {port} is in use on 127.0.0.1; stop what holds it or "
                "choose another port (0 picks a free one)",
            ) from None
        raise
    return sock


#: Bytes the gate looks at: a request head; more is the handler's to read.
_PEEK = 64 * 1024
#: Seconds before the first and the latest look again at a connection whose request head
#: is still incomplete (the wait doubles in between: at most one look per 50 ms).
_RECHECK_FIRST, _RECHECK_MAX = 0.0001, 0.05


def _head_in(data: bytes) -> bool:
    """Whether ``data`` (the bytes a client has sent so far) holds a whole request head,
    or never will in the gate (EOF, a head over :data:`_PEEK` bytes)."""
    return not data or len(data) >= _PEEK or b"\r\n\r\n" in data


def _peek(sock: socket.socket) -> bytes:
    try:
        return sock.recv(_PEEK, socket.MSG_PEEK | socket.MSG_DONTWAIT)
    except BlockingIOError:
        return b"x"  # nothing yet (spurious wake-up): not whole, not EOF
    except OSError:
        return b""


class _Gate:
    """Holds accepted connections until their request head has arrived, so no client that
    is silent or slow to send its head holds a worker thread.

    A connection that says nothing (a half-open connection, a port scan) or sends its
    request head slowly waits here, in one thread, and is dropped when its head is not in
    within ``idle`` seconds of connecting. (The body is the worker's to read, each read
    bounded by the same timeout; waiting for it here cost every POST milliseconds.)
    """

    def __init__(
        self,
        ready: Callable[[socket.socket, Any], None],
        drop: Callable[[socket.socket], None],
        idle: float,
    ) -> None:
        self._ready, self._drop, self._idle = ready, drop, idle
        self._selector = selectors.DefaultSelector()
        self._incoming: collections.deque[tuple[socket.socket, Any]] = collections.deque()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._selector.register(self._wake_r, selectors.EVENT_READ, None)
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="emulator-gate", daemon=True)
        self._thread.start()

    def add(self, sock: socket.socket, address: Any) -> None:
        """Pass ``sock`` on once its request head is in (at once when it already is); a
        new connection, or a kept-alive one idle after an answer (from a worker thread)."""
        if self._closed:
            self._drop(sock)
            return
        if _head_in(_peek(sock)):  # (no select(): descriptors may exceed FD_SETSIZE)
            self._ready(sock, address)
            return
        self._incoming.append((sock, address))
        with contextlib.suppress(OSError):
            self._wake_w.send(b"\0")

    def close(self) -> None:
        """Stop the gate and drop every connection still waiting."""
        self._closed = True
        with contextlib.suppress(OSError):
            self._wake_w.send(b"\0")
        self._thread.join(timeout=5)
        while self._incoming:
            self._drop(self._incoming.popleft()[0])

    def _run(self) -> None:
        deadlines: dict[socket.socket, tuple[float, Any]] = {}
        resting: dict[socket.socket, float] = {}  # incomplete: look again at this time
        waits: dict[socket.socket, float] = {}  # the latest wait of each incomplete one
        while not self._closed:
            now = time.monotonic()
            while self._incoming:
                sock, address = self._incoming.popleft()
                deadlines[sock] = (now + self._idle, address)
                self._selector.register(sock, selectors.EVENT_READ)
            for sock in [s for s, at in resting.items() if at <= now]:
                del resting[sock]
                self._selector.register(sock, selectors.EVENT_READ)
            wake = [d for d, _ in deadlines.values()] + list(resting.values())
            for key, _ in self._selector.select(max(0.0, min(wake, default=now + 1.0) - now)):
                sock = cast(socket.socket, key.fileobj)
                if sock is self._wake_r:
                    with contextlib.suppress(OSError):
                        self._wake_r.recv(4096)
                    continue
                self._selector.unregister(sock)
                if _head_in(_peek(sock)):
                    waits.pop(sock, None)
                    self._ready(sock, deadlines.pop(sock)[1])
                else:  # the selector would report it again at once: rest a moment
                    wait = min(_RECHECK_MAX, 2 * waits.get(sock, _RECHECK_FIRST / 2))
                    waits[sock] = wait
                    resting[sock] = time.monotonic() + wait
            now = time.monotonic()
            for sock in [s for s, (d, _) in deadlines.items() if d <= now]:
                del deadlines[sock]
                waits.pop(sock, None)
                if resting.pop(sock, None) is None:
                    self._selector.unregister(sock)
                self._drop(sock)
        for sock in deadlines:
            self._drop(sock)
        self._selector.close()
        self._wake_r.close()
        self._wake_w.close()


class _PooledWSGIServer(ThreadedWSGIServer):
    """Werkzeug's threaded server on a reused pool of threads, behind a gate.

    A thread per connection meant a thread (and a SQLite connection, which the store keeps
    per thread) per connection; pooled threads keep theirs, which halves the emulator's CPU
    per request. A connection reaches the pool only once its request head is in
    (:class:`_Gate`), and goes back to the gate when it is idle after an answer
    (:class:`_KeepAliveHandler`); every read has a timeout, so clients that hang cannot
    take all the workers.
    """

    # Class-level defaults: werkzeug calls server_close() from its __init__.
    _pool: ThreadPoolExecutor | None = None
    _gate: _Gate | None = None

    def __init__(self, port: int, app: Any, idle_seconds: float = IDLE_SECONDS) -> None:
        listener = _listen(port)
        handler = type("_Handler", (_KeepAliveHandler,), {"timeout": idle_seconds})
        self._handler: type[_KeepAliveHandler] = handler
        try:
            super().__init__("127.0.0.1", port, app, handler=handler, fd=listener.fileno())
        finally:
            listener.close()  # werkzeug serves a duplicate of the descriptor
        self.server_name, self.server_port = "127.0.0.1", self.port  # what server_bind sets
        # Threads start only when needed; the headroom is for bodies that come slowly (a
        # worker waits for those, each read at most idle_seconds).
        self._pool = ThreadPoolExecutor(max_workers=128, thread_name_prefix="emulator")
        self._gate = _Gate(self._submit, self.shutdown_request, idle_seconds)

    def _submit(self, request: Any, client_address: Any) -> None:
        assert self._pool is not None
        try:
            self._pool.submit(self.process_request_thread, request, client_address)
        except RuntimeError:  # the server is closing
            self.shutdown_request(request)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        """Serve a connection; one idle after an answer goes back to the gate, open."""
        handler = None
        try:
            handler = self._handler(request, client_address, self)
        except Exception:
            self.handle_error(request, client_address)
        if handler is not None and handler.kept and self._gate is not None:
            request.settimeout(None)  # as accepted: the gate's looks never wait
            self._gate.add(request, client_address)
        else:
            self.shutdown_request(request)

    def process_request(self, request: Any, client_address: Any) -> None:
        assert self._gate is not None
        self._gate.add(request, client_address)

    def server_close(self) -> None:
        super().server_close()
        if self._gate is not None:
            self._gate.close()
        if self._pool is not None:
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


def start(
    vendor: str,
    port: int = 0,
    store_path: str | Path | None = None,
    idle_seconds: float = IDLE_SECONDS,
) -> RunningEmulator:
    """Serve ``vendor``'s emulator on 127.0.0.1:``port`` (0 = any free port) in a thread.

    :class:`PortInUse` when the port is taken. A client whose request is not all in within
    ``idle_seconds`` of connecting, or that then stalls that long, is disconnected.
    """
    store = Store(store_path)
    face = face_class(vendor)(store)
    app = EmulatorApp(face)
    server = _PooledWSGIServer(port, app, idle_seconds)
    url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, name=f"emulator-{vendor}", daemon=True)
    thread.start()
    # The emulator enforces no rate unless told to (rate_limit), so the provider need not
    # pace itself against it: the printed config turns pacing off (``_pace``).
    config = face.config(url)
    with contextlib.suppress(KeyError):  # a vendor that declares no pace has none to turn off
        config[f"phonenumbers:{config_key(vendor + 'RequestsPerSecond').name}"] = "0"
    return RunningEmulator(vendor, url, config, store, app, server, thread)
