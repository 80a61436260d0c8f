"""KrosAI quirks over real HTTP against its emulator (the shared suites cover the lifecycle).

Three dialects (guide, openapi, bridge), each strict: its auth header, base path, search
form and field spelling, with the client run against each and against the wrong one (a
dropped routing field is never silent); four response shapes; KYC and balance switches;
``NUMBER_NOT_AVAILABLE``; limit/offset paging; rate limits; routing flags riding on the
purchase through the provider.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from pulumi_phonenumbers.config import Settings
from pulumi_phonenumbers.emulators.krosai import API_KEY, ORGANIZATION_ID
from pulumi_phonenumbers.errors import (
    ComplianceError,
    ConfigError,
    NotAvailable,
    PaymentError,
    ValidationError,
)
from pulumi_phonenumbers.models import AvailableNumber, NumberQuery, Routing
from pulumi_phonenumbers.testing import ProviderError, ProviderProcess
from pulumi_phonenumbers.testing.backends import Backend
from pulumi_phonenumbers.vendors.krosai import KrosAIVendor

Q415 = NumberQuery(country="US", number_type="local", area_code="415")
URN = "urn:pulumi:dev::phonenumbers-test::pulumi-python:dynamic/phonenumbers:PhoneNumber::{}"


@pytest.fixture
def kros(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    backend = Backend.start("krosai", tmp_path_factory.mktemp("krosai"))
    yield backend
    backend.stop()


@pytest.fixture
def api(kros: Backend) -> Iterator[httpx.Client]:
    """Raw HTTP at the ``/v1`` base, authenticated the guide's way."""
    with httpx.Client(
        base_url=kros.config["phonenumbers:krosaiBaseUrl"],
        headers={"x-api-key": API_KEY},
        timeout=10,
    ) as client:
        yield client


def _client(kros: Backend) -> KrosAIVendor:
    client = kros.client()
    assert isinstance(client, KrosAIVendor)
    return client


def _buys(kros: Backend) -> list[str]:
    return [e["number"] for e in kros.ledger() if e["op"] == "buy"]


def _first_available(api: httpx.Client) -> dict[str, Any]:
    response = api.get(
        "/phone-numbers/available",
        params={"country": "US", "type": "local", "area_code": "415", "limit": 1},
    )
    row: dict[str, Any] = response.json()["available_numbers"][0]
    return row


# -- auth and paths ---------------------------------------------------------------------------
def _dialect(kros: Backend, dialect: str) -> dict[str, str]:
    """Switch the emulator to ``dialect``; the client config that speaks it."""
    kros.control("POST", "settings", {"krosai_dialect": dialect})
    config = {"phonenumbers:krosaiDialect": dialect}
    if dialect == "bridge":
        config["phonenumbers:krosaiBaseUrl"] = f"{kros.url}/api/v1"
        config["phonenumbers:krosaiOrganizationId"] = ORGANIZATION_ID
    return config


