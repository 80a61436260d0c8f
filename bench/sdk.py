"""Our Plivo client against the official ``plivo`` SDK, on the same Plivo emulator.

Three ways to make the same request, interleaved call by call so that machine noise hits
them alike: a bare ``httpx.Client`` (the wire floor: request, JSON decode), our
``PlivoVendor`` (request, retries, error mapping, pydantic models) and ``plivo.RestClient``
(``requests`` session, its response objects). Overhead = median per call - bare median.
No latency fault. Besides wall time, the calling thread's CPU time per call
(``time.thread_time``: client work only, the emulator serves from other threads) is
reported: it is far less noisy than wall time on a busy machine.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

from pulumi_phonenumbers.models import AvailableNumber, NumberQuery, Routing
from pulumi_phonenumbers.testing.backends import Backend
from pulumi_phonenumbers.vendors import vendor_class

from .common import median

__all__ = ["OWNED", "measure"]

#: Numbers owned during the run (one page of ``GET /Number/``).
OWNED = 10


def _sdk_client(url: str, auth_id: str, token: str) -> Any:
    import plivo
    from plivo.rest import client as plivo_client

    # The SDK re-reads this module constant on every request; point it at the emulator.
    plivo_client.PLIVO_API_BASE_URI = f"{url}/v1/Account"
    return plivo.RestClient(auth_id, token)


def measure(iterations: int = 300) -> dict[str, Any]:
    """Median per-call time of search / get / list for each client."""
    try:
        import plivo  # noqa: F401
    except ImportError:
        return {"skipped": "the plivo SDK is not installed (pip install plivo)"}
    backend = Backend.start("plivo")
    try:
        return _measure(backend, iterations)
    finally:
        backend.stop()


def _measure(backend: Backend, iterations: int) -> dict[str, Any]:
    cfg = backend.config
    auth_id, token = cfg["phonenumbers:plivoAuthId"], cfg["phonenumbers:plivoAuthToken"]
    ours = vendor_class("plivo")(backend.settings())
    sdk = _sdk_client(backend.url, auth_id, token)
    bare = httpx.Client(base_url=f"{backend.url}/v1/Account/{auth_id}/", auth=(auth_id, token))
    try:
        query = NumberQuery(country="US", area_code="415")
        for item in backend.store.search(country="US", area_code="212", limit=OWNED)[0]:
            ours.buy(
                AvailableNumber(number=item.number, country="US", number_type="local"),
                Routing(),
                {},
            )
        number = next(iter(backend.owned_numbers()))
        digits = number.lstrip("+")
        search_params: dict[str, str | int] = {
            "country_iso": "US",
            "type": "fixed",
            "pattern": "415",
            "limit": 20,
            "offset": 0,
        }
        calls: dict[str, dict[str, Callable[[], Any]]] = {
            "search": {
                "bare httpx": lambda: bare.get("PhoneNumber/", params=search_params).json(),
                "ours": lambda: ours.search(query),
                "plivo SDK": lambda: sdk.numbers.search(
                    "US", type="fixed", pattern="415", limit=20, offset=0
                ),
            },
            "get": {
                "bare httpx": lambda: bare.get(f"Number/{digits}/").json(),
                "ours": lambda: ours.get(number),
                "plivo SDK": lambda: sdk.numbers.get(digits),
            },
            "list": {
                "bare httpx": lambda: bare.get("Number/", params={"limit": 20, "offset": 0}).json(),
                "ours": lambda: list(ours.list_owned()),
                "plivo SDK": lambda: sdk.numbers.list(limit=20, offset=0),
            },
        }
        rows = []
        for op, clients in calls.items():
            wall: dict[str, list[float]] = {name: [] for name in clients}
            cpu: dict[str, list[float]] = {name: [] for name in clients}
            for fn in clients.values():  # warm: connections open, code paths loaded
                fn()
            for _ in range(iterations):
                for name, fn in clients.items():
                    started, started_cpu = time.perf_counter(), time.thread_time()
                    fn()
                    cpu[name].append(time.thread_time() - started_cpu)
                    wall[name].append(time.perf_counter() - started)
            rows.append({"operation": op, **_summary("wall", wall), **_summary("cpu", cpu)})
        requests_sent = getattr(ours.http, "requests_sent", None)  # type: ignore[attr-defined]
    finally:
        bare.close()
        ours.close()
        sdk.session.close()
    return {"iterations": iterations, "owned": OWNED, "rows": rows, "ours_requests": requests_sent}


def _summary(kind: str, samples: dict[str, list[float]]) -> dict[str, dict[str, float]]:
    medians = {name: median(values) * 1000 for name, values in samples.items()}
    floor = medians["bare httpx"]
    return {
        f"{kind}_ms": {k: round(v, 3) for k, v in medians.items()},
        f"{kind}_overhead_ms": {
            k: round(v - floor, 3) for k, v in medians.items() if k != "bare httpx"
        },
    }
