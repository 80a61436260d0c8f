"""``PhoneNumberFleet``: stable member keys, exact releases, summed outputs (sandbox)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pulumi
import pytest

from pulumi_phonenumbers import PhoneNumberFleet, RoutingArgs, get_available_numbers
from pulumi_phonenumbers.fleet import FLEET_TYPE, fleet_keys
from pulumi_phonenumbers.testing import EngineError, LocalEngine
from pulumi_phonenumbers.testing.backends import Backend


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Backend]:
    backend = Backend.start("sandbox", tmp_path / "sandbox")
    yield backend
    backend.stop()


def _fleet_program() -> None:
    config = pulumi.Config()
    keys = config.get_object("keys")
    pool = PhoneNumberFleet(
        "pool",
        size=None if keys is not None else config.get_int("size"),
        keys=keys,
        country="US",
        area_code="415",
        capabilities=["voice"],
        routing=RoutingArgs(voice_target=config.get("target") or "ivr-1"),
    )
    pulumi.export("numbers", pool.numbers)
    pulumi.export("monthly_cost", pool.monthly_cost)


def _released(backend: Backend) -> list[str]:
    return [e["number"] for e in backend.ledger() if e["op"] == "release"]


def _engine(backend: Backend, tmp_path: Path, **config: object) -> LocalEngine:
    return LocalEngine(
        _fleet_program, config={**backend.config, **config}, state=tmp_path / "state.json"
    )


def test_size_grows_and_shrinks_from_the_highest_key(sandbox: Backend, tmp_path: Path) -> None:
    engine = _engine(sandbox, tmp_path, size=2)
    first = engine.up()
    numbers = first.outputs["numbers"]
    assert sorted(numbers) == ["0", "1"] and first.counts == {"create": 3}

    engine.config["size"] = 4
    grown = engine.up()
    assert grown.op("pool-2") == grown.op("pool-3") == "create"
    assert grown.op("pool-0") == grown.op("pool-1") == "same"
    grown_numbers = grown.outputs["numbers"]
    assert {k: grown_numbers[k] for k in ("0", "1")} == numbers

    engine.config["size"] = 1
    shrunk = engine.up()
    assert shrunk.counts == {"delete": 3, "same": 2}  # the fleet itself and pool-0 unchanged
    assert sorted(_released(sandbox)) == sorted(grown_numbers[k] for k in ("1", "2", "3"))
    assert shrunk.outputs["numbers"] == {"0": numbers["0"]}
    assert sandbox.owned_numbers() == {numbers["0"]}


def test_removing_a_key_releases_exactly_that_number(sandbox: Backend, tmp_path: Path) -> None:
    engine = _engine(sandbox, tmp_path, keys=["support", "sales", "billing"])
    numbers = engine.up().outputs["numbers"]

    engine.config["keys"] = ["support", "billing", "returns"]
    result = engine.up()
    assert result.op("pool-sales") == "delete" and result.op("pool-returns") == "create"
    assert result.op("pool-support") == result.op("pool-billing") == "same"
    assert _released(sandbox) == [numbers["sales"]]
    after = result.outputs["numbers"]
    assert after["support"] == numbers["support"] and after["billing"] == numbers["billing"]
    assert set(after) == {"support", "billing", "returns"}

    engine.destroy()
    assert sandbox.owned_numbers() == set()


def test_outputs_and_children(sandbox: Backend, tmp_path: Path) -> None:
    engine = _engine(sandbox, tmp_path, size=3)
    result = engine.up()
    children = {r.name: r for r in engine.resources() if r.is_phone_number}
    assert set(children) == {"pool-0", "pool-1", "pool-2"}
    assert result.outputs["numbers"] == {k: children[f"pool-{k}"].id for k in ("0", "1", "2")}
    total = sum(c.outputs["monthly_cost"] for c in children.values())
    assert result.outputs["monthly_cost"] == pytest.approx(total) and total > 0

    fleet = next(r for r in engine.resources() if r.type == FLEET_TYPE)
    assert fleet.outputs == {
        "numbers": result.outputs["numbers"],
        "monthly_cost": result.outputs["monthly_cost"],
    }
    for child in children.values():
        assert child.parent == fleet.urn
        assert child.urn.endswith(
            f"::{FLEET_TYPE}$pulumi-python:dynamic/phonenumbers:PhoneNumber::{child.name}"
        )

    engine.config["target"] = "ivr-2"  # one routing for the whole fleet: updates only
    assert engine.up().counts == {"update": 3, "same": 1}
    routes = {
        sandbox.store.get(n).routing["voice_target"]  # type: ignore[union-attr]
        for n in result.outputs["numbers"].values()
    }
    assert routes == {"ivr-2"}


def test_an_empty_fleet_has_empty_outputs(sandbox: Backend, tmp_path: Path) -> None:
    result = _engine(sandbox, tmp_path, size=0).up()
    assert result.outputs == {"numbers": {}, "monthly_cost": 0}


@pytest.mark.parametrize(
    ("size", "keys", "message"),
    [
        (None, None, "exactly one of size"),
        (2, ["a"], "exactly one of size"),
        (-1, None, "size must be a whole number"),
        (True, None, "size must be a whole number"),
        (None, "abc", "keys must be a list"),
        (None, ["a", "a"], "appears twice"),
        (None, ["bad key"], "must be 1-63 letters"),
    ],
)
def test_invalid_size_or_keys(size: object, keys: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        fleet_keys(size, keys)  # type: ignore[arg-type]


def test_invalid_fleet_fails_the_program_and_buys_nothing(sandbox: Backend, tmp_path: Path) -> None:
    engine = _engine(sandbox, tmp_path, keys=["a", "a"])
    with pytest.raises(EngineError, match="appears twice"):
        engine.up()
    assert sandbox.ledger() == []


def _budget_program() -> None:
    config = pulumi.Config()
    pool = PhoneNumberFleet(
        "pool",
        size=config.require_int("size"),
        area_code="415",
        max_monthly_cost=config.get_float("maxEach"),
        max_total_monthly_cost=config.require_float("budget"),
    )
    pulumi.export("numbers", pool.numbers)
    pulumi.export("monthly_cost", pool.monthly_cost)


def _budget_engine(backend: Backend, tmp_path: Path, **config: object) -> LocalEngine:
    return LocalEngine(
        _budget_program, config={**backend.config, **config}, state=tmp_path / "state.json"
    )


def _bought(backend: Backend) -> list[str]:
    return [e["number"] for e in backend.ledger() if e["op"] == "buy"]


def test_budget_refused_at_preview_by_max_monthly_cost(sandbox: Backend, tmp_path: Path) -> None:
    engine = _budget_engine(sandbox, tmp_path, size=4, maxEach=5, budget=10)
    with pytest.raises(EngineError, match=r"max_total_monthly_cost.*4 numbers x max_monthly_cost"):
        engine.preview()
    assert _bought(sandbox) == []


def test_budget_refused_at_preview_by_cheapest_with_preview_inventory(
    sandbox: Backend, tmp_path: Path
) -> None:
    engine = _budget_engine(
        sandbox, tmp_path, size=3, budget=0.5, **{"phonenumbers:previewInventory": "true"}
    )
    with pytest.raises(EngineError, match="x the cheapest matching number"):
        engine.preview()
    # Without previewInventory the preview cannot know the price: up refuses before buying.
    engine.config.pop("phonenumbers:previewInventory")
    assert engine.preview().ok
    with pytest.raises(EngineError, match="415"):
        engine.up()
    assert _bought(sandbox) == []


def test_budget_caps_each_member_and_the_sum(sandbox: Backend, tmp_path: Path) -> None:
    page = get_available_numbers(area_code="415", limit=20, config=sandbox.config)
    prices = sorted(r.monthly_cost for r in page)
    budget = round(prices[0] * 3 + 0.001, 4)  # room for three of the cheapest only
    engine = _budget_engine(sandbox, tmp_path, size=3, budget=budget)
    result = engine.up()
    assert result.ok
    assert result.outputs["monthly_cost"] <= budget
    members = [
        r for r in engine.resources() if r.urn.endswith(("::pool-0", "::pool-1", "::pool-2"))
    ]
    assert len(members) == 3
    for member in members:
        assert member.outputs["budget_monthly_cost"] == pytest.approx(budget / 3)
        assert member.outputs["monthly_cost"] <= budget / 3
    # Lowering the budget below what is held replaces nothing (the share is no criterion).
    engine.config["budget"] = budget / 2
    again = engine.up()
    assert again.counts.get("replace", 0) == 0 and again.counts.get("delete", 0) == 0
    assert len(_bought(sandbox)) == 3


def test_fleet_budget_rejects_nonsense() -> None:
    from pulumi_phonenumbers import InvalidCriteria
    from pulumi_phonenumbers.fleet import fleet_budget

    for bad in (0, -1, True, "10"):
        with pytest.raises(InvalidCriteria, match="max_total_monthly_cost"):
            fleet_budget(2, bad, None)  # type: ignore[arg-type]
    assert fleet_budget(4, 10.0, 2.5) == 2.5
    assert fleet_budget(4, None, 100) is None
