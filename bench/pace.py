"""Fleets at the vendor's pace (issue 14): shared searches, pacing, provider CPU.

* ``requests per create``: a 100-number fleet per vendor, 4 creates at a time, at 0 ms;
  every vendor request counted by the emulator (target: at most 1.1).
* ``at latency``: 100 creates at 50 ms per request, 4 at a time, against the floor
  ``ceil(N/4) x (1 + 1/page) x 50 ms`` (page = the numbers one search returns; target
  1.15 x the floor).
* ``paced fleet``: 1,000 Plivo-emulator numbers with the emulator enforcing 300 requests
  per 5 s at 0 ms and the provider at its default pace (target: no 429, wall time within
  1.2 x ``1,000 x requests-per-create / 60 s``).
* ``sandbox CPU``: the provider process's CPU time per create (sandbox, 4 at a time).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from pulumi_phonenumbers.models import NumberQuery
from pulumi_phonenumbers.testing import ProviderProcess
from pulumi_phonenumbers.testing.backends import Backend

from .common import LATENCY_MS, URN, WORKERS, cpu_seconds, harness, serialize, short_error

__all__ = ["measure_shared", "paced_fleet", "sandbox_cpu"]

RPC_TARGET = 1.1
LATENCY_TARGET = 1.15
PACED_TARGET = 1.2
#: Plivo's documented limit, enforced by the emulator in the paced fleet.
PLIVO_LIMIT = {"requests": 300, "per_seconds": 5}
POOL_SHARE = 0.9
#: Countries whose numbers need no address or identity proof (Plivo), biggest pools first.
EASY_COUNTRIES = ("US", "CA", "GB", "KE", "NG")


def _creates(create: Callable[[int], Any], n: int) -> tuple[float, list[str]]:
    errors: list[str] = []

    def one(i: int) -> None:
        try:
            create(i)
        except Exception as exc:  # count it, keep the batch going
            errors.append(short_error(exc))

    with ThreadPoolExecutor(WORKERS) as pool:
        started = time.perf_counter()
        list(pool.map(one, range(n)))
        return time.perf_counter() - started, errors


def _page_size(backend: Backend) -> int:
    return max(1, len(backend.client().search(NumberQuery(country="US")).numbers))


def fleet_requests(vendor: str, n: int, latency_ms: int = 0) -> dict[str, Any]:
    """``n`` US creates of one vendor, 4 at a time: requests per create and wall time."""
    with harness(vendor) as h:
        assert h.counter is not None
        page = _page_size(h.backend)
        props = serialize(h.checked("fleet", country="US"))
        # warm the process (provider unpickled, client, pool, token) with other criteria,
        # so that the fleet's own first search is counted
        h.fast_create(h.urn("warm"), serialize(h.checked("warm", country="US", area_code="212")))
        h.latency(latency_ms)
        mark = h.counter.mark()
        try:
            seconds, errors = _creates(lambda i: h.fast_create(h.urn(f"n{i}"), props), n)
        finally:
            h.latency(0)
        sent = len(h.counter.since(mark))
    made = n - len(errors)
    per_create = sent / max(made, 1)
    row: dict[str, Any] = {
        "vendor": vendor,
        "n": n,
        "page": page,
        "requests": sent,
        "requests_per_create": round(per_create, 3),
        "seconds": round(seconds, 3),
        "failed": len(errors),
        "errors": sorted(set(errors))[:3],
    }
    if latency_ms:
        floor = math.ceil(n / WORKERS) * (1 + 1 / page) * latency_ms / 1000
        row["floor_seconds"] = round(floor, 3)
        row["ratio"] = round(seconds / floor, 3)
        row["passed"] = not errors and seconds <= LATENCY_TARGET * floor
    else:
        row["passed"] = not errors and per_create <= RPC_TARGET
    return row


def _groups(backend: Backend, n: int) -> list[tuple[str, str, int]]:
    groups: list[tuple[str, str, int]] = []
    left = n
    for country in EASY_COUNTRIES:
        for number_type in ("local", "toll_free", "mobile"):
            _, total = backend.store.search(country=country, number_type=number_type, limit=1)
            take = min(left, int(total * POOL_SHARE))
            if take > 0:
                groups.append((country, number_type, take))
                left -= take
    if left:
        raise ValueError(f"the {backend.vendor} emulator's inventory cannot hold {n} numbers")
    return groups


def paced_fleet(n: int, serialized: str) -> dict[str, Any]:
    """``n`` Plivo numbers against the emulator enforcing 300 requests / 5 s."""
    backend = Backend.start("plivo")
    try:
        config = dict(backend.config)
        config.pop("phonenumbers:plivoRequestsPerSecond")  # the provider's default pace
        backend.control("POST", "settings", {"rate_limit": PLIVO_LIMIT})
        with ProviderProcess() as provider:
            provider.configure(config)
            jobs: list[Any] = []
            for country, number_type, count in _groups(backend, n):
                news = {
                    "__provider": serialized,
                    "vendor": "plivo",
                    "country": country,
                    "number_type": number_type,
                }
                outcome = provider.check(URN.format("x"), {}, news)
                if outcome.failures:
                    raise RuntimeError(f"check failed: {outcome.failures}")
                props = serialize(outcome.inputs)
                jobs += [props] * count
            warm = {"__provider": serialized, "vendor": "plivo", "country": "CA"}
            provider.create(URN.format("warm"), provider.check(URN.format("w"), {}, warm).inputs)
            backend.control("DELETE", "requests")
            pid = provider.proc.pid
            cpu0 = cpu_seconds(pid)

            def create(i: int) -> None:
                provider.stub.Create(_create_request(URN.format(f"p{i}"), jobs[i]), timeout=300)

            seconds, errors = _creates(create, len(jobs))
            cpu = cpu_seconds(pid) - cpu0
        refused = backend.control("GET", "rate_limit")["refused"]
        sent = len(backend.requests())
    finally:
        backend.stop()
    per_create = sent / max(n - len(errors), 1)
    target = PACED_TARGET * n * per_create / (PLIVO_LIMIT["requests"] / PLIVO_LIMIT["per_seconds"])
    return {
        "n": n,
        "requests": sent,
        "requests_per_create": round(per_create, 3),
        "refused_429": refused,
        "seconds": round(seconds, 2),
        "target_seconds": round(target, 2),
        "ratio": round(seconds / (target / PACED_TARGET), 3),
        "provider_cpu_s": round(cpu, 2),
        "failed": len(errors),
        "errors": sorted(set(errors))[:3],
        "passed": not errors and refused == 0 and seconds <= target,
    }


def _create_request(urn: str, props: Any) -> Any:
    from pulumi.runtime import proto

    return proto.CreateRequest(urn=urn, properties=props)


def sandbox_cpu(n: int) -> dict[str, Any]:
    """The provider process's CPU time per sandbox create (4 at a time)."""
    with harness("sandbox") as h:
        props = serialize(h.checked("cpu", country="US"))
        h.fast_create(h.urn("warm"), props)
        pid = h.provider.proc.pid
        cpu0 = cpu_seconds(pid)
        seconds, errors = _creates(lambda i: h.fast_create(h.urn(f"c{i}"), props), n)
        cpu = cpu_seconds(pid) - cpu0
    return {
        "n": n,
        "seconds": round(seconds, 2),
        "provider_cpu_ms_per_create": round(cpu / max(n, 1) * 1000, 2),
        "failed": len(errors),
    }


def measure_shared(vendors: list[str], n: int) -> dict[str, Any]:
    """Requests per create at 0 ms and wall time at 50 ms, per vendor."""
    out: dict[str, Any] = {"requests": [], "latency": []}
    for vendor in vendors:
        for key, latency in (("requests", 0), ("latency", LATENCY_MS)):
            try:
                out[key].append(fleet_requests(vendor, n, latency))
            except Exception as exc:  # report and go on with the other vendors
                out[key].append({"vendor": vendor, "error": short_error(exc), "passed": False})
    return out
