"""``make bench``: run every benchmark, print the table, write ``bench/results.json``.

    python bench/run.py                    # everything, every vendor (a few minutes)
    python bench/run.py --quick            # tiny N: a smoke run of every code path
    python bench/run.py --sections calls,latency --vendors plivo
    python bench/run.py --strict           # exit 1 when a floor does not hold

Vendors are every vendor whose client and emulator face import (new vendors join on
their own). Figures depend on the machine; the header says which one they came from.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

_HERE = Path(__file__).resolve().parent
if __name__ == "__main__":  # run as a script: import the bench package, not bench/*.py
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
    sys.path.insert(0, str(_HERE.parent))

from bench import calls, fleet, latency, pace, report, sdk, startup  # noqa: E402
from bench.common import emulated, machine, serialized_provider  # noqa: E402

SECTIONS = report.SECTIONS
DEFAULT_JSON = _HERE / "results.json"


def _options(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="pulumi-phonenumbers benchmarks")
    parser.add_argument("--quick", action="store_true", help="tiny N everywhere (smoke run)")
    parser.add_argument("--sections", default=",".join(SECTIONS), help="comma list")
    parser.add_argument("--vendors", default="", help="comma list (default: every emulated)")
    parser.add_argument("--n", type=int, default=None, help="creates/deletes at latency (100)")
    parser.add_argument("--fleet-n", type=int, default=None, help="sandbox fleet size (1000)")
    parser.add_argument("--startup-runs", type=int, default=None, help="runs per provider (15)")
    parser.add_argument("--sdk-iterations", type=int, default=None, help="calls per client (300)")
    parser.add_argument("--json", default=str(DEFAULT_JSON), help="results file ('' = none)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a floor fails")
    args = parser.parse_args(argv)
    quick = args.quick
    args.n = args.n or (8 if quick else 100)
    args.fleet_n = args.fleet_n or (20 if quick else 1000)
    args.startup_runs = args.startup_runs or (1 if quick else 15)
    args.sdk_iterations = args.sdk_iterations or (5 if quick else 300)
    args.concurrent = 4 if quick else calls.CONCURRENT
    args.sections = [s for s in args.sections.split(",") if s]
    unknown = set(args.sections) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections {sorted(unknown)}; choose from {', '.join(SECTIONS)}")
    return args


def _fleet_runs(n: int) -> list[dict[str, Any]]:
    runs: list[dict[str, Any]] = []
    for force_grpc in (False, True):
        try:
            result = fleet.run_child(n, force_grpc=force_grpc)
        except Exception as exc:
            result = {"n": n, "path": "grpc" if force_grpc else "engine", "error": str(exc)}
        if runs and result.get("path") == runs[0].get("path"):
            break  # no engine: the first run already went through gRPC
        runs.append(result)
    return runs


def run(
    argv: list[str] | None = None, progress: Callable[[str, dict[str, Any]], None] | None = None
) -> dict[str, Any]:
    """Run the selected sections and return the results; ``progress(name, results)`` is
    called before the first section (name ``""``) and after each one."""
    args = _options(argv)
    started = time.time()
    vendors = [v for v in args.vendors.split(",") if v] or emulated()
    results: dict[str, Any] = {
        "started": time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(started)),
        "machine": machine(),
        "vendors": vendors,
        "quick": args.quick,
    }
    steps: dict[str, Callable[[], Any]] = {
        "calls": lambda: calls.measure_all(vendors, args.concurrent),
        "latency": lambda: latency.measure_all(vendors, args.n),
        "startup": lambda: startup.measure(args.startup_runs),
        "fleet": lambda: _fleet_runs(args.fleet_n),
        "sdk": lambda: (
            sdk.measure(args.sdk_iterations)
            if "plivo" in vendors
            else {"skipped": "no Plivo emulator"}
        ),
        "shared": lambda: pace.measure_shared(vendors, args.n),
        "paced": lambda: (
            pace.paced_fleet(args.fleet_n, serialized_provider())
            if "plivo" in vendors
            else {"skipped": "no Plivo emulator"}
        ),
        "cpu": lambda: pace.sandbox_cpu(args.n * 5),
    }
    if progress:
        progress("", results)
    for name in SECTIONS:
        if name not in args.sections:
            continue
        began = time.perf_counter()
        try:
            results[name] = steps[name]()
        except Exception:
            results.setdefault("errors", {})[name] = traceback.format_exc()
        results.setdefault("section_seconds", {})[name] = round(time.perf_counter() - began, 1)
        if progress:
            progress(name, results)
    results["seconds"] = round(time.time() - started, 1)
    results["machine"]["load_average_after"] = machine()["load_average"]
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    return results


def main(argv: list[str] | None = None) -> int:
    """Print the table, each section as it finishes; exit 1 with ``--strict`` when a floor
    does not hold."""

    def show(name: str, results: dict[str, Any]) -> None:
        lines = report.section(name, results) if name else report.header(results)
        if name:
            lines.append(f"({results['section_seconds'][name]:.0f} s)\n")
        print("\n".join(lines), flush=True)

    results = run(argv, show)
    print(f"{report.footer(results)}  (all sections: {results['seconds']:.0f} s)")
    for name, text in results.get("errors", {}).items():
        print(f"\nsection {name} crashed:\n{text}", file=sys.stderr)
    passed, total = report.verdicts(results)
    strict = "--strict" in (argv if argv is not None else sys.argv[1:])
    return 1 if (strict and passed < total) or results.get("errors") else 0


if __name__ == "__main__":
    sys.exit(main())
