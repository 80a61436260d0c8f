"""Every example, offline, through a whole life: the local engine over the sandbox or the
vendor emulators, checked against what the vendor side saw (the store's ledger).

up -> routing edit -> up (updates only) -> criteria edit the numbers still satisfy -> up
(no replacement) -> fleet resize -> up -> release one number out of band -> refresh (it is
dropped) -> destroy; then every number bought was released and none was bought twice.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from pulumi_phonenumbers.models import NumberQuery, Routing
from pulumi_phonenumbers.testing import LocalEngine, RunResult
from pulumi_phonenumbers.testing.backends import Backend, emulated_vendors
from pulumi_phonenumbers.vendors import vendor_class

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
Backends = dict[str, Backend]


def _target(vendor: str, which: int) -> str:
    return vendor_class(vendor).info.target_examples[which]


def _common_area_code(result: RunResult) -> dict[str, Any]:
    areas = {number[2:5] for number in result.numbers().values()}
    assert len(areas) == 1, areas
    return {"areaCode": areas.pop()}


def _pre_own(backends: Backends) -> dict[str, Any]:
    """The adopt example manages numbers the account owns before the stack exists."""
    backend = next(iter(backends.values()))
    client = backend.client()
    page = client.search(NumberQuery(country="US", area_code="212", capabilities=("voice",)))
    owned = [client.buy(c, Routing(), {}).number for c in page.numbers[:2]]
    return {"numbers": {"front-desk": owned[0], "night-line": owned[1]}}


@dataclass
class Case:
    """One example against a set of backends and the config edits of its lifecycle."""

    example: str
    vendors: tuple[str, ...]
    config: Callable[[Backends], dict[str, Any]]
    routing_edit: Callable[[Backends], dict[str, Any]]
    criteria_edit: Callable[[RunResult], dict[str, Any]] = lambda _: {"maxMonthlyCost": 50}
    resize: dict[str, Any] | None = None
    resize_expect: dict[str, int] = field(default_factory=dict)
    adopts: bool = False

    @property
    def id(self) -> str:
        return f"{self.example}-{'+'.join(self.vendors)}"


CASES = [
    Case("quickstart", ("sandbox",), lambda b: {}, lambda b: {"voiceTarget": "app-support-v2"}),
    Case(
        "plivo",
        ("plivo",),
        lambda b: {"voiceTarget": _target("plivo", 0)},
        lambda b: {"voiceTarget": _target("plivo", 1)},
    ),
    Case(
        "fleet",
        ("plivo", "sinch"),
        lambda b: {
            "supportApp": _target("plivo", 0),
            "smsServicePlan": "82b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5",
        },
        lambda b: {
            "supportApp": _target("plivo", 1),
            "smsServicePlan": "f1e2d3c4b5a697887766554433221100",
        },
        resize={"supportSize": 3, "smsKeys": ["alerts"]},
        resize_expect={"create": 1, "delete": 1},
    ),
    Case(
        "adopt",
        ("sandbox",),
        _pre_own,
        lambda b: {"voiceTarget": "reception-v2"},
        criteria_edit=lambda _: {"capabilities": ["voice"]},
        adopts=True,
    ),
    Case(
        "adopt",
        ("plivo",),
        _pre_own,
        lambda b: {"voiceTarget": _target("plivo", 1)},
        criteria_edit=lambda _: {"capabilities": ["voice"]},
        adopts=True,
    ),
    Case(
        "gitops",
        ("sandbox",),
        lambda b: {"voiceTarget": "ivr-main"},
        lambda b: {"voiceTarget": "ivr-main-v2"},
        resize={"agents": 3},
        resize_expect={"create": 1},
    ),
    Case(
        "gitops",
        ("plivo",),
        lambda b: {"voiceTarget": _target("plivo", 0)},
        lambda b: {"voiceTarget": _target("plivo", 1)},
        resize={"agents": 1},
        resize_expect={"delete": 1},
    ),
    Case(
        "ephemeral",
        ("sandbox",),
        lambda b: {"branch": "feature/ivr-v2"},
        lambda b: {"voiceTarget": "agent-under-test-2"},
        criteria_edit=_common_area_code,
        resize={"lines": 3},
        resize_expect={"create": 1},
    ),
]


def _available(case: Case) -> bool:
    return all(v == "sandbox" or v in emulated_vendors() for v in case.vendors)


@pytest.fixture
def backends(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backends]:
    case: Case = request.param
    if not _available(case):
        pytest.skip(f"{case.id}: emulator not available")
    started = {v: Backend.start(v, tmp_path / v) for v in case.vendors}
    yield started
    for backend in started.values():
        backend.stop()


def _config(backends: Backends) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for backend in backends.values():
        merged.update(backend.config)
    if len(backends) > 1:  # every resource names its vendor
        merged.pop("phonenumbers:vendor", None)
    return merged


def _buys(backends: Backends) -> list[str]:
    return [e["number"] for b in backends.values() for e in b.ledger() if e["op"] == "buy"]


def _released(backends: Backends) -> list[str]:
    return [e["number"] for b in backends.values() for e in b.ledger() if e["op"] == "release"]


def _assert_only(result: RunResult, *allowed: str) -> None:
    assert set(result.counts) <= set(allowed), result.counts


@pytest.mark.parametrize("backends", CASES, ids=[c.id for c in CASES], indirect=True)
def test_example_lifecycle(
    backends: Backends, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    case: Case = request.node.callspec.params["backends"]
    config = {**_config(backends), **case.config(backends)}
    pre_owned = {n for b in backends.values() for n in b.owned_numbers()}
    buys_before = len(_buys(backends))
    engine = LocalEngine(EXAMPLES / case.example, config=config, state=tmp_path / "state.json")

    ledgers = [b.ledger() for b in backends.values()]
    plan = engine.preview()
    _assert_only(plan, "create")
    assert set(plan.calls) <= {"Configure", "Check"}
    assert [b.ledger() for b in backends.values()] == ledgers, "the preview reached the vendor"

    first = engine.up()
    _assert_only(first, "create")
    numbers = first.numbers()
    assert numbers and all(n.startswith("+") for n in numbers.values())
    if case.adopts:
        assert set(numbers.values()) == pre_owned and len(_buys(backends)) == buys_before

    bought = len(_buys(backends))
    marks = {name: len(b.ledger()) for name, b in backends.items()}
    engine.config.update(case.routing_edit(backends))
    routed = engine.up()
    _assert_only(routed, "update", "same")
    assert routed.counts.get("update", 0) >= 1 and routed.numbers() == numbers
    rerouted = {
        e["number"]
        for name, b in backends.items()
        for e in b.ledger()[marks[name] :]
        if e["op"] == "update"
    }
    assert rerouted == set(numbers.values()), "every number is re-routed at its vendor"

    engine.config.update(case.criteria_edit(first))
    narrowed = engine.up()
    _assert_only(narrowed, "update", "same")
    assert narrowed.numbers() == numbers
    assert len(_buys(backends)) == bought and not _released(backends)

    if case.resize is not None:
        engine.config.update(case.resize)
        resized = engine.up()
        counts = {k: v for k, v in resized.counts.items() if k != "same"}
        assert counts == case.resize_expect
        numbers = resized.numbers()

    victim_name, victim = sorted(numbers.items())[0]
    owner = next(b for b in backends.values() if victim in b.owned_numbers())
    owner.release_out_of_band(victim)
    refreshed = engine.refresh()
    assert refreshed.op(victim_name) == "delete" and victim_name not in refreshed.numbers()
    _assert_only(refreshed, "delete", "same", "update")

    destroyed = engine.destroy()
    _assert_only(destroyed, "delete")
    assert not [r for r in engine.resources() if r.is_phone_number]

    buys, released = _buys(backends), _released(backends)
    assert not [n for n, c in Counter(buys).items() if c > 1], "a number was bought twice"
    assert Counter(released) == Counter(set(released)), "a number was released twice"
    if case.adopts:
        assert len(buys) == buys_before  # nothing bought, nothing released but the victim
        assert released == [victim]
        assert {n for b in backends.values() for n in b.owned_numbers()} == pre_owned - {victim}
    else:
        assert set(buys) == set(released)
        assert all(not b.owned_numbers() for b in backends.values())


def test_gitops_workflow_previews_pull_requests_and_deploys_main() -> None:
    path = EXAMPLES / "gitops" / ".github" / "workflows" / "phonenumbers.yml"
    doc = yaml.safe_load(path.read_text())
    triggers = doc.get("on", doc.get(True))  # YAML 1.1 reads a bare `on` as true
    assert set(triggers) == {"pull_request", "push"}
    assert triggers["push"]["branches"] == ["main"]
    jobs = doc["jobs"]

    def commands(job: str) -> str:
        return "\n".join(step.get("run", "") for step in jobs[job]["steps"])

    assert "pulumi preview --diff" in commands("preview") and "pulumi up" not in commands("preview")
    assert "pull_request" in jobs["preview"]["if"]
    assert "pulumi up --yes" in commands("up")
    assert "refs/heads/main" in jobs["up"]["if"] and "push" in jobs["up"]["if"]
    for name in ("PULUMI_ACCESS_TOKEN", "PLIVO_AUTH_ID", "PLIVO_AUTH_TOKEN"):
        assert doc["env"][name] == f"${{{{ secrets.{name} }}}}"
    assert doc["concurrency"]["cancel-in-progress"] is False


def test_every_example_is_a_complete_project() -> None:
    # examples/typescript is a Node program (tests/test_cli_typescript.py), not a Python project
    names = sorted(p.name for p in EXAMPLES.iterdir() if p.is_dir() and p.name != "typescript")
    assert names == ["adopt", "ephemeral", "fleet", "gitops", "plivo", "quickstart"]
    for name in names:
        project = yaml.safe_load((EXAMPLES / name / "Pulumi.yaml").read_text())
        assert project["name"] == name and project["runtime"] == "python"
        assert (EXAMPLES / name / "requirements.txt").is_file()  # test_packaging installs it
        assert (EXAMPLES / name / "README.md").read_text().startswith(f"# {name}")
        compile((EXAMPLES / name / "__main__.py").read_text(), name, "exec")
    assert {c.example for c in CASES} == set(names)
