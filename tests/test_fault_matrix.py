"""The fault matrix: vendors x operations x faults, through the real gRPC provider.

For every emulated vendor, one provider process (``phonenumbers:timeoutSeconds`` = 0.5)
runs create / update / read / delete while the emulator injects one fault into the
request that carries the operation (the purchase for create, the routing write for
update, the release for delete, the first fetch for read). After every case:

* the numbers the account owns (the emulator's store) are exactly the numbers our state
  holds, and nothing was bought twice: the ledger shows at most one purchase per create
  and none for the other operations;
* a failure reached the user as one clear error: one traceback, no frames below the
  provider's wrapper, a last line naming the operation, the number and what to do, and
  no credential.

Transient faults (``times: 1``) must be ridden through. Persistent ones must fail
cleanly without leaking, and once the fault is gone, repeating the operation (what the
next ``pulumi up`` / ``refresh`` does) must converge to owned == state exactly.
The vendors run in parallel (one thread each), so the whole matrix costs about as much
as its slowest vendor.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from pulumi.dynamic.dynamic import serialize_provider

from pulumi_phonenumbers.provider import PhoneNumberProvider
from pulumi_phonenumbers.testing import ProviderError, ProviderProcess
from pulumi_phonenumbers.testing.backends import Backend, emulated_vendors
from pulumi_phonenumbers.vendors import vendor_class

URN = "urn:pulumi:dev::phonenumbers-test::pulumi-python:dynamic/phonenumbers:PhoneNumber::{}"
TIMEOUT = 0.5
VENDORS = emulated_vendors()
#: "create exact" buys a given ``number`` (no search): an ambiguous miss retries it.
OPS = ("create", "create exact", "update", "read", "delete")
#: Vendors whose purchase cannot carry routing also get "create+route": faults on the
#: routing call made right after the purchase (a failure there must release the number).
ROUTE_AFTER_BUY = [v for v in VENDORS if not vendor_class(v).info.buy_carries_routing]


def ops_of(vendor: str) -> tuple[str, ...]:
    """The operations of the matrix for ``vendor``."""
    return (*OPS, "create+route") if vendor in ROUTE_AFTER_BUY else OPS


#: name -> (fault body given the target rule, may the operation fail?). Operations under a
#: fault that may fail must fail cleanly, leak nothing, and converge once it clears.
FAULTS: dict[str, tuple[Callable[[dict[str, Any]], dict[str, Any]], bool]] = {
    "latency": (lambda r: {"latency_ms": 150}, False),
    "429 + Retry-After": (
        lambda r: {"rules": [{**r, "status": 429, "retry_after": 1, "times": 1}]},
        False,
    ),
    "429": (lambda r: {"rules": [{**r, "status": 429, "times": 1}]}, False),
    "500": (lambda r: {"rules": [{**r, "status": 500, "times": 1}]}, False),
    "503": (lambda r: {"rules": [{**r, "status": 503, "times": 1}]}, False),
    "reset": (lambda r: {"rules": [{**r, "reset": True, "times": 1}]}, False),
    "lost response": (lambda r: {"rules": [{**r, "after_commit": True, "times": 1}]}, False),
    "slow answer": (
        lambda r: {"rules": [{**r, "slow_ms": int(TIMEOUT * 1600), "times": 1}]},
        False,
    ),
    "429 always": (lambda r: {"rules": [{**r, "status": 429}]}, True),
    "503 always": (lambda r: {"rules": [{**r, "status": 503}]}, True),
    "reset always": (lambda r: {"rules": [{**r, "reset": True}]}, True),
    "lost response always": (lambda r: {"rules": [{**r, "after_commit": True}]}, True),
    "422 after commit": (
        lambda r: {"rules": [{**r, "after_commit": True, "status": 422, "times": 1}]},
        True,
    ),
}
_ALLOWED_FRAMES = ("pulumi/dynamic/__main__.py", "pulumi_phonenumbers/provider.py")


@dataclass
class Outcome:
    """What one case did."""

    vendor: str
    op: str
    fault: str
    ok: bool = False
    error: str = ""
    note: str = ""
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)


def _rule_for(method: str, path: str) -> dict[str, Any]:
    """A rule matching this request and its siblings (ids and numbers generalised)."""
    parts = []
    for segment in path.split("/"):
        if any(ch.isdigit() for ch in segment):
            _, colon, tail = segment.partition(":")
            segment_re = r"[^/:]+" + (re.escape(colon + tail) if colon else "")
            parts.append(segment_re)
        else:
            parts.append(re.escape(segment))
    return {"method": method, "path": "^" + "/".join(parts) + "$"}


class VendorMatrix:
    """One vendor's emulator, provider process and cases."""

    def __init__(self, vendor: str, directory: Path, serialized: str) -> None:
        self.vendor = vendor
        self.backend = Backend.start(vendor, directory)
        self.secrets = self.backend.secret_values()
        self.provider = ProviderProcess()
        self.provider.configure(
            {**self.backend.config, "phonenumbers:timeoutSeconds": str(TIMEOUT)}
        )
        info = vendor_class(vendor).info
        self.serialized = serialized
        self.inputs = self._check("probe", routing={"voice_target": info.target_examples[0]})
        self.news = self._check("probe", routing={"voice_target": info.target_examples[1]})
        self.targets: dict[str, dict[str, Any]] = {}
        self.first_candidate = ""

    def _check(self, name: str, **extra: Any) -> dict[str, Any]:
        outcome = self.provider.check(
            URN.format(name),
            {},
            {
                "__provider": self.serialized,
                "vendor": self.vendor,
                "country": "US",
                "area_code": "415",
                **extra,
            },
        )
        assert outcome.failures == [], outcome.failures
        return outcome.inputs

    def close(self) -> None:
        self.provider.close()
        self.backend.stop()

    # -- which request carries each operation -------------------------------------------
    def discover(self) -> None:
        """Run the lifecycle once, recording which request made which ledger event."""
        assert self.backend.emulator is not None
        server = self.backend.emulator.server
        app = server.app
        log: list[tuple[str, str, list[str]]] = []

        def recording(environ: dict[str, Any], start_response: Any) -> Any:
            before = len(self.backend.store.ledger())
            result = app(environ, start_response)
            ops = [e["op"] for e in self.backend.store.ledger()[before:]]
            log.append((environ["REQUEST_METHOD"], environ["PATH_INFO"], ops))
            return result

        server.app = recording
        try:
            urn = URN.format("discover")
            marks = {}
            id_, outs = self.provider.create(urn, self.inputs)
            marks["create"] = list(log)
            del log[:]
            outs = self.provider.update(urn, id_, outs, self.news)
            marks["update"] = list(log)
            del log[:]
            self.provider.read(urn, id_, outs)
            marks["read"] = list(log)
            del log[:]
            self.provider.delete(urn, id_, outs)
            marks["delete"] = list(log)
        finally:
            server.app = app
        self.first_candidate = id_
        self.exact = self._check("exact", number=id_, routing=self.inputs["routing"])
        event = {"create": "buy", "update": "update", "delete": "release"}
        for op, requests in marks.items():
            vendor_calls = [(m, p, ops) for m, p, ops in requests if not p.startswith("/oauth")]
            if op == "read":
                method, path, _ = vendor_calls[0]
            else:
                method, path, _ = next(r for r in vendor_calls if event[op] in r[2])
            self.targets[op] = _rule_for(method, path)
        self.targets["create exact"] = self.targets["create"]
        if self.vendor in ROUTE_AFTER_BUY:
            method, path, _ = next(r for r in marks["create"] if "update" in r[2])
            self.targets["create+route"] = _rule_for(method, path)

    # -- one case -----------------------------------------------------------------------
    def run(self, op: str, fault: str) -> Outcome:
        make_body, may_fail = FAULTS[fault]
        outcome = Outcome(self.vendor, op, fault)
        self.backend.control("POST", "reset")
        state: dict[str, dict[str, Any]] = {}
        urn = URN.format(f"{op}-{fault.replace(' ', '-')}")
        held: tuple[str, dict[str, Any]] = ("", {})
        if not op.startswith("create"):
            held = self.provider.create(urn, self.inputs)
            state[held[0]] = held[1]
        self.backend.faults(**make_body(self.targets[op]))
        mark = len(self.backend.ledger())
        started = time.monotonic()
        try:
            self._operate(op, urn, held, state)
            outcome.ok = True
        except ProviderError as exc:
            outcome.error = exc.last_line
            outcome.problems += self._unclear(exc, op, held[0])
        outcome.seconds = time.monotonic() - started
        self.backend.clear_faults()
        assert self.backend.emulator is not None
        self.backend.emulator.app.wait_idle()
        outcome.problems += self._invariant(state, strict=not may_fail)
        outcome.problems += self._buys(mark, op)
        if not may_fail and not outcome.ok:
            outcome.problems.append("a transient fault was not ridden through")
        if outcome.ok and op.startswith("create"):
            (number,) = state
            # The first number this case's purchases committed (a search page shared with
            # earlier creates of the process may start past the search's first candidate).
            bought = [e["number"] for e in self.backend.ledger()[mark:] if e["op"] == "buy"]
            first = bought[0] if bought else self.first_candidate
            outcome.note = "same candidate" if number == first else "next candidate"
        if not outcome.ok:
            mark = len(self.backend.ledger())
            try:  # the next `pulumi up` / `refresh`, with the fault gone
                self._operate(op, urn, held, state)
            except ProviderError as exc:
                outcome.problems.append(f"no recovery once the fault cleared: {exc.last_line}")
            after = self._invariant(state, strict=True) + self._buys(mark, op)
            outcome.problems += [f"after recovery: {p}" for p in after]
        return outcome

    def _operate(
        self, op: str, urn: str, held: tuple[str, dict[str, Any]], state: dict[str, dict[str, Any]]
    ) -> None:
        id_, outs = held
        if op.startswith("create"):
            props = self.exact if op == "create exact" else self.inputs
            new_id, new_outs = self.provider.create(urn, props)
            state[new_id] = new_outs
        elif op == "update":
            state[id_] = self.provider.update(urn, id_, outs, self.news)
        elif op == "read":
            read_id, read_outs, _ = self.provider.read(urn, id_, outs)
            if read_id:
                state[read_id] = read_outs
            else:
                state.pop(id_, None)
        else:
            self.provider.delete(urn, id_, outs)
            state.pop(id_, None)

    def _invariant(self, state: dict[str, dict[str, Any]], *, strict: bool) -> list[str]:
        problems = []
        owned = self.backend.owned_numbers()
        held = set(state)
        if owned - held:
            problems.append(f"leaked: the account owns {sorted(owned - held)} that state lacks")
        if strict and held - owned:
            problems.append(f"state holds {sorted(held - owned)} that the account does not own")
        return problems

    def _buys(self, since: int, op: str) -> list[str]:
        """A create pays for at most one number; nothing else buys anything."""
        bought = [e["number"] for e in self.backend.ledger()[since:] if e["op"] == "buy"]
        allowed = 1 if op.startswith("create") else 0
        return [f"bought {len(bought)} numbers: {bought}"] if len(bought) > allowed else []

    def _unclear(self, exc: ProviderError, op: str, number: str) -> list[str]:
        problems = []
        line = exc.last_line
        verb = op.split()[0].partition("+")[0]
        if not re.match(rf"^pulumi_phonenumbers\.errors\.\w+: phonenumbers {verb} ", line):
            problems.append(f"last line does not name the operation: {line!r}")
        if number and number not in line:
            problems.append(f"error does not name {number}: {line!r}")
        if not re.search(r"run `|audit|[Cc]heck |[Rr]elax ", line):
            problems.append(f"error does not say what to do: {line!r}")
        if exc.detail.count("Traceback (most recent call last)") != 1:
            problems.append("more than one traceback (chained exceptions)")
        frames = re.findall(r'File "([^"]+)"', exc.detail)
        stray = [f for f in frames if not f.endswith(_ALLOWED_FRAMES)]
        if stray:
            problems.append(f"traceback frames below the provider wrapper: {stray}")
        problems += [
            f"credential in the error: {s[:3]}..." for s in self.secrets if s in exc.detail
        ]
        return problems


