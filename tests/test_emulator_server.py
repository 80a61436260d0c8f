"""The emulators' HTTP server stays up for everyone whatever one client does (raw sockets).

Silent or half-open connections, request heads sent a byte at a time, a body that never
comes, a huge Content-Length, a taken port: each used to freeze an emulator or crash its
start-up. Connections are kept alive as the vendors keep them: a pooled client reuses one,
an idle one is closed by the server (from the gate, holding no worker) and the client's
next request, a purchase included, goes through once on a new connection.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from pulumi_phonenumbers.config import Settings
from pulumi_phonenumbers.emulators.server import EMULATORS, PortInUse, RunningEmulator, start
from pulumi_phonenumbers.models import NumberQuery, Routing
from pulumi_phonenumbers.vendors.plivo import PlivoVendor

pytestmark = pytest.mark.contract

IDLE = 1.5  # the emulators' idle limit in these tests (10 s by default)


@pytest.fixture(scope="module")
def emulator() -> Iterator[RunningEmulator]:
    running = start("plivo", idle_seconds=IDLE)
    yield running
    running.stop()


def _port(emulator: RunningEmulator) -> int:
    return int(emulator.url.rsplit(":", 1)[1])


@contextlib.contextmanager
def _connections(
    emulator: RunningEmulator, count: int, send: bytes
) -> Iterator[list[socket.socket]]:
    socks = [socket.create_connection(("127.0.0.1", _port(emulator))) for _ in range(count)]
    try:
        for sock in socks:
            if send:
                sock.sendall(send)
        yield socks
    finally:
        for sock in socks:
            sock.close()


def _answers_quickly(emulator: RunningEmulator) -> float:
    started = time.monotonic()
    response = httpx.get(f"{emulator.url}/_emulator/ledger", timeout=IDLE / 2)
    assert response.status_code == 200
    return time.monotonic() - started


def _closed_by_server(sock: socket.socket, within: float) -> bool:
    sock.settimeout(within)
    try:
        while True:
            if not sock.recv(4096):  # EOF (an answer, if any, came first)
                return True
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def test_silent_connections_hold_no_worker(emulator: RunningEmulator) -> None:
    with _connections(emulator, 40, b"") as silent:  # more than the 32 worker threads
        assert _answers_quickly(emulator) < IDLE / 2
        assert _closed_by_server(silent[0], within=IDLE + 3)
        assert all(_closed_by_server(s, within=1.0) for s in silent[1:])


def test_unfinished_request_heads_hold_no_worker(emulator: RunningEmulator) -> None:
    head = b"GET /v1/Account/MAX/Number/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"  # no blank line
    with _connections(emulator, 40, head) as partial:
        assert _answers_quickly(emulator) < IDLE / 2
        assert all(_closed_by_server(s, within=IDLE + 3) for s in partial)


def test_bodies_that_never_come_do_not_stall_the_others(emulator: RunningEmulator) -> None:
    head = b"POST /_emulator/release HTTP/1.1\r\nHost: x\r\nContent-Length: 900\r\n\r\n{"
    with _connections(emulator, 40, head) as stalled:
        assert _answers_quickly(emulator) < IDLE / 2
        assert all(_closed_by_server(s, within=IDLE + 3) for s in stalled)


def _raw(port: int, request: bytes) -> tuple[int, bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(request)
        data = b""
        with contextlib.suppress(ConnectionResetError):
            while chunk := sock.recv(65536):
                data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


@pytest.mark.parametrize("vendor", sorted(EMULATORS))
def test_huge_content_length_is_413_at_once(vendor: str) -> None:
    running = start(vendor, idle_seconds=IDLE)
    try:
        request = (
            b"POST /anything HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 100000000000\r\n\r\n{"
        )
        started = time.monotonic()
        status, body = _raw(_port(running), request)
        assert status == 413 and time.monotonic() - started < 10
        assert json.loads(body)  # the vendor's own error shape, JSON
        assert _answers_quickly(running) < IDLE / 2
    finally:
        running.stop()


def test_chunked_body_over_the_cap_is_413(emulator: RunningEmulator) -> None:
    chunk = b"x" * 65536
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(20)) + b"0\r\n\r\n"
    request = (
        b"POST /_emulator/faults HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n" + body
    )
    status, _ = _raw(_port(emulator), request)
    assert status == 413


def test_a_taken_port_says_so(emulator: RunningEmulator) -> None:
    port = _port(emulator)
    with pytest.raises(PortInUse, match=f"port {port} is in use"):
        start("plivo", port)
    result = subprocess.run(
        [sys.executable, "-m", "pulumi_phonenumbers.emulators", "sinch", "--port", str(port)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert f"port {port} is in use" in result.stderr
    assert "Traceback" not in result.stderr and "AttributeError" not in result.stderr
    assert _answers_quickly(emulator) < IDLE / 2  # the first emulator is unharmed


def test_connections_on_descriptors_past_fd_setsize_are_served() -> None:
    """select() cannot watch a descriptor >= 1024; a busy test process reaches that."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 1200:
        pytest.skip(f"the descriptor limit ({hard}) is below 1200")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 1200), hard))
    filler = [os.open(os.devnull, os.O_RDONLY) for _ in range(1100)]
    running = start("plivo", idle_seconds=IDLE)
    try:
        assert max(filler) >= 1024
        assert _answers_quickly(running) < IDLE / 2
    finally:
        running.stop()
        for fd in filler:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


