"""Fault injection over real HTTP: every rule kind, the control API, and each vendor's face.

A small probe face (buy / list over the shared store) exercises the machinery itself;
the per-vendor tests check that injected failures come back in that vendor's error shape
and that its client's retries ride through them.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from pulumi_phonenumbers.emulators.base import Face, Handler, json_response
from pulumi_phonenumbers.emulators.server import EmulatorApp, _QuietHandler, face_class
from pulumi_phonenumbers.store import Store
from pulumi_phonenumbers.testing.backends import Backend, emulated_vendors


class ProbeFace(Face):
    """Buy and list over the store; errors as ``{"problem": ..., "status": ...}``."""

    vendor = "probe"

    def routes(self) -> list[tuple[str, str, Handler]]:
        return [("POST", r"/numbers/(?P<number>\+\d+)", self.buy), ("GET", r"/numbers", self.list)]

    def buy(self, request: Request, number: str) -> Response:
        record = self.store.buy(number, vendor="probe", vendor_id=f"id{number}")
        return json_response({"number": record.number}, 201)

    def list(self, request: Request) -> Response:
        return json_response({"numbers": [r.number for r in self.store.owned()]})

    def error(self, status: int, message: str, code: str = "") -> Response:
        return json_response({"problem": message, "status": status}, status)

    def config(self, url: str) -> dict[str, str]:
        return {}


class Probe:
    """A probe emulator on 127.0.0.1 and helpers to drive it."""

    def __init__(self, path: Path) -> None:
        self.store = Store(path)
        self.app = EmulatorApp(ProbeFace(self.store))
        self.server = make_server(
            "127.0.0.1", 0, self.app, threaded=True, request_handler=_QuietHandler
        )
        self.server.daemon_threads = True  # type: ignore[attr-defined]
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.numbers = [
            i.number for i in self.store.search(country="US", area_code="415", limit=5)[0]
        ]

    def faults(self, **body: Any) -> httpx.Response:
        return httpx.post(f"{self.url}/_emulator/faults", json=body, timeout=5)

    def buy(self, number: str, timeout: float = 5.0) -> httpx.Response:
        return httpx.post(f"{self.url}/numbers/{number}", timeout=timeout)

    def owned(self) -> set[str]:
        return {r.number for r in self.store.owned()}


@pytest.fixture(scope="module")
def probe_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Probe]:
    p = Probe(tmp_path_factory.mktemp("probe") / "probe.db")
    yield p
    p.server.shutdown()
    p.server.server_close()


@pytest.fixture
def probe(probe_server: Probe) -> Probe:
    httpx.post(f"{probe_server.url}/_emulator/reset", timeout=30).raise_for_status()
    return probe_server


@pytest.mark.parametrize("status", [429, 500, 503])
def test_status_rule_answers_in_the_face_shape_and_does_not_act(probe: Probe, status: int) -> None:
    number = probe.numbers[0]
    probe.faults(
        rules=[
            {"method": "POST", "path": "^/numbers/", "status": status, "retry_after": 2, "times": 1}
        ]
    )
    response = probe.buy(number)
    assert response.status_code == status
    assert response.json() == {"problem": response.json()["problem"], "status": status}
    assert response.headers["Retry-After"] == "2"
    assert probe.owned() == set()
    assert probe.buy(number).status_code == 201  # times: 1 is used up
    assert probe.owned() == {number}


def test_status_rule_without_retry_after_sends_no_header(probe: Probe) -> None:
    probe.faults(rules=[{"status": 503, "times": 1}])
    response = probe.buy(probe.numbers[0])
    assert response.status_code == 503 and "Retry-After" not in response.headers


def test_reset_closes_without_an_answer_and_does_not_act(probe: Probe) -> None:
    probe.faults(rules=[{"method": "POST", "reset": True, "times": 1}])
    with pytest.raises(httpx.RemoteProtocolError):
        probe.buy(probe.numbers[0])
    assert probe.owned() == set()


def test_after_commit_drop_is_a_lost_response(probe: Probe) -> None:
    probe.faults(rules=[{"method": "POST", "after_commit": True, "times": 1}])
    with pytest.raises(httpx.RemoteProtocolError):
        probe.buy(probe.numbers[0])
    assert probe.owned() == {probe.numbers[0]}  # performed, answer lost
    assert [e["op"] for e in probe.store.ledger()] == ["buy"]


def test_after_commit_with_status_acts_then_fails(probe: Probe) -> None:
    probe.faults(rules=[{"method": "POST", "after_commit": True, "status": 500, "times": 1}])
    response = probe.buy(probe.numbers[0])
    assert response.status_code == 500 and response.json()["status"] == 500
    assert probe.owned() == {probe.numbers[0]}


def test_slow_answer_trips_the_client_timeout_but_still_commits(probe: Probe) -> None:
    probe.faults(rules=[{"method": "POST", "slow_ms": 600, "times": 1}])
    with pytest.raises(httpx.ReadTimeout):  # the client gave up before the answer
        probe.buy(probe.numbers[0], timeout=0.2)
    assert probe.owned() == set()  # the vendor is still working on it...
    assert probe.app.wait_idle(5)
    assert probe.owned() == {probe.numbers[0]}  # ...and commits after the client gave up


def test_slow_after_commit_acts_first_then_waits(probe: Probe) -> None:
    probe.faults(rules=[{"method": "POST", "slow_ms": 800, "after_commit": True, "times": 1}])
    with pytest.raises(httpx.ReadTimeout):
        probe.buy(probe.numbers[0], timeout=0.3)
    assert probe.owned() == {probe.numbers[0]}


def test_slow_then_status(probe: Probe) -> None:
    probe.faults(rules=[{"slow_ms": 300, "status": 503, "times": 1}])
    started = time.monotonic()
    assert probe.buy(probe.numbers[0]).status_code == 503
    assert time.monotonic() - started >= 0.29 and probe.owned() == set()


def test_latency_delays_every_vendor_call_and_delete_clears(probe: Probe) -> None:
    assert probe.faults(latency_ms=250).json()["latency_ms"] == 250
    started = time.monotonic()
    assert httpx.get(f"{probe.url}/numbers").status_code == 200
    assert time.monotonic() - started >= 0.24
    probe.faults(latency_ms=60_000)
    # the control API is never delayed: it answers well within a timeout the latency exceeds
    assert httpx.get(f"{probe.url}/_emulator/faults", timeout=10).status_code == 200
    cleared = httpx.delete(f"{probe.url}/_emulator/faults").json()
    assert cleared == {"latency_ms": 0, "rules": []}


def test_rules_match_method_and_path_and_count_down(probe: Probe) -> None:
    probe.faults(rules=[{"method": "POST", "path": r"^/numbers/\+1415", "status": 503, "times": 2}])
    assert httpx.get(f"{probe.url}/numbers").status_code == 200  # GET is not matched
    assert probe.buy(probe.numbers[0]).status_code == 503
    assert probe.buy(probe.numbers[0]).status_code == 503
    assert probe.buy(probe.numbers[0]).status_code == 201
    state = httpx.get(f"{probe.url}/_emulator/faults").json()
    assert state["rules"][0]["times"] == 0


def test_rule_without_times_fires_forever_and_first_match_wins(probe: Probe) -> None:
    probe.faults(rules=[{"path": "^/numbers$", "status": 500}, {"status": 429}])
    for _ in range(3):
        assert httpx.get(f"{probe.url}/numbers").status_code == 500
    assert probe.buy(probe.numbers[0]).status_code == 429


def test_the_control_api_is_never_faulted(probe: Probe) -> None:
    probe.faults(rules=[{"path": ".", "reset": True}], latency_ms=0)
    assert httpx.get(f"{probe.url}/_emulator/ledger").status_code == 200
    assert httpx.delete(f"{probe.url}/_emulator/faults").status_code == 200
    assert probe.buy(probe.numbers[0]).status_code == 201


def test_reset_waits_for_in_flight_slow_requests(probe: Probe) -> None:
    probe.faults(rules=[{"method": "POST", "slow_ms": 500, "times": 1}])
    with pytest.raises(httpx.ReadTimeout):
        probe.buy(probe.numbers[0], timeout=0.1)
    assert httpx.post(f"{probe.url}/_emulator/reset", timeout=5).status_code == 200
    time.sleep(0.6)
    assert probe.owned() == set() and probe.store.ledger() == []  # nothing committed late


@pytest.mark.parametrize(
    "body",
    [
        [],
        {"rules": {}},
        {"rules": [{"bogus": 1}]},
        {"rules": [{"status": 200}]},
        {"rules": [{"status": "503"}]},
        {"rules": [{"status": True}]},
        {"rules": [{"path": "("}]},
        {"rules": [{"method": 5, "status": 500}]},
        {"rules": [{"times": -1, "status": 500}]},
        {"rules": [{"times": True, "status": 500}]},
        {"rules": [{"reset": "yes"}]},
        {"rules": [{"reset": True, "status": 500}]},
        {"rules": [{"method": "GET"}]},
        {"rules": [{"slow_ms": -5}]},
        {"rules": [{"status": 503, "retry_after": -1}]},
        {"latency_ms": -1},
        {"latency_ms": "fast"},
        {"latency_ms": True},
        {"other": 1},
    ],
)
def test_junk_fault_bodies_are_refused_by_name(probe: Probe, body: Any) -> None:
    response = httpx.post(f"{probe.url}/_emulator/faults", json=body, timeout=5)
    assert response.status_code == 400
    assert response.json()["error"]
    assert httpx.get(f"{probe.url}/_emulator/faults").json() == {"latency_ms": 0, "rules": []}


# -- every emulated vendor ------------------------------------------------------------------
def _shape(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in sorted(value.items())}
    return type(value).__name__


@pytest.fixture(scope="module", params=emulated_vendors())
def emulator_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Backend]:
    backend = Backend.start(request.param, tmp_path_factory.mktemp(request.param))
    yield backend
    backend.stop()


@pytest.fixture
def emulator(emulator_server: Backend) -> Backend:
    emulator_server.control("POST", "reset")
    return emulator_server


@pytest.mark.parametrize("status", [429, 500, 503])
def test_vendor_faults_come_back_in_the_vendor_error_shape(emulator: Backend, status: int) -> None:
    face = face_class(emulator.vendor)(emulator.store)
    expected = json.loads(face.error(status, "x").get_data())
    emulator.faults(rules=[{"path": ".", "status": status, "retry_after": 1, "times": 1}])
    response = httpx.get(f"{emulator.url}/any/vendor/path", timeout=5)
    assert response.status_code == status
    assert _shape(response.json()) == _shape(expected)
    assert response.headers["Retry-After"] == "1"


def test_vendor_client_rides_through_transient_faults(emulator: Backend) -> None:
    client = emulator.client()
    emulator.faults(
        rules=[
            {"method": "GET", "status": 503, "times": 1},
            {"method": "GET", "reset": True, "times": 1},
            {"method": "GET", "status": 429, "retry_after": 0, "times": 1},
        ]
    )
    assert list(client.list_owned()) == []
    assert httpx.get(f"{emulator.url}/_emulator/faults").json()["rules"][2]["times"] == 0


def test_vendor_lost_purchase_response_leaves_the_number_owned(emulator: Backend) -> None:
    from pulumi_phonenumbers.errors import TransportError
    from pulumi_phonenumbers.inputs import query_of
    from pulumi_phonenumbers.models import Routing

    client = emulator.client()
    candidate = client.search(query_of({"country": "US", "area_code": "415"})).numbers[0]
    emulator.faults(rules=[{"method": "POST", "after_commit": True, "times": 1}])
    with pytest.raises(TransportError) as info:
        client.buy(candidate, Routing(), {})
    assert info.value.sent is True
    owned = client.get(candidate.number)
    assert owned is not None and emulator.owned_numbers() == {candidate.number}


def test_vendor_client_honours_timeout_seconds(emulator: Backend) -> None:
    from pulumi_phonenumbers.errors import TimeoutError_

    client = emulator.client({"phonenumbers:timeoutSeconds": "0.3"})
    emulator.faults(rules=[{"method": "GET", "slow_ms": 60_000}])
    started = time.monotonic()
    with pytest.raises(TimeoutError_) as info:
        list(client.list_owned())
    # every attempt gave up at 0.3 s: far sooner than the minute the emulator would take
    assert time.monotonic() - started < 30
    assert "no answer within 0.3s" in str(info.value)
