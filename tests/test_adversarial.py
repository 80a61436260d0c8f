"""Adversarial scenarios: a hostile vendor (tests/adversary.py) in front of the emulators.

The first tests check the tampering proxy itself; the scenarios after them drive the
real provider (gRPC) or the vendor clients through it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from adversary import Adversary

from pulumi_phonenumbers._answers import e164_of
from pulumi_phonenumbers._http import RetryPolicy, segment
from pulumi_phonenumbers.config import Settings
from pulumi_phonenumbers.emulators.server import face_class
from pulumi_phonenumbers.errors import TimeoutError_
from pulumi_phonenumbers.testing import ProviderError, ProviderProcess
from pulumi_phonenumbers.testing.backends import Backend, emulated_vendors
from pulumi_phonenumbers.vendors.plivo import PlivoVendor


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


# -- the scenarios: the real provider (gRPC) behind the proxy -----------------------------
URN = "urn:pulumi:dev::phonenumbers-test::pulumi-python:dynamic/phonenumbers:PhoneNumber::{}"
VENDORS = emulated_vendors()
CRITERIA = {"country": "US", "number_type": "local", "area_code": "415"}
#: The purchase request of each vendor (a regex on the raw path).
PURCHASE = {v: face_class(v).purchase_path for v in VENDORS}
#: 2xx bodies no vendor documents.
UNPARSABLE = {
    "html": "<html><body><h1>502 Bad Gateway</h1></body></html>",
    "empty": "",
    "{}": "{}",
    "[]": "[]",
    "null": "null",
    "truncated": '{"id": "3c90c3cc-0d44", "phone_number": "+1415',
}
#: Vendors without a get-one endpoint: a well-formed empty listing is their only witness.
LIST_ONLY = {v for v in VENDORS if face_class(v).list_only}
HTML_404 = "<html><head><title>404 Not Found</title></head><body>nginx</body></html>"


@dataclass
class Rig:
    """One vendor's emulator, the proxy in front of it and a provider process using it."""

    vendor: str
    backend: Backend
    proxy: Adversary
    provider: ProviderProcess
    serialized: str
    config: dict[str, str]

    def reset(self) -> None:
        self.backend.control("POST", "reset")
        self.proxy.clear()

    def inputs(self, **extra: Any) -> dict[str, Any]:
        news = {"__provider": self.serialized, "vendor": self.vendor, **CRITERIA, **extra}
        outcome = self.provider.check(URN.format("n"), {}, news)
        assert outcome.failures == []
        return outcome.inputs

    def create(self, **extra: Any) -> tuple[str, dict[str, Any]]:
        return self.provider.create(URN.format("n"), self.inputs(**extra))

    def buys(self) -> list[str]:
        """Numbers bought through the vendor API (out-of-band purchases left out)."""
        ledger = self.backend.ledger()
        return [e["number"] for e in ledger if e["op"] == "buy" and e.get("vendor") != "console"]


@pytest.fixture(scope="module")
def rigs(
    tmp_path_factory: pytest.TempPathFactory, serialized_provider: str
) -> Iterator[Callable[[str], Rig]]:
    made: dict[str, Rig] = {}

    def rig(vendor: str) -> Rig:
        if vendor not in made:
            backend = Backend.start(vendor, tmp_path_factory.mktemp(vendor))
            proxy = Adversary(backend.url)
            config = {
                **proxy.config(backend.config),
                "phonenumbers:timeoutSeconds": "1",
                # Each test tampers with its own searches: no page shared across tests.
                "phonenumbers:searchPageSeconds": "0",
            }
            provider = ProviderProcess()
            provider.configure(config)
            made[vendor] = Rig(vendor, backend, proxy, provider, serialized_provider, config)
        made[vendor].reset()
        return made[vendor]

    yield rig
    for made_rig in made.values():
        made_rig.provider.close()
        made_rig.proxy.close()
        made_rig.backend.stop()


@pytest.fixture(params=VENDORS)
def rig(request: pytest.FixtureRequest, rigs: Callable[[str], Rig]) -> Rig:
    """Each vendor's rig in turn, reset."""
    return rigs(request.param)


