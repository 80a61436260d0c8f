"""Real-engine figures: ``pulumi up`` / ``pulumi destroy`` through the real CLI vs the provider.

``python -m bench.realcli`` (part of ``make bench``) prints each section as it finishes:

* 100-number sandbox fleet and 100-number Plivo-emulator fleet at 50 ms latency: wall time
  of ``pulumi up`` and ``pulumi destroy`` through the CLI (``.tools/bin/pulumi``, file
  backend), against the provider-only floor of the same work (the same creates and deletes
  sent straight to the gRPC provider, 4 at a time), and the ratio: the engine's overhead.
* 1,000-number sandbox fleet through the CLI: time, peak memory of the engine (``pulumi``),
  of the provider (``python -m pulumi.dynamic``) and of the program host, state file size.
* For each fleet, the state's bytes per number and what they are spent on: the program's
  stack trace (recorded by the engine for every resource), our inputs and outputs (with the
  serialized provider), and the engine's own fields (URNs, provider reference, times).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

_HERE = Path(__file__).resolve().parent
if __name__ == "__main__":  # run as a script: import the bench package, not bench/*.py
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
    sys.path.insert(0, str(_HERE.parent))

from bench import fleet, latency  # noqa: E402
from bench.common import machine, peak_rss_kb  # noqa: E402
from pulumi_phonenumbers.testing._cli import PulumiCLI, pulumi_binary  # noqa: E402
from pulumi_phonenumbers.testing.backends import Backend  # noqa: E402

LATENCY_MS = 50
PROGRAM = """import json
import pulumi
from pulumi_phonenumbers import PhoneNumberFleet

config = pulumi.Config()
for i, (country, number_type, count) in enumerate(json.loads(config.require("groups"))):
    PhoneNumberFleet(f"fleet{i}", size=count, vendor=config.require("vendor"),
                     country=country, number_type=number_type)
"""


class _TreeSampler:
    """Peak RSS of a process tree's members, by role (engine, provider, program host)."""

    def __init__(self, root: int) -> None:
        self.root = root
        self.peak_kb: dict[str, int] = {"engine": 0, "provider": 0, "program": 0}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def stop(self) -> dict[str, float]:
        self._stop.set()
        self._thread.join(timeout=5)
        return {k: round(v / 1024, 1) for k, v in self.peak_kb.items()}

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            for pid, cmdline in _tree(self.root):
                role = (
                    "provider"
                    if "pulumi.dynamic" in cmdline
                    else "program"
                    if "_inline_host" in cmdline or "language" in cmdline
                    else "engine"
                    if cmdline.split(" ", 1)[0].endswith("/pulumi")
                    else ""
                )
                if role:
                    self.peak_kb[role] = max(self.peak_kb[role], peak_rss_kb(pid))