@pytest.mark.parametrize(
    ("dialect", "base", "accepted", "refused"),
    [
        ("guide", "/v1", ["x-api-key"], ["bearer"]),
        ("openapi", "/v1", ["bearer", "x-api-key"], []),
        ("bridge", "/api/v1", ["bearer"], ["x-api-key"]),
    ],
)
def test_each_dialect_takes_its_own_header_and_base_path(
    kros: Backend, dialect: str, base: str, accepted: list[str], refused: list[str]
) -> None:
    _dialect(kros, dialect)
    headers = {
        "x-api-key": {"x-api-key": API_KEY},
        "bearer": {"Authorization": f"Bearer {API_KEY}"},
    }
    params: dict[str, str | int] = {"action": "assigned", "limit": 2}
    if dialect == "bridge":
        params["organization_id"] = ORGANIZATION_ID
    for name in accepted:
        response = httpx.get(
            f"{kros.url}{base}/phone-numbers", params=params, headers=headers[name]
        )
        assert response.status_code == 200, (dialect, name)
        assert response.headers["X-RateLimit-Limit"] == "50"
        assert int(response.headers["X-RateLimit-Remaining"]) >= 0
        assert int(response.headers["X-RateLimit-Reset"]) > 0
    for name in refused:
        response = httpx.get(
            f"{kros.url}{base}/phone-numbers", params=params, headers=headers[name]
        )
        assert response.status_code == 401 and response.json()["code"] == "UNAUTHORIZED"
    other = "/api/v1" if base == "/v1" else "/v1"
    wrong_base = httpx.get(f"{kros.url}{other}/phone-numbers", headers=headers[accepted[0]])
    assert wrong_base.status_code == 404 and wrong_base.json()["code"] == "NOT_FOUND"
    for bad in ({}, {"x-api-key": "kros_test_wrong"}, {"Authorization": "Bearer nope"}):
        response = httpx.get(f"{kros.url}{base}/phone-numbers", params=params, headers=bad)
        assert response.status_code == 401
        assert response.json()["code"] == "UNAUTHORIZED"
    if dialect == "bridge":
        no_org = httpx.get(f"{kros.url}{base}/phone-numbers", headers=headers["bearer"])
        assert no_org.status_code == 400 and no_org.json()["code"] == "MISSING_FIELDS"


# -- search ----------------------------------------------------------------------------------
def test_each_dialect_searches_its_own_way(kros: Backend, api: httpx.Client) -> None:
    guide = api.get(
        "/phone-numbers/available",
        params={"country": "US", "type": "local", "area_code": "212", "limit": 100},
    )
    assert guide.status_code == 200
    rows = guide.json()["available_numbers"]
    assert guide.json()["total"] == len(rows) >= 50
    first = rows[0]
    assert first["number"] == first["e164"] and first["number"].startswith("+1212")
    assert isinstance(first["monthly_cost_cents"], int) and first["capabilities"]["voice"]
    uuid.UUID(first["inventory_id"])
    missing = api.get("/phone-numbers/available", params={"type": "local"})
    assert missing.status_code == 400 and missing.json()["code"] == "MISSING_FIELDS"
    # the guide's server has no `action`: the parameter is ignored and owned numbers come back
    ignored = api.get("/phone-numbers", params={"action": "available", "country": "US"})
    assert ignored.status_code == 200 and ignored.json()["phone_numbers"] == []

    _dialect(kros, "openapi")
    openapi = api.get(
        "/phone-numbers",
        params={"action": "available", "country": "US", "type": "local", "limit": 20, "offset": 20},
    )
    page = openapi.json()
    assert openapi.status_code == 200 and (page["limit"], page["offset"]) == (20, 20)
    assert len(page["data"]) == 20 and page["total"] > len(rows)  # no area_code filter here
    as_id = api.get("/phone-numbers/available", params={"country": "US"})
    assert as_id.status_code == 404 and as_id.json()["code"] == "NUMBER_NOT_OWNED"


@pytest.mark.parametrize("shape", ["available_numbers", "data", "phone_numbers", "array"])
def test_client_reads_every_search_shape(kros: Backend, shape: str) -> None:
    kros.control("POST", "settings", {"search_shape": shape})
    client = _client(kros)
    page = client.search(Q415)
    assert len(page.numbers) == 50
    assert all(n.number.startswith("+1415") and n.vendor_ref for n in page.numbers)
    item = kros.store.item(page.numbers[0].number)
    assert item is not None and page.numbers[0].monthly_cost.amount == item.monthly
    if shape == "array":  # no total: the client cannot page safely and stops
        assert page.next_cursor is None
        return
    assert page.next_cursor == "50"
    rest = client.search(Q415, page.next_cursor)
    assert rest.next_cursor is None and len(rest.numbers) == 10
    assert not {n.number for n in rest.numbers} & {n.number for n in page.numbers}


