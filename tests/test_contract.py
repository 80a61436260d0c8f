"""The vendor contract: one suite over every vendor, through its emulator over real HTTP.

search -> buy -> get -> list -> update routing -> release -> get is None; buying a taken
number is NotAvailable; bad credentials are AuthError. A vendor joins by existing in the
registry with an emulator face (see ``conftest.VENDORS``).
"""

from __future__ import annotations

import pytest

from pulumi_phonenumbers.errors import AuthError, NotAvailable
from pulumi_phonenumbers.models import NumberQuery, Routing
from pulumi_phonenumbers.testing.backends import Backend

Q415 = NumberQuery(country="US", number_type="local", area_code="415")


def test_search_returns_matching_numbers(backend: Backend) -> None:
    page = backend.client().search(Q415)
    assert page.numbers, "no US 415 local numbers offered"
    for available in page.numbers:
        assert available.number.startswith("+1415")
        assert available.country == "US"
        assert available.monthly_cost.amount > 0


def test_lifecycle(backend: Backend) -> None:
    vendor = backend.client()
    first, second = vendor.info.target_examples
    candidate = vendor.search(Q415).numbers[0]
    routing = Routing(voice_target=first)
    owned = vendor.buy(candidate, routing if vendor.info.buy_carries_routing else Routing(), {})
    if not vendor.info.buy_carries_routing:
        owned = vendor.update_routing(owned, Routing(), routing)
    assert owned.number == candidate.number
    assert owned.vendor_id

    got = vendor.get(owned.number, owned.vendor_id)
    assert got is not None and got.number == owned.number
    assert got.routing.voice_target == first
    assert owned.number in {n.number for n in vendor.list_owned()}
    assert owned.number not in {n.number for n in vendor.search(Q415).numbers}

    updated = vendor.update_routing(got, Routing(voice_target=first), Routing(voice_target=second))
    assert updated.routing.voice_target == second
    again = vendor.get(owned.number, owned.vendor_id)
    assert again is not None and again.routing.voice_target == second

    vendor.release(owned.number, owned.vendor_id)
    assert vendor.get(owned.number, owned.vendor_id) is None
    vendor.release(owned.number, owned.vendor_id)  # releasing twice is success

    ops = [(e["op"], e["number"]) for e in backend.ledger()]
    assert ("buy", owned.number) in ops and ("release", owned.number) in ops
    assert ops.count(("buy", owned.number)) == 1


def test_buying_a_taken_number_is_not_available(backend: Backend) -> None:
    vendor = backend.client()
    candidate = vendor.search(Q415).numbers[0]
    vendor.buy(candidate, Routing(), {})
    with pytest.raises(NotAvailable):
        vendor.buy(candidate, Routing(), {})
    assert [e["op"] for e in backend.ledger()].count("buy") == 1


def test_bad_credentials_are_auth_errors(backend: Backend) -> None:
    if backend.vendor == "sandbox":
        pytest.skip("the sandbox needs no credentials")
    vendor = backend.client(backend.bad_credentials())
    with pytest.raises(AuthError) as info:
        vendor.search(Q415)
    for secret in backend.secret_values():
        assert secret not in str(info.value)


def test_list_follows_paging(backend: Backend) -> None:
    vendor = backend.client()
    bought = set()
    query = NumberQuery(country="US", number_type="local", area_code="212")
    cursor = None
    while len(bought) < 25:
        page = vendor.search(query, cursor)
        for candidate in page.numbers[: 25 - len(bought)]:
            bought.add(vendor.buy(candidate, Routing(), {}).number)
        cursor = page.next_cursor
        if cursor is None:
            page = vendor.search(query)  # vendors without paging: the page shrinks as we buy
            if not page.numbers:
                break
    assert len(bought) == 25
    assert bought <= {n.number for n in vendor.list_owned()}
