"""``phonenumbers:previewInventory``: Check asks the vendor (searches only) before a create.

Over the real dynamic-provider gRPC server against the Plivo emulator, with a WSGI counter
in front of the emulator to see every vendor request.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from pulumi_phonenumbers.models import NumberQuery, Routing
from pulumi_phonenumbers.testing import ProviderProcess
from pulumi_phonenumbers.testing._counting import RequestCounter
from pulumi_phonenumbers.testing.backends import Backend

URN = "urn:pulumi:dev::inv::pulumi-python:dynamic/phonenumbers:PhoneNumber::{}"


@pytest.fixture(scope="module")
def plivo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Backend, RequestCounter]]:
    backend = Backend.start("plivo", tmp_path_factory.mktemp("inv"))
    assert backend.emulator is not None
    counter = RequestCounter.install(backend.emulator)
    yield backend, counter
    backend.stop()


def _provider(backend: Backend, on: bool) -> ProviderProcess:
    process = ProviderProcess()
    process.configure(
        {**backend.config, "phonenumbers:previewInventory": "true" if on else "false"}
    )
    return process


def _check(
    process: ProviderProcess, ser: str, olds: dict[str, Any] | None = None, **inputs: Any
) -> list[tuple[str, str]]:
    outcome = process.check(URN.format("n"), olds or {}, {"__provider": ser, **inputs})
    return [(f[0], f[1]) for f in outcome.failures]


def test_unsatisfiable_area_code_fails_naming_it(
    plivo: tuple[Backend, RequestCounter], serialized_provider: str
) -> None:
    backend, counter = plivo
    with _provider(backend, on=True) as process:
        counter.take()
        failures = _check(process, serialized_provider, vendor="plivo", area_code="999")
        assert len(failures) == 1, failures
        field, reason = failures[0]
        assert field == "area_code"
        assert reason.startswith("no US local number in 999 at plivo; ")
        assert reason.endswith("without this criterion")
        assert "20+" in reason or reason.split("; ")[1][0].isdigit()
        assert all(method == "GET" for method, _ in counter.take())
    assert not [e for e in backend.ledger() if e["op"] == "buy"]


def test_satisfiable_passes_with_one_search_per_criteria(
    plivo: tuple[Backend, RequestCounter], serialized_provider: str
) -> None:
    backend, counter = plivo
    with _provider(backend, on=True) as process:
        counter.take()
        with ThreadPoolExecutor(4) as pool:
            results = list(
                pool.map(
                    lambda _: _check(process, serialized_provider, vendor="plivo", area_code="415"),
                    range(8),
                )
            )
        assert results == [[]] * 8
        assert len(counter.take()) == 1  # eight checks, one search
        # Other criteria: one more search; an update (olds set) asks nothing.
        assert _check(process, serialized_provider, vendor="plivo", area_code="212") == []
        assert len(counter.take()) == 1
        olds = {"vendor": "plivo", "area_code": "999"}
        assert _check(process, serialized_provider, olds, vendor="plivo", area_code="999") == []
        assert counter.take() == []
    assert not [e for e in backend.ledger() if e["op"] == "buy"]


def test_off_by_default_makes_no_call(
    plivo: tuple[Backend, RequestCounter], serialized_provider: str
) -> None:
    backend, counter = plivo
    with _provider(backend, on=False) as process:
        counter.take()
        assert _check(process, serialized_provider, vendor="plivo", area_code="999") == []
        assert counter.take() == []


def test_exact_number_owned_or_not_for_sale(
    plivo: tuple[Backend, RequestCounter], serialized_provider: str
) -> None:
    backend, _ = plivo
    client = backend.client()
    page = client.search(NumberQuery(country="US", area_code="646"))
    owned = client.buy(page.numbers[0], Routing(), {}).number
    free = page.numbers[1].number
    with _provider(backend, on=True) as process:
        failures = _check(process, serialized_provider, vendor="plivo", number=owned)
        assert failures and failures[0][0] == "number"
        assert "already owned" in failures[0][1] and "adopt=True" in failures[0][1]
        assert _check(process, serialized_provider, vendor="plivo", number=free) == []
        missing = "+16465550199" if free != "+16465550199" else "+16465550198"
        if backend.store.available(missing) is None:
            failures = _check(process, serialized_provider, vendor="plivo", number=missing)
            assert failures and "not for sale" in failures[0][1]
        # adopt: the account must own it.
        assert _check(process, serialized_provider, vendor="plivo", number=owned, adopt=True) == []
        failures = _check(process, serialized_provider, vendor="plivo", number=free, adopt=True)
        assert failures and failures[0][0] == "number" and "does not own" in failures[0][1]
    bought = [e["number"] for e in backend.ledger() if e["op"] == "buy"]
    assert bought == [owned]


def test_unknown_criteria_skip_the_search(
    plivo: tuple[Backend, RequestCounter], serialized_provider: str
) -> None:
    backend, counter = plivo
    unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
    with _provider(backend, on=True) as process:
        counter.take()
        assert _check(process, serialized_provider, vendor="plivo", area_code=unknown) == []
        assert counter.take() == []


def test_every_vendor_exact_and_criteria(backend: Backend, serialized_provider: str) -> None:
    """Each vendor's search can tell an offered exact number, an owned one and a dead end."""
    client = backend.client()
    page = client.search(NumberQuery(country="US", area_code="212"))
    owned = client.buy(page.numbers[0], Routing(), {}).number
    free = page.numbers[-1].number
    with _provider(backend, on=True) as process:
        ser = serialized_provider
        failures = _check(process, ser, vendor=backend.vendor, number=owned)
        assert [f for f, _ in failures] == ["number"] and "already owned" in failures[0][1]
        assert _check(process, ser, vendor=backend.vendor, number=free) == []
        assert _check(process, ser, vendor=backend.vendor, area_code="212") == []
        failures = _check(process, ser, vendor=backend.vendor, area_code="999")
        assert [f for f, _ in failures] == ["area_code"], failures
    assert [e["number"] for e in backend.ledger() if e["op"] == "buy"] == [owned]
