"""Shared steps of the tests that drive the real ``pulumi`` CLI (the ``cli`` marker).

The CLI itself is driven by :class:`pulumi_phonenumbers.testing._cli.PulumiCLI` (scratch
``PULUMI_HOME``, ``file://`` backend, throw-away passphrase, no update check, no plugin
downloads). These helpers read what the tests assert on: the phone numbers a
``pulumi stack export`` holds, the operations of a ``pulumi preview --json`` plan, and the
vendor-side ledgers of the backends.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pulumi_phonenumbers.audit import PHONE_NUMBER_TYPE
from pulumi_phonenumbers.testing._cli import PulumiCLI
from pulumi_phonenumbers.testing.backends import Backend

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def state_numbers(export: dict[str, Any]) -> dict[str, str]:
    """``{resource name: E.164 number}`` of the PhoneNumber resources in a stack export."""
    return {
        r["urn"].rsplit("::", 1)[-1]: r["id"]
        for r in export["deployment"].get("resources") or []
        if r["type"] == PHONE_NUMBER_TYPE
    }


def is_phone_number(urn: str) -> bool:
    """Whether a URN is a PhoneNumber's (its type chain ends with the dynamic type)."""
    return urn.split("::")[2].split("$")[-1] == PHONE_NUMBER_TYPE


def phone_ops(plan: dict[str, Any]) -> Counter[str]:
    """Operation counts of the PhoneNumber steps of a ``pulumi preview --json`` plan."""
    return Counter(s["op"] for s in plan.get("steps") or [] if is_phone_number(s["urn"]))


def events(backends: Iterable[Backend], op: str, since: dict[str, int] | None = None) -> list[str]:
    """Numbers of the ledger events ``op`` (after ``since`` marks), across backends."""
    found = []
    for b in backends:
        start = (since or {}).get(b.vendor, 0)
        found += [e["number"] for e in b.ledger()[start:] if e["op"] == op]
    return found


def marks(backends: Iterable[Backend]) -> dict[str, int]:
    """Current ledger lengths, for :func:`events` ``since``."""
    return {b.vendor: len(b.ledger()) for b in backends}


def owned(backends: Iterable[Backend]) -> set[str]:
    """Numbers the accounts own now."""
    return {n for b in backends for n in b.owned_numbers()}


def assert_no_double_spend(backends: Iterable[Backend]) -> None:
    """No number bought twice, none released twice."""
    backends = list(backends)
    buys, released = events(backends, "buy"), events(backends, "release")
    assert not [n for n, c in Counter(buys).items() if c > 1], "a number was bought twice"
    assert not [n for n, c in Counter(released).items() if c > 1], "released twice"


def new_stack(project: str, tmp_path: Path, config: dict[str, Any], stack: str = "ci") -> PulumiCLI:
    """A fresh stack of ``examples/<project>`` with ``config`` set."""
    cli = PulumiCLI(EXAMPLES / project, tmp_path / "work", stack=stack)
    cli.init(config)
    return cli


def program_stack(
    tmp_path: Path, name: str, program: str, config: dict[str, Any], stack: str = "dev"
) -> PulumiCLI:
    """A fresh stack of a one-file Python project ``name`` running ``program``."""
    project = tmp_path / name
    project.mkdir()
    (project / "Pulumi.yaml").write_text(f"name: {name}\nruntime: python\n")
    (project / "__main__.py").write_text(textwrap.dedent(program))
    cli = PulumiCLI(project, tmp_path / "work", stack=stack)
    cli.init(config)
    return cli


def run_audit(directory: Path, export: str, *args: str) -> tuple[int, dict[str, Any], str]:
    """``python -m pulumi_phonenumbers audit --json --state <export> <args>``.

    Returns its exit status (0 clean, 1 unmanaged numbers found), its JSON report, and the
    lines printed after the report (``released ...`` with ``--release --yes``).
    """
    state = directory / "state.json"
    state.write_text(export)
    command = ["audit", "--json", "--state", str(state), *args]
    proc = subprocess.run(
        [sys.executable, "-m", "pulumi_phonenumbers", *command],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode in (0, 1), proc.stderr
    report, end = json.JSONDecoder().raw_decode(proc.stdout)
    return proc.returncode, report, proc.stdout[end:]
