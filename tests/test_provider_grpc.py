"""The provider over the real dynamic-provider gRPC server, for every vendor.

Exactly what the engine does: Configure, Check, Diff, Create, Update, Read, Delete
against ``python -u -m pulumi.dynamic``, with the vendor behind an emulator on 127.0.0.1.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest

from pulumi_phonenumbers.models import AvailableNumber, NumberQuery, Routing
from pulumi_phonenumbers.testing import ProviderError, ProviderProcess
from pulumi_phonenumbers.testing._grpc import checked, create_at_once, update_in_place
from pulumi_phonenumbers.testing.backends import Backend
from pulumi_phonenumbers.vendors import vendor_class

URN = "urn:pulumi:dev::phonenumbers-test::pulumi-python:dynamic/phonenumbers:PhoneNumber::{}"


@pytest.fixture
def provider(backend: Backend) -> Iterator[ProviderProcess]:
    with ProviderProcess() as process:
        process.configure(backend.config)
        yield process


def _checked(provider: ProviderProcess, ser: str, name: str, **inputs: Any) -> dict[str, Any]:
    return checked(provider, URN.format(name), {"__provider": ser, **inputs})


def _assert_no_secrets(backend: Backend, *texts: str) -> None:
    for secret in backend.secret_values():
        for text in texts:
            assert secret not in text


def test_full_lifecycle(
    backend: Backend, provider: ProviderProcess, serialized_provider: str
) -> None:
    info = vendor_class(backend.vendor).info
    first, second = info.target_examples
    urn = URN.format("main")

    def check_main(**inputs: Any) -> dict[str, Any]:
        ser = serialized_provider
        return _checked(provider, ser, "main", vendor=backend.vendor, country="US", **inputs)

    inputs = check_main(area_code="415", routing={"voice_target": first})
    id_, outs = provider.create(urn, inputs)
    assert id_ == outs["number"] and id_.startswith("+1415")
    assert outs["routing"]["voice_target"] == first
    assert outs["vendor_id"] and outs["monthly_cost"] > 0 and outs["status"]
    assert ("buy", id_) in [(e["op"], e["number"]) for e in backend.ledger()]

    # a routing edit is an in-place update that keeps every output
    news = check_main(area_code="415", routing={"voice_target": second})
    new_outs = update_in_place(provider, urn, id_, outs, news)
    assert new_outs["routing"]["voice_target"] == second
    assert set(outs) <= set(new_outs)
    assert new_outs["number"] == id_ and new_outs["vendor_id"] == outs["vendor_id"]
    assert [e["op"] for e in backend.ledger()].count("buy") == 1

    # criteria are hints: dropping one is no replacement, one the number fails is
    dropped = check_main(routing={"voice_target": second})
    assert provider.diff(urn, id_, new_outs, dropped).replaces == []
    moved = check_main(area_code="212", routing={"voice_target": second})
    assert provider.diff(urn, id_, new_outs, moved).replaces == ["area_code"]
    same = provider.diff(urn, id_, new_outs, news)
    assert same.changes is False

    read_id, read_outs, _ = provider.read(urn, id_, new_outs)
    assert read_id == id_ and read_outs["routing"]["voice_target"] == second

    provider.delete(urn, id_, new_outs)
    assert ("release", id_) in [(e["op"], e["number"]) for e in backend.ledger()]
    gone_id, _, _ = provider.read(urn, id_, new_outs)
    assert gone_id == ""
    provider.delete(urn, id_, new_outs)  # already gone: success

    _assert_no_secrets(
        backend,
        repr(outs),
        repr(new_outs),
        provider.stderr,
        base64.b64decode(serialized_provider).decode("latin-1"),
    )


def test_simultaneous_creates_get_distinct_numbers(
    backend: Backend, provider: ProviderProcess, serialized_provider: str
) -> None:
    inputs = _checked(
        provider, serialized_provider, "n", vendor=backend.vendor, country="US", area_code="415"
    )
    numbers = create_at_once(provider, [URN.format(f"n{i}") for i in range(16)], inputs)
    assert len(set(numbers)) == 16
    buys = [e["number"] for e in backend.ledger() if e["op"] == "buy"]
    assert sorted(buys) == sorted(numbers)


def test_check_names_the_field(
    backend: Backend, provider: ProviderProcess, serialized_provider: str
) -> None:
    outcome = provider.check(
        URN.format("bad"),
        {},
        {
            "__provider": serialized_provider,
            "vendor": backend.vendor,
            "number": "+1999",
            "max_monthly_cost": -3,
            "routing": {"bogus": "x"},
            "capabilities": ["fax"],
        },
    )
    fields = {prop for prop, _ in outcome.failures}
    assert {"number", "max_monthly_cost", "routing.bogus", "capabilities"} <= fields


def test_unknown_values_at_preview_do_not_crash(
    backend: Backend, provider: ProviderProcess, serialized_provider: str
) -> None:
    from pulumi_phonenumbers.inputs import UNKNOWN

    _checked(
        provider,
        serialized_provider,
        "u",
        vendor=backend.vendor,
        country="US",
        area_code=UNKNOWN,
        routing={"voice_target": UNKNOWN},
    )


def test_bad_credentials_fail_with_a_clear_error_and_no_secret(
    backend: Backend, serialized_provider: str
) -> None:
    if backend.vendor == "sandbox":
        pytest.skip("the sandbox needs no credentials")
    with ProviderProcess() as process:
        process.configure({**backend.config, **backend.bad_credentials()})
        inputs = _checked(
            process, serialized_provider, "x", vendor=backend.vendor, country="US", area_code="415"
        )
        with pytest.raises(ProviderError) as info:
            process.create(URN.format("x"), inputs)
        assert "AuthError" in info.value.last_line
        _assert_no_secrets(backend, info.value.detail, process.stderr)
        for wrong in backend.bad_credentials().values():
            assert wrong not in info.value.detail
    assert not [e for e in backend.ledger() if e["op"] == "buy"]


def page_query(number: AvailableNumber) -> NumberQuery:
    return NumberQuery(country=number.country, number_type=number.number_type)


def test_adopt_holds_the_owned_number_to_the_declared_capabilities(
    backend: Backend, provider: ProviderProcess, serialized_provider: str
) -> None:
    """Issue 12.10: a capability the owned number lacks fails create, naming capabilities;
    nothing is bought, adopted or re-routed. Capabilities it has adopt as before."""
    info = vendor_class(backend.vendor).info
    client = backend.client()
    owned = None
    for country, kind in (("US", "toll_free"), ("GB", "local"), ("KE", "local"), ("CA", "local")):
        if (info.countries and country not in info.countries) or kind not in info.number_types:
            continue
        page = client.search(NumberQuery(country=country, number_type=kind))
        lacks = [n for n in page.numbers if not set(info.capabilities) <= set(n.capabilities)]
        if lacks and not vendor_class(backend.vendor).check_query(page_query(lacks[0]), {}):
            owned = client.buy(lacks[0], Routing(), {})
            break
    if owned is None:
        pytest.skip(f"{backend.vendor} sells no number without {sorted(info.capabilities)}")
    lacking = sorted(set(info.capabilities) - set(owned.capabilities))
    before = backend.ledger()
    urn = URN.format("adopted")

    def adopt(capabilities: list[str]) -> dict[str, Any]:
        return _checked(
            provider,
            serialized_provider,
            "adopted",
            vendor=backend.vendor,
            number=owned.number,
            adopt=True,
            capabilities=capabilities,
            routing={"voice_target": info.target_examples[0]},
        )

    with pytest.raises(ProviderError) as failed:
        provider.create(urn, adopt([lacking[0]]))
    message = failed.value.last_line
    assert f"capabilities {lacking[0]}" in message and "Nothing was adopted" in message
    assert backend.ledger() == before  # no purchase, no routing change, no release
    assert client.get(owned.number) is not None

    has = sorted(owned.capabilities)
    inputs = adopt(has)
    id_, outs = provider.create(urn, inputs)
    assert id_ == owned.number and outs["number_capabilities"] == has
    assert not [e for e in backend.ledger()[len(before) :] if e["op"] in ("buy", "release")]
