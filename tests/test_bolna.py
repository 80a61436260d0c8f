"""Bolna quirks (the shared contract and gRPC suites cover the lifecycle with ``-k bolna``).

401 vs 403 auth bodies, bare-array search, read = list + filter over two id forms, the
extra ``/inbound/setup`` call after a purchase (and the release when it fails), re-route,
unlink, three price units, and ``vendor_options`` checked at preview.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import httpx
import pytest

from pulumi_phonenumbers.emulators.bolna import API_KEY, BolnaFace
from pulumi_phonenumbers.errors import (
    ConfigError,
    NotAvailable,
    NotFound,
    ServerError,
    ValidationError,
)
from pulumi_phonenumbers.models import NumberQuery, Routing
from pulumi_phonenumbers.testing import ProviderError, ProviderProcess
from pulumi_phonenumbers.testing.backends import Backend
from pulumi_phonenumbers.vendors.bolna import BolnaVendor

URN = "urn:pulumi:dev::phonenumbers-test::pulumi-python:dynamic/phonenumbers:PhoneNumber::{}"
Q415 = NumberQuery(country="US", number_type="local", area_code="415")
AGENT_A, AGENT_B = BolnaVendor.info.target_examples


@pytest.fixture
def bolna(tmp_path: Path) -> Iterator[Backend]:
    backend = Backend.start("bolna", tmp_path)
    yield backend
    backend.stop()


def _face(backend: Backend) -> BolnaFace:
    assert backend.emulator is not None
    return cast(BolnaFace, backend.emulator.app.face)


def _calls(backend: Backend) -> list[tuple[str, str]]:
    return list(_face(backend).calls)


def _api(backend: Backend, method: str, path: str, **kwargs: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {API_KEY}", **kwargs.pop("headers", {})}
    return httpx.request(method, backend.url + path, headers=headers, timeout=10, **kwargs)


def _client(backend: Backend) -> BolnaVendor:
    return cast(BolnaVendor, backend.client())


def _listed(backend: Backend) -> dict[str, dict[str, Any]]:
    rows = _api(backend, "GET", "/phone-numbers/all").json()
    assert isinstance(rows, list)
    return {row["phone_number"]: row for row in rows}


# -- wire quirks ----------------------------------------------------------------------------
def test_missing_key_is_401_and_unknown_key_is_403(bolna: Backend) -> None:
    missing = httpx.get(f"{bolna.url}/phone-numbers/all", timeout=10)
    assert missing.status_code == 401
    assert missing.json() == {"detail": "Not authenticated"}
    wrong = _api(bolna, "GET", "/phone-numbers/all", headers={"Authorization": "Bearer bn-nope"})
    assert wrong.status_code == 403
    assert wrong.json() == {"detail": "Unrecognized access token"}
    assert not bolna.ledger()


def test_search_is_a_bare_array_with_provider_and_usd_price(bolna: Backend) -> None:
    for area in ("415", "212"):
        rows = _api(
            bolna, "GET", "/phone-numbers/search", params={"country": "US", "pattern": area}
        ).json()
        assert isinstance(rows, list) and len(rows) >= 50
        assert {r["provider"] for r in rows} == {"twilio"}
        assert all(r["phone_number"].startswith(f"+1{area}") and r["price"] == 5.0 for r in rows)
        assert {"region", "friendly_name", "locality"} <= set(rows[0])
    india = _api(
        bolna,
        "GET",
        "/phone-numbers/search",
        params={"country": "IN", "provider": "vobiz", "region": "11"},
    ).json()
    assert india and all(r["phone_number"].startswith("+9111") for r in india)
    assert {r["provider"] for r in india} == {"vobiz"}
    wrong = _api(
        bolna, "GET", "/phone-numbers/search", params={"country": "US", "provider": "plivo"}
    )
    assert wrong.status_code == 400 and wrong.json()["error"] == 400
    no_country = _api(bolna, "GET", "/phone-numbers/search")
    assert no_country.status_code == 422
    assert no_country.json()["detail"][0]["loc"] == ["query", "country"]


def test_buy_validation_and_not_available_bodies(bolna: Backend) -> None:
    bad = _api(bolna, "POST", "/phone-numbers/buy", json={"country": "GB", "phone_number": "12"})
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["body", "country"]
    bad = _api(
        bolna, "POST", "/phone-numbers/buy", json={"country": "US", "phone_number": "4155550100"}
    )
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["type"] == "string_pattern_mismatch"
    number = _client(bolna).search(Q415).numbers[0].number
    body = {"country": "US", "phone_number": number, "provider": "twilio"}
    bought = _api(bolna, "POST", "/phone-numbers/buy", json=body).json()
    assert bought["price"] == 500 and bought["deleted"] is False
    assert bought["telephony_provider"] == "twilio"
    assert str(uuid.UUID(bought["id"])) == bought["id"]  # dashed
    again = _api(bolna, "POST", "/phone-numbers/buy", json=body)
    assert again.status_code == 400
    assert again.json() == {"error": 400, "message": "Phone number not available"}
    assert [e["op"] for e in bolna.ledger()] == ["buy"]


def test_prices_in_three_units_map_to_the_same_money(bolna: Backend) -> None:
    vendor = _client(bolna)
    candidate = vendor.search(Q415).numbers[0]  # USD number
    owned = vendor.buy(candidate, Routing(), {})  # cents
    got = vendor.get(owned.number)  # "$5.0"
    assert got is not None
    five = Decimal(5)
    for money in (candidate.monthly_cost, owned.monthly_cost, got.monthly_cost):
        assert money.amount == five and money.currency == "USD"


def test_read_is_list_and_filter_over_dashed_and_undashed_ids(bolna: Backend) -> None:
    vendor = _client(bolna)
    owned = vendor.buy(vendor.search(Q415).numbers[0], Routing(), {})
    other = vendor.buy(vendor.search(Q415).numbers[0], Routing(), {})
    undashed = _listed(bolna)[owned.number]["id"]
    assert len(undashed) == 32 and "-" not in undashed
    assert owned.vendor_id == str(uuid.UUID(undashed))  # one canonical (dashed) form
    before = len(_calls(bolna))
    for vendor_id in (owned.vendor_id, undashed, owned.vendor_id.upper(), None):
        got = vendor.get(owned.number, vendor_id)
        assert got is not None and got.number == owned.number
        assert got.vendor_id == owned.vendor_id
    assert _calls(bolna)[before:] == [("GET", "/phone-numbers/all")] * 4
    assert vendor.get(owned.number, other.vendor_id) is not None  # the id decides, not the number
    assert vendor.get(owned.number, str(uuid.uuid4())) is None


# -- routing --------------------------------------------------------------------------------
def test_reroute_replaces_the_agent_and_removal_unlinks(bolna: Backend) -> None:
    vendor = _client(bolna)
    owned = vendor.buy(vendor.search(Q415).numbers[0], Routing(), {})
    assert _listed(bolna)[owned.number]["agent_id"] is None

    start = len(_calls(bolna))
    routed = vendor.update_routing(owned, Routing(), Routing(voice_target=AGENT_A))
    moved = vendor.update_routing(routed, routed.routing, Routing(voice_target=AGENT_B))
    assert moved.routing.voice_target == AGENT_B
    assert _listed(bolna)[owned.number]["agent_id"] == AGENT_B
    same = vendor.update_routing(moved, moved.routing, Routing(voice_target=AGENT_B))
    assert same.routing.voice_target == AGENT_B
    unlinked = vendor.update_routing(same, same.routing, Routing())
    assert unlinked.routing.voice_target is None
    assert _listed(bolna)[owned.number]["agent_id"] is None
    sent = [c for c in _calls(bolna)[start:] if c[0] == "POST"]
    assert sent == [
        ("POST", "/inbound/setup"),
        ("POST", "/inbound/setup"),
        ("POST", "/inbound/unlink"),
    ]
    got = vendor.get(owned.number, owned.vendor_id)
    assert got is not None and got.routing == Routing()


def test_inbound_setup_ids(bolna: Backend) -> None:
    vendor = _client(bolna)
    owned = vendor.buy(vendor.search(Q415).numbers[0], Routing(), {})
    undashed = uuid.UUID(owned.vendor_id).hex
    ok = _api(
        bolna, "POST", "/inbound/setup", json={"agent_id": AGENT_A, "phone_number_id": undashed}
    )
    assert ok.status_code == 200
    assert ok.json()["id"] == undashed and ok.json()["phone_number"] == owned.number
    bad = _api(
        bolna,
        "POST",
        "/inbound/setup",
        json={"agent_id": uuid.UUID(AGENT_B).hex, "phone_number_id": undashed},
    )
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "agent_id"]
    assert _listed(bolna)[owned.number]["agent_id"] == AGENT_A
    with pytest.raises(NotFound):
        vendor.update_routing(
            owned.replace(vendor_id=str(uuid.uuid4())),
            Routing(),
            Routing(voice_target=AGENT_B),
        )
    with pytest.raises(ValidationError):
        vendor.update_routing(owned, Routing(), Routing(label="front desk"))


# -- release --------------------------------------------------------------------------------
@pytest.mark.parametrize("texts", ["emulator", "opaque"])
@pytest.mark.parametrize("unknown_status", [404, 400])
def test_release_of_an_unknown_id_is_success(
    bolna: Backend, unknown_status: int, texts: str
) -> None:
    """Whatever Bolna's text, a refused DELETE of a number the listing lacks is a release."""
    bolna.control(
        "POST", "settings", {"unknown_id_status": unknown_status, "bolna_error_texts": texts}
    )
    vendor = _client(bolna)
    owned = vendor.buy(vendor.search(Q415).numbers[0], Routing(), {})
    gone = _api(bolna, "DELETE", f"/phone-numbers/{uuid.UUID(owned.vendor_id).hex}")
    assert gone.json() == {
        "message": "The phone number has been removed from your account",
        "state": "deleted",
    }
    again = _api(bolna, "DELETE", f"/phone-numbers/{owned.vendor_id}")
    assert again.status_code == unknown_status
    vendor.release(owned.number, owned.vendor_id)  # not found = already released
    vendor.release(owned.number, "")  # no id: looked up by number, absent = done
    assert [e["op"] for e in bolna.ledger()] == ["buy", "release"]


