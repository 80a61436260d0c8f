"""Plivo quirks, over real HTTP against the Plivo emulator (the lifecycle is in the shared suites).

Trailing slashes, Plivo's 401 bodies, ``limit <= 20``, offset paging, ``pending`` numbers in
countries that need address proof, updates that send only what changed, 404 on delete as
success, check-time validation of Plivo's options, and Plivo's official Python SDK.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from pulumi_phonenumbers._purchase import Purchase
from pulumi_phonenumbers.emulators.plivo import DEFAULT_AUTH_ID
from pulumi_phonenumbers.errors import (
    AuthError,
    ComplianceError,
    ConfigError,
    NotAvailable,
    ValidationError,
)
from pulumi_phonenumbers.inputs import validate
from pulumi_phonenumbers.models import NumberQuery, Routing
from pulumi_phonenumbers.testing.backends import Backend
from pulumi_phonenumbers.vendors._plivo_wire import error_from
from pulumi_phonenumbers.vendors.plivo import PlivoVendor

Q415 = NumberQuery(country="US", number_type="local", area_code="415")
APP_A, APP_B = PlivoVendor.info.target_examples


@pytest.fixture
def plivo(tmp_path: Any) -> Iterator[Backend]:
    backend = Backend.start("plivo", tmp_path)
    yield backend
    backend.stop()


def _client(backend: Backend, overrides: dict[str, str] | None = None) -> PlivoVendor:
    client = backend.client(overrides)
    assert isinstance(client, PlivoVendor)
    return client


def _raw(
    backend: Backend, method: str, path: str, *, auth: tuple[str, str] | None = None, **kwargs: Any
) -> httpx.Response:
    """A request to ``/v1/Account/{auth_id}/`` + ``path`` with the emulator's credentials."""
    config = backend.config
    account = config["phonenumbers:plivoAuthId"]
    creds = auth or (account, config["phonenumbers:plivoAuthToken"])
    url = f"{backend.url}/v1/Account/{account}/{path}"
    return httpx.request(method, url, auth=creds, timeout=10, **kwargs)


def _updates(backend: Backend, number: str) -> list[dict[str, Any]]:
    return [e["routing"] for e in backend.ledger() if e["op"] == "update" and e["number"] == number]


# -- wire quirks ------------------------------------------------------------------------------
def test_client_paths_end_with_a_slash_and_the_emulator_insists(plivo: Backend) -> None:
    client = _client(plivo)
    paths: list[str] = []
    client.http._client.event_hooks["request"].append(lambda r: paths.append(r.url.path))
    owned = client.buy(client.search(Q415).numbers[0], Routing(voice_target=APP_A), {})
    client.get(owned.number)
    list(client.list_owned())
    client.update_routing(owned, owned.routing, Routing(voice_target=APP_B))
    client.release(owned.number, owned.vendor_id)
    digits = owned.vendor_id
    assert paths == [
        f"/v1/Account/{DEFAULT_AUTH_ID}/{p}"
        for p in (
            "PhoneNumber/",
            f"PhoneNumber/{digits}/",
            f"Number/{digits}/",
            "Number/",
            f"Number/{digits}/",
            f"Number/{digits}/",
        )
    ]
    slashless = _raw(plivo, "GET", "Number", params={"limit": 5})
    assert slashless.status_code == 301
    assert slashless.headers["location"].endswith("/Number/?limit=5")


def test_wrong_credentials_get_plivos_401_body(plivo: Backend) -> None:
    account = plivo.config["phonenumbers:plivoAuthId"]
    wrong = _raw(plivo, "GET", "Number/", auth=(account, "not-the-token"))
    assert wrong.status_code == 401
    assert set(wrong.json()) == {"api_id", "error"}
    assert wrong.json()["error"] == "Authentication failed"
    anonymous = httpx.get(f"{plivo.url}/v1/Account/{account}/Number/", timeout=10)
    assert anonymous.status_code == 401 and set(anonymous.json()) == {"error"}  # as Plivo does
    with pytest.raises(AuthError) as info:
        _client(plivo, {"phonenumbers:plivoAuthToken": "wrong-token"}).search(Q415)
    assert "Authentication failed" in str(info.value)