def _logged(provider: ProviderProcess, *texts: str) -> bool:
    """Whether the provider wrote all ``texts`` to stderr (its pump thread may lag a bit)."""
    deadline = time.monotonic() + 3
    while not all(t in provider.stderr for t in texts) and time.monotonic() < deadline:
        time.sleep(0.05)
    return all(t in provider.stderr for t in texts)


def _clean_failure(error: ProviderError) -> str:
    line = error.last_line
    assert "This is a bug" not in line and "unexpected " not in line, line
    return line


# -- item 4: an unparsable 2xx answer ----------------------------------------------------
def test_unparsable_purchase_answer_keeps_the_committed_number(
    rigs: Callable[[str], Rig], rig: Rig
) -> None:
    """The vendor bought the number but answered junk: ownership is checked, the number
    kept, nothing leaked, nothing bought twice."""
    vendor = rig.vendor
    for name, body in UNPARSABLE.items():
        rig = rigs(vendor)
        rig.proxy.tamper(method="POST", path=PURCHASE[vendor], times=1, body=body)
        try:
            id_, outs = rig.create()
        except ProviderError as exc:
            raise AssertionError(f"{vendor} {name}: {exc.last_line}") from None
        assert rig.backend.owned_numbers() == {id_} and outs["number"] == id_, name
        assert rig.buys() == [id_], name


def test_unparsable_read_answer_is_a_clear_error_never_gone(rig: Rig) -> None:
    id_, outs = rig.create()
    for name, body in UNPARSABLE.items():
        if name == "[]" and rig.vendor in LIST_ONLY:
            continue  # a well-formed empty listing (see README: what cannot be guaranteed)
        rig.proxy.clear()
        rig.proxy.tamper(method="GET", body=body)
        with pytest.raises(ProviderError) as info:
            rig.provider.read(URN.format("n"), id_, outs)
        line = _clean_failure(info.value)
        assert "unreadable answer" in line, (name, line)
    rig.proxy.clear()
    assert rig.provider.read(URN.format("n"), id_, outs)[0] == id_


# -- item 5: a 404 the vendor's error shape does not explain --------------------------------
@pytest.mark.parametrize("how", ["wrong API prefix", "proxy answers HTML 404"])
def test_a_404_for_everything_never_forgets_or_releases_a_number(rig: Rig, how: str) -> None:
    vendor = rig.vendor
    id_, outs = rig.create()
    key = f"phonenumbers:{vendor}BaseUrl"
    config = rig.config
    if how == "wrong API prefix":
        config = {**config, key: config[key] + "/v9"}
    else:
        rig.proxy.tamper(forward=False, status=404, body=HTML_404, content_type="text/html")
    with ProviderProcess() as provider:  # a provider configures once per process
        provider.configure(config)
        # Sinch's token endpoint sits behind the same proxy: it may be the one named.
        named = re.compile(rf"phonenumbers:{vendor}(Auth)?BaseUrl")
        with pytest.raises(ProviderError) as read:
            provider.read(URN.format("n"), id_, outs)
        assert named.search(_clean_failure(read.value))
        with pytest.raises(ProviderError) as delete:
            provider.delete(URN.format("n"), id_, outs)
        assert named.search(_clean_failure(delete.value))
    assert rig.backend.owned_numbers() == {id_}
    assert [e["op"] for e in rig.backend.ledger()] == ["buy"]


def test_a_number_really_gone_is_still_dropped_and_deleted(rig: Rig) -> None:
    """Two witnesses agree (the vendor's not-found and a listing without it)."""
    id_, outs = rig.create()
    rig.backend.release_out_of_band(id_)
    assert rig.provider.read(URN.format("n"), id_, outs)[0] == ""
    rig.provider.delete(URN.format("n"), id_, outs)  # already gone: success