def test_client_side_filters_skip_empty_pages(kros: Backend) -> None:
    client = _client(kros)
    everything = [*client.search(Q415).numbers, *client.search(Q415, "50").numbers]
    last = everything[-1].number
    page = client.search(Q415.replace(contains=last[-7:]))
    assert [n.number for n in page.numbers] == [last]
    assert page.next_cursor is None


# -- purchase errors -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kyc", "status", "code"),
    [
        ("none", 400, "KYC_REQUIRED"),
        ("submitted", 403, "KYC_PENDING"),
        ("declined", 400, "KYC_DECLINED"),
    ],
)
def test_kyc_states_are_compliance_errors(
    kros: Backend, api: httpx.Client, kyc: str, status: int, code: str
) -> None:
    kros.control("POST", "settings", {"kyc": kyc, "kyc_status": status})
    row = _first_available(api)
    raw = api.post("/phone-numbers", json={"inventory_id": row["inventory_id"]})
    assert raw.status_code == status and raw.json()["code"] == code
    client = _client(kros)
    with pytest.raises(ComplianceError) as info:
        client.buy(client.search(Q415).numbers[0], Routing(voice_target="ep_xyz789"), {})
    assert code in str(info.value) and "KrosAI dashboard" in str(info.value)
    assert info.value.code == code and info.value.status == status
    assert API_KEY not in str(info.value)
    assert _buys(kros) == [] and kros.owned_numbers() == set()


@pytest.mark.parametrize("status", [400, 402])
def test_insufficient_balance_is_a_payment_error(kros: Backend, status: int) -> None:
    kros.control("POST", "settings", {"balance": "insufficient", "balance_status": status})
    client = _client(kros)
    with pytest.raises(PaymentError, match="top up") as info:
        client.buy(client.search(Q415).numbers[0], Routing(), {})
    assert info.value.code == "INSUFFICIENT_BALANCE" and info.value.status == status
    assert _buys(kros) == []


def test_kyc_failure_through_the_provider_leaves_nothing(
    kros: Backend, serialized_provider: str
) -> None:
    kros.control("POST", "settings", {"kyc": "none"})
    with ProviderProcess() as provider:
        provider.configure(kros.config)
        checked = provider.check(
            URN.format("k"),
            {},
            {
                "__provider": serialized_provider,
                "vendor": "krosai",
                "country": "US",
                "area_code": "415",
                "routing": {"voice_target": "ep_xyz789"},
            },
        )
        assert checked.failures == []
        with pytest.raises(ProviderError) as info:
            provider.create(URN.format("k"), checked.inputs)
        assert "ComplianceError" in info.value.last_line
        assert "KYC_REQUIRED" in info.value.last_line and "dashboard" in info.value.last_line
        assert API_KEY not in info.value.detail and API_KEY not in provider.stderr
    assert kros.ledger() == [] and kros.owned_numbers() == set()


def test_number_not_available(kros: Backend, api: httpx.Client) -> None:
    row = _first_available(api)
    assert api.post("/phone-numbers", json={"inventory_id": row["inventory_id"]}).status_code == 201
    for body in (
        {"inventory_id": row["inventory_id"]},
        {"e164": row["number"], "country": "US", "type": "local"},
        {"inventory_id": str(uuid.uuid4())},
    ):
        again = api.post("/phone-numbers", json=body)
        assert again.status_code == 404
        assert again.json()["code"] == "NUMBER_NOT_AVAILABLE"
    client = _client(kros)
    taken = AvailableNumber(
        number=row["number"], country="US", number_type="local", vendor_ref=row["inventory_id"]
    )
    with pytest.raises(NotAvailable):
        client.buy(taken, Routing(), {})
    with pytest.raises(NotAvailable):  # exact-number buy: not in the inventory any more
        client.buy(taken.replace(vendor_ref=None), Routing(), {})
    assert _buys(kros) == [row["number"]]


