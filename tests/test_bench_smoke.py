"""A quick run of every benchmark code path with tiny N, so that ``make bench`` cannot rot.

The benchmark runs as ``make bench`` runs it (``python bench/run.py``, a subprocess), so
``bench/`` is never imported by the tests. No timing is asserted here except in the one
test marked ``bench`` (deselected by ``make test``; ``make test-bench`` runs it): the
targets live in the benchmark's own output. What is asserted is that each section runs,
counts what it claims to count and cleans up after itself.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from pulumi_phonenumbers.testing.backends import emulated_vendors

ROOT = Path(__file__).resolve().parent.parent
_EMULATED = emulated_vendors()
VENDOR = "plivo" if "plivo" in _EMULATED else (_EMULATED[0] if _EMULATED else None)


@pytest.fixture(scope="module")
def bench_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], str]:
    """The results file and the printed report of ``bench/run.py --quick``."""
    out = tmp_path_factory.mktemp("bench") / "results.json"
    argv = ["--quick", "--fleet-n", "12", "--json", str(out)]
    if VENDOR is None:
        argv += ["--sections", "startup,fleet"]
    else:
        argv += ["--vendors", VENDOR]
    proc = subprocess.Popen(
        [sys.executable, "bench/run.py", *argv],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stderr is not None
    arrivals = [(time.monotonic(), line) for line in proc.stdout]  # as each is printed
    stderr = proc.stderr.read()
    assert proc.wait(timeout=600) == 0, stderr[-3000:]
    first_section = next(t for t, line in arrivals if line.startswith("("))
    assert first_section < arrivals[-1][0] - 0.5, "sections are printed only at the end"
    return json.loads(out.read_text()), "".join(line for _, line in arrivals)


@pytest.fixture(scope="module")
def results(bench_run: tuple[dict[str, Any], str]) -> dict[str, Any]:
    return bench_run[0]


def test_no_section_crashed(results: dict[str, Any]) -> None:
    assert results.get("errors", {}) == {}
    assert results["machine"]["cores"] >= 1


@pytest.mark.skipif(VENDOR is None, reason="no emulated vendor yet")
def test_calls_are_counted_at_the_emulator(results: dict[str, Any]) -> None:
    (vendor,) = results["calls"]
    assert "error" not in vendor and vendor["leaked"] == []
    rows = {row["operation"]: row for row in vendor["rows"]}
    for op in ("check", "create", "update (voice_target)", "read", "delete"):
        assert isinstance(rows[op]["calls"], int) and isinstance(rows[op]["floor"], int)
    assert rows["create"]["calls"] >= 1 and rows["create"]["requests"]
    assert sum(rows["create"]["requests"].values()) == rows["create"]["calls"]
    race = rows["create (first candidate taken)"]
    assert "race not staged" not in race["note"]
    assert race["calls"] > rows["create"]["calls"]  # the taken candidate cost a request


@pytest.mark.skipif(VENDOR is None, reason="no emulated vendor yet")
def test_latency_batch_runs_and_cleans_up(results: dict[str, Any]) -> None:
    (run,) = results["latency"]
    assert run["n"] == 8 and run["latency_ms"] == 50 and run["leaked"] == []
    made = run["n"] - run["create"]["failed"]
    assert run["distinct_numbers"] == made
    assert run["create"]["calls"] >= made and run["delete"]["calls"] >= made
    assert run["create"]["floor_seconds"] > 0 and run["delete"]["floor_seconds"] > 0


def test_startup_measures_both_providers(results: dict[str, Any]) -> None:
    startup = results["startup"]
    assert startup["ours_seconds"] > 0 and startup["trivial_seconds"] > 0
    assert startup["imports"]["ours_ms"] > 0 and startup["imports"]["trivial_ms"] > 0


@pytest.mark.bench
def test_our_imports_cost_more_than_the_trivial_providers(results: dict[str, Any]) -> None:
    """A timing comparison: true on a quiet machine, noise on a loaded one."""
    imports = results["startup"]["imports"]
    assert imports["ours_ms"] > imports["trivial_ms"]


def test_fleet_buys_and_releases_everything(results: dict[str, Any]) -> None:
    paths = {run["path"]: run for run in results["fleet"]}
    assert "grpc" in paths
    for run in paths.values():
        assert "error" not in run
        assert run["bought"] == run["n"] == 12 and run["leaked"] == 0
        assert run["provider_peak_rss_mb"] > 0 and run["bench_peak_rss_mb"] > 0


@pytest.mark.skipif("plivo" not in _EMULATED, reason="no Plivo emulator yet")
def test_plivo_sdk_side_by_side(results: dict[str, Any]) -> None:
    sdk = results["sdk"]
    if "skipped" in sdk:
        pytest.skip(sdk["skipped"])
    assert [row["operation"] for row in sdk["rows"]] == ["search", "get", "list"]
    for row in sdk["rows"]:
        assert set(row["wall_ms"]) == {"bare httpx", "ours", "plivo SDK"}


@pytest.mark.skipif("plivo" not in _EMULATED, reason="no Plivo emulator yet")
def test_pace_sections_run(bench_run: tuple[dict[str, Any], str]) -> None:
    results, text = bench_run
    shared = results["shared"]
    for key in ("requests", "latency"):
        (row,) = shared[key]
        assert "error" not in row and row["failed"] == 0 and row["page"] == 20
        assert row["requests"] >= row["n"]  # one purchase per create at least
    assert shared["latency"][0]["floor_seconds"] > 0
    paced = results["paced"]
    assert "error" not in paced and paced["n"] == 12 and paced["failed"] == 0
    assert paced["refused_429"] == 0  # the emulator enforced 300 / 5 s; paced: never refused
    assert results["cpu"]["provider_cpu_ms_per_create"] > 0
    for heading in ("6. One search for many creates", "7. Paced fleet", "8. Provider CPU"):
        assert heading in text


def test_report_renders_every_section(bench_run: tuple[dict[str, Any], str]) -> None:
    text = bench_run[1]
    for heading in ("3. Provider start-up", "4. Sandbox fleet"):
        assert heading in text
    if VENDOR is not None:
        assert "1. API calls per operation" in text and "2. 8 creates" in text
    assert text.startswith("pulumi-phonenumbers benchmark")
    assert text.splitlines()[-1].startswith("floors: ") and " PASS" in text


# The bench package's own helpers, imported the way bench/run.py finds them: from the
# repository root, in a child process.
HELPERS = textwrap.dedent(
    """
    from bench.counting import shape
    from bench.startup import _self_times

    assert shape("POST", "/v1/Account/MA0123456789ABCDEFGH/PhoneNumber/14155550100/") == (
        "POST /v1/Account/{id}/PhoneNumber/{n}/"
    )
    assert shape("DELETE", "/api/user/phone-numbers/17") == "DELETE /api/user/phone-numbers/{id}"
    assert shape("GET", "/phone-numbers/search") == "GET /phone-numbers/search"
    lines = [
        "import time: self [us] | cumulative | imported package\\n",
        "import time:       120 |        120 |   pydantic.types\\n",
        "import time:      2000 |       2120 | pulumi_phonenumbers.models\\n",
        "something else\\n",
    ]
    assert _self_times(lines) == {"pydantic.types": 120, "pulumi_phonenumbers.models": 2000}
    print("helpers ok")
    """
)


def test_request_shapes_and_importtime_lines() -> None:
    done = subprocess.run(
        [sys.executable, "-c", HELPERS], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.stdout.strip() == "helpers ok", done.stderr[-3000:]
