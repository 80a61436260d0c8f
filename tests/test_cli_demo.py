"""``make demo`` (scripts/demo.py) through the real CLI, saying which engine it used."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

DEMO = Path(__file__).resolve().parent.parent / "scripts" / "demo.py"


@pytest.mark.cli
def test_demo_uses_the_real_cli_when_there_is_one() -> None:
    proc = subprocess.run(
        [sys.executable, str(DEMO)], capture_output=True, text=True, timeout=600, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "engine: the real pulumi CLI" in proc.stdout and "demo OK" in proc.stdout
