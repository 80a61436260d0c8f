"""Render the results as the plain-text table ``make bench`` prints (and collect verdicts)."""

from __future__ import annotations

from typing import Any

__all__ = ["SECTIONS", "footer", "header", "section", "verdicts"]


def _verdict(passed: bool | None) -> str:
    return {True: "PASS", False: "FAIL", None: "-"}[passed]


def _table(headers: list[str], rows: list[list[Any]], right: set[int] | None = None) -> list[str]:
    right = right or set()
    cells = [[str(c) for c in row] for row in rows]
    widths = [
        max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)
    ]

    def line(values: list[str]) -> str:
        parts = [
            v.rjust(w) if i in right else v.ljust(w)
            for i, (v, w) in enumerate(zip(values, widths, strict=True))
        ]
        return "  ".join(parts).rstrip()

    return [line(headers), line(["-" * w for w in widths]), *(line(r) for r in cells)]


def _calls(results: list[dict[str, Any]]) -> list[str]:
    out = ["1. API calls per operation: counted at the emulator, through the gRPC provider"]
    rows: list[list[Any]] = []
    shapes: list[str] = []
    for vendor in results:
        if vendor.get("error"):
            rows.append([vendor["vendor"], "(crashed)", "", "", "FAIL"])
            shapes.append(f"   {vendor['vendor']}: {vendor['error']}")
            continue
        for row in vendor["rows"]:
            floor = "" if row["floor"] is None else row["floor"]
            rows.append(
                [vendor["vendor"], row["operation"], row["calls"], floor, _verdict(row["passed"])]
            )
            if row["passed"] is False:
                detail = ", ".join(f"{k} x{v}" for k, v in row["requests"].items())
                shapes.append(
                    f"   FAIL {vendor['vendor']} {row['operation']}: {detail}"
                    + (f" ({row['note']})" if row["note"] else "")
                )
        leaked = vendor.get("leaked") or []
        rows.append(
            [
                vendor["vendor"],
                "numbers left owned afterwards",
                len(leaked),
                0,
                _verdict(not leaked),
            ]
        )
        creates = [r for r in vendor["rows"] if r["operation"] == "create"]
        if creates:
            detail = ", ".join(f"{k} x{v}" for k, v in creates[0]["requests"].items())
            shapes.append(f"   {vendor['vendor']} create = {detail}")
    out += _table(["vendor", "operation", "calls", "floor", "result"], rows, {2, 3})
    return out + shapes


def _latency(results: list[dict[str, Any]]) -> list[str]:
    if not results:
        return []
    first = next((r for r in results if "n" in r), None)
    head = (
        (
            f"2. {first['n']} creates, then deletes, at {first['latency_ms']} ms per request, "
            "4 at a time (floor = 1.2 x ceil(N/4) x calls x latency)"
        )
        if first
        else "2. creates and deletes at emulated latency"
    )
    rows: list[list[Any]] = []
    notes: list[str] = []
    for r in results:
        if r.get("error"):
            rows.append([r["vendor"], "(crashed)", "", "", "", "", "", "", "FAIL"])
            notes.append(f"   {r['vendor']}: {r['error']}")
            continue
        for op in ("create", "delete"):
            m = r[op]
            rows.append(
                [
                    r["vendor"],
                    op,
                    f"{m['seconds']:.2f}",
                    f"{m['floor_seconds']:.2f}",
                    f"{m['ratio']:.2f}",
                    f"{m['calls_per_op']:.2f}",
                    f"{m.get('provider_cpu_ms', 0):.1f}",
                    f"{m.get('emulator_cpu_ms', 0):.1f}",
                    _verdict(m["passed"]),
                ]
            )
        if r["distinct_numbers"] != r["n"] or r["leaked"]:
            notes.append(
                f"   {r['vendor']}: {r['distinct_numbers']} distinct numbers, "
                f"{len(r['leaked'])} left owned"
            )
        for error in r.get("errors", []):
            failed = r["create"].get("failed", 0)
            notes.append(f"   {r['vendor']}: {failed} create(s) failed, e.g. {error}")
    table = _table(
        [
            "vendor",
            "op",
            "seconds",
            "floor s",
            "x ideal (<=1.20)",
            "calls/op",
            "provider CPU ms/op",
            "emulator+driver CPU ms/op",
            "result",
        ],
        rows,
        {2, 3, 4, 5, 6, 7},
    )
    return [head, *table, *notes]