def test_exact_number_buy_finds_the_inventory_id(kros: Backend, api: httpx.Client) -> None:
    row = _first_available(api)
    client = _client(kros)
    owned = client.buy(
        AvailableNumber(number=row["number"], country="US", number_type="local"),
        Routing(voice_target="ep_xyz789"),
        {},
    )
    assert owned.number == row["number"] and owned.routing.voice_target == "ep_xyz789"
    assert owned.monthly_cost.amount * 100 == row["monthly_cost_cents"]


# -- field spellings ------------------------------------------------------------
def test_dashboard_flow_and_the_openapi_spelling(kros: Backend, api: httpx.Client) -> None:
    _dialect(kros, "openapi")
    missing = api.post("/phone-numbers", json={"endpointId": "ep_xyz789"})
    assert missing.status_code == 400 and missing.json()["code"] == "MISSING_FIELDS"
    row = api.get(
        "/phone-numbers", params={"action": "available", "country": "US", "type": "local"}
    ).json()["data"][0]
    bought = api.post(
        "/phone-numbers",
        json={
            "e164": row["e164"],
            "country": "US",
            "type": "local",
            "endpointId": "ep_camel1",
            "allowInbound": False,
            "allow_outbound": True,  # the guide's spelling: an unknown field, ignored
        },
    )
    assert bought.status_code == 201
    pn = bought.json()
    assert pn["id"].startswith("pn_") and pn["e164"] == row["e164"] and "number" not in pn
    assert (pn["endpoint_id"], pn["allow_inbound"], pn["allow_outbound"]) == (
        "ep_camel1",
        False,
        False,  # the OpenAPI default, since allow_outbound was not understood
    )
    assert pn["endpoint"]["id"] == "ep_camel1"

    patched = api.patch(
        f"/phone-numbers/{pn['id']}",
        json={"endpointId": "3f6c2a9e-8d41-4b7a-9c55-0e1d2f3a4b5c", "allowInbound": True},
    )
    assert patched.status_code == 200
    assert patched.json()["endpoint_id"] == "3f6c2a9e-8d41-4b7a-9c55-0e1d2f3a4b5c"
    assert patched.json()["allow_inbound"] is True and patched.json()["allow_outbound"] is False
    detached = api.patch(f"/phone-numbers/{pn['id']}", json={"endpointId": None})
    assert detached.json()["endpoint_id"] is None and detached.json()["endpoint"] is None
    for bad in ({}, {"allowInbound": "yes"}, {"endpointId": "not an id!"}):
        refused = api.patch(f"/phone-numbers/{pn['id']}", json=bad)
        assert refused.status_code == 400 and refused.json()["code"] == "VALIDATION_ERROR"
    snake = api.patch(f"/phone-numbers/{pn['id']}", json={"endpoint_id": "ep_snake1"})
    assert snake.status_code == 200 and snake.json()["endpoint_id"] is None  # silently ignored

    gone = api.delete(f"/phone-numbers/{pn['id']}")
    assert gone.json()["success"] is True and gone.json()["message"]
    assert api.delete(f"/phone-numbers/{pn['id']}").json()["code"] == "NUMBER_NOT_OWNED"


@pytest.mark.parametrize("dialect", ["guide", "openapi", "bridge"])
def test_client_speaks_each_dialect(kros: Backend, dialect: str) -> None:
    client = kros.client(_dialect(kros, dialect))
    assert isinstance(client, KrosAIVendor)
    kros.control("DELETE", "requests")
    candidate = client.search(Q415).numbers[0]
    assert candidate.number.startswith("+1415")
    wanted = Routing(voice_target="ep_xyz789", inbound=True, outbound=False)
    owned = client.buy(candidate, wanted, {})
    assert owned.routing == wanted
    moved = client.update_routing(owned, wanted, Routing(voice_target="ep_abc123", inbound=False))
    assert moved.routing.voice_target == "ep_abc123" and moved.routing.inbound is False
    got = client.get(owned.number, owned.vendor_id)
    assert got is not None and got.routing.voice_target == "ep_abc123"
    assert owned.number in {o.number for o in client.list_owned()}
    client.release(owned.number, owned.vendor_id)
    assert client.get(owned.number, owned.vendor_id) is None
    paths = {p for _, p, _ in kros.requests()}
    base = "/api/v1" if dialect == "bridge" else "/v1"
    assert all(p.startswith(base + "/phone-numbers") for p in paths)
    assert (f"{base}/phone-numbers/available" in paths) == (dialect == "guide")
    if dialect == "bridge":
        assert all(f"organization_id={ORGANIZATION_ID}" in q for _, _, q in kros.requests())


