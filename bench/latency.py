"""N creates and N deletes at 50 ms of emulated latency per request, 4 at a time.

Floors: creates take at most 1.2 x ceil(N/4) x (calls per create) x 50 ms, deletes at most
1.2 x ceil(N/4) x 50 ms, through the real gRPC server (which runs 4 operations at once).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from pulumi_phonenumbers.vendors import vendor_class

from .common import (
    LATENCY_MS,
    WORKERS,
    Harness,
    calls_per_create,
    cpu_seconds,
    harness,
    serialize,
    short_error,
)

__all__ = ["MARGIN", "measure", "measure_all"]

MARGIN = 1.2


@dataclass
class _Batch:
    """One batch: wall time, requests served, CPU of the provider and of this process."""

    seconds: float
    calls: int
    provider_cpu: float
    bench_cpu: float
    results: list[Any]


def _run_batch(h: Harness, fn: Callable[[Any], Any], items: list[Any]) -> _Batch:
    assert h.counter is not None
    mark, pid = h.counter.mark(), h.provider.proc.pid
    cpu0, own0 = cpu_seconds(pid), time.process_time()
    with ThreadPoolExecutor(WORKERS) as pool:
        started = time.perf_counter()
        results = list(pool.map(fn, items))
        seconds = time.perf_counter() - started
    return _Batch(
        seconds,
        len(h.counter.since(mark)),
        cpu_seconds(pid) - cpu0,
        time.process_time() - own0,
        results,
    )


def measure(vendor: str, n: int = 100, latency_ms: int = LATENCY_MS) -> dict[str, Any]:
    """Time ``n`` creates then ``n`` deletes for one emulated vendor."""
    per_create = calls_per_create(vendor)
    rounds = math.ceil(n / WORKERS)
    create_floor = MARGIN * rounds * per_create * latency_ms / 1000
    delete_floor = MARGIN * rounds * latency_ms / 1000
    errors: list[str] = []

    def attempt(fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except Exception as exc:  # count it, keep the batch going
            errors.append(short_error(exc))
            return None

    with harness(vendor) as h:
        first = vendor_class(vendor).info.target_examples[0]
        props = serialize(h.checked("fleet", country="US", routing={"voice_target": first}))
        # warm the process (provider unpickled, vendor client and its pool built, any token)
        h.fast_delete(h.urn("warm"), h.fast_create(h.urn("warm"), props))
        h.latency(latency_ms)
        try:
            creates = _run_batch(
                h, lambda i: attempt(lambda: h.fast_create(h.urn(f"n{i}"), props)), list(range(n))
            )
            made = [m for m in creates.results if m is not None]
            deletes = _run_batch(h, lambda m: attempt(lambda: h.fast_delete(h.urn("n"), m)), made)
        finally:
            h.latency(0)
        leaked = sorted(h.owned())
    create = _row(creates, create_floor, n)
    create["failed"] = n - len(made)
    create["passed"] = create["passed"] and not create["failed"]
    return {
        "vendor": vendor,
        "n": n,
        "latency_ms": latency_ms,
        "calls_per_create_floor": per_create,
        "create": create,
        "delete": _row(deletes, delete_floor, len(made)),
        "distinct_numbers": len({m.id for m in made}),
        "leaked": leaked,
        "errors": sorted(set(errors))[:3],
    }


def _row(batch: _Batch, floor: float, n: int) -> dict[str, Any]:
    per_op = max(n, 1)
    return {
        "seconds": round(batch.seconds, 3),
        "floor_seconds": round(floor, 3),
        # the ratio to the ideal ceil(N/4) x calls x latency; the floor is MARGIN
        "ratio": round(batch.seconds / floor * MARGIN, 3),
        "passed": batch.seconds <= floor,
        "calls": batch.calls,
        "calls_per_op": round(batch.calls / per_op, 2),
        # where the time above the ideal goes on a small machine: CPU per operation
        "provider_cpu_ms": round(batch.provider_cpu / per_op * 1000, 2),
        "emulator_cpu_ms": round(batch.bench_cpu / per_op * 1000, 2),
    }


def measure_all(vendors: list[str], n: int = 100) -> list[dict[str, Any]]:
    """:func:`measure` for each vendor; a vendor that crashes is reported, not fatal."""
    results = []
    for vendor in vendors:
        try:
            results.append(measure(vendor, n))
        except Exception as exc:  # report and go on with the other vendors
            results.append({"vendor": vendor, "error": short_error(exc)})
    return results