def _startup(r: dict[str, Any]) -> list[str]:
    out = [f"3. Provider start-up: process start -> first Create answered (median of {r['runs']})"]
    out += _table(
        ["provider", "median s", "runs"],
        [
            ["ours (sandbox)", f"{r['ours_seconds']:.3f}", " ".join(map(str, r["ours_all"]))],
            ["trivial", f"{r['trivial_seconds']:.3f}", " ".join(map(str, r["trivial_all"]))],
        ],
        {1},
    )
    out.append(
        f"   ratio of medians {r['ratio']:.2f} (<= {r['limit']:.2f})  {_verdict(r['passed'])}"
        f"   (ratio of best runs {r.get('best_ratio', 0):.2f})"
    )
    imports = r.get("imports") or {}
    if imports:
        heavy = ", ".join(f"{e['package']} {e['ms']:.0f}" for e in imports["extra_by_package"])
        out.append(
            f"   -X importtime: {imports['extra_ms']:.0f} ms of imports beyond the "
            f"trivial provider's; by package (ms): {heavy}"
        )
    return out


def _fleet(results: list[dict[str, Any]]) -> list[str]:
    if not results:
        return []
    n = results[0].get("n", "")
    out = [f"4. Sandbox fleet of {n} numbers: up, then destroy"]
    rows: list[list[Any]] = []
    for r in results:
        if r.get("error"):
            rows.append([r.get("path", "?"), "(crashed)", "", "", "", "", "", ""])
            out.append(f"   {r['error']}")
            continue
        rows.append(
            [
                r["path"],
                f"{r['create_seconds']:.2f}",
                f"{r['create_per_second']:.0f}",
                f"{r['destroy_seconds']:.2f}",
                f"{r['destroy_per_second']:.0f}",
                f"{r['provider_peak_rss_mb']:.0f} MB",
                f"{r['bench_peak_rss_mb']:.0f} MB",
                r["leaked"],
            ]
        )
    table = _table(
        [
            "path",
            "up s",
            "numbers/s",
            "destroy s",
            "numbers/s",
            "provider peak RSS",
            "driver peak RSS",
            "leaked",
        ],
        rows,
        {1, 2, 3, 4, 5, 6, 7},
    )
    return [
        *out[:1],
        *table,
        *out[1:],
        "   engine = LocalEngine running PhoneNumberFleet resources; grpc = the provider "
        "driven directly, 4 calls at once",
    ]


def _sdk(r: dict[str, Any]) -> list[str]:
    if "skipped" in r:
        return [f"5. Plivo client vs the plivo SDK: skipped ({r['skipped']})"]
    out = [
        f"5. Plivo: our client vs the official plivo SDK, same emulator, no latency "
        f"(median of {r['iterations']} calls; overhead = minus a bare httpx call)"
    ]
    rows = []
    for row in r["rows"]:
        w = row["wall_ms"]
        wo, co = row["wall_overhead_ms"], row["cpu_overhead_ms"]
        rows.append(
            [
                row["operation"],
                f"{w['bare httpx']:.2f}",
                f"{w['ours']:.2f}",
                f"{w['plivo SDK']:.2f}",
                f"{wo['ours']:+.2f}",
                f"{wo['plivo SDK']:+.2f}",
                f"{co['ours']:+.3f}",
                f"{co['plivo SDK']:+.3f}",
            ]
        )
    out += _table(
        [
            "op",
            "bare ms",
            "ours ms",
            "SDK ms",
            "ours +ms",
            "SDK +ms",
            "ours +CPU ms",
            "SDK +CPU ms",
        ],
        rows,
        {1, 2, 3, 4, 5, 6, 7},
    )
    return out


def verdicts(results: dict[str, Any]) -> tuple[int, int]:
    """``(passed, total)`` over every floor in the results."""
    flags: list[bool] = []
    for vendor in results.get("calls", []):
        flags += [r["passed"] for r in vendor.get("rows", []) if r["passed"] is not None]
        flags.append(not vendor.get("leaked") and not vendor.get("error"))
    for r in results.get("latency", []):
        flags += [r[op]["passed"] for op in ("create", "delete") if op in r]
        if r.get("error"):
            flags.append(False)
    if "startup" in results:
        flags.append(results["startup"]["passed"])
    for r in results.get("fleet", []):
        flags.append(not r.get("error") and r.get("leaked") == 0)
    shared = results.get("shared", {})
    flags += [bool(r.get("passed")) for r in shared.get("requests", []) + shared.get("latency", [])]
    if "paced" in results and not results["paced"].get("skipped"):
        flags.append(bool(results["paced"].get("passed")))
    return sum(flags), len(flags)