def _run_vendor(
    vendor: str, directory: Path, serialized: str, cases: list[tuple[str, str]]
) -> tuple[list[Outcome], str]:
    matrix = VendorMatrix(vendor, directory, serialized)
    try:
        matrix.discover()
        outcomes = [matrix.run(op, fault) for op, fault in cases]
        stderr = matrix.provider.stderr
        leaks = [s for s in matrix.secrets if s in stderr]
        return outcomes, f"credential in provider stderr: {len(leaks)}" if leaks else ""
    finally:
        matrix.close()


def _selected_cases(session: pytest.Session) -> dict[str, list[tuple[str, str]]]:
    """The (op, fault) cases of each vendor that the selected tests of this module read.

    Only those run, so ``pytest 'tests/test_fault_matrix.py::test_fault_case[plivo-read-503]'``
    starts one emulator and runs one case, not the whole matrix.
    """
    wanted: dict[str, list[tuple[str, str]]] = {}
    for item in session.items:
        params = getattr(item, "callspec", None)
        if item.path.name != Path(__file__).name or params is None:
            continue
        p = params.params
        case = (p.get("op", "create"), p.get("fault", "lost response"))
        cases = wanted.setdefault(p["vendor"], [])
        if case not in cases:
            cases.append(case)
    for vendor, cases in wanted.items():  # the matrix's own order, whatever pytest's
        order = [(op, fault) for op in ops_of(vendor) for fault in FAULTS]
        cases.sort(key=order.index)
    return wanted