def _tree(root: int) -> list[tuple[int, str]]:
    parents: dict[int, int] = {}
    commands: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
            commands[int(entry.name)] = (
                (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            )
        except (OSError, ValueError, IndexError):
            continue
    members, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        for pid, ppid in parents.items():
            if ppid == parent and pid not in members:
                members.add(pid)
                frontier.append(pid)
    return [(pid, commands.get(pid, "")) for pid in members]


_OURS = ("inputs", "outputs", "propertyDependencies")
_TRACE = ("stackTrace", "sourcePosition")


def state_shape(state_file: Path) -> dict[str, Any]:
    """Bytes per number in a file-backend state and their split (compact JSON, as written)."""
    resources = json.loads(state_file.read_bytes())["checkpoint"]["latest"]["resources"]
    numbers = [r for r in resources if r.get("custom") and str(r.get("id", "")).startswith("+")]
    if not numbers:
        return {"numbers": 0}

    def size(value: Any) -> int:
        return len(json.dumps(value, separators=(",", ":")))

    total = sum(size(r) for r in numbers)
    parts = {
        "stack trace": sum(size(r.get(k)) for r in numbers for k in _TRACE if k in r),
        "inputs + outputs": sum(size(r.get(k)) for r in numbers for k in _OURS if k in r),
        "serialized provider": sum(
            size(r[k]["__provider"]) for r in numbers for k in ("inputs", "outputs")
        ),
    }
    parts["engine fields"] = total - parts["stack trace"] - parts["inputs + outputs"]
    return {
        "numbers": len(numbers),
        "bytes_per_number": round(total / len(numbers)),
        "parts_per_number": {k: round(v / len(numbers)) for k, v in parts.items()},
        "stack_frames": round(sum(len(r.get("stackTrace", [])) for r in numbers) / len(numbers)),
    }


def _print_state(shape: dict[str, Any]) -> None:
    if not shape.get("numbers"):
        return
    parts = ", ".join(f"{k} {v}" for k, v in shape["parts_per_number"].items())
    print(
        f"  state per number {shape['bytes_per_number']} B ({parts}; the provider is part of"
        f" inputs + outputs); {shape['stack_frames']} stack frames"
    )


def _timed(cli: PulumiCLI, log: Path, *args: str) -> tuple[float, dict[str, float]]:
    started = time.perf_counter()
    proc = cli.spawn(*args, "--yes", "--skip-preview", "--stack", cli.stack, log=log)
    sampler = _TreeSampler(proc.pid)
    code = proc.wait()
    seconds = time.perf_counter() - started
    peaks = sampler.stop()
    if code != 0:
        raise RuntimeError(f"pulumi {args[0]} exited {code}: {log.read_text()[-800:]}")
    return seconds, peaks


def through_cli(
    vendor: str,
    groups: list[tuple[str, str, int]],
    latency_ms: int,
    env: dict[str, str] | None = None,
) -> dict[str, Any]:
    """``pulumi up`` then ``pulumi destroy`` of a fleet of ``groups`` at ``vendor``."""
    with tempfile.TemporaryDirectory(prefix="bench-cli-") as tmp:
        work = Path(tmp)
        project = work / "src" / "benchfleet"
        project.mkdir(parents=True)
        (project / "Pulumi.yaml").write_text("name: benchfleet\nruntime: python\n")
        (project / "__main__.py").write_text(PROGRAM)
        backend = Backend.start(vendor, work / vendor)
        try:
            cli = PulumiCLI(project, work / "run", stack="bench")
            cli.env.update(env or {})
            cli.init(
                {
                    **backend.config,
                    "benchfleet:groups": json.dumps([list(g) for g in groups]),
                    "benchfleet:vendor": vendor,
                }
            )
            if latency_ms:
                backend.faults(latency_ms=latency_ms)
            up_s, up_peaks = _timed(cli, work / "up.log", "up")
            export = cli.run("stack", "export", "--stack", cli.stack).stdout
            state_files = list((work / "run" / "backend").rglob("bench.json"))
            state_kb = round(state_files[0].stat().st_size / 1024, 1) if state_files else None
            shape = state_shape(state_files[0]) if state_files else {"numbers": 0}
            down_s, down_peaks = _timed(cli, work / "destroy.log", "destroy")
            bought = sum(1 for e in backend.ledger() if e["op"] == "buy")
            leaked = len(backend.owned_numbers())
        finally:
            backend.stop()
    return {
        "vendor": vendor,
        "n": sum(g[2] for g in groups),
        "latency_ms": latency_ms,
        "program_host": cli.program_host,
        "up_seconds": round(up_s, 2),
        "destroy_seconds": round(down_s, 2),
        "peak_rss_mb": {k: max(up_peaks[k], down_peaks[k]) for k in up_peaks},
        "state_export_kb": round(len(export) / 1024, 1),
        "state_file_kb": state_kb,
        "state": shape,
        "bought": bought,
        "leaked": leaked,
    }


def provider_floor(
    vendor: str, groups: list[tuple[str, str, int]], latency_ms: int
) -> dict[str, float]:
    """The same creates and deletes straight to the gRPC provider, 4 at a time."""
    n = sum(g[2] for g in groups)
    if vendor == "sandbox":
        with tempfile.TemporaryDirectory(prefix="bench-floor-") as tmp:
            up_s, down_s = fleet._via_grpc(tmp, groups)
        return {"up_seconds": round(up_s, 2), "destroy_seconds": round(down_s, 2)}
    row = latency.measure(vendor, n, latency_ms)
    return {"up_seconds": row["create"]["seconds"], "destroy_seconds": row["delete"]["seconds"]}


def _sandbox_groups(n: int) -> list[tuple[str, str, int]]:
    with tempfile.TemporaryDirectory(prefix="bench-plan-") as tmp:
        backend = Backend.start("sandbox", tmp)
        try:
            return fleet.plan(n, backend.store)
        finally:
            backend.stop()


def _print_overhead(title: str, cli: dict[str, Any], floor: dict[str, float]) -> None:
    cli["floor"] = floor
    cli["overhead"] = {}
    print(f"\n{title}")
    for step, key in (("up", "up_seconds"), ("destroy", "destroy_seconds")):
        ratio = cli[key] / max(floor[key], 1e-3)
        cli["overhead"][step] = round(ratio, 2)
        print(
            f"  pulumi {step:<8} {cli[key]:7.2f} s   provider floor {floor[key]:6.2f} s   "
            f"engine overhead {ratio:5.2f} x"
        )
    print(f"  bought {cli['bought']}, leaked {cli['leaked']}; peak RSS MB {cli['peak_rss_mb']}")
    _print_state(cli["state"])
    sys.stdout.flush()


def _print_big(n: int, big: dict[str, Any]) -> None:
    peaks = big["peak_rss_mb"]
    print(f"\n{n}-number sandbox fleet through the CLI")
    print(f"  pulumi up {big['up_seconds']:.1f} s, pulumi destroy {big['destroy_seconds']:.1f} s")
    print(
        f"  peak RSS MB: engine {peaks['engine']}, provider {peaks['provider']}, "
        f"program host {peaks['program']}"
    )
    print(
        f"  state file {big['state_file_kb']} KB (export {big['state_export_kb']} KB); "
        f"bought {big['bought']}, leaked {big['leaked']}"
    )
    _print_state(big["state"])
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--n", type=int, default=100, help="fleet size of the overhead runs")
    parser.add_argument("--big", type=int, default=1000, help="sandbox fleet size (0 = skip)")
    parser.add_argument(
        "--skip-checkpoints",
        action="store_true",
        help="also run the big fleet with PULUMI_SKIP_CHECKPOINTS=true (state written once)",
    )
    parser.add_argument("--json", default=str(_HERE / "results-cli.json"), help="'' = none")
    args = parser.parse_args(argv)
    binary = pulumi_binary()
    print("real-engine figures (pulumi CLI, file backend)")
    if binary is None:
        print("  skipped: no pulumi CLI (run `make pulumi-cli`)")
        return 0
    results: dict[str, Any] = {"machine": machine(), "cli": binary}
    print(f"  cli {binary}; {machine()['cores']} cores, load {machine()['load_average']}")
    sandbox = _sandbox_groups(args.n)
    cli = through_cli("sandbox", sandbox, 0)
    print(f"  programs run in {cli['program_host']}")
    _print_overhead(f"{args.n}-number sandbox fleet", cli, provider_floor("sandbox", sandbox, 0))
    results["sandbox"] = cli
    plivo = [("US", "local", args.n)]
    cli = through_cli("plivo", plivo, LATENCY_MS)
    _print_overhead(
        f"{args.n}-number Plivo-emulator fleet at {LATENCY_MS} ms latency",
        cli,
        provider_floor("plivo", plivo, LATENCY_MS),
    )
    results["plivo"] = cli
    if args.big:
        big = through_cli("sandbox", _sandbox_groups(args.big), 0)
        _print_big(args.big, big)
        results["big"] = big
    if args.big and args.skip_checkpoints:
        env = {"PULUMI_SKIP_CHECKPOINTS": "true"}
        fast = through_cli("sandbox", _sandbox_groups(args.big), 0, env)
        print("  ... again with PULUMI_SKIP_CHECKPOINTS=true (no state write per step):")
        _print_big(args.big, fast)
        results["big_skip_checkpoints"] = fast
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
