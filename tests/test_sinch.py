"""Sinch quirks, over real HTTP against the Sinch emulator (the lifecycle is in the shared suites).

OAuth2 token caching and renewal, Basic auth, ``+`` in paths, asynchronous provisioning,
US-LOCAL-only renting, token paging with the ``type`` quirk, the label PATCH after a rent,
and Sinch's official Python SDK pointed at the emulator.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from pulumi_phonenumbers._purchase import Purchase
from pulumi_phonenumbers.emulators.sinch import KEY_ID, KEY_SECRET, PROJECT_ID
from pulumi_phonenumbers.errors import (
    AuthError,
    ConfigError,
    ServerError,
    ValidationError,
)
from pulumi_phonenumbers.models import AvailableNumber, NumberQuery, Routing
from pulumi_phonenumbers.testing.backends import Backend
from pulumi_phonenumbers.vendors.sinch import SinchVendor

Q415 = NumberQuery(country="US", number_type="local", area_code="415")
APP1, APP2 = SinchVendor.info.target_examples
PLAN_A, PLAN_B = "82b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5", "9f8e7d6c5b4a39281706f5e4d3c2b1a0"


@pytest.fixture
def sinch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    backend = Backend.start("sinch", tmp_path_factory.mktemp("sinch"))
    yield backend
    backend.stop()


def _client(backend: Backend, **overrides: str) -> SinchVendor:
    client = backend.client({f"phonenumbers:{k}": v for k, v in overrides.items()})
    assert isinstance(client, SinchVendor)
    return client


def _tokens(backend: Backend) -> int:
    return int(backend.store.setting("sinch_tokens_issued", 0))


def _api(backend: Backend, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """A raw call with Basic auth; ``path`` is under ``/v1/projects/{projectId}``."""
    kwargs.setdefault("auth", (KEY_ID, KEY_SECRET))
    url = f"{backend.url}/v1/projects/{PROJECT_ID}{path}"
    return httpx.request(method, url, timeout=10, **kwargs)


def _settings(backend: Backend, **switches: Any) -> None:
    backend.control("POST", "settings", switches)


# -- auth ----------------------------------------------------------------------------------------
def test_oauth_token_is_fetched_once_and_shared_by_threads(sinch: Backend) -> None:
    client = _client(sinch)
    with ThreadPoolExecutor(4) as pool:
        pages = list(pool.map(lambda _: client.search(Q415), range(8)))
    assert all(page.numbers for page in pages)
    assert client.get(pages[0].numbers[0].number) is None
    assert _tokens(sinch) == 1


def test_expired_token_is_renewed_once_on_401(sinch: Backend) -> None:
    issued = httpx.post(
        f"{sinch.url}/oauth2/token",
        auth=(KEY_ID, KEY_SECRET),
        data={"grant_type": "client_credentials"},
        timeout=10,
    )
    assert issued.status_code == 200
    body = issued.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600 and "scope" in body
    client = _client(sinch)
    client.search(Q415)
    assert _tokens(sinch) == 2

    _settings(sinch, sinch_expire_tokens=True)
    stale = _api(
        sinch,
        "GET",
        "/activeNumbers?type=LOCAL",
        auth=None,
        headers={"Authorization": f"Bearer {body['access_token']}"},
    )
    assert stale.status_code == 401
    assert "expired" in stale.headers["WWW-Authenticate"]
    assert stale.json()["error"]["status"] == "UNAUTHENTICATED"

    assert client.search(Q415).numbers  # the client's token expired too: renewed, retried
    client.search(Q415)
    assert _tokens(sinch) == 3


def test_token_is_renewed_before_it_expires(sinch: Backend) -> None:
    _settings(sinch, sinch_token_ttl=2)
    client = _client(sinch)
    client.search(Q415)
    client.search(Q415)
    assert _tokens(sinch) == 1
    time.sleep(1.1)  # past the renewal point (half of a 2 s lifetime), before the expiry
    client.search(Q415)
    assert _tokens(sinch) == 2


def test_token_endpoint_speaks_oauth2(sinch: Backend) -> None:
    url = f"{sinch.url}/oauth2/token"
    wrong = httpx.post(url, auth=(KEY_ID, "nope"), data={"grant_type": "client_credentials"})
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    grant = httpx.post(url, auth=(KEY_ID, KEY_SECRET), data={"grant_type": "password"})
    assert grant.status_code == 400 and grant.json()["error"] == "unsupported_grant_type"
    form = httpx.post(
        url,
        data={"grant_type": "client_credentials", "client_id": KEY_ID, "client_secret": KEY_SECRET},
    )
    assert form.status_code == 200 and form.json()["access_token"]


def test_basic_auth_mode(sinch: Backend) -> None:
    client = _client(sinch, sinchAuthMode="basic")
    candidate = client.search(Q415).numbers[0]
    owned = client.buy(candidate, Routing(voice_target=APP1), {})
    assert client.get(owned.number) is not None
    client.release(owned.number, owned.vendor_id)
    assert _tokens(sinch) == 0

    bad = _client(sinch, sinchAuthMode="basic", sinchKeySecret="wrong-secret-value")
    with pytest.raises(AuthError) as info:
        bad.search(Q415)
    assert "wrong-secret-value" not in str(info.value)
    with pytest.raises(ConfigError):
        _client(sinch, sinchAuthMode="digest")


def test_wrong_project_is_permission_denied(sinch: Backend) -> None:
    client = _client(sinch, sinchProjectId="00000000-0000-0000-0000-000000000000")
    with pytest.raises(AuthError) as info:
        client.search(Q415)
    assert info.value.status == 403 and info.value.code == "PERMISSION_DENIED"


# -- paths and error envelope ----------------------------------------------------------------------
def test_plus_in_paths_raw_or_encoded(sinch: Backend) -> None:
    number = _client(sinch).search(Q415).numbers[0].number
    encoded = number.replace("+", "%2B")
    assert _api(sinch, "GET", f"/availableNumbers/{number}").json()["phoneNumber"] == number
    assert _api(sinch, "GET", f"/availableNumbers/{encoded}").json()["phoneNumber"] == number

    rented = _api(
        sinch,
        "POST",
        f"/availableNumbers/{encoded}:rent",
        json={
            "voiceConfiguration": {"appId": APP1, "futureField": 1},
            "callbackUrl": "https://example.com/cb",
            "eventDestinationTarget": "x",
        },
    )
    assert rented.status_code == 200, rented.text
    active = rented.json()
    assert active["voiceConfiguration"]["appId"] == ""  # legacy body without type = RTC
    assert active["voiceConfiguration"]["scheduledVoiceProvisioning"]["appId"] == APP1
    assert _api(sinch, "GET", f"/activeNumbers/{number}").status_code == 200
    patched = _api(sinch, "PATCH", f"/activeNumbers/{number}", json={"displayName": "Desk"})
    assert patched.json()["displayName"] == "Desk"

    released = _api(sinch, "POST", f"/activeNumbers/{encoded}:release")
    assert released.status_code == 200
    assert released.json()["expireAt"] == released.json()["nextChargeDate"]
    gone = _api(sinch, "POST", f"/activeNumbers/{number}:release")
    assert gone.status_code == 404
    assert gone.json()["error"]["status"] == "NOT_FOUND"
    assert gone.json()["error"]["details"] == [
        {
            "type": "ResourceInfo",
            "resourceType": "ActiveNumber",
            "resourceName": number,
            "owner": "",
            "description": "",
        }
    ]
    no_plus = _api(sinch, "GET", f"/activeNumbers/{number[1:]}")
    assert no_plus.status_code == 400 and no_plus.json()["error"]["status"] == "INVALID_ARGUMENT"


def test_a_released_number_lingers_until_expire_at_and_reads_as_gone(sinch: Backend) -> None:
    client = _client(sinch)
    owned = client.buy(client.search(Q415).numbers[0], Routing(voice_target=APP1), {})
    client.release(owned.number, owned.vendor_id)

    lingering = _api(sinch, "GET", f"/activeNumbers/{owned.number}")
    assert lingering.status_code == 200 and lingering.json()["expireAt"]
    listed = _api(sinch, "GET", "/activeNumbers", params={"type": "LOCAL", "regionCode": "US"})
    (row,) = [n for n in listed.json()["activeNumbers"] if n["phoneNumber"] == owned.number]
    assert row["expireAt"] == lingering.json()["expireAt"]

    assert client.get(owned.number, owned.vendor_id) is None
    assert owned.number not in {n.number for n in client.list_owned()}
    assert owned.number not in sinch.owned_numbers()  # released: the ledger says so
    again = client.buy(
        AvailableNumber(number=owned.number, country="US", number_type="local"), Routing(), {}
    )
    assert client.get(again.number) is not None  # bought again: no longer lingering
    assert not _api(sinch, "GET", f"/activeNumbers/{owned.number}").json()["expireAt"]


def test_capabilities_is_plural_and_a_singular_spelling_filters_nothing(sinch: Backend) -> None:
    """``capabilities`` (OAS 1.0.3, sinch 2.3.0); ``capability`` is an unknown parameter."""
    base = {"regionCode": "GB", "type": "LOCAL"}  # GB local numbers are voice-only
    plural = _api(sinch, "GET", "/availableNumbers", params={**base, "capabilities": "SMS"})
    singular = _api(sinch, "GET", "/availableNumbers", params={**base, "capability": "SMS"})
    assert plural.status_code == singular.status_code == 200
    assert plural.json()["availableNumbers"] == []
    assert singular.json()["availableNumbers"]  # ignored, so nothing was filtered
    sinch.control("DELETE", "requests")
    _client(sinch).search(NumberQuery(country="US", capabilities=("sms",)))
    (query,) = [q for _, p, q in sinch.requests() if p.endswith("/availableNumbers")]
    assert "capabilities=SMS" in query and "capability=" not in query


def test_malformed_requests_get_invalid_argument(sinch: Backend) -> None:
    missing = _api(sinch, "GET", "/availableNumbers", params={"regionCode": "US"})
    assert missing.status_code == 400
    violation = missing.json()["error"]["details"][0]["fieldViolations"][0]
    assert violation["field"] == "type"
    bad_type = _api(sinch, "GET", "/availableNumbers", params={"regionCode": "US", "type": "XXX"})
    assert bad_type.json()["error"]["message"] == 'parsing field "type": "XXX" is not a valid value'
    number = _client(sinch).search(Q415).numbers[0].number
    empty = _api(sinch, "POST", f"/availableNumbers/{number}:rent", json={"smsConfiguration": {}})
    assert empty.status_code == 400
    bad_app = _api(
        sinch,
        "POST",
        f"/availableNumbers/{number}:rent",
        json={"voiceConfiguration": {"type": "RTC", "appId": "not-a-uuid"}},
    )
    assert bad_app.status_code == 400
    assert not [e for e in sinch.ledger() if e["op"] == "buy"]


# -- provisioning ---------------------------------------------------------------------------------
def test_async_provisioning_is_observed_in_both_phases(sinch: Backend) -> None:
    client = _client(sinch)  # default: settles after 2 reads of the number
    candidate = client.search(Q415).numbers[0]
    owned = client.buy(candidate, Routing(voice_target=APP1, sms_target=PLAN_A), {})
    assert owned.status == "provisioning"
    assert (owned.routing.voice_target, owned.routing.sms_target) == (APP1, PLAN_A)
    first = client.get(owned.number)
    assert first is not None and first.status == "provisioning"
    assert first.routing.voice_target == APP1
    second = client.get(owned.number)
    assert second is not None and second.status == "active"
    assert (second.routing.voice_target, second.routing.sms_target) == (APP1, PLAN_A)

    moved = client.update_routing(second, Routing(voice_target=APP1), Routing(voice_target=APP2))
    assert moved.status == "provisioning" and moved.routing.voice_target == APP2
    raw = _api(sinch, "GET", f"/activeNumbers/{owned.number}").json()["voiceConfiguration"]
    assert raw["appId"] == APP1  # the old target stays in force while provisioning runs
    assert raw["scheduledVoiceProvisioning"]["appId"] == APP2
    assert raw["scheduledVoiceProvisioning"]["status"] == "IN_PROGRESS"
    settled = client.get(owned.number)
    assert settled is not None and settled.status == "active"
    assert settled.routing.voice_target == APP2
    raw = _api(sinch, "GET", f"/activeNumbers/{owned.number}").json()["voiceConfiguration"]
    assert raw["appId"] == APP2 and "scheduledVoiceProvisioning" not in raw


def test_failed_provisioning_surfaces_in_status(sinch: Backend) -> None:
    _settings(sinch, sinch_provisioning_reads=1, sinch_provisioning_outcome="fail")
    client = _client(sinch)
    owned = client.buy(client.search(Q415).numbers[0], Routing(voice_target=APP1), {})
    assert owned.status == "provisioning"
    failed = client.get(owned.number)
    assert failed is not None and failed.status == "provisioning_failed"
    assert failed.routing.voice_target is None  # what is really in force


def test_sms_plan_is_unlinked_before_another_is_linked(sinch: Backend) -> None:
    _settings(sinch, sinch_provisioning_reads=0)
    client = _client(sinch)
    owned = client.buy(client.search(Q415).numbers[0], Routing(sms_target=PLAN_A), {})
    direct = _api(
        sinch,
        "PATCH",
        f"/activeNumbers/{owned.number}",
        json={"smsConfiguration": {"servicePlanId": PLAN_B}},
    )
    assert direct.status_code == 400
    moved = client.update_routing(owned, Routing(sms_target=PLAN_A), Routing(sms_target=PLAN_B))
    assert moved.routing.sms_target == PLAN_B and moved.status == "active"
    unlinked = client.update_routing(moved, Routing(sms_target=PLAN_B), Routing())
    assert unlinked.routing.sms_target is None


@pytest.mark.parametrize("dialect", ["queue", "refuse_pending"])
def test_sms_plan_swap_waits_for_the_unlink_in_every_dialect(sinch: Backend, dialect: str) -> None:
    """Unlink, wait while the unlink is provisioning, then link (never a refused second PATCH)."""
    _settings(sinch, sinch_provisioning_reads=2, sinch_sms_swap=dialect)
    client = _client(sinch)
    owned = client.buy(client.search(Q415).numbers[0], Routing(sms_target=PLAN_A), {})
    while client.get(owned.number).status == "provisioning":  # type: ignore[union-attr]
        pass
    sinch.control("DELETE", "requests")
    moved = client.update_routing(owned, Routing(sms_target=PLAN_A), Routing(sms_target=PLAN_B))
    assert moved.routing.sms_target == PLAN_B
    sent = [m for m, p, _ in sinch.requests() if "/activeNumbers/" in p]
    assert sent[0] == "PATCH" and sent[-1] == "PATCH" and "GET" in sent[1:-1]
    if dialect == "refuse_pending":  # the emulator really refuses an early link
        _api(
            sinch,
            "PATCH",
            f"/activeNumbers/{owned.number}",
            json={"smsConfiguration": {"servicePlanId": ""}},
        )
        early = _api(
            sinch,
            "PATCH",
            f"/activeNumbers/{owned.number}",
            json={"smsConfiguration": {"servicePlanId": PLAN_A}},
        )
        assert early.status_code == 400
        assert early.json()["error"]["status"] == "FAILED_PRECONDITION"


@pytest.mark.parametrize("dialect", ["accept", "ignore", "reject"])
def test_voice_unlink_is_checked_in_every_dialect(sinch: Backend, dialect: str) -> None:
    """``appId: ""`` is undocumented for voice: a kept or refused detach is a clear error."""
    _settings(sinch, sinch_provisioning_reads=0, sinch_voice_unlink=dialect)
    client = _client(sinch)
    owned = client.buy(client.search(Q415).numbers[0], Routing(voice_target=APP1), {})
    if dialect == "accept":
        assert client.update_routing(owned, owned.routing, Routing()).routing == Routing()
        got = client.get(owned.number)
        assert got is not None and got.routing.voice_target is None
        return
    with pytest.raises(ValidationError) as info:
        client.update_routing(owned, owned.routing, Routing())
    assert "Sinch dashboard" in str(info.value) and owned.number in str(info.value)
    got = client.get(owned.number)
    assert got is not None and got.routing.voice_target == APP1


# -- buying ----------------------------------------------------------------------------------------
def test_rent_is_us_local_only(sinch: Backend) -> None:
    client = _client(sinch)
    for query in (
        NumberQuery(country="GB", number_type="local"),
        NumberQuery(country="US", number_type="toll_free"),
    ):
        candidate = client.search(query).numbers[0]
        raw = _api(sinch, "POST", f"/availableNumbers/{candidate.number}:rent", json={})
        assert raw.status_code == 400
        assert "only US LOCAL" in raw.json()["error"]["message"]
        with pytest.raises(ValidationError):
            client.buy(candidate, Routing(), {})
    any_gb = _api(
        sinch, "POST", "/availableNumbers:rentAny", json={"regionCode": "GB", "type": "LOCAL"}
    )
    assert any_gb.status_code == 400
    assert not [e for e in sinch.ledger() if e["op"] == "buy"]
    any_us = _api(
        sinch,
        "POST",
        "/availableNumbers:rentAny",
        json={
            "regionCode": "US",
            "type": "LOCAL",
            "capabilities": ["SMS"],
            "numberPattern": {"pattern": "+1212", "searchPattern": "START"},
        },
    )
    assert any_us.status_code == 200 and any_us.json()["phoneNumber"].startswith("+1212")


def test_check_refuses_sinch_numbers_other_than_us_local() -> None:
    from pulumi_phonenumbers.provider import PhoneNumberProvider

    provider = PhoneNumberProvider()
    failures = {
        f.property: f.reason
        for f in provider.check({}, {"vendor": "sinch", "country": "GB"}).failures
    }
    assert set(failures) == {"country"}
    assert "only supports US local numbers" in failures["country"]
    failures = {
        f.property: f.reason
        for f in provider.check({}, {"vendor": "sinch", "number_type": "toll_free"}).failures
    }
    assert set(failures) == {"number_type"} and ":rent" in failures["number_type"]
    failures = {
        f.property: f.reason
        for f in provider.check(
            {}, {"vendor": "sinch", "routing": {"voice_target": "12345", "inbound": True}}
        ).failures
    }
    assert {"routing.voice_target", "routing.inbound"} <= set(failures)
    assert "UUID" in failures["routing.voice_target"]
    ok = provider.check(
        {},
        {
            "vendor": "sinch",
            "area_code": "415",
            "routing": {"voice_target": APP1, "sms_target": PLAN_A, "label": "Support"},
        },
    )
    assert ok.failures == []


def test_label_is_set_right_after_the_rent(sinch: Backend) -> None:
    client = _client(sinch)
    candidate = client.search(Q415).numbers[0]
    owned = Purchase(client, Routing(voice_target=APP1, label="Support"), {}).one(
        candidate, time.time()
    )
    assert owned is not None
    assert (owned.routing.label, owned.routing.voice_target) == ("Support", APP1)
    ops = [e["op"] for e in sinch.ledger() if e["number"] == owned.number]
    assert ops == ["buy", "update"]


def test_label_failure_releases_the_rented_number(sinch: Backend) -> None:
    client = _client(sinch)
    candidate = client.search(Q415).numbers[0]
    sinch.faults(rules=[{"method": "PATCH", "path": "activeNumbers", "status": 503}])
    with pytest.raises(ServerError) as info:  # the PATCH's own error, after the release
        Purchase(client, Routing(label="Support"), {}).one(candidate, time.time())
    assert "released again" in str(info.value)
    ops = [e["op"] for e in sinch.ledger() if e["number"] == candidate.number]
    assert ops == ["buy", "release"]
    assert _api(sinch, "GET", f"/availableNumbers/{candidate.number}").status_code == 200


# -- listing -------------------------------------------------------------------------------------
def test_list_pages_with_page_token_and_asks_per_type(sinch: Backend) -> None:
    client = _client(sinch)
    bought = {client.buy(c, Routing(), {}).number for c in client.search(Q415).numbers[:5]}
    mobile = client.search(NumberQuery(country="GB", number_type="mobile")).numbers[0].number
    sinch.store.buy(mobile, vendor="console", vendor_id=mobile)  # ordered outside :rent

    seen, token, pages = [], "", 0
    while True:
        page = _api(
            sinch,
            "GET",
            "/activeNumbers",
            params={"type": "LOCAL", "pageSize": 2, "pageToken": token},
        ).json()
        assert page["totalSize"] == 5
        seen += [n["phoneNumber"] for n in page["activeNumbers"]]
        pages += 1
        token = page["nextPageToken"]
        if not token:
            break
    assert pages == 3 and set(seen) == bought and len(seen) == 5
    untyped = _api(sinch, "GET", "/activeNumbers").json()["activeNumbers"]
    assert [n["phoneNumber"] for n in untyped] == [mobile]  # no `type` = MOBILE only
    bad = _api(sinch, "GET", "/activeNumbers", params={"type": "LOCAL", "pageToken": "junk"})
    assert bad.status_code == 400

    client.list_page_size = 2
    before = client.http.requests_sent
    owned = {n.number: n for n in client.list_owned()}
    assert set(owned) == bought | {mobile}
    assert client.http.requests_sent - before == 5  # LOCAL x3 pages, MOBILE, TOLL_FREE
    assert owned[mobile].country == "GB" and owned[mobile].number_type == "mobile"


# -- the official SDK ----------------------------------------------------------------------------
def test_official_sdk_against_the_emulator(sinch: Backend) -> None:
    from sinch import SinchClient
    from sinch.domains.numbers.api.v1.exceptions import NumberNotFoundException

    sdk = SinchClient(key_id=KEY_ID, key_secret=KEY_SECRET, project_id=PROJECT_ID)
    sdk.configuration.auth_origin = sinch.url
    sdk.configuration.numbers_origin = sinch.url
    numbers = sdk.numbers

    found = list(
        numbers.search_for_available_numbers(
            region_code="US",
            number_type="LOCAL",
            number_pattern="+1415",
            number_search_pattern="START",
            capabilities=["SMS", "VOICE"],
            page_size=3,
        ).iterator()
    )
    assert len(found) == 3 and all(n.phone_number.startswith("+1415") for n in found)
    number = found[0].phone_number
    checked = numbers.check_availability(number)
    assert checked.phone_number == number and checked.capability == ["SMS", "VOICE"]

    rented = numbers.rent(
        number,
        voice_configuration={"type": "RTC", "app_id": APP1},
        sms_configuration={"service_plan_id": PLAN_A},
        event_destination_target="https://example.com/numbers",
    )
    assert rented.phone_number == number
    assert rented.voice_configuration.scheduled_voice_provisioning.app_id == APP1
    assert rented.voice_configuration.scheduled_voice_provisioning.status == "WAITING"
    assert rented.sms_configuration.scheduled_provisioning.service_plan_id == PLAN_A

    got = numbers.get(number)
    assert got.project_id == PROJECT_ID and got.money.amount > 0
    updated = numbers.update(
        number, display_name="Front desk", voice_configuration={"type": "RTC", "app_id": APP2}
    )
    assert updated.display_name == "Front desk"
    assert updated.voice_configuration.scheduled_voice_provisioning.app_id == APP2

    second = AvailableNumber(number=found[1].phone_number, country="US", number_type="local")
    other = _client(sinch).buy(second, Routing(), {}).number  # two numbers, pages of one
    listed = [
        n.phone_number
        for n in numbers.list(region_code="US", number_type="LOCAL", page_size=1).iterator()
    ]
    assert sorted(listed) == sorted([number, other])

    released = numbers.release(number)
    assert released.expire_at is not None and released.expire_at == released.next_charge_date
    assert numbers.get(number).expire_at == released.expire_at  # lingers until expireAt
    with pytest.raises(NumberNotFoundException):
        numbers.rent("+19999999999")
    assert [e["op"] for e in sinch.ledger() if e["number"] == number] == [
        "buy",
        "update",
        "release",
    ]
    assert _tokens(sinch) == 2  # the SDK's and our client's
