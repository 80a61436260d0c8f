"""Property-based tests: every emulator endpoint answers junk in the vendor's error shape.

For each emulated vendor, the real client runs a lifecycle against the emulator once,
so that we learn real paths, query names, body fields and working auth headers. Then
hypothesis sends mutated requests (junk JSON, raw bytes, forms, odd query strings, odd
path segments, and paths generated from every route's regex) straight into the same
``EmulatorApp`` with ``werkzeug.test.Client``. The emulator must never fail with a 5xx
(a crash in a face) and every error must have the vendor's shape (the face's ``error()``
or its auth refusal).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.test import Client

from pulumi_phonenumbers.inputs import query_of
from pulumi_phonenumbers.models import Routing
from pulumi_phonenumbers.testing.backends import Backend, emulated_vendors
from pulumi_phonenumbers.vendors import vendor_class

_SKIP_HEADERS = {
    "HTTP_HOST",
    "HTTP_CONTENT_LENGTH",
    "HTTP_ACCEPT_ENCODING",
    "HTTP_CONNECTION",
    "HTTP_USER_AGENT",
    "HTTP_ACCEPT",
}
FUZZ = settings(
    max_examples=70,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@dataclass
class Seen:
    """What the real client sent: requests, auth headers, field and query names."""

    requests: list[tuple[str, str]] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    names: set[str] = field(default_factory=set)


def _names(value: Any, into: set[str]) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            into.add(str(key))
            _names(inner, into)
    elif isinstance(value, list):
        for inner in value:
            _names(inner, into)


class Target:
    """An emulator, what its client sends, and the error shapes it may answer with."""

    def __init__(self, vendor: str) -> None:
        self.vendor = vendor
        self.backend = Backend.start(vendor)
        assert self.backend.emulator is not None
        self.app = self.backend.emulator.app
        self.seen = self._learn()
        self.client = Client(self.app)
        self.shapes, self.inner = self._error_shapes()

    def _learn(self) -> Seen:
        seen = Seen()
        assert self.backend.emulator is not None
        server = self.backend.emulator.server
        app = server.app

        def recording(environ: dict[str, Any], start_response: Any) -> Any:
            path = environ["PATH_INFO"]
            if not path.startswith("/_emulator/"):
                seen.requests.append((environ["REQUEST_METHOD"], path))
                seen.headers.update(
                    {
                        k[5:].replace("_", "-"): v
                        for k, v in environ.items()
                        if k.startswith("HTTP_") and k not in _SKIP_HEADERS
                    }
                )
                seen.names.update(k for k, _ in parse_qsl(environ.get("QUERY_STRING", "")))
                body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
                try:
                    _names(json.loads(body), seen.names)
                except ValueError:
                    seen.names.update(k for k, _ in parse_qsl(body.decode("latin-1")))
                environ["wsgi.input"] = __import__("io").BytesIO(body)
            return app(environ, start_response)

        server.app = recording
        try:
            info = vendor_class(self.vendor).info
            client = self.backend.client()
            candidate = client.search(query_of({"country": "US", "area_code": "415"})).numbers[0]
            owned = client.buy(candidate, Routing(), {})
            client.get(owned.number, owned.vendor_id)
            list(client.list_owned())
            routed = Routing(voice_target=info.target_examples[0])
            owned = client.update_routing(owned, Routing(), routed)
            client.release(owned.number, owned.vendor_id)
        finally:
            server.app = app
        return seen

    def _error_shapes(self) -> tuple[set[str], dict[str, set[str]]]:
        face = self.app.face
        bodies = [
            json.loads(face.error(status, "m", code).get_data())
            for status in (400, 401, 402, 403, 404, 405, 409, 422, 429)
            for code in ("", "SOME_CODE")
        ]
        denied = self.client.open(self.seen.requests[0][1], method=self.seen.requests[0][0])
        bodies.append(json.loads(denied.get_data()))  # the auth refusal (no credentials)
        shapes = {self.shape(b) for b in bodies}
        inner: dict[str, set[str]] = {}
        for body in bodies:
            for key, value in body.items():
                if isinstance(value, dict):
                    inner.setdefault(key, set()).add(",".join(sorted(value)))
        return shapes, {k: v for k, v in inner.items() if len(v) == 1}

    @staticmethod
    def shape(body: Any) -> str:
        if not isinstance(body, dict):
            return type(body).__name__
        return json.dumps({k: type(v).__name__ for k, v in sorted(body.items())})

    def check(self, method: str, path: str, **kw: Any) -> None:
        response = self.client.open(path, method=method, headers=self.seen.headers, **kw)
        what = f"{self.vendor} {method} {path} {kw}"
        assert response.status_code < 500, (
            f"{what} -> {response.status_code} {response.get_data()!r}"
        )
        raw = response.get_data()
        if response.status_code < 400:
            assert not raw.strip() or json.loads(raw) is not None
            return
        body = json.loads(raw)
        assert self.shape(body) in self.shapes, f"{what}: error shape {raw!r}"
        for key, keys in self.inner.items():
            if isinstance(body.get(key), dict):
                assert ",".join(sorted(body[key])) in keys, f"{what}: error shape {raw!r}"

    def close(self) -> None:
        self.backend.stop()


@pytest.fixture(scope="module", params=emulated_vendors())
def target(request: pytest.FixtureRequest) -> Iterator[Target]:
    t = Target(request.param)
    yield t
    t.close()


def _json(names: list[str]) -> st.SearchStrategy[Any]:
    scalars = (
        st.none()
        | st.booleans()
        | st.integers(-(2**63), 2**64)
        | st.floats(allow_nan=False)
        | st.text(max_size=30)
        | st.sampled_from(["+14155550100", "14155550100", "US", "local", "", "-1", "0", "\x00"])
    )
    keys = st.sampled_from(names) | st.text(max_size=10) if names else st.text(max_size=10)
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=6),
        max_leaves=12,
    )


@st.composite
def requests(draw: st.DrawFn, target: Target) -> tuple[str, str, dict[str, Any]]:
    method, path = draw(st.sampled_from(target.seen.requests))
    names = sorted(target.seen.names)
    if draw(st.integers(0, 3)) == 0:  # now and then, mutate one path segment
        parts = path.split("/")
        index = draw(st.integers(1, max(1, len(parts) - 1)))
        if index < len(parts):
            parts[index] = draw(
                st.text(
                    st.characters(codec="utf-8", exclude_characters="/?#"),
                    max_size=20,
                )
            )
        path = "/".join(parts)
    kw: dict[str, Any] = {}
    body = draw(st.sampled_from(["json", "raw", "form", "none"]))
    if body == "json":
        kw["data"] = json.dumps(draw(_json(names)))
        kw["content_type"] = "application/json"
    elif body == "raw":
        kw["data"] = draw(st.binary(max_size=120))
        kw["content_type"] = draw(st.sampled_from(["application/json", "text/plain", ""]))
    elif body == "form":
        kw["data"] = draw(
            st.dictionaries(
                st.sampled_from(names) if names else st.text(), st.text(max_size=20), max_size=5
            )
        )
    if draw(st.booleans()):
        kw["query_string"] = draw(
            st.dictionaries(
                st.sampled_from(names) if names else st.text(max_size=8),
                st.text(max_size=12) | st.integers(-5, 10**12).map(str),
                max_size=5,
            )
        )
    return method, path, kw


def test_mutated_client_requests_get_vendor_shaped_answers(target: Target) -> None:
    @FUZZ
    @given(requests(target))
    def probe(request: tuple[str, str, dict[str, Any]]) -> None:
        method, path, kw = request
        target.check(method, path, **kw)

    probe()


def test_paths_from_every_route_regex_get_vendor_shaped_answers(target: Target) -> None:
    routes = [(m, p) for m, p, _ in target.app.face.routes()]

    @FUZZ
    @given(st.data())
    def probe(data: st.DataObject) -> None:
        method, pattern = data.draw(st.sampled_from(routes))
        path = data.draw(
            st.from_regex(re.compile(pattern), fullmatch=True).filter(
                lambda p: p.startswith("/") and "?" not in p and "#" not in p
            )
        )
        verb = data.draw(st.sampled_from([method, method, "GET", "POST", "PUT", "PATCH", "DELETE"]))
        body = data.draw(_json(sorted(target.seen.names)))
        target.check(verb, path, data=json.dumps(body), content_type="application/json")

    probe()


def test_every_route_was_learned(target: Target) -> None:
    """The lifecycle reached real endpoints (so the fuzzing above starts from real requests)."""
    assert len(target.seen.requests) >= 5 and target.seen.headers