def test_an_unrecognised_refusal_of_a_release_is_checked_against_the_listing(
    bolna: Backend,
) -> None:
    vendor = _client(bolna)
    owned = vendor.buy(vendor.search(Q415).numbers[0], Routing(), {})
    bolna.faults(rules=[{"method": "DELETE", "path": "/phone-numbers/", "status": 400}])
    with pytest.raises(ValidationError):  # still listed: not released, and not said to be
        vendor.release(owned.number, owned.vendor_id)
    assert owned.number in bolna.owned_numbers()


@pytest.mark.parametrize(("texts", "error"), [("emulator", NotAvailable), ("opaque", ServerError)])
def test_taken_number_is_not_available_only_when_bolna_says_so(
    bolna: Backend, texts: str, error: type[Exception]
) -> None:
    """Bolna's texts are unpublished: an unrecognised 400 to a purchase is ambiguous."""
    bolna.control("POST", "settings", {"bolna_error_texts": texts})
    vendor = _client(bolna)
    candidate = vendor.search(Q415).numbers[0]
    vendor.buy(candidate, Routing(), {})
    with pytest.raises(error):
        vendor.buy(candidate, Routing(), {})
    assert [e["op"] for e in bolna.ledger()] == ["buy"]


def test_a_404_from_a_wrong_base_url_is_not_taken_for_released(bolna: Backend) -> None:
    vendor = _client(bolna)
    owned = vendor.buy(vendor.search(Q415).numbers[0], Routing(), {})
    lost = cast(BolnaVendor, bolna.client({"phonenumbers:bolnaBaseUrl": bolna.url + "/v9"}))
    with pytest.raises(ConfigError, match="phonenumbers:bolnaBaseUrl"):
        lost.release(owned.number, owned.vendor_id)
    assert owned.number in bolna.owned_numbers()


