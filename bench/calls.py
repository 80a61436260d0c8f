"""API calls per operation, counted at the emulator, through the real gRPC provider.

The floor (DESIGN.md §3): check, diff and preview 0; create = 1 search + 1 purchase (+1
routing call where the purchase cannot carry routing); update = 1 write per vendor object
that changed, no reads (a re-route changes the number's own record, or, where routing
lives on the target, the old and the new target: at most 2 objects); read 1 (Sondos 2: the
number list and the assistants list); delete 1.
A search page is reused when the first candidate is taken (no second search), and
simultaneous creates with the same criteria waste no purchase attempt (claim set).
A create with an exact ``number`` first asks whether the account owns it already (one
ownership check: a get, which costs what :func:`_check_cost` measures at each vendor), and
a candidate taken before our purchase costs one ownership check too (every failed purchase
attempt is verified).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from pulumi_phonenumbers.inputs import UNKNOWN
from pulumi_phonenumbers.vendors import vendor_class

from .common import Harness, calls_per_create, harness, short_error
from .counting import PurchaseRace, Request, RequestCounter

__all__ = ["measure", "measure_all"]

CONCURRENT = 16


class _Recorder:
    """Runs operations and records the requests each one caused."""

    def __init__(self, h: Harness) -> None:
        self.h = h
        self.rows: list[dict[str, Any]] = []

    def op(
        self,
        name: str,
        floor: int | Callable[[list[Request]], int] | None,
        fn: Callable[[], Any],
        note: str = "",
        extra_check: Callable[[list[Request]], str] | None = None,
    ) -> Any:
        """Run ``fn`` and record its requests against ``floor`` (None = informational)."""
        assert self.h.counter is not None
        mark = self.h.counter.mark()
        result = fn()
        requests = self.h.counter.since(mark)
        limit = floor(requests) if callable(floor) else floor
        problem = extra_check(requests) if extra_check else ""
        self.rows.append(
            {
                "operation": name,
                "calls": len(requests),
                "floor": limit,
                "passed": None if limit is None else (len(requests) <= limit and not problem),
                "requests": RequestCounter.breakdown(requests),
                "note": "; ".join(x for x in (note, problem) if x),
            }
        )
        return result

    def update(self, name: str, fn: Callable[[], Any]) -> Any:
        """An update: one write per distinct vendor object (at most 2), no reads."""

        def objects(requests: list[Request]) -> int:
            return max(1, min(2, len({r.path for r in requests if r.method != "GET"})))

        def no_reads(requests: list[Request]) -> str:
            reads = sum(r.method == "GET" for r in requests)
            return f"{reads} read(s)" if reads else ""

        return self.op(
            name, objects, fn, note="one write per vendor object changed", extra_check=no_reads
        )


def measure(vendor: str, concurrent: int = CONCURRENT) -> dict[str, Any]:
    """Count the API calls of every operation for one emulated vendor."""
    info = vendor_class(vendor).info
    first, second = info.target_examples
    per_create = calls_per_create(vendor)
    base = {"country": "US", "area_code": "415"}
    with harness(vendor) as h:
        rec = _Recorder(h)
        p = h.provider

        # The first create of a process may pay one-time set-up (an OAuth token, say).
        warm = h.checked("warm", **base, routing={"voice_target": first})
        wid, wouts = rec.op(
            "create (first in process)",
            None,
            lambda: p.create(h.urn("warm"), warm),
            note="informational: one-time set-up such as an auth token is allowed here",
        )
        p.delete(h.urn("warm"), wid, wouts)

        routed = {**base, "routing": {"voice_target": first}}
        inputs = rec.op("check", 0, lambda: h.checked("main", **routed))
        unknowns = {"country": "US", "area_code": UNKNOWN, "routing": {"voice_target": UNKNOWN}}
        rec.op("preview (check with unknowns)", 0, lambda: h.checked("u", **unknowns))
        id_, outs = rec.op(
            "create",
            per_create,
            lambda: p.create(h.urn("main"), inputs),
            note="search + purchase" + ("" if info.buy_carries_routing else " + routing"),
        )
        news = h.checked("main", **base, routing={"voice_target": second})
        rec.op("diff (routing changed)", 0, lambda: p.diff(h.urn("main"), id_, outs, news))
        rec.op("diff (no change)", 0, lambda: p.diff(h.urn("main"), id_, outs, inputs))
        unknown = h.checked("main", **base, routing={"voice_target": UNKNOWN})
        rec.op("preview (diff with unknowns)", 0, lambda: p.diff(h.urn("main"), id_, outs, unknown))
        outs = rec.update("update (voice_target)", lambda: p.update(h.urn("main"), id_, outs, news))
        if "label" in info.routing_fields:
            both = h.checked("main", **base, routing={"voice_target": first, "label": "bench"})
            outs = rec.update(
                "update (voice_target + label)", lambda: p.update(h.urn("main"), id_, outs, both)
            )
        # Sondos lists numbers and, for routing, the assistants that hold them: 2 reads.
        reads = 2 if vendor == "sondos" else 1
        rec.op("read", reads, lambda: p.read(h.urn("main"), id_, outs))
        rec.op("delete", 1, lambda: p.delete(h.urn("main"), id_, outs))

        _exact(h, rec, per_create, first)
        _race(h, rec, per_create, base, first)
        _concurrent(h, rec, per_create, base, first, concurrent)

        leaked = sorted(h.owned())
    return {"vendor": vendor, "rows": rec.rows, "leaked": leaked}


def _check_cost(h: Harness, number: str) -> int:
    """Requests one ownership check (``get``) of ``number`` costs at this vendor."""
    assert h.counter is not None
    client = h.backend.client()
    client.get(number)  # one-time set-up (an OAuth token) is not the check's
    mark = h.counter.mark()
    client.get(number)
    return len(h.counter.since(mark))


def _exact(h: Harness, rec: _Recorder, per_create: int, target: str) -> None:
    items, _ = h.backend.store.search(country="US", area_code="415", limit=1)
    number = items[0].number
    exact = h.checked("exact", country="US", number=number, routing={"voice_target": target})
    check = _check_cost(h, number)
    id_, outs = rec.op(
        "create (exact number)",
        per_create + check,
        lambda: h.provider.create(h.urn("exact"), exact),
        note=f"ownership check first ({check} call(s)), then the purchase; KrosAI also looks "
        "up the inventory handle",
    )
    h.provider.delete(h.urn("exact"), id_, outs)


def _race(h: Harness, rec: _Recorder, per_create: int, base: dict[str, Any], target: str) -> None:
    assert h.counter is not None
    race = PurchaseRace(h.backend.store, h.backend.foreign_id)
    inputs = h.checked("race", **base, routing={"voice_target": target})

    def one_search(requests: list[Request]) -> str:
        if race.taken is None:
            return "race not staged (purchase request names no number)"
        if not requests:
            return "no requests"
        if requests[0].method != "GET":
            return ""  # the search page was shared with an earlier create: no search at all
        searches = sum(r.shape == requests[0].shape for r in requests)
        return "" if searches == 1 else f"{searches} searches"

    h.counter.add_hook(race)
    try:
        id_, outs = rec.op(
            "create (first candidate taken)",
            lambda _: per_create + 1 + (_check_cost(h, race.taken) if race.taken else 0),
            lambda: h.provider.create(h.urn("race"), inputs),
            note="the taken one is verified (one ownership check), then the next candidate "
            "from the same page (at most one search)",
            extra_check=one_search,
        )
    finally:
        h.counter.remove_hook(race)
    h.provider.delete(h.urn("race"), id_, outs)
    race.undo()


def _concurrent(
    h: Harness, rec: _Recorder, per_create: int, base: dict[str, Any], target: str, n: int
) -> None:
    inputs = h.checked("c", **base, routing={"voice_target": target})

    def create(i: int) -> tuple[str, dict[str, Any]]:
        result: tuple[str, dict[str, Any]] = h.provider.create(h.urn(f"c{i}"), inputs)
        return result

    def create_all() -> list[tuple[str, dict[str, Any]]]:
        with ThreadPoolExecutor(n) as pool:
            return list(pool.map(create, range(n)))

    made = rec.op(
        f"create x{n} at once (same criteria)",
        n * per_create,
        create_all,
        note="claim set: no purchase attempt wasted",
    )
    distinct = len({id_ for id_, _ in made})
    if distinct != n:
        rec.rows[-1]["passed"] = False
        rec.rows[-1]["note"] += f"; only {distinct} distinct numbers"

    def delete_all() -> None:
        with ThreadPoolExecutor(n) as pool:
            list(pool.map(lambda m: h.provider.delete(h.urn("c"), m[0], m[1]), made))

    rec.op(f"delete x{n} at once", n, delete_all)


def measure_all(vendors: list[str], concurrent: int = CONCURRENT) -> list[dict[str, Any]]:
    """:func:`measure` for each vendor; a vendor that crashes is reported, not fatal."""
    results = []
    for vendor in vendors:
        try:
            results.append(measure(vendor, concurrent))
        except Exception as exc:  # report and go on with the other vendors
            results.append({"vendor": vendor, "rows": [], "leaked": [], "error": short_error(exc)})
    return results