def header(results: dict[str, Any]) -> list[str]:
    """Where and when the figures come from."""
    m = results["machine"]
    took = f"  ({results['seconds']:.0f} s)" if "seconds" in results else ""
    return [
        f"pulumi-phonenumbers benchmark  {results['started']}{took}",
        f"machine: {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB, Python {m['python']}, "
        f"load average {' '.join(map(str, m['load_average']))}",
        f"vendors: {', '.join(results['vendors']) or '(none emulated)'}",
        "",
    ]


def _shared(results: dict[str, Any]) -> list[str]:
    out = [
        "6. One search for many creates: a 100-number fleet per vendor, 4 at a time "
        "(requests per create <= 1.10 at 0 ms; at 50 ms <= 1.15 x ceil(N/4) x (1 + 1/page) "
        "x 50 ms)"
    ]
    rows: list[list[Any]] = []
    notes: list[str] = []
    by_vendor = {r["vendor"]: r for r in results.get("latency", [])}
    for r in results.get("requests", []):
        lat = by_vendor.get(r["vendor"], {})
        if r.get("error") or lat.get("error"):
            rows.append([r["vendor"], "(crashed)", "", "", "", "", "", "FAIL"])
            notes.append(f"   {r['vendor']}: {r.get('error') or lat.get('error')}")
            continue
        rows.append(
            [
                r["vendor"],
                r["page"],
                f"{r['requests_per_create']:.3f}",
                _verdict(r["passed"]),
                f"{lat.get('seconds', 0):.2f}",
                f"{lat.get('floor_seconds', 0):.2f}",
                f"{lat.get('ratio', 0):.2f}",
                _verdict(lat.get("passed")),
            ]
        )
        for error in r.get("errors", []) + lat.get("errors", []):
            notes.append(f"   {r['vendor']}: a create failed, e.g. {error}")
    out += _table(
        [
            "vendor",
            "page",
            "requests/create",
            "result",
            "50 ms: s",
            "floor s",
            "x floor (<=1.15)",
            "result",
        ],
        rows,
        {1, 2, 4, 5, 6},
    )
    return out + notes


def _paced(r: dict[str, Any]) -> list[str]:
    out = [
        "7. Paced fleet: Plivo emulator enforcing 300 requests / 5 s at 0 ms, provider at its "
        "default pace (no 429; wall <= 1.2 x N x requests-per-create / 60 s)"
    ]
    if r.get("skipped"):
        return [*out, f"   skipped ({r['skipped']})"]
    if r.get("error"):
        return [*out, f"   (crashed) {r['error']}  FAIL"]
    out += _table(
        ["numbers", "requests", "req/create", "429s", "seconds", "target s", "x ideal", "result"],
        [
            [
                r["n"],
                r["requests"],
                f"{r['requests_per_create']:.3f}",
                r["refused_429"],
                f"{r['seconds']:.1f}",
                f"{r['target_seconds']:.1f}",
                f"{r['ratio']:.2f}",
                _verdict(r["passed"]),
            ]
        ],
        {0, 1, 2, 3, 4, 5, 6},
    )
    return out + [f"   a create failed, e.g. {e}" for e in r.get("errors", [])]


def _cpu(r: dict[str, Any]) -> list[str]:
    head = "8. Provider CPU per create (sandbox, 4 at a time; reported, no floor)"
    if r.get("error"):
        return [head, f"   (crashed) {r['error']}"]
    return [
        head,
        f"   {r['provider_cpu_ms_per_create']:.2f} ms CPU per create over {r['n']} creates "
        f"({r['seconds']:.2f} s wall, {r['failed']} failed)",
    ]


def section(name: str, results: dict[str, Any]) -> list[str]:
    """One section's table ([] when it did not run)."""
    if name == "calls":
        return _calls(results["calls"]) if "calls" in results else []
    if name == "latency":
        return _latency(results.get("latency", []))
    if name == "startup":
        return _startup(results["startup"]) if "startup" in results else []
    if name == "fleet":
        return _fleet(results.get("fleet", []))
    if name == "sdk":
        return _sdk(results["sdk"]) if "sdk" in results else []
    if name == "shared":
        return _shared(results["shared"]) if "shared" in results else []
    if name == "paced":
        return _paced(results["paced"]) if "paced" in results else []
    if name == "cpu":
        return _cpu(results["cpu"]) if "cpu" in results else []
    raise KeyError(name)


SECTIONS = ("calls", "latency", "startup", "fleet", "sdk", "shared", "paced", "cpu")


def footer(results: dict[str, Any]) -> str:
    """The verdict line."""
    passed, total = verdicts(results)
    return f"floors: {passed}/{total} PASS"
