"""``get_available_numbers``: searches with PhoneNumber's rules, never buys, checks answers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pulumi_phonenumbers import e164
from pulumi_phonenumbers.errors import AuthError
from pulumi_phonenumbers.functions import get_available_numbers
from pulumi_phonenumbers.inputs import validate
from pulumi_phonenumbers.lookup import InvalidCriteria
from pulumi_phonenumbers.testing import LocalEngine
from pulumi_phonenumbers.testing.backends import Backend
from pulumi_phonenumbers.vendors import vendor_infos


@pytest.fixture(scope="module")
def plivo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    b = Backend.start("plivo", tmp_path_factory.mktemp("plivo"))
    yield b
    b.stop()


def _bought(backend: Backend) -> list[str]:
    return [e["number"] for e in backend.ledger() if e["op"] == "buy"]


def test_plivo_415_five_candidates_and_no_purchase(plivo: Backend) -> None:
    found = get_available_numbers(
        vendor="plivo", country="US", area_code="415", limit=5, config=plivo.config
    )
    assert len(found) == 5
    assert len({r.number for r in found}) == 5
    for r in found:
        assert r.number.startswith("+1415"), r
        assert r.monthly_cost > 0 and r.currency == "USD"
        assert r.locality
        assert r.number_type == "local"
        assert not set(r.capabilities) - {"voice", "sms", "mms"}
    assert _bought(plivo) == []
    assert plivo.owned_numbers() == set()


def test_every_vendor_meets_the_criteria_and_buys_nothing(backend: Backend) -> None:
    area = "212"
    found = get_available_numbers(
        vendor=backend.vendor,
        area_code=area,
        capabilities=["voice"],
        limit=3,
        config=backend.config,
    )
    assert found, backend.vendor
    for r in found:
        assert e164.normalize(r.number) == r.number
        assert r.number[2:5] == area
        assert "voice" in r.capabilities
    assert _bought(backend) == []


def test_max_monthly_cost_filters(plivo: Backend) -> None:
    every = get_available_numbers(vendor="plivo", area_code="415", limit=20, config=plivo.config)
    cheapest = min(r.monthly_cost for r in every)
    capped = get_available_numbers(
        vendor="plivo", area_code="415", max_monthly_cost=cheapest, limit=20, config=plivo.config
    )
    assert capped and all(r.monthly_cost <= cheapest for r in capped)


@pytest.mark.parametrize(
    ("criteria", "field"),
    [
        ({"area_code": "41a"}, "area_code"),
        ({"country": "USA"}, "country"),
        ({"number_type": "satellite"}, "number_type"),
        ({"capabilities": ["fax"]}, "capabilities"),
        ({"max_monthly_cost": -1}, "max_monthly_cost"),
        ({"vendor": "nosuchvendor"}, "vendor"),
    ],
)
def test_bad_criteria_fail_like_check(criteria: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidCriteria) as caught:
        get_available_numbers(config={"vendor": "sandbox"}, **criteria)  # type: ignore[arg-type]
    fields = [f for f, _ in caught.value.failures]
    assert field in fields
    # The very messages PhoneNumber's check gives for the same input.
    _, check_failures = validate({"vendor": "sandbox", **criteria}, "sandbox", vendor_infos())
    mine = [f for f in caught.value.failures if f[0] == field]
    assert mine == [f for f in check_failures if f[0] == field]


def test_limit_out_of_range(plivo: Backend) -> None:
    with pytest.raises(InvalidCriteria, match="limit"):
        get_available_numbers(vendor="plivo", limit=0, config=plivo.config)


def test_bad_credentials_never_echoed(plivo: Backend) -> None:
    bad = {**plivo.config, **plivo.bad_credentials()}
    with pytest.raises(AuthError) as caught:
        get_available_numbers(vendor="plivo", area_code="415", config=bad)
    for secret in [*plivo.secret_values(), *plivo.bad_credentials().values()]:
        assert secret not in str(caught.value)
    assert _bought(plivo) == []


def test_inside_a_program_at_preview_reads_stack_config(plivo: Backend, tmp_path: Path) -> None:
    """A program's preview searches with the stack's phonenumbers:* config; nothing bought."""
    import pulumi

    from pulumi_phonenumbers import get_available_numbers_output

    def program() -> None:
        direct = get_available_numbers(vendor="plivo", area_code="415", limit=3)
        pulumi.export("direct", [r.number for r in direct])
        lazy = get_available_numbers_output(vendor="plivo", area_code="415", limit=2)
        pulumi.export("lazy", lazy.apply(lambda rs: [r.monthly_cost for r in rs]))

    engine = LocalEngine(program, config=plivo.config, state=tmp_path / "state.json")
    result = engine.preview()
    assert result.ok, result.summary()
    assert len(result.outputs["direct"]) == 3
    assert all(n.startswith("+1415") for n in result.outputs["direct"])
    assert len(result.outputs["lazy"]) == 2
    assert _bought(plivo) == []
