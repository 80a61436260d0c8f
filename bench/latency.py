"""N creates and N deletes at 50 ms of emulated latency per request, 4 at a time.

Floors: creates take at most 1.2 x ceil(N/4) x (calls per create) x 50 ms, deletes at most
1.2 x ceil(N/4) x 50 ms, through the real gRPC server (which runs 4 operations at once).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from pulumi_phonenumbers.vendors import vendor_class

from .common import (
    LATENCY_MS,
    WORKERS,
    calls_per_create,
    harness,
    serialize,
    short_error,
)

__all__ = ["MARGIN", "measure", "measure_all"]

MARGIN = 1.2


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
        assert h.counter is not None
        first = vendor_class(vendor).info.target_examples[0]
        props = serialize(h.checked("fleet", country="US", routing={"voice_target": first}))
        # warm the process (provider unpickled, vendor client and its pool built, any token)
        h.fast_delete(h.urn("warm"), h.fast_create(h.urn("warm"), props))

        h.latency(latency_ms)
        try:
            mark = h.counter.mark()
            with ThreadPoolExecutor(WORKERS) as pool:
                started = time.perf_counter()
                made = list(
                    pool.map(
                        lambda i: attempt(lambda: h.fast_create(h.urn(f"n{i}"), props)), range(n)
                    )
                )
                create_s = time.perf_counter() - started
            create_calls = len(h.counter.since(mark))
            made = [m for m in made if m is not None]
            mark = h.counter.mark()
            with ThreadPoolExecutor(WORKERS) as pool:
                started = time.perf_counter()
                list(pool.map(lambda m: attempt(lambda: h.fast_delete(h.urn("n"), m)), made))
                delete_s = time.perf_counter() - started
            delete_calls = len(h.counter.since(mark))
        finally:
            h.latency(0)
        leaked = sorted(h.owned())
    create = _row(create_s, create_floor, create_calls, n)
    create["failed"] = n - len(made)
    create["passed"] = create["passed"] and not create["failed"]
    return {
        "vendor": vendor,
        "n": n,
        "latency_ms": latency_ms,
        "calls_per_create_floor": per_create,
        "create": create,
        "delete": _row(delete_s, delete_floor, delete_calls, len(made)),
        "distinct_numbers": len({m.id for m in made}),
        "leaked": leaked,
        "errors": sorted(set(errors))[:3],
    }


def _row(seconds: float, floor: float, calls: int, n: int) -> dict[str, Any]:
    return {
        "seconds": round(seconds, 3),
        "floor_seconds": round(floor, 3),
        # the ratio to the ideal ceil(N/4) x calls x latency; the floor is MARGIN
        "ratio": round(seconds / floor * MARGIN, 3),
        "passed": seconds <= floor,
        "calls": calls,
        "calls_per_op": round(calls / n, 2) if n else 0.0,
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
