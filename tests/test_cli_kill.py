"""``pulumi up`` SIGKILLed in the middle of a fleet purchase, recovered by ``up`` + the audit.

The GitOps example's agent fleet (vendor plivo, 8 agents) against the Plivo emulator with
1 s latency; once a few numbers are bought every process of the run (CLI, program host,
and the dynamic-provider plugin, which the CLI starts in a process group of its own) is
SIGKILLed at once, as when a CI runner dies. What the killed run bought but never recorded is
either in the exported state's ``pending_operations`` (a create the engine started) or
nowhere: the audit counts pending creates as NOT held (they carry no number) and lists them
under ``pending_creates``, so every number the state does not hold shows as unmanaged. The
next ``pulumi up`` completes the fleet (the engine warns about the interrupted creates and
keeps them pending); ``audit --release --yes`` releases the orphans; ``pulumi refresh
--clear-pending-creates`` drops the stale records; then the account owns exactly what the
state holds and no number was bought twice. Before that
``up``, ``pulumi cancel`` removes the lock the killed run left on the file backend (the
engine refuses to run and names that command).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import (
    assert_no_double_spend,
    events,
    new_stack,
    owned,
    run_audit,
    state_numbers,
)

from pulumi_phonenumbers.testing._cli import PulumiCLI, _session_members
from pulumi_phonenumbers.testing.backends import Backend

pytestmark = pytest.mark.cli

AGENTS = 8


def _audit(cli: PulumiCLI, plivo: Backend, tmp_path: Path, *flags: str) -> dict[str, Any]:
    creds = [f"--config={k}={v}" for k, v in plivo.config.items() if k != "phonenumbers:vendor"]
    export = cli.run("stack", "export", "--stack", cli.stack).stdout
    _, report, printed = run_audit(tmp_path, export, "--vendor", "plivo", *creds, *flags)
    for number in report["unmanaged"] if "--release" in flags else []:
        assert f"released {number}" in printed
    return report


def test_killed_up_is_recovered_by_the_next_up_and_the_audit(tmp_path: Path) -> None:
    plivo = Backend.start("plivo", tmp_path / "plivo")
    try:
        config = {**plivo.config, "agents": str(AGENTS)}
        cli = new_stack("gitops", tmp_path, config)
        plivo.faults(latency_ms=1000)
        proc = cli.spawn(
            "up", "--yes", "--skip-preview", "--stack", cli.stack, log=tmp_path / "up.log"
        )
        deadline = time.monotonic() + 240
        while len(events([plivo], "buy")) < 3 and proc.poll() is None:
            assert time.monotonic() < deadline, (tmp_path / "up.log").read_text()
            time.sleep(0.05)
        session = proc.pid
        PulumiCLI.kill(proc)
        assert proc.returncode not in (0, None), "the up finished before it was killed"
        time.sleep(0.5)
        assert not _session_members(session), "a process of the killed run lives on"
        plivo.clear_faults()
        time.sleep(1)  # a purchase in flight when the process died still lands at the vendor
        bought_by_killed_run = set(events([plivo], "buy"))
        # purchases already sent when the run died land too (the emulator answers a dead
        # client), so the killed run may have bought every number of the fleet
        assert 3 <= len(bought_by_killed_run) <= AGENTS + 1

        export = json.loads(cli.run("stack", "export", "--stack", cli.stack).stdout)
        held = set(state_numbers(export).values())
        report = _audit(cli, plivo, tmp_path)
        pending = export["deployment"].get("pending_operations") or []
        assert len(report["pending_creates"]) == len(
            [p for p in pending if p["type"] == "creating"]
        )
        assert set(report["unmanaged"]) == bought_by_killed_run - held

        # the killed run still holds the file backend's lock: the engine says so and points
        # at `pulumi cancel`, which is the operator's first recovery step
        locked = cli.run("up", "--yes", "--skip-preview", "--stack", cli.stack, check=False)
        assert locked.returncode != 0 and "pulumi cancel" in locked.output, locked.output
        cli.run("cancel", "--yes", "--stack", cli.stack)
        up = cli.run("up", "--yes", "--skip-preview", "--stack", cli.stack)
        assert pending and f"{len(pending)} pending operations" in up.output, up.output
        assert "interrupted while creating" in up.output
        after = set(state_numbers(cli.export()).values())
        assert len(after) == AGENTS + 1
        orphans = owned([plivo]) - after
        assert orphans == bought_by_killed_run - after
        # the engine keeps the pending creates after the up; the audit still lists them and
        # releases the numbers that no resource holds
        report = _audit(cli, plivo, tmp_path, "--release", "--yes")
        assert len(report["pending_creates"]) == len(pending)
        assert set(report["unmanaged"]) == orphans
        assert owned([plivo]) == after, "the audit released exactly the orphans"
        assert_no_double_spend([plivo])
        flags = ("--clear-pending-creates", "--yes", "--skip-preview", "--stack", cli.stack)
        cli.run("refresh", *flags)
        assert not cli.export()["deployment"].get("pending_operations")
        assert set(state_numbers(cli.export()).values()) == after

        cli.destroy()
        assert owned([plivo]) == set()
        assert set(events([plivo], "buy")) == set(events([plivo], "release"))
    finally:
        plivo.stop()
