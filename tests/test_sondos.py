"""Sondos AI quirks, over real HTTP against the Sondos emulator (the lifecycle is shared).

Laravel 401/422 shapes; the payment-method switch (402); search by ``contains`` with local
area-code filtering; assistant assignment (one number per assistant, re-routing = unassign
old + assign new, unassign when routing is dropped); scheduled release (second DELETE is 400
and still success, read reports gone); create through the provider = search + buy + one
routing call, and a failed routing call releases the number again.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from pulumi_phonenumbers.emulators.sondos import API_KEY, ENTRY_FIELDS
from pulumi_phonenumbers.errors import AuthError, NotAvailable, PaymentError, ValidationError
from pulumi_phonenumbers.models import AvailableNumber, NumberQuery, OwnedNumber, Routing
from pulumi_phonenumbers.testing import ProviderError, ProviderProcess
from pulumi_phonenumbers.testing.backends import Backend
from pulumi_phonenumbers.vendors.sondos import SondosVendor

Q415 = NumberQuery(country="US", number_type="local", area_code="415")
URN = "urn:pulumi:dev::phonenumbers-test::pulumi-python:dynamic/phonenumbers:PhoneNumber::{}"


@pytest.fixture
def sondos(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    backend = Backend.start("sondos", tmp_path_factory.mktemp("sondos"))
    yield backend
    backend.stop()


@pytest.fixture
def api(sondos: Backend) -> Iterator[httpx.Client]:
    """Raw HTTP at the configured ``/api`` base with the right Bearer key."""
    with httpx.Client(
        base_url=sondos.config["phonenumbers:sondosBaseUrl"],
        headers={"Authorization": f"Bearer {API_KEY}"},
        timeout=10,
    ) as client:
        yield client


def _client(sondos: Backend) -> SondosVendor:
    client = sondos.client()
    assert isinstance(client, SondosVendor)
    return client


def _ops(sondos: Backend, op: str) -> list[str]:
    return [e["number"] for e in sondos.ledger() if e["op"] == op]


def _bought(client: SondosVendor) -> OwnedNumber:
    return client.buy(client.search(Q415).numbers[0], Routing(), {})


def _assistants(sondos: Backend) -> dict[str, Any]:
    value: dict[str, Any] = sondos.store.setting("sondos_assistants", {})
    return value


def _listed(api: httpx.Client, number_id: str) -> dict[str, Any]:
    rows = api.get("/user/phone-numbers/all").json()["data"]
    return next(r for r in rows if str(r["id"]) == number_id)


def _holder(api: httpx.Client, number_id: str) -> int | None:
    """The assistant holding a number, from the assistants list (the list item has none)."""
    rows = api.get("/user/assistants/get", params={"per_page": 100}).json()["data"]
    held = [a["id"] for a in rows if str(a["phone_number_id"]) == number_id]
    return held[0] if held else None


# -- auth and error shapes -----------------------------------------------------------------
def test_unauthenticated_is_laravel_401_and_auth_error(sondos: Backend, api: httpx.Client) -> None:
    base = sondos.config["phonenumbers:sondosBaseUrl"]
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": API_KEY}):
        response = httpx.get(f"{base}/user/phone-numbers/search", headers=headers, timeout=10)
        assert (response.status_code, response.json()) == (401, {"message": "Unauthenticated."})
    bad = sondos.client(sondos.bad_credentials())
    with pytest.raises(AuthError) as info:
        next(bad.list_owned())
    assert "Unauthenticated." in str(info.value)
    for secret in (API_KEY, *sondos.bad_credentials().values()):
        assert secret not in str(info.value)


def test_malformed_number_is_laravel_422(sondos: Backend, api: httpx.Client) -> None:
    response = api.post("/user/phone-numbers/purchase", json={"phone_number": "4155550100"})
    assert response.status_code == 422
    assert response.json() == {
        "message": "The phone number format is invalid.",
        "errors": {"phone_number": ["The phone number format is invalid."]},
    }
    missing = api.post("/user/phone-numbers/purchase", content=b"{not json")
    assert missing.status_code == 422
    assert "phone_number" in missing.json()["errors"]
    client = _client(sondos)
    with pytest.raises(ValidationError) as info:
        client.buy(
            AvailableNumber(number="4155550100", country="US", number_type="local"), Routing(), {}
        )
    assert info.value.status == 422 and "phone_number: The phone number format" in str(info.value)
    assert not _ops(sondos, "buy")


def test_taken_number_is_400_error_shape(sondos: Backend, api: httpx.Client) -> None:
    client = _client(sondos)
    owned = _bought(client)
    response = api.post("/user/phone-numbers/purchase", json={"phone_number": owned.number})
    assert (response.status_code, response.json()) == (
        400,
        {"error": "This phone number is already in use."},
    )
    gb_toll_free = api.post("/user/phone-numbers/purchase", json={"phone_number": "+448000000000"})
    assert (gb_toll_free.status_code, gb_toll_free.json()) == (
        400,
        {"error": "This phone number is not available."},
    )
    with pytest.raises(NotAvailable):
        client.buy(
            AvailableNumber(number=owned.number, country="US", number_type="local"), Routing(), {}
        )


# -- payment switch --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("state", "message"), [("none", "No payment method on file."), ("failing", "Payment failed.")]
)
def test_payment_switch_is_payment_error_and_buys_nothing(
    sondos: Backend, api: httpx.Client, state: str, message: str
) -> None:
    client = _client(sondos)
    candidate = client.search(Q415).numbers[0]
    sondos.control("POST", "settings", {"sondos_payment_method": state})
    raw = api.post("/user/phone-numbers/purchase", json={"phone_number": candidate.number})
    assert (raw.status_code, raw.json()) == (402, {"error": message})
    with pytest.raises(PaymentError) as info:
        client.buy(candidate, Routing(), {})
    assert message in str(info.value) and "payment method" in str(info.value)
    assert not _ops(sondos, "buy") and not sondos.owned_numbers()
    assert candidate.number in {n.number for n in client.search(Q415).numbers}

    sondos.control("POST", "settings", {"sondos_payment_method": "valid"})
    assert client.buy(candidate, Routing(), {}).number == candidate.number


# -- search ----------------------------------------------------------------------------------
def test_area_code_goes_out_as_contains_and_is_filtered_locally(
    api: httpx.Client, sondos: Backend
) -> None:
    raw = api.get("/user/phone-numbers/search", params={"country_code": "US", "contains": "415"})
    offers = raw.json()["data"]
    assert offers and set(offers[0]) == {
        "phone_number",
        "phone_number_formatted",
        "country_code",
        "price",
        "stripe_price_id",
        "address_requirements",
        "sms_capable",
    }
    assert all(o["phone_number"].startswith("+1415") for o in offers)  # area-code matches first
    tail = offers[0]["phone_number"][-4:]  # ... but contains matches anywhere in the number
    anywhere = api.get("/user/phone-numbers/search", params={"contains": tail}).json()["data"]
    assert offers[0]["phone_number"] in {o["phone_number"] for o in anywhere}
    page = _client(sondos).search(NumberQuery(country="US", area_code="415", contains="9"))
    assert page.numbers and page.next_cursor is None
    for available in page.numbers:
        assert available.number.startswith("+1415") and "9" in available.number
        assert available.monthly_cost.currency == "USD" and available.monthly_cost.amount > 0
    too_long = api.get("/user/phone-numbers/search", params={"contains": "12345678901"})
    assert too_long.status_code == 422 and "contains" in too_long.json()["errors"]
    assert SondosVendor.check_query(NumberQuery(contains="12345678901"), {})[0][0] == "contains"


# -- routing ---------------------------------------------------------------------------------
def test_rerouting_moves_the_number_between_assistants(sondos: Backend) -> None:
    client = _client(sondos)
    owned = client.update_routing(_bought(client), Routing(), Routing(voice_target="812"))
    number_id = int(owned.vendor_id)
    assert _assistants(sondos)["812"]["phone_number_id"] == number_id

    before = client.http.requests_sent
    moved = client.update_routing(owned, Routing(voice_target="812"), Routing(voice_target="813"))
    assert client.http.requests_sent - before == 2  # unassign 812, assign 813
    assert moved.routing.voice_target == "813"
    assistants = _assistants(sondos)
    assert assistants["812"]["phone_number_id"] is None
    assert assistants["813"]["phone_number_id"] == number_id
    record = sondos.store.get(owned.number)
    assert record is not None and record.routing["voice_target"] == "813"
    got = client.get(owned.number, owned.vendor_id)
    assert got is not None and got.routing.voice_target == "813"


def test_emulator_keeps_assignment_one_to_one(sondos: Backend, api: httpx.Client) -> None:
    client = _client(sondos)
    first, second = _bought(client), _bought(client)
    assert api.put("/user/assistant/900", json={"phone_number_id": int(first.vendor_id)}).is_success
    # assigning a number held elsewhere moves it; an assistant's previous number is freed
    assert api.put("/user/assistant/901", json={"phone_number_id": int(first.vendor_id)}).is_success
    assert api.put(
        "/user/assistant/901", json={"phone_number_id": int(second.vendor_id)}
    ).is_success
    assistants = _assistants(sondos)
    assert assistants["900"]["phone_number_id"] is None
    assert assistants["901"]["phone_number_id"] == int(second.vendor_id)
    assert _holder(api, first.vendor_id) is None
    assert _holder(api, second.vendor_id) == 901
    inbound = api.get("/user/assistants/phone-numbers", params={"type": "inbound"}).json()
    assert [row["id"] for row in inbound] == [int(first.vendor_id)]
    bad = api.put("/user/assistant/901", json={"phone_number_id": 99999})
    assert bad.status_code == 422 and "phone_number_id" in bad.json()["errors"]


def test_dropping_voice_target_unassigns_the_assistant(sondos: Backend) -> None:
    client = _client(sondos)
    owned = client.update_routing(_bought(client), Routing(), Routing(voice_target="812"))
    before = client.http.requests_sent
    cleared = client.update_routing(owned, Routing(voice_target="812"), Routing())
    assert client.http.requests_sent - before == 1
    assert cleared.routing.voice_target is None
    assert _assistants(sondos)["812"]["phone_number_id"] is None
    got = client.get(owned.number)
    assert got is not None and got.routing == Routing()


GB_LOCAL = NumberQuery(country="GB", number_type="local")


def test_voice_only_number_is_listed_with_its_assistant(sondos: Backend, api: httpx.Client) -> None:
    """A voice-only number is missing from the legacy list; reads use ``/all`` + assistants."""
    client = _client(sondos)
    candidate = client.search(GB_LOCAL).numbers[0]
    assert candidate.capabilities == ("voice",)
    owned = client.update_routing(
        client.buy(candidate, Routing(), {}), Routing(), Routing(voice_target="812")
    )
    legacy = api.get("/user/phone-numbers").json()["data"]
    assert owned.number not in {r["phone_number"] for r in legacy}
    item = _listed(api, owned.vendor_id)
    assert set(item) == set(ENTRY_FIELDS)
    assert item["sms_capable"] is False and item["has_active_subscription"] is True

    sondos.control("DELETE", "requests")
    got = client.get(owned.number, owned.vendor_id)
    assert got is not None and got.vendor_id == owned.vendor_id
    assert got.routing.voice_target == "812" and got.capabilities == ("voice",)
    assert owned.number in {n.number for n in client.list_owned()}
    reads = {(m, p) for m, p, _ in sondos.requests()}
    assert reads == {("GET", "/api/user/phone-numbers/all"), ("GET", "/api/user/assistants/get")}


def test_assistants_are_read_page_by_page(sondos: Backend, api: httpx.Client) -> None:
    client = _client(sondos)
    owned = _bought(client)
    for assistant in range(700, 905):  # 205 assistants: three pages of 100
        assert api.put(f"/user/assistant/{assistant}", json={"phone_number_id": None}).is_success
    client.update_routing(owned, Routing(), Routing(voice_target="904"))
    sondos.control("DELETE", "requests")
    got = client.get(owned.number, owned.vendor_id)
    assert got is not None and got.routing.voice_target == "904"
    pages = [q for m, p, q in sondos.requests() if p.endswith("/assistants/get")]
    assert pages == [f"per_page=100&page={n}" for n in (1, 2, 3)]
    too_big = api.get("/user/assistants/get", params={"per_page": 101})
    assert too_big.status_code == 422 and "per_page" in too_big.json()["errors"]
    assert api.patch("/user/assistant/904", json={"phone_number_id": None}).status_code == 405


# -- scheduled release -----------------------------------------------------------------------
def test_release_is_scheduled_and_counts_as_released(sondos: Backend, api: httpx.Client) -> None:
    client = _client(sondos)
    owned = client.update_routing(_bought(client), Routing(), Routing(voice_target="812"))
    client.release(owned.number, owned.vendor_id)

    pending = _listed(api, owned.vendor_id)
    assert pending["has_active_subscription"] is False  # listed until the period ends
    assert _assistants(sondos)["812"]["phone_number_id"] is None  # release side effect
    assert client.get(owned.number, owned.vendor_id) is None
    assert owned.number not in {n.number for n in client.list_owned()}
    assert _ops(sondos, "release") == [owned.number]

    again = api.delete(f"/user/phone-numbers/{owned.vendor_id}")
    assert (again.status_code, again.json()) == (
        400,
        {"error": "Phone number is already scheduled for release."},
    )
    client.release(owned.number, owned.vendor_id)  # 400 "already scheduled" is success
    unknown = api.delete("/user/phone-numbers/424242")
    assert (unknown.status_code, unknown.json()) == (404, {"error": "Phone number not found."})
    client.release("+14155550100", "424242")  # 404 is success
    assert _ops(sondos, "release") == [owned.number]


# -- through the provider ----------------------------------------------------------------------
def _counting(sondos: Backend) -> None:
    """A no-op fault rule that every vendor request consumes: ``times`` left counts calls."""
    sondos.faults(rules=[{"times": 1000, "slow_ms": 1}])


def _calls(sondos: Backend) -> int:
    rules = sondos.control("GET", "faults")["rules"]
    return 1000 - int(rules[-1]["times"])


def _inputs(provider: ProviderProcess, ser: str, name: str) -> dict[str, Any]:
    outcome = provider.check(
        URN.format(name),
        {},
        {
            "__provider": ser,
            "vendor": "sondos",
            "country": "US",
            "area_code": "415",
            "routing": {"voice_target": "812"},
        },
    )
    assert outcome.failures == []
    return outcome.inputs


def test_provider_create_routes_with_one_extra_call(
    sondos: Backend, serialized_provider: str
) -> None:
    with ProviderProcess() as provider:
        provider.configure(sondos.config)
        inputs = _inputs(provider, serialized_provider, "a")
        _counting(sondos)
        id_, outs = provider.create(URN.format("a"), inputs)
    assert _calls(sondos) == 3  # search + purchase + PUT /user/assistant/812
    assert outs["routing"] == {"voice_target": "812"}
    assert _assistants(sondos)["812"]["phone_number_id"] == int(outs["vendor_id"])
    assert _ops(sondos, "buy") == [id_]


def test_provider_releases_when_routing_fails(sondos: Backend, serialized_provider: str) -> None:
    with ProviderProcess() as provider:
        provider.configure(sondos.config)
        inputs = _inputs(provider, serialized_provider, "b")
        sondos.faults(
            rules=[{"method": "PUT", "path": "/user/assistant/", "status": 500, "times": 10}]
        )
        with pytest.raises(ProviderError) as info:
            provider.create(URN.format("b"), inputs)
    assert "released again" in info.value.detail
    bought = _ops(sondos, "buy")
    assert len(bought) == 1 and _ops(sondos, "release") == bought
    assert not sondos.owned_numbers()
    assert API_KEY not in info.value.detail


def test_refresh_keeps_a_voice_only_number_and_its_assistant(
    sondos: Backend, serialized_provider: str
) -> None:
    """Through the provider: a routed voice-only number survives refresh and does not drift."""
    urn = URN.format("voice")
    with ProviderProcess() as provider:
        provider.configure(sondos.config)
        outcome = provider.check(
            urn,
            {},
            {
                "__provider": serialized_provider,
                "vendor": "sondos",
                "country": "GB",
                "capabilities": ["voice"],
                "routing": {"voice_target": "812"},
            },
        )
        assert outcome.failures == []
        id_, outs = provider.create(urn, outcome.inputs)
        assert outs["number_capabilities"] == ["voice"]
        sondos.control("DELETE", "requests")
        read_id, read_outs, _ = provider.read(urn, id_, outs)
        assert read_id == id_ and read_outs["routing"] == {"voice_target": "812"}
        assert provider.diff(urn, id_, read_outs, outcome.inputs).changes is False
    reads = {p for m, p, _ in sondos.requests() if m == "GET"}
    assert reads == {"/api/user/phone-numbers/all", "/api/user/assistants/get"}