def test_a_routing_field_dropped_by_a_spelling_mismatch_is_never_silent(kros: Backend) -> None:
    """Guide-spelled routing sent to an OpenAPI server: the purchase is read back and refused."""
    client = _client(kros)  # guide dialect
    candidate = client.search(NumberQuery(country="US", number_type="local")).numbers[0]
    owned = client.buy(candidate, Routing(), {})
    kros.control("POST", "settings", {"krosai_dialect": "openapi"})  # x-api-key still accepted
    kros.control("DELETE", "requests")
    with pytest.raises(ValidationError, match="krosaiDialect") as info:
        client.update_routing(owned, owned.routing, Routing(voice_target="ep_xyz789"))
    assert "routing.voice_target" in str(info.value)
    other = _buyable(kros)
    with pytest.raises(ValidationError, match="krosaiDialect"):
        client.buy(other, Routing(voice_target="ep_xyz789"), {})
    calls = [m for m, _, q in kros.requests() if "action=available" not in q]
    assert calls == ["PATCH", "POST", "GET"]  # the purchase answer was read back once


def _buyable(kros: Backend) -> AvailableNumber:
    """An inventory entry, found with the OpenAPI search (the emulator speaks it now)."""
    response = httpx.get(
        f"{kros.url}/v1/phone-numbers",
        params={"action": "available", "country": "US", "type": "local", "limit": 1},
        headers={"x-api-key": API_KEY},
    )
    row = response.json()["data"][0]
    return AvailableNumber(
        number=row["e164"], country="US", number_type="local", vendor_ref=row["inventory_id"]
    )


# -- paging and lookups without an id ------------------------------------------------------------
def test_list_follows_limit_offset_and_total(kros: Backend, api: httpx.Client) -> None:
    items, _ = kros.store.search(country="US", number_type="local", limit=130)
    for item in items:  # state set up in the emulator's store, as if bought earlier
        kros.store.buy(item.number, vendor="krosai", vendor_id=f"pn_{uuid.uuid4().hex[:24]}")
    page = api.get("/phone-numbers", params={"limit": 100, "offset": 100}).json()
    assert (page["total"], page["limit"], page["offset"]) == (130, 100, 100)
    assert len(page["phone_numbers"]) == 30

    client = _client(kros)
    before = client.http.requests_sent
    listed = list(client.list_owned())
    assert [o.number for o in listed] == [i.number for i in items]
    assert client.http.requests_sent - before == 2

    target = items[-1]
    found = client.get(target.number)  # adopt / audit: no vendor id known
    assert found is not None and found.vendor_id.startswith("pn_")
    assert found.monthly_cost.amount == target.monthly
    client.release(target.number, "")
    assert client.get(target.number) is None
    client.release(target.number, "")  # not owned any more: success


