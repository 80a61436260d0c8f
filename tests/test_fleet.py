"""``PhoneNumberFleet``: stable member keys, exact releases, summed outputs (sandbox)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pulumi
import pytest

from pulumi_phonenumbers import PhoneNumberFleet, RoutingArgs
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
