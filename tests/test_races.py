"""Races: many simultaneous creates with identical criteria against a small inventory.

Through the real gRPC provider (its 4 worker threads share one claim set) and, across
processes, through the vendor's own "not available" answer. 40 numbers match; the
surplus of the shared inventory is bought out-of-band (as if by someone else) first.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from pulumi_phonenumbers.testing import ProviderError, ProviderProcess
from pulumi_phonenumbers.testing.backends import Backend

URN = "urn:pulumi:dev::phonenumbers-test::pulumi-python:dynamic/phonenumbers:PhoneNumber::{}"
CRITERIA = {"country": "US", "number_type": "local", "area_code": "415"}
MATCHING = 40


def _leave_only(backend: Backend, count: int) -> set[str]:
    """Buy every matching number but ``count`` out-of-band; return the ones left for sale.

    The out-of-band purchases are recorded with ``vendor="console"`` in the ledger.
    """
    items, total = backend.store.search(
        country="US", number_type="local", area_code="415", limit=10_000
    )
    assert total == len(items) >= count
    surplus = items[::2][: total - count]  # spread out, so the free ones interleave
    surplus += [i for i in items if i not in surplus][: total - count - len(surplus)]
    for item in surplus:
        backend.buy_out_of_band(item.number)
    free = {i.number for i in items} - {i.number for i in surplus}
    assert len(free) == count
    return free


@pytest.fixture
def provider(backend: Backend) -> Iterator[ProviderProcess]:
    with ProviderProcess() as process:
        process.configure(backend.config)
        yield process


def _inputs(provider: ProviderProcess, serialized: str, vendor: str) -> dict[str, Any]:
    outcome = provider.check(
        URN.format("race"), {}, {"__provider": serialized, "vendor": vendor, **CRITERIA}
    )
    assert outcome.failures == []
    return outcome.inputs


def _create_all(
    provider: ProviderProcess,
    inputs: dict[str, Any],
    names: list[str],
) -> list[str | ProviderError]:
    def create(name: str) -> str | ProviderError:
        try:
            return provider.create(URN.format(name), inputs)[0]
        except ProviderError as exc:
            return exc

    with ThreadPoolExecutor(len(names)) as pool:
        return list(pool.map(create, names))


def _ours(backend: Backend) -> list[str]:
    return [e["number"] for e in backend.ledger() if e["op"] == "buy" and e["vendor"] != "console"]


def test_32_simultaneous_creates_then_the_inventory_runs_out(
    backend: Backend, provider: ProviderProcess, serialized_provider: str
) -> None:
    free = _leave_only(backend, MATCHING)
    inputs = _inputs(provider, serialized_provider, backend.vendor)

    first = _create_all(provider, inputs, [f"n{i}" for i in range(32)])
    errors = [r for r in first if isinstance(r, ProviderError)]
    assert errors == []
    numbers = [r for r in first if isinstance(r, str)]
    assert len(set(numbers)) == 32 and set(numbers) <= free

    rest = _create_all(provider, inputs, [f"m{i}" for i in range(MATCHING - 32 + 1)])
    got = [r for r in rest if isinstance(r, str)]
    failed = [r for r in rest if isinstance(r, ProviderError)]
    assert len(got) == MATCHING - 32 and len(failed) == 1
    line = failed[0].last_line
    assert line.startswith("pulumi_phonenumbers.errors.InventoryExhausted: ")
    assert "inventory exhausted" in line and "area_code=415" in line and "country=US" in line
    assert backend.vendor in line and "Relax the criteria" in line

    # nothing leaked, nothing bought twice: we own exactly the 40 numbers the creates returned
    held = set(numbers) | set(got)
    assert held == free
    ours = _ours(backend)
    assert Counter(ours).most_common(1)[0][1] == 1 and set(ours) == held
    console = {e["number"] for e in backend.ledger() if e["vendor"] == "console"}
    assert backend.owned_numbers() == held | console
    assert not [e for e in backend.ledger() if e["op"] == "release"]


def test_two_provider_processes_race_for_the_same_numbers(
    backend: Backend, serialized_provider: str
) -> None:
    """Two stacks at once: no shared claim set, only the vendor's "not available"."""
    free = _leave_only(backend, MATCHING)
    with ProviderProcess() as one, ProviderProcess() as two:
        one.configure(backend.config)
        two.configure(backend.config)
        inputs = _inputs(one, serialized_provider, backend.vendor)
        with ThreadPoolExecutor(2) as pool:
            runs = [
                pool.submit(_create_all, p, inputs, [f"{tag}{i}" for i in range(16)])
                for tag, p in (("a", one), ("b", two))
            ]
            results = [r for run in runs for r in run.result()]
    assert [r.last_line for r in results if isinstance(r, ProviderError)] == []
    numbers = [r for r in results if isinstance(r, str)]
    assert len(set(numbers)) == 32 and set(numbers) <= free
    assert sorted(_ours(backend)) == sorted(numbers)