@pytest.fixture(scope="module")
def matrix(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[tuple[str, str, str], Outcome]]:
    serialized = str(serialize_provider(PhoneNumberProvider()))
    results: dict[tuple[str, str, str], Outcome] = {}
    wanted = _selected_cases(request.session)
    with ThreadPoolExecutor(max(1, len(wanted))) as pool:
        futures = {
            v: pool.submit(
                _run_vendor, v, tmp_path_factory.mktemp(f"matrix-{v}"), serialized, cases
            )
            for v, cases in wanted.items()
        }
        for vendor, future in futures.items():
            outcomes, stderr_problem = future.result()
            for outcome in outcomes:
                if stderr_problem:
                    outcome.problems.append(stderr_problem)
                results[(vendor, outcome.op, outcome.fault)] = outcome
    yield results
    print("\n" + summary(results))


def summary(results: dict[tuple[str, str, str], Outcome]) -> str:
    """A markdown table: per operation and fault, what happened across vendors."""
    ops = (*OPS, "create+route") if ROUTE_AFTER_BUY else OPS
    lines = ["| fault | " + " | ".join(ops) + " |", "|---|" + "---|" * len(ops)]
    for fault in FAULTS:
        cells = []
        for op in ops:
            cases = [
                o for (_, o_op, o_fault), o in results.items() if (o_op, o_fault) == (op, fault)
            ]
            ok = sum(o.ok for o in cases)
            notes = Counter(o.note for o in cases if o.note)
            text = f"ok {ok}/{len(cases)}" if ok else f"clear error {len(cases)}/{len(cases)}"
            if 0 < ok < len(cases):
                text += f", clear error {len(cases) - ok}"
            if notes:
                text += " (" + ", ".join(f"{n} {k}" for k, n in sorted(notes.items())) + ")"
            bad = sum(bool(o.problems) for o in cases)
            cells.append(text + (f" **{bad} broken**" if bad else ""))
        lines.append(f"| {fault} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


CASES = [(v, op) for v in VENDORS for op in ops_of(v)]


@pytest.mark.skipif(not VENDORS, reason="no emulated vendor is installed")
@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize(("vendor", "op"), CASES)
def test_fault_case(
    matrix: dict[tuple[str, str, str], Outcome], vendor: str, op: str, fault: str
) -> None:
    outcome = matrix[(vendor, op, fault)]
    assert outcome.problems == [], f"{vendor} {op} under {fault}: {outcome}"
    if not FAULTS[fault][1]:
        assert outcome.ok
    assert outcome.seconds < 10 * TIMEOUT + 4


@pytest.mark.skipif(not VENDORS, reason="no emulated vendor is installed")
@pytest.mark.parametrize("vendor", VENDORS)
def test_lost_purchase_keeps_exactly_the_committed_number(
    matrix: dict[tuple[str, str, str], Outcome], vendor: str
) -> None:
    """The issue's acceptance case: the purchase committed, its response was dropped."""
    outcome = matrix[(vendor, "create", "lost response")]
    assert outcome.ok and outcome.note == "same candidate" and outcome.problems == []