# -- item 6: vendor data in URL paths -----------------------------------------------------
@pytest.fixture
def plivo_rig(rigs: Callable[[str], Rig]) -> tuple[Rig, str, str]:
    """Plivo's rig, a 212 number the account owns (another stack's), and a search-result
    "number" that walks from the purchase path to that number's path."""
    rig = rigs("plivo")
    item = rig.backend.store.search(country="US", area_code="212", limit=1)[0][0]
    rig.backend.store.buy(item.number, vendor="console", vendor_id=item.number.lstrip("+"))
    return rig, item.number, f"1415/../../Number/{item.number.lstrip('+')}"


def test_a_traversal_number_in_plivo_search_results_never_reaches_a_path(
    plivo_rig: tuple[Rig, str, str],
) -> None:
    rig, other, evil = plivo_rig

    def poison(body: Any) -> Any:
        return {**body, "objects": [{**body["objects"][0], "number": evil}, *body["objects"]]}

    rig.proxy.tamper(method="GET", path=r"/PhoneNumber/\?", edit=poison)
    id_, outs = rig.create(routing={"voice_target": "29986316244302815"})
    assert id_ != evil and id_.startswith("+1415") and outs["number"] == id_
    assert not any(".." in path or "%2F" in path for _, path in rig.proxy.forwarded)
    assert [e["op"] for e in rig.backend.ledger() if e["number"] == other] == ["buy"]
    assert rig.backend.store.get(other).routing == {}  # type: ignore[union-attr]
    assert _logged(rig.provider, "skipped row 0", "is not an E.164 number")

    rig.proxy.clear()
    rig.proxy.tamper(
        method="GET",
        path=r"/PhoneNumber/\?",
        edit=lambda b: {**b, "objects": [{**o, "number": evil} for o in b["objects"]]},
    )
    with pytest.raises(ProviderError) as info:
        rig.create()
    assert "inventory exhausted" in _clean_failure(info.value)
    assert rig.buys() == [id_]


def test_a_traversal_id_in_state_is_encoded_and_releases_nothing(
    plivo_rig: tuple[Rig, str, str],
) -> None:
    """A state written by an older version holds the traversal string as the id."""
    rig, other, evil = plivo_rig
    state = {"__provider": rig.serialized, "vendor": "plivo", "number": evil, "vendor_id": evil}
    before = len(rig.proxy.forwarded)
    rig.provider.delete(URN.format("n"), evil, state)
    assert other in rig.backend.owned_numbers()
    deletes = [p for m, p in rig.proxy.forwarded[before:] if m == "DELETE"]
    assert deletes and all("/Number/1415%2F..%2F..%2FNumber%2F" in p for p in deletes)


#: The search request of each vendor (a regex on the raw path).
SEARCH = {v: face_class(v).search_path for v in VENDORS}


def _poison_numbers(value: Any, evil: str) -> Any:
    """Every string in a JSON answer that looks like a phone number replaced by ``evil``."""
    if isinstance(value, dict):
        return {k: _poison_numbers(v, evil) for k, v in value.items()}
    if isinstance(value, list):
        return [_poison_numbers(v, evil) for v in value]
    if isinstance(value, str) and re.fullmatch(r"\+?1\d{10}", value):
        return evil
    return value


def test_search_results_that_are_not_e164_are_never_bought(rig: Rig) -> None:
    inputs = rig.inputs()
    before = len(rig.proxy.requests)
    evil = "+1415/../../x"
    rig.proxy.tamper(method="GET", path=SEARCH[rig.vendor], edit=lambda b: _poison_numbers(b, evil))
    with pytest.raises(ProviderError) as info:
        rig.provider.create(URN.format("n"), inputs)
    assert "inventory exhausted" in _clean_failure(info.value)
    asked = rig.proxy.requests[before:]
    purchases = [p for m, p in asked if m == "POST" and re.search(PURCHASE[rig.vendor], p)]
    assert rig.buys() == [] and purchases == []
    assert _logged(rig.provider, "skipped row", "is not an E.164 number")


def test_a_traversal_number_held_in_state_diffs_without_a_crash(
    plivo_rig: tuple[Rig, str, str],
) -> None:
    rig, _, evil = plivo_rig
    olds = {**rig.inputs(), "number": evil, "vendor_id": evil}
    diff = rig.provider.diff(URN.format("n"), evil, olds, rig.inputs(area_code="212"))
    assert diff.changes is True and diff.replaces == ["area_code"]


