"""The real-engine section of ``make bench`` (bench/realcli.py), at a tiny size."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.cli
def test_real_engine_bench_runs_and_leaks_nothing(tmp_path: Path) -> None:
    out = tmp_path / "cli.json"
    command = [sys.executable, "bench/realcli.py", "--n", "4", "--big", "0", "--json", str(out)]
    proc = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "engine overhead" in proc.stdout
    results = json.loads(out.read_text())
    for section in ("sandbox", "plivo"):
        row = results[section]
        assert row["bought"] == 4 and row["leaked"] == 0
        assert row["up_seconds"] > 0 and row["overhead"]["up"] > 0
        assert row["peak_rss_mb"]["engine"] > 0 and row["peak_rss_mb"]["provider"] > 0