# -- through the provider (real gRPC server) ------------------------------------------------
@pytest.fixture
def provider(bolna: Backend) -> Iterator[ProviderProcess]:
    with ProviderProcess() as process:
        process.configure(bolna.config)
        yield process


def _checked(provider: ProviderProcess, ser: str, **inputs: Any) -> dict[str, Any]:
    outcome = provider.check(URN.format("n"), {}, {"__provider": ser, "vendor": "bolna", **inputs})
    assert outcome.failures == []
    return outcome.inputs


def test_create_attaches_the_agent_with_one_extra_call(
    bolna: Backend, provider: ProviderProcess, serialized_provider: str
) -> None:
    inputs = _checked(
        provider,
        serialized_provider,
        country="US",
        area_code="415",
        routing={"voice_target": AGENT_A},
    )
    start = len(_calls(bolna))
    id_, outs = provider.create(URN.format("n"), inputs)
    assert _calls(bolna)[start:] == [
        ("GET", "/phone-numbers/search"),
        ("POST", "/phone-numbers/buy"),
        ("POST", "/inbound/setup"),
    ]
    assert outs["routing"] == {"voice_target": AGENT_A} and outs["monthly_cost"] == 5.0
    assert _listed(bolna)[id_]["agent_id"] == AGENT_A
    assert [e["op"] for e in bolna.ledger()] == ["buy", "update"]

    news = _checked(provider, serialized_provider, country="US", area_code="415")
    start = len(_calls(bolna))
    new_outs = provider.update(URN.format("n"), id_, outs, news)
    assert new_outs["routing"] == {}
    assert _calls(bolna)[start:] == [("POST", "/inbound/unlink")]
    assert _listed(bolna)[id_]["agent_id"] is None


