"""Adversarial scenarios: a hostile vendor (tests/adversary.py) in front of the emulators.

The first tests check the tampering proxy itself; the scenarios after them drive the
real provider (gRPC) or the vendor clients through it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from adversary import Adversary

from pulumi_phonenumbers.testing.backends import Backend


@pytest.fixture(scope="module")
def plivo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    backend = Backend.start("plivo", tmp_path_factory.mktemp("plivo"))
    yield backend
    backend.stop()


@pytest.fixture
def adversary(plivo: Backend) -> Iterator[Adversary]:
    plivo.control("POST", "reset")
    with Adversary(plivo.url) as proxy:
        yield proxy


def _plivo_get(adversary: Adversary, plivo: Backend, path: str, **kw: object) -> httpx.Response:
    config = adversary.config(plivo.config)
    auth = (config["phonenumbers:plivoAuthId"], config["phonenumbers:plivoAuthToken"])
    url = f"{config['phonenumbers:plivoBaseUrl']}/v1/Account/{auth[0]}/{path}"
    return httpx.get(url, auth=auth, **kw)  # type: ignore[arg-type]


def test_proxy_forwards_untouched_requests(adversary: Adversary, plivo: Backend) -> None:
    response = _plivo_get(adversary, plivo, "PhoneNumber/?country_iso=US&limit=2")
    assert response.status_code == 200 and len(response.json()["objects"]) == 2
    assert adversary.forwarded == adversary.requests and len(adversary.requests) == 1


def test_proxy_rewrites_status_body_and_json(adversary: Adversary, plivo: Backend) -> None:
    adversary.tamper(path="PhoneNumber", times=1, status=200, body="<html>x</html>")
    adversary.tamper(path="PhoneNumber", times=1, edit=lambda b: {**b, "objects": []})
    adversary.tamper(path="/Number/", forward=False, status=404, body="<h1>no</h1>")
    first = _plivo_get(adversary, plivo, "PhoneNumber/?country_iso=US")
    assert (first.status_code, first.text) == (200, "<html>x</html>")
    assert _plivo_get(adversary, plivo, "PhoneNumber/?country_iso=US").json()["objects"] == []
    assert _plivo_get(adversary, plivo, "PhoneNumber/?country_iso=US").json()["objects"]
    missing = _plivo_get(adversary, plivo, "Number/")
    assert missing.status_code == 404 and missing.text == "<h1>no</h1>"
    assert ("GET", missing.request.url.raw_path.decode()) not in adversary.forwarded


def test_proxy_trickles_and_floods_without_buffering(adversary: Adversary, plivo: Backend) -> None:
    adversary.tamper(path="/Number/", trickle=0.2, body=b"[1, 2]")
    started = time.monotonic()
    assert _plivo_get(adversary, plivo, "Number/").json() == [1, 2]
    assert time.monotonic() - started >= 1.0
    adversary.clear()
    adversary.tamper(path="/Number/", huge=16 << 20)
    received = 0
    config = adversary.config(plivo.config)
    auth = (config["phonenumbers:plivoAuthId"], config["phonenumbers:plivoAuthToken"])
    url = f"{config['phonenumbers:plivoBaseUrl']}/v1/Account/{auth[0]}/Number/"
    with httpx.stream("GET", url, auth=auth) as response:
        assert "content-length" not in response.headers
        for chunk in response.iter_raw():
            received += len(chunk)
    assert received == 16 << 20
