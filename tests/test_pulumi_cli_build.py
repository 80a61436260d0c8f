"""``make pulumi-cli`` (scripts/build_pulumi_cli.sh): reuse, and clear failures."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from pulumi_phonenumbers.testing._cli import TOOLS_BIN

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "build_pulumi_cli.sh"


def _run(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPT)],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_without_go_it_fails_and_says_why() -> None:
    proc = _run({"PATH": "/usr/bin:/bin"})
    assert proc.returncode != 0
    assert "no 'go' on PATH" in proc.stderr


def test_a_version_the_proxy_does_not_serve_fails_and_says_why() -> None:
    if subprocess.run(["bash", "-c", "command -v go"], capture_output=True).returncode:
        pytest.skip("no go toolchain")
    proc = _run({"PULUMI_CLI_VERSION": "v3.0.0-no-such-version"})
    assert proc.returncode != 0
    assert "cannot download github.com/pulumi/pulumi/pkg/v3@v3.0.0-no-such-version" in proc.stderr


@pytest.mark.cli
def test_a_built_cli_is_reused_and_reports_its_version() -> None:
    started = time.monotonic()
    proc = _run({})
    assert proc.returncode == 0, proc.stderr
    assert "reusing .tools/bin/pulumi (already v3.274.1)" in proc.stdout
    assert proc.stdout.strip().splitlines()[-1].startswith("pulumi v3.274.1")
    assert time.monotonic() - started < 60
    launcher = (TOOLS_BIN / "pulumi-resource-pulumi-python").read_text()
    assert "PULUMI_RUNTIME_VIRTUALENV" in launcher and "-m pulumi.dynamic" in launcher
