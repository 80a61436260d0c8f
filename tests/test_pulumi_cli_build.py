"""``make pulumi-cli`` (scripts/build_pulumi_cli.sh): reuse, and clear failures."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pulumi_phonenumbers.testing._cli import TOOLS_BIN

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "build_pulumi_cli.sh"


def _run(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The build script with the module proxy switched off: no test reaches the network (a
    module not in the local cache is then exactly "a version the proxy does not serve")."""
    return subprocess.run(
        ["bash", str(SCRIPT)],
        env={**os.environ, "GOPROXY": "off", **env},
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
    assert time.monotonic() - started < 60  # a reuse, not a build (which takes minutes)
    launcher = (TOOLS_BIN / "pulumi-resource-pulumi-python").read_text()
    assert "PULUMI_RUNTIME_VIRTUALENV" in launcher and "-m pulumi.dynamic" in launcher


@pytest.mark.parametrize("required", [False, True], ids=["skip", "required"])
def test_cli_tests_skip_without_a_cli_unless_ci_requires_it(required: bool) -> None:
    env = {"PHONENUMBERS_PULUMI": "", "PHONENUMBERS_REQUIRE_CLI": "1" if required else "0"}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_cli_demo.py"],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if required:
        assert proc.returncode == 1 and "1 error" in proc.stdout, proc.stdout
        assert "PHONENUMBERS_REQUIRE_CLI=1 but no pulumi CLI" in proc.stdout
    else:
        assert proc.returncode == 0 and "1 skipped" in proc.stdout, proc.stdout
        assert "run `make pulumi-cli`" in proc.stdout