def test_an_unrecognised_purchase_refusal_is_checked_then_the_next_candidate_bought(
    bolna: Backend, provider: ProviderProcess, serialized_provider: str
) -> None:
    inputs = _checked(provider, serialized_provider, country="US", area_code="415")
    bolna.faults(
        rules=[{"method": "POST", "path": "/phone-numbers/buy$", "status": 400, "times": 1}]
    )
    bolna.control("DELETE", "requests")
    id_, _ = provider.create(URN.format("n"), inputs)
    calls = [(m, p) for m, p, _ in bolna.requests()]
    buys = [i for i, call in enumerate(calls) if call == ("POST", "/phone-numbers/buy")]
    assert len(buys) == 2  # the refused one, then another candidate
    assert ("GET", "/phone-numbers/all") in calls[buys[0] : buys[1]]  # ownership checked
    assert [e["op"] for e in bolna.ledger()] == ["buy"] and id_ in bolna.owned_numbers()


def test_failing_inbound_setup_after_the_buy_releases_the_number(
    bolna: Backend, provider: ProviderProcess, serialized_provider: str
) -> None:
    bolna.faults(rules=[{"method": "POST", "path": "/inbound/setup", "status": 500, "times": 10}])
    inputs = _checked(
        provider,
        serialized_provider,
        country="US",
        area_code="415",
        routing={"voice_target": AGENT_A},
    )
    with pytest.raises(ProviderError) as info:
        provider.create(URN.format("n"), inputs)
    assert "released again" in info.value.last_line
    events = bolna.ledger()
    assert [e["op"] for e in events] == ["buy", "release"]
    assert events[0]["number"] == events[1]["number"]
    assert not bolna.owned_numbers()
    assert API_KEY not in info.value.detail and API_KEY not in provider.stderr


def test_indian_number_through_vobiz_in_a_region(
    bolna: Backend, provider: ProviderProcess, serialized_provider: str
) -> None:
    inputs = _checked(
        provider,
        serialized_provider,
        country="IN",
        vendor_options={"provider": "vobiz", "region": "11"},
    )
    id_, outs = provider.create(URN.format("n"), inputs)
    assert id_.startswith("+9111") and outs["country"] == "IN"
    assert _listed(bolna)[id_]["telephony_provider"] == "vobiz"  # provider reached the buy


REJECTED: list[tuple[dict[str, Any], str]] = [
    ({"country": "US", "vendor_options": {"provider": "telnyx"}}, "vendor_options.provider"),
    ({"country": "US", "vendor_options": {"provider": "plivo"}}, "vendor_options.provider"),
    ({"country": "IN", "vendor_options": {"provider": "twilio"}}, "vendor_options.provider"),
    ({"country": "US", "vendor_options": {"region": "80"}}, "vendor_options.region"),
    ({"country": "IN", "vendor_options": {"region": "north"}}, "vendor_options.region"),
    ({"country": "US", "vendor_options": {"subaccount": "x"}}, "vendor_options.subaccount"),
    ({"country": "US", "area_code": "4155"}, "area_code"),
    ({"country": "US", "number_type": "toll_free"}, "number_type"),
    ({"country": "GB"}, "country"),
    ({"country": "US", "routing": {"label": "desk"}}, "routing.label"),
    ({"country": "US", "routing": {"voice_target": "agent-7"}}, "routing.voice_target"),
]


def test_check_rejects_what_bolna_cannot_do(
    provider: ProviderProcess, serialized_provider: str
) -> None:
    for inputs, field in REJECTED:
        outcome = provider.check(
            URN.format("n"), {}, {"__provider": serialized_provider, "vendor": "bolna", **inputs}
        )
        reasons = dict(outcome.failures)
        assert field in reasons, (inputs, outcome.failures)
        assert "bolna" in reasons[field]


def test_check_accepts_an_indian_provider_and_region(
    provider: ProviderProcess, serialized_provider: str
) -> None:
    for options in ({"provider": "plivo", "region": "80"}, {"provider": "vobiz"}, {}):
        _checked(
            provider,
            serialized_provider,
            country="IN",
            vendor_options=options,
            routing={"voice_target": AGENT_B},
        )