# -- keep-alive -------------------------------------------------------------------------------
def _client_port(response: httpx.Response) -> int:
    """The local port of the connection that carried ``response`` (httpcore's stream)."""
    port = response.extensions["network_stream"].get_extra_info("client_addr")[1]
    assert isinstance(port, int)
    return port


def test_a_pooled_client_reuses_one_connection(emulator: RunningEmulator) -> None:
    with httpx.Client(base_url=emulator.url, timeout=5) as client:
        first = client.get("/_emulator/ledger")
        second = client.post("/_emulator/faults", json={"rules": []})  # a body in between
        third = client.get("/v1/Account/nobody/Number/")  # a vendor error answer (401)
        assert (first.status_code, second.status_code, third.status_code) == (200, 200, 401)
        assert first.headers.get("connection") != "close"
        assert int(third.headers["content-length"]) == len(third.content) > 0
        assert _client_port(first) == _client_port(second) == _client_port(third)


def test_idle_kept_alive_connections_hold_no_worker_and_are_closed(
    emulator: RunningEmulator,
) -> None:
    request = b"GET /_emulator/ledger HTTP/1.1\r\nHost: x\r\n\r\n"
    kept: list[socket.socket] = []
    try:
        started = time.monotonic()
        for _ in range(140):  # more than the 128 workers; one after the other (the backlog)
            sock = socket.create_connection(("127.0.0.1", _port(emulator)), timeout=5)
            kept.append(sock)
            sock.sendall(request)
            assert sock.recv(65536).startswith(b"HTTP/1.1 200")  # answered, and left open
        assert time.monotonic() - started < IDLE / 2  # no worker waited on the open ones
        time.sleep(0.1)  # the workers have let go; now half of them start a next request
        for sock in kept[::2]:
            sock.sendall(b"GET /_emulator/owned HTTP/1.1\r\nHost: x\r\n")  # no blank line
        assert _answers_quickly(emulator) < IDLE / 2
        assert _closed_by_server(kept[0], within=IDLE + 3)
        assert all(_closed_by_server(s, within=1.0) for s in kept[1:])
    finally:
        for sock in kept:
            sock.close()


def _plivo(emulator: RunningEmulator) -> PlivoVendor:
    raw = {k.split(":", 1)[1]: v for k, v in emulator.config.items()}
    return PlivoVendor(Settings(raw={**raw, "vendor": "plivo"}, environ={}))


def test_a_connection_closed_while_idle_costs_the_client_nothing() -> None:
    """The server closes the pooled connection while it is idle; the next search works and
    the next purchase is sent once, on a new connection, and bought once."""
    idle = 0.5
    running = start("plivo", idle_seconds=idle)
    client = _plivo(running)
    ports: list[int] = []
    client.http._client.event_hooks["response"].append(lambda r: ports.append(_client_port(r)))
    try:
        query = NumberQuery(country="US", number_type="local", area_code="415")
        candidates = client.search(query).numbers
        client.search(query)
        assert len(ports) == 2 and ports[0] == ports[1]  # one connection, reused
        time.sleep(idle + 1.0)  # the server has closed it
        assert client.search(query).numbers
        time.sleep(idle + 1.0)
        owned = client.buy(candidates[0], Routing(), {})
        assert owned.number == candidates[0].number
        assert len(ports) == 4 and ports[1] != ports[2] != ports[3]  # a new one each time
        bought = [e["number"] for e in running.store.ledger() if e["op"] == "buy"]
        assert bought == [owned.number]
        assert client.http.requests_sent == 4  # nothing retried
    finally:
        client.http.close()
        running.stop()