# -- rate limits ------------------------------------------------------------
def test_purchase_rate_limit_is_retried(kros: Backend, api: httpx.Client) -> None:
    kros.control("POST", "settings", {"rate_limit": "on"})
    burst = [api.post("/phone-numbers", json={}) for _ in range(12)]
    assert burst[0].headers["X-RateLimit-Limit"] == "5"  # purchases: 5 per second
    assert burst[0].json()["code"] == "MISSING_FIELDS"
    limited = [r for r in burst if r.status_code == 429]
    assert len(limited) >= 2  # 5 purchases per second, 12 sent within two windows at most
    body = limited[0].json()
    assert body["code"] == "RATE_LIMIT_EXCEEDED" and 0 < body["retry_after"] <= 1
    assert int(limited[0].headers["Retry-After"]) >= 1

    client = _client(kros)
    candidates = list(client.search(NumberQuery(country="US", area_code="212")).numbers[:8])
    with ThreadPoolExecutor(8) as pool:
        owned = list(pool.map(lambda c: client.buy(c, Routing(), {}), candidates))
    assert {o.number for o in owned} == {c.number for c in candidates}
    assert sorted(_buys(kros)) == sorted(c.number for c in candidates)


# -- routing flags through the provider -----------------------------------------------------------
def test_routing_flags_ride_on_the_purchase(kros: Backend, serialized_provider: str) -> None:
    urn = URN.format("flags")
    declared = {"voice_target": "ep_xyz789", "inbound": True, "outbound": False}
    with ProviderProcess() as provider:
        provider.configure(kros.config)
        bad = provider.check(
            urn,
            {},
            {
                "__provider": serialized_provider,
                "vendor": "krosai",
                "country": "US",
                "routing": {"sms_target": "plan-1", "label": "Support", "voice_target": "app-123"},
            },
        )
        reasons = dict(bad.failures)
        assert {"routing.sms_target", "routing.label", "routing.voice_target"} <= set(reasons)
        assert (
            "krosai" in reasons["routing.sms_target"] and "ep_" in reasons["routing.voice_target"]
        )

        news = provider.check(
            urn,
            {},
            {
                "__provider": serialized_provider,
                "vendor": "krosai",
                "country": "US",
                "area_code": "415",
                "routing": declared,
            },
        )
        assert news.failures == []
        id_, outs = provider.create(urn, news.inputs)
        assert outs["routing"] == declared
        record = kros.store.get(id_)
        assert record is not None and record.vendor_id == outs["vendor_id"]
        assert record.routing == {
            "endpoint_id": "ep_xyz789",
            "allow_inbound": True,
            "allow_outbound": False,
        }
        assert [e["op"] for e in kros.ledger()] == ["buy"]  # no routing call after the buy

        edited = provider.check(
            urn,
            {},
            {
                "__provider": serialized_provider,
                "vendor": "krosai",
                "country": "US",
                "area_code": "415",
                "routing": {**declared, "outbound": True},
            },
        ).inputs
        new_outs = provider.update(urn, id_, outs, edited)
        assert new_outs["routing"]["outbound"] is True
        update = kros.ledger()[-1]
        assert update["op"] == "update" and update["routing"] == {"allow_outbound": True}

        _, read_outs, _ = provider.read(urn, id_, new_outs)
        assert read_outs["routing"] == {**declared, "outbound": True}
        provider.delete(urn, id_, new_outs)
    assert kros.owned_numbers() == set()


# -- a 404 that is not KrosAI's --------------------------------------------------
class _HtmlNotFound(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"<html><body>404 Not Found</body></html>"
        self.send_response(404)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_a_404_without_the_krosai_envelope_is_not_gone(kros: Backend) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _HtmlNotFound)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/v1"
        client = KrosAIVendor(
            Settings(raw={"krosaiApiKey": API_KEY, "krosaiBaseUrl": url}, environ={})
        )
        with pytest.raises(ConfigError, match="phonenumbers:krosaiBaseUrl"):
            client.get("+14155550100", "pn_0123456789abcdef01234567")  # never "gone"
        client.close()
    finally:
        server.shutdown()
        server.server_close()
    # the emulator's own 404 for an id the account does not hold is "gone"
    assert _client(kros).get("+14155550100", "pn_0123456789abcdef01234567") is None
