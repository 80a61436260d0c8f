"""A 1,000-number sandbox fleet, created and destroyed: numbers per second, peak memory.

Through the local engine (:class:`~pulumi_phonenumbers.testing.LocalEngine` running a
program of :class:`~pulumi_phonenumbers.PhoneNumberFleet` resources) when both exist, else
straight through the gRPC provider with 4 calls at once. Run in a child process
(``python -m bench.fleet``) so that the bench side's peak RSS is this work's alone; the
provider's peak comes from ``/proc/<pid>/status`` (``VmHWM``), sampled while it runs.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from pulumi_phonenumbers.store import Store
from pulumi_phonenumbers.testing.backends import Backend
from pulumi_phonenumbers.vendors.sandbox import SandboxVendor

from .common import REPO, WORKERS, harness, peak_rss_kb, self_peak_rss_kb, serialize

__all__ = ["measure", "plan", "run_child"]

#: Never take more than this share of a pool, so that claims never run a pool dry.
POOL_SHARE = 0.8


def plan(n: int, store: Store) -> list[tuple[str, str, int]]:
    """``(country, number_type, count)`` groups adding up to ``n``, biggest pools first."""
    pools: Counter[tuple[str, str]] = Counter()
    for country in sorted(SandboxVendor.info.countries):
        for number_type in ("local", "mobile", "toll_free"):
            _, total = store.search(country=country, number_type=number_type, limit=1)
            if total:
                pools[(country, number_type)] = total
    groups: list[tuple[str, str, int]] = []
    left = n
    for (country, number_type), total in pools.most_common():
        take = min(left, int(total * POOL_SHARE))
        if take > 0:
            groups.append((country, number_type, take))
            left -= take
        if not left:
            break
    if left:
        raise ValueError(f"the sandbox inventory cannot hold a {n}-number fleet")
    return groups


class _ProviderSampler:
    """Polls the peak RSS of this process's ``pulumi.dynamic`` children."""

    def __init__(self) -> None:
        self.peak_kb = 0
        self.pids: set[int] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> _ProviderSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        me = os.getpid()
        while not self._stop.wait(0.05):
            for pid in _children(me):
                self.pids.add(pid)
                self.peak_kb = max(self.peak_kb, peak_rss_kb(pid))


def _children(parent: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid == parent and b"pulumi.dynamic" in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except (OSError, ValueError, IndexError):
            continue
    return found


def _engine_available() -> bool:
    try:
        from pulumi_phonenumbers.fleet import PhoneNumberFleet  # noqa: F401
        from pulumi_phonenumbers.testing import LocalEngine  # noqa: F401
    except ImportError:
        return False
    return True


def _via_engine(backend: Backend, groups: list[tuple[str, str, int]]) -> tuple[float, float]:
    from pulumi_phonenumbers.fleet import PhoneNumberFleet
    from pulumi_phonenumbers.testing import LocalEngine

    def program() -> None:
        for i, (country, number_type, count) in enumerate(groups):
            PhoneNumberFleet(
                f"fleet{i}", size=count, vendor="sandbox", country=country, number_type=number_type
            )

    engine = LocalEngine(program, config=backend.config)
    started = time.perf_counter()
    engine.up()
    up_s = time.perf_counter() - started
    started = time.perf_counter()
    engine.destroy()
    return up_s, time.perf_counter() - started


def _via_grpc(directory: str, groups: list[tuple[str, str, int]]) -> tuple[float, float]:
    with harness("sandbox", directory) as h:
        inputs = {
            (c, t): serialize(h.checked(f"{c}-{t}", country=c, number_type=t)) for c, t, _ in groups
        }
        jobs = [(f"{c}-{t}-{i}", inputs[(c, t)]) for c, t, count in groups for i in range(count)]

        def pool_map(fn: Callable[[Any], Any], items: list[Any]) -> list[Any]:
            with ThreadPoolExecutor(WORKERS) as pool:
                return list(pool.map(fn, items))

        started = time.perf_counter()
        made = pool_map(lambda job: h.fast_create(h.urn(job[0]), job[1]), jobs)
        up_s = time.perf_counter() - started
        started = time.perf_counter()
        pool_map(lambda m: h.fast_delete(h.urn("x"), m), made)
        return up_s, time.perf_counter() - started


def measure(n: int = 1000, force_grpc: bool = False) -> dict[str, Any]:
    """Create and destroy an ``n``-number sandbox fleet in this process."""
    with tempfile.TemporaryDirectory(prefix="bench-fleet-") as tmp:
        backend = Backend.start("sandbox", tmp)
        groups = plan(n, backend.store)
        path = "grpc" if force_grpc or not _engine_available() else "engine"
        with _ProviderSampler() as sampler:
            if path == "engine":
                up_s, down_s = _via_engine(backend, groups)
            else:
                up_s, down_s = _via_grpc(tmp, groups)
        bought = sum(1 for e in backend.ledger() if e["op"] == "buy")
        leaked = len(backend.owned_numbers())
        backend.stop()
    return {
        "n": n,
        "path": path,
        "groups": [list(g) for g in groups],
        "bought": bought,
        "leaked": leaked,
        "create_seconds": round(up_s, 3),
        "create_per_second": round(n / up_s, 1) if up_s else 0.0,
        "destroy_seconds": round(down_s, 3),
        "destroy_per_second": round(n / down_s, 1) if down_s else 0.0,
        "provider_peak_rss_mb": round(sampler.peak_kb / 1024, 1),
        "bench_peak_rss_mb": round(self_peak_rss_kb() / 1024, 1),
    }


def run_child(n: int = 1000, force_grpc: bool = False, timeout: float = 600) -> dict[str, Any]:
    """:func:`measure` in a fresh child process (clean peak-memory figures)."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as out:
        target = out.name
    try:
        command = [sys.executable, "-m", "bench.fleet", "--n", str(n), "--json", target]
        if force_grpc:
            command.append("--grpc")
        done = subprocess.run(
            command, cwd=REPO, capture_output=True, text=True, timeout=timeout, check=False
        )
        if done.returncode != 0:
            tail = done.stderr.strip().splitlines()[-5:]
            raise RuntimeError("fleet bench failed: " + " | ".join(tail))
        result: dict[str, Any] = json.loads(Path(target).read_text())
        return result
    finally:
        os.unlink(target)


def main(argv: list[str] | None = None) -> None:
    """``python -m bench.fleet --n 1000 --json out.json``."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--json", required=True)
    parser.add_argument("--grpc", action="store_true", help="skip the engine")
    args = parser.parse_args(argv)
    Path(args.json).write_text(json.dumps(measure(args.n, args.grpc)))


if __name__ == "__main__":
    main()
