"""``sdk/nodejs`` is what ``make sdk`` generates from the committed ``schema.json``.

The generator (``sdkgen/``) is the Pulumi code generator ``pkg/v3/codegen/nodejs`` of the CLI's
version, built by ``make node-tools`` (skipped without it, failed instead under
``PHONENUMBERS_REQUIRE_CLI=1`` as in CI); the test itself reaches no network.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.cli

ROOT = Path(__file__).resolve().parent.parent
SDK = ROOT / "sdk" / "nodejs"


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_committed_nodejs_sdk_is_not_stale(tmp_path: Path) -> None:
    generator = ROOT / ".tools" / "bin" / "pulumi-phonenumbers-sdkgen"
    if not generator.is_file():
        reason = "no .tools/bin/pulumi-phonenumbers-sdkgen: run `make node-tools`"
        if os.environ.get("PHONENUMBERS_REQUIRE_CLI") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    out = tmp_path / "nodejs"
    proc = subprocess.run(
        [str(generator), str(ROOT / "schema.json"), str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    generated, committed = _files(out), _files(SDK)
    assert sorted(generated) == sorted(committed), "run `make sdk` and commit sdk/nodejs"
    stale = [name for name in generated if generated[name] != committed[name]]
    assert stale == [], f"stale files {stale}: run `make sdk` and commit sdk/nodejs"
    assert b"phonenumbers:index:PhoneNumber" in committed["phoneNumber.ts"]