def test_auth_id_in_path_must_match_the_credentials(plivo: Backend) -> None:
    config = plivo.config
    other = "MAOTHERACCOUNT000001"
    response = httpx.get(
        f"{plivo.url}/v1/Account/{other}/Number/",
        timeout=10,
        auth=(config["phonenumbers:plivoAuthId"], config["phonenumbers:plivoAuthToken"]),
    )
    assert response.status_code == 401
    assert set(response.json()) == {"api_id", "error"}
    number = _client(plivo).search(Q415).numbers[0].number[1:]
    buy = httpx.post(
        f"{plivo.url}/v1/Account/{other}/PhoneNumber/{number}/",
        json={},
        timeout=10,
        auth=(config["phonenumbers:plivoAuthId"], config["phonenumbers:plivoAuthToken"]),
    )
    assert buy.status_code == 401 and not plivo.ledger()


def test_limit_above_20_is_rejected(plivo: Backend) -> None:
    for path, params in (
        ("PhoneNumber/", {"country_iso": "US", "limit": 21}),
        ("Number/", {"limit": 50}),
    ):
        response = _raw(plivo, "GET", path, params=params)
        assert response.status_code == 400
        assert response.json()["error"] == "limit must be <= 20" and response.json()["api_id"]


def test_malformed_requests_get_plivo_shaped_errors(plivo: Backend) -> None:
    number = _client(plivo).search(Q415).numbers[0].number.lstrip("+")
    junk = _raw(
        plivo,
        "POST",
        f"PhoneNumber/{number}/",
        content=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    assert junk.status_code == 400 and set(junk.json()) == {"api_id", "error"}
    assert _raw(plivo, "GET", "PhoneNumber/").json()["error"] == "country_iso is required"
    bad_app = _raw(plivo, "POST", f"PhoneNumber/{number}/", json={"app_id": "my-app"})
    assert bad_app.status_code == 400 and bad_app.json()["error"] == "app_id is invalid"
    assert _raw(plivo, "PUT", f"Number/{number}/", json={}).status_code == 405
    assert not plivo.ledger()


def test_search_filters(plivo: Backend) -> None:
    def numbers(**params: Any) -> list[dict[str, Any]]:
        response = _raw(plivo, "GET", "PhoneNumber/", params={"country_iso": "US", **params})
        assert response.status_code == 200, response.text
        objects: list[dict[str, Any]] = response.json()["objects"]
        return objects

    toll_free = numbers(type="tollfree", pattern="8*")
    assert toll_free and all(o["type"] == "tollfree" and o["lata"] is None for o in toll_free)
    npanxx = numbers(pattern="415")[0]["number"][1:7]
    assert all(o["number"][1:7] == npanxx for o in numbers(npanxx=npanxx))
    assert all(
        o["number"].startswith("1415") for o in numbers(npanxx=npanxx, local_calling_area="true")
    )
    sf = numbers(pattern="415", lata="722", services="voice,sms,mms")
    assert sf and all(o["lata"] == 722 and o["mms_enabled"] for o in sf)
    assert numbers(city="New York", pattern="212")
    fax = _raw(plivo, "GET", "PhoneNumber/", params={"country_iso": "US", "services": "fax"})
    assert fax.status_code == 400
    de = _raw(plivo, "GET", "PhoneNumber/", params={"country_iso": "DE", "type": "fixed"}).json()
    assert de["objects"][0]["restriction"] == "country-address"
    assert de["objects"][0]["prerequisites"][0]["type"] == "address"
    assert not _raw(
        plivo, "GET", "PhoneNumber/", params={"country_iso": "DE", "eligible": "true"}
    ).json()["objects"]


def test_local_is_searched_as_type_local_and_national_stays_out(plivo: Backend) -> None:
    """``fixed`` also returns ``national`` numbers: a neutral ``local`` search sends ``local``."""

    def sub_types(kind: str) -> set[str]:
        params = {"country_iso": "FR", "type": kind}
        objects = _raw(plivo, "GET", "PhoneNumber/", params=params).json()["objects"]
        return {o["sub_type"] for o in objects}

    assert sub_types("fixed") == {"local", "national"}
    assert sub_types("local") == {"local"} and sub_types("national") == {"national"}
    bad = _raw(plivo, "GET", "PhoneNumber/", params={"country_iso": "FR", "type": "toll_free"})
    assert bad.status_code == 400 and "type" in bad.json()["error"]

    client = _client(plivo)
    plivo.control("DELETE", "requests")
    local = client.search(NumberQuery(country="FR", number_type="local"))
    assert local.numbers and {n.number_type for n in local.numbers} == {"local"}
    (search,) = [q for m, p, q in plivo.requests() if p.endswith("/PhoneNumber/")]
    assert "type=local" in search.split("&")
    fixed = client.search(NumberQuery(country="FR", number_type="fixed"))
    assert {n.number_type for n in fixed.numbers} == {"local", "national"}
    national = client.search(NumberQuery(country="FR", number_type="national"))
    assert national.numbers and {n.number_type for n in national.numbers} == {"national"}
    bought = client.buy(local.numbers[0], Routing(), {})
    got = client.get(bought.number)
    assert got is not None and got.number_type == "local"


# -- paging -----------------------------------------------------------------------------------
def test_search_pages_by_offset(plivo: Backend) -> None:
    client = _client(plivo)
    seen: list[str] = []
    cursors: list[str | None] = []
    cursor: str | None = None
    while True:
        page = client.search(Q415, cursor)
        seen += [n.number for n in page.numbers]
        cursor = page.next_cursor
        cursors.append(cursor)
        if cursor is None:
            break
    assert cursors == ["20", "40", None]
    assert len(seen) == len(set(seen)) == 60
    assert all(n.startswith("+1415") for n in seen)


def test_contains_is_filtered_client_side(plivo: Backend) -> None:
    client = _client(plivo)
    target = client.search(Q415, "40").numbers[-1].number  # on the last page
    contains = target[-5:]
    page = client.search(Q415.replace(contains=contains))
    assert target in [n.number for n in page.numbers]
    assert all(contains in n.number for n in page.numbers)


def test_list_pages_through_all_owned_numbers(plivo: Backend) -> None:
    client = _client(plivo)
    query = NumberQuery(country="US", number_type="local", area_code="212")
    candidates = [n for c in (None, "20", "40") for n in client.search(query, c).numbers]
    bought = {
        plivo.store.buy(n.number, vendor="plivo", vendor_id=n.number[1:]).number
        for n in candidates[:45]
    }
    before = client.http.requests_sent
    listed = [n.number for n in client.list_owned()]
    assert client.http.requests_sent - before == 3  # 20 + 20 + 5
    assert sorted(listed) == sorted(bought) and len(listed) == 45
    meta = _raw(plivo, "GET", "Number/", params={"limit": 20, "offset": 20}).json()["meta"]
    assert meta["next"].endswith("limit=20&offset=40") and meta["previous"].endswith("offset=0")


# -- purchases and updates ----------------------------------------------------------------------
def test_create_costs_one_search_and_one_purchase(plivo: Backend) -> None:
    client = _client(plivo)
    owned = client.buy(client.search(Q415).numbers[0], Routing(voice_target=APP_A), {})
    assert client.http.requests_sent == 2
    assert owned.status == "active" and owned.routing.voice_target == APP_A
    assert owned.monthly_cost.amount > 0 and owned.locality


def test_a_german_number_is_pending_until_verified(plivo: Backend) -> None:
    client = _client(plivo)
    candidate = client.search(NumberQuery(country="DE", number_type="local")).numbers[0]
    number = candidate.number.lstrip("+")
    response = _raw(plivo, "POST", f"PhoneNumber/{number}/", json={"app_id": APP_A})
    assert response.status_code == 201
    assert response.json()["numbers"] == [{"number": number, "status": "pending"}]
    assert response.json()["status"] == "fulfilled"
    got = client.get(candidate.number)
    assert got is not None and got.status == "pending" and got.routing.voice_target == APP_A
    raw = _raw(plivo, "GET", f"Number/{number}/").json()
    assert raw["compliance_status"] == "pending" and raw["api_id"]
    other = client.search(NumberQuery(country="DE", number_type="local")).numbers[0]
    assert client.buy(other, Routing(), {}).status == "pending"


def test_buying_a_taken_number_is_404_not_found(plivo: Backend) -> None:
    client = _client(plivo)
    candidate = client.search(Q415).numbers[0]
    client.buy(candidate, Routing(), {})
    response = _raw(plivo, "POST", f"PhoneNumber/{candidate.number[1:]}/", json={})
    assert response.status_code == 404 and response.json()["error"] == "not found"
    with pytest.raises(NotAvailable):
        client.buy(candidate, Routing(), {})


def test_update_sends_only_changed_fields(plivo: Backend) -> None:
    client = _client(plivo)
    purchase = Purchase(client, Routing(voice_target=APP_A, label="Sales"), {})
    owned = purchase.one(client.search(Q415).numbers[0], time.time())
    assert owned is not None
    # the purchase carries app_id; the alias needs one update right after it (Purchase's)
    assert _updates(plivo, owned.number) == [{"alias": "Sales"}]
    start = Routing(voice_target=APP_A, label="Sales")
    relabelled = client.update_routing(owned, start, Routing(voice_target=APP_A, label="Support"))
    rerouted = client.update_routing(
        relabelled, relabelled.routing, Routing(voice_target=APP_B, label="Support")
    )
    cleared = client.update_routing(rerouted, rerouted.routing, Routing(voice_target=APP_B))
    assert cleared.routing == Routing(voice_target=APP_B)
    assert _updates(plivo, owned.number) == [
        {"alias": "Sales"},
        {"alias": "Support"},
        {"app_id": APP_B},
        {"alias": None},
    ]
    before = client.http.requests_sent
    client.update_routing(cleared, cleared.routing, cleared.routing)
    assert client.http.requests_sent == before  # nothing changed, nothing sent
    got = client.get(owned.number)
    assert got is not None and got.routing == Routing(voice_target=APP_B)


def test_numeric_app_id_in_any_form_is_accepted(plivo: Backend) -> None:
    client = _client(plivo)
    number = client.search(Q415).numbers[0].number[1:]
    assert _raw(plivo, "POST", f"PhoneNumber/{number}/", json={"app_id": 123}).status_code == 201
    changed = _raw(plivo, "POST", f"Number/{number}/", json={"app_id": "456"})
    assert changed.status_code == 202 and changed.json()["message"] == "changed"
    got = client.get("+" + number)
    assert got is not None and got.routing.voice_target == "456"


def test_release_of_a_number_not_owned_is_success(plivo: Backend) -> None:
    client = _client(plivo)
    candidate = client.search(Q415).numbers[0]
    gone = _raw(plivo, "DELETE", f"Number/{candidate.number[1:]}/")
    assert gone.status_code == 404 and gone.json()["error"] == "not found"
    client.release(candidate.number, candidate.number[1:])  # no exception
    owned = client.buy(candidate, Routing(), {})
    deleted = _raw(plivo, "DELETE", f"Number/{owned.vendor_id}/")
    assert deleted.status_code == 204 and deleted.content == b""
    assert client.get(owned.number) is None


# -- configuration, check time, error mapping ---------------------------------------------------
def test_missing_or_malformed_credentials_are_config_errors(plivo: Backend) -> None:
    with pytest.raises(ConfigError, match="plivoAuthToken"):
        _client(plivo, {"phonenumbers:plivoAuthToken": ""})
    with pytest.raises(ConfigError) as info:
        _client(plivo, {"phonenumbers:plivoAuthId": "XX1234"})
    assert "XX1234" not in str(info.value)


def test_check_refuses_what_plivo_cannot_do() -> None:
    infos = {"plivo": PlivoVendor.info}
    _, failures = validate({"vendor": "plivo", "routing": {"sms_target": "plan-1"}}, "plivo", infos)
    assert [(f, "plivo cannot honour" in r) for f, r in failures] == [("routing.sms_target", True)]
    _, failures = validate(
        {"vendor": "plivo", "routing": {"voice_target": "app-x"}}, "plivo", infos
    )
    assert [f for f, _ in failures] == ["routing.voice_target"]
    us = NumberQuery(country="US")
    assert (
        PlivoVendor.check_query(us, {"cnam_lookup": "enabled", "subaccount": "SA" + "A1" * 9}) == []
    )
    fields = [
        f for f, _ in PlivoVendor.check_query(us, {"cnam_lookup": "yes", "subaccount": "SA123"})
    ]
    assert fields == ["vendor_options.cnam_lookup", "vendor_options.subaccount"]
    gb = PlivoVendor.check_query(NumberQuery(country="GB"), {"cnam_lookup": "enabled"})
    assert gb and "US" in gb[0][1]


def test_error_bodies_map_onto_the_error_tree() -> None:
    def mapped(status: int, body: Any) -> Exception:
        request = httpx.Request("POST", "https://api.plivo.com/v1/Account/MA/PhoneNumber/1/")
        return error_from(httpx.Response(status, json=body, request=request))

    detail = mapped(400, {"api_id": "x", "error": {"app_id": "is invalid"}})
    assert isinstance(detail, ValidationError) and "app_id: is invalid" in str(detail)
    assert isinstance(mapped(401, {"error": "Authentication failed"}), AuthError)
    assert isinstance(
        mapped(400, {"api_id": "x", "error": "address verification required"}), ComplianceError
    )


# -- the official SDK -------------------------------------------------------------------------
def test_official_sdk_against_the_emulator(plivo: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    import plivo as sdk
    import plivo.rest.client as sdk_client

    # Client.request() re-reads this module global on every call.
    monkeypatch.setattr(sdk_client, "PLIVO_API_BASE_URI", f"{plivo.url}/v1/Account")
    config = plivo.config
    client = sdk.RestClient(
        config["phonenumbers:plivoAuthId"], config["phonenumbers:plivoAuthToken"]
    )
    found = client.numbers.search("US", pattern="415", services="voice,sms", limit=5)
    assert len(found.objects) == 5 and found.meta.total_count == 60
    number = found.objects[0].number
    bought = client.numbers.buy(number, app_id=APP_A)
    assert bought.numbers[0].number == number and bought.message == "created"
    got = client.numbers.get(number)
    assert got.number == number and got.application.endswith(f"/Application/{APP_A}/")
    listed = client.numbers.list(limit=20, offset=0)
    assert [n.number for n in listed] == [number]
    updated = client.numbers.update(number, app_id=APP_B, alias="Front desk")
    assert updated.message == "changed"
    assert client.numbers.get(number).alias == "Front desk"
    client.numbers.delete(number)
    with pytest.raises(sdk.exceptions.ResourceNotFoundError):
        client.numbers.get(number)
    ops = [(e["op"], e["number"]) for e in plivo.ledger()]
    assert ops == [("buy", "+" + number), ("update", "+" + number), ("release", "+" + number)]
    with pytest.raises(sdk.exceptions.AuthenticationError):
        sdk.RestClient(config["phonenumbers:plivoAuthId"], "wrong").numbers.get(number)


# -- subaccount credentials ----------------------------------------------------------------------
def test_subaccount_credentials_fail_at_preview_and_at_the_first_purchase(
    plivo: Backend, serialized_provider: str
) -> None:
    """Plivo answers a subaccount's purchase with 404 even for a number its search offered."""
    from pulumi_phonenumbers.emulators.plivo import SUBACCOUNT_AUTH_ID
    from pulumi_phonenumbers.testing import ProviderError, ProviderProcess

    sub = {"phonenumbers:plivoAuthId": SUBACCOUNT_AUTH_ID}
    offered = _raw(plivo, "GET", "PhoneNumber/", params={"country_iso": "US", "pattern": "415"})
    number = offered.json()["objects"][0]["number"]
    url = f"{plivo.url}/v1/Account/{SUBACCOUNT_AUTH_ID}/PhoneNumber/{number}/"
    creds = (SUBACCOUNT_AUTH_ID, plivo.config["phonenumbers:plivoAuthToken"])
    refused = httpx.post(url, auth=creds, json={}, timeout=10)
    assert (refused.status_code, refused.json()["error"]) == (404, "not found")

    client = _client(plivo, sub)
    candidate = client.search(Q415).numbers[0]  # search works with subaccount credentials
    with pytest.raises(ConfigError) as info:
        client.buy(candidate, Routing(), {})
    assert "vendor_options.subaccount" in str(info.value)
    assert SUBACCOUNT_AUTH_ID not in str(info.value)

    urn = "urn:pulumi:dev::p::pulumi-python:dynamic/phonenumbers:PhoneNumber::sub"
    news = {"__provider": serialized_provider, "vendor": "plivo", "country": "US"}
    with ProviderProcess() as provider:
        provider.configure({**plivo.config, **sub})
        outcome = provider.check(urn, {}, news)
        assert [field for field, _ in outcome.failures] == ["vendor"]
        reason = outcome.failures[0][1]
        assert "main account" in reason and "vendor_options.subaccount" in reason
        provider.configure(plivo.config)
        inputs = provider.check(urn, {}, news).inputs
        provider.configure({**plivo.config, **sub})
        plivo.control("DELETE", "requests")
        with pytest.raises(ProviderError) as failed:
            provider.create(urn, inputs)
    assert "vendor_options.subaccount" in failed.value.detail
    posts = [p for m, p, _ in plivo.requests() if m == "POST"]
    assert len(posts) == 1  # the first 404 stops the purchase: no other candidate is tried
    assert not plivo.owned_numbers()


def test_main_account_buys_for_a_subaccount(plivo: Backend) -> None:
    from pulumi_phonenumbers.emulators.plivo import SUBACCOUNT_AUTH_ID

    client = _client(plivo)
    owned = client.buy(
        client.search(Q415).numbers[0], Routing(), {"subaccount": SUBACCOUNT_AUTH_ID}
    )
    listed = _raw(plivo, "GET", f"Number/{owned.vendor_id}/").json()
    assert listed["sub_account"] == SUBACCOUNT_AUTH_ID


# -- unlinking an application (dialects: the emulator switch plivo_unlink) ------------------------
@pytest.mark.parametrize("dialect", ["clears", "ignored", "default_app"])
def test_unlink_is_read_back_in_every_dialect(plivo: Backend, dialect: str) -> None:
    """``app_id: ""`` then a read: kept old application -> a clear error, never silence."""
    from pulumi_phonenumbers.emulators.plivo import DEFAULT_NUMBER_APP

    plivo.control("POST", "settings", {"plivo_unlink": dialect})
    client = _client(plivo)
    owned = client.buy(client.search(Q415).numbers[0], Routing(voice_target=APP_A), {})
    plivo.control("DELETE", "requests")
    if dialect == "ignored":
        with pytest.raises(ValidationError) as info:
            client.update_routing(owned, owned.routing, Routing())
        assert APP_A in str(info.value) and "Plivo console" in str(info.value)
    else:
        cleared = client.update_routing(owned, owned.routing, Routing())
        assert cleared.routing == Routing()
    sent = [(m, p.rsplit("/", 2)[-2]) for m, p, _ in plivo.requests()]
    assert sent == [("POST", owned.vendor_id), ("GET", owned.vendor_id)]  # unlink + read back
    got = client.get(owned.number)
    assert got is not None
    expected = {"clears": None, "ignored": APP_A, "default_app": DEFAULT_NUMBER_APP}[dialect]
    assert got.routing.voice_target == expected
