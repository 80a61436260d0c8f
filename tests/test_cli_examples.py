"""Every example through the real ``pulumi`` CLI, checked against the vendors' ledgers.

preview (no vendor call) -> up -> routing edit -> ``pulumi preview --json`` (updates, no
replaces) -> up -> release one number out of band -> ``pulumi refresh`` drops it -> destroy
(nothing owned, nothing bought twice). The quickstart and the fleet also run the same
sequence through :class:`LocalEngine` on fresh backends: both engines must leave the same
ledger (which numbers were bought, re-routed, released).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import (
    EXAMPLES,
    assert_no_double_spend,
    events,
    marks,
    new_stack,
    owned,
    phone_ops,
    state_numbers,
)
from test_examples import CASES, Backends, Case, _available, _config

from pulumi_phonenumbers.testing import LocalEngine
from pulumi_phonenumbers.testing.backends import Backend

pytestmark = pytest.mark.cli

#: One lifecycle per example (the first case of each in test_examples).
CLI_CASES = list({c.example: c for c in reversed(CASES)}.values())[::-1]
PARITY = {"quickstart", "fleet"}


def _start(case: Case, directory: Path) -> Backends:
    return {v: Backend.start(v, directory / v) for v in case.vendors}


@pytest.fixture
def case_backends(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backends]:
    case: Case = request.param
    if not _available(case):
        pytest.skip(f"{case.id}: emulator not available")
    started = _start(case, tmp_path / "cli")
    yield started
    for backend in started.values():
        backend.stop()


def _ledger(backends: Backends) -> dict[str, list[str]]:
    """What the vendor side saw, by operation (sorted numbers)."""
    values = backends.values()
    return {op: sorted(events(values, op)) for op in ("buy", "update", "release")}


def _local_run(case: Case, directory: Path, victim_name: str) -> dict[str, list[str]]:
    """The same sequence through LocalEngine on fresh backends; their ledger."""
    backends = _start(case, directory)
    try:
        config = {**_config(backends), **case.config(backends)}
        engine = LocalEngine(EXAMPLES / case.example, config=config, state=directory / "s.json")
        engine.preview()
        engine.up()
        engine.config.update(case.routing_edit(backends))
        numbers = engine.up().numbers()
        victim = numbers[victim_name]
        next(b for b in backends.values() if victim in b.owned_numbers()).release_out_of_band(
            victim
        )
        engine.refresh()
        engine.destroy()
        return _ledger(backends)
    finally:
        for backend in backends.values():
            backend.stop()


@pytest.mark.parametrize("case_backends", CLI_CASES, ids=[c.id for c in CLI_CASES], indirect=True)
def test_example_lifecycle_through_the_cli(
    case_backends: Backends, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    case: Case = request.node.callspec.params["case_backends"]
    backends = case_backends
    vendors = list(backends.values())
    config: dict[str, Any] = {**_config(backends), **case.config(backends)}
    pre_owned = owned(vendors)
    cli = new_stack(case.example, tmp_path, config)

    before = marks(vendors)
    plan = cli.preview_json()
    assert set(phone_ops(plan)) == {"create"}, plan.get("changeSummary")
    assert marks(vendors) == before, "the preview reached the vendor"

    cli.up()
    numbers = state_numbers(cli.export())
    assert numbers and all(n.startswith("+") for n in numbers.values())
    if case.adopts:
        assert set(numbers.values()) == pre_owned and not events(vendors, "buy", before)
    else:
        assert sorted(events(vendors, "buy", before)) == sorted(numbers.values())

    cli.set_all(case.routing_edit(backends))
    plan = cli.preview_json()
    ops = phone_ops(plan)
    assert ops["update"] == len(numbers), ops
    assert set(ops) <= {"update", "same"}, ops  # no replace, no create, no delete
    routed_from = marks(vendors)
    cli.up()
    assert state_numbers(cli.export()) == numbers
    assert set(events(vendors, "update", routed_from)) == set(numbers.values())
    assert not events(vendors, "buy", routed_from) and not events(vendors, "release", routed_from)

    victim_name, victim = sorted(numbers.items())[0]
    next(b for b in vendors if victim in b.owned_numbers()).release_out_of_band(victim)
    cli.refresh()
    refreshed = state_numbers(cli.export())
    assert victim_name not in refreshed and len(refreshed) == len(numbers) - 1

    cli.destroy()
    assert state_numbers(cli.export()) == {}
    cli.remove()
    assert_no_double_spend(vendors)
    if case.adopts:
        assert owned(vendors) == pre_owned - {victim}
    else:
        assert set(events(vendors, "buy")) == set(events(vendors, "release")), "leaked"
        assert owned(vendors) == set()

    if case.example in PARITY:
        cli_ledger = _ledger(backends)
        assert _local_run(case, tmp_path / "local", victim_name) == cli_ledger