@pytest.mark.parametrize(
    "text",
    [
        "1415/../../Number/14155550100",
        "+1415555010O",
        "+1\u0664\u0661\u0665\u0665\u0665\u0665\u0660\u0661\u0660\u0660",
        "4155550100x",
        "+999",
        "",
    ],
)
def test_the_wire_validator_refuses_what_is_not_e164(text: str) -> None:
    with pytest.raises(ValueError):
        e164_of(text)


def test_the_wire_validator_normalises_formatting() -> None:
    assert e164_of("14155550123") == "+14155550123"  # Plivo's digits
    assert e164_of("+1 (415) 555-0123") == "+14155550123"
    assert segment("1415/../x") == "1415%2F..%2Fx" and segment("..") == "%2E%2E"


# -- item 11: a total deadline per request and a size cap ---------------------------------
def test_a_trickled_purchase_answer_cannot_stretch_a_create(rigs: Callable[[str], Rig]) -> None:
    """The purchase commits, its answer trickles a byte every 0.3 s (each socket read is
    within the timeout): the request gives up after about timeoutSeconds (1 s), and the
    number is found owned and kept."""
    rig = rigs("plivo")
    rig.proxy.tamper(method="POST", path=PURCHASE["plivo"], times=1, trickle=0.3)
    started = time.monotonic()
    id_, _ = rig.create()
    assert time.monotonic() - started < 8  # the answer alone would take about a minute
    assert rig.backend.owned_numbers() == {id_} and rig.buys() == [id_]


def test_a_trickled_read_is_bounded_by_the_timeout(plivo: Backend, adversary: Adversary) -> None:
    # about 115 s to trickle out in full (valid JSON, padded)
    adversary.tamper(
        path="/Number/", trickle=0.5, body=b'{"meta": {}, "objects": []' + b" " * 200 + b"}"
    )
    settings = Settings(
        raw={
            k.split(":", 1)[1]: v
            for k, v in {
                **adversary.config(plivo.config),
                "phonenumbers:timeoutSeconds": "1",
            }.items()
        },
        environ={},
    )
    client = PlivoVendor(settings)
    client.http.policy = RetryPolicy(attempts=1)
    started = time.monotonic()
    with pytest.raises(TimeoutError_, match="no complete answer within 1s"):
        list(client.list_owned())
    assert time.monotonic() - started < 15  # the trickled answer alone takes far longer
    client.close()


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


@pytest.mark.parametrize("declared", [False, True], ids=["chunked", "content-length"])
def test_a_huge_search_answer_is_refused_without_buffering(
    rigs: Callable[[str], Rig], declared: bool
) -> None:
    rig = rigs("plivo")
    rig.proxy.tamper(method="GET", path=r"/PhoneNumber/\?", huge=300 << 20, declare_size=declared)
    started = time.monotonic()
    with pytest.raises(ProviderError) as info:
        rig.create()
    line = _clean_failure(info.value)
    assert "larger than 8 MiB" in line, line
    assert time.monotonic() - started < 10
    assert _peak_rss_mb(rig.provider.proc.pid) < 250
    assert rig.buys() == []


# -- item 13: the Sinch bearer token is a secret --------------------------------------------
def test_the_sinch_bearer_token_is_redacted(rigs: Callable[[str], Rig]) -> None:
    rig = rigs("sinch")
    seen: list[str] = []

    def quote_the_token(headers: Mapping[str, str]) -> Any:
        seen.append(headers["Authorization"].split()[-1])
        return {
            "error": {
                "code": 400,
                "status": "INVALID_ARGUMENT",
                "message": f"request with token {seen[-1]} refused",
                "details": [],
            }
        }

    rig.proxy.tamper(method="GET", path="/availableNumbers", status=400, echo=quote_the_token)
    with pytest.raises(ProviderError) as info:
        rig.create()
    assert seen and len(seen[0]) >= 8
    assert "refused" in info.value.detail and seen[0] not in info.value.detail
    assert seen[0] not in rig.provider.stderr
