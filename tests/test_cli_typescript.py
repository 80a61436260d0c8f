"""A TypeScript program on the generated Node.js SDK, through the real CLI.

``examples/typescript`` runs as a Node Automation API inline program (the Node language host
is not available): ``sdk/nodejs`` is compiled with its own ``tsc`` and installed by path, the
example is compiled, and each step runs ``node bin/run.js``. The engine starts
``pulumi-resource-phonenumbers`` from ``PATH``; the vendor is the Plivo emulator. The npm
packages are installed by ``make node-tools`` (skipped without it, failed under
``PHONENUMBERS_REQUIRE_CLI=1``): the test reaches no registry.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import events

from pulumi_phonenumbers.testing._cli import PASSPHRASE, TOOLS_BIN, pulumi_binary
from pulumi_phonenumbers.testing.backends import Backend
from pulumi_phonenumbers.vendors import vendor_class

pytestmark = pytest.mark.cli

ROOT = Path(__file__).resolve().parent.parent
SDK = ROOT / "sdk" / "nodejs"
BUILT = ROOT / ".tools" / "node"


def _run(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert proc.returncode == 0, f"{' '.join(args)}:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout


def _sources(root: Path) -> dict[str, bytes]:
    skip = {"node_modules", "bin", "package-lock.json"}
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not skip & set(p.relative_to(root).parts)
    }


@pytest.fixture
def example() -> Path:
    """examples/typescript as `make node-tools` compiled it (with its npm packages) against a
    compiled sdk/nodejs; the test reaches no registry. It must match the committed sources."""
    built = BUILT / "examples" / "typescript"
    reason = ""
    if not shutil.which("node"):
        reason = "no node"
    elif pulumi_binary() is None:
        reason = "no pulumi CLI: run `make pulumi-cli`"
    elif not (built / "bin" / "run.js").is_file():
        reason = "the TypeScript example is not built: run `make node-tools`"
    if reason:
        if os.environ.get("PHONENUMBERS_REQUIRE_CLI") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    for committed, copy in (
        (ROOT / "examples" / "typescript", built),
        (SDK, BUILT / "sdk" / "nodejs"),
    ):
        assert _sources(copy) == _sources(committed), "stale build: run `make node-tools`"
    return built


def test_typescript_program_lifecycle(plivo: Backend, example: Path, tmp_path: Path) -> None:
    first, second = vendor_class("plivo").info.target_examples
    home, state = tmp_path / "pulumi-home", tmp_path / "backend"
    home.mkdir()
    state.mkdir()
    cli = Path(pulumi_binary() or "")
    env = {
        **os.environ,
        "PULUMI_HOME": str(home),
        "PULUMI_BACKEND_URL": state.as_uri(),
        "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        "PATH": os.pathsep.join(
            [str(TOOLS_BIN), str(cli.parent), str(Path(sys.executable).parent), os.environ["PATH"]]
        ),
    }
    env.pop("PULUMI_ACCESS_TOKEN", None)
    config = {k: {"value": v, "secret": "Auth" in k} for k, v in plivo.config.items()}

    def step(name: str, target: str) -> dict[str, Any]:
        request = {"step": name, "stack": "dev", "voiceTarget": target, "config": config}
        out = _run(["node", "bin/run.js", json.dumps(request)], example, env)
        result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
        return result

    up = step("up", first)
    number = up["outputs"]["number"]
    assert number.startswith("+1415") and len(up["outputs"]["offered"]) == 3
    assert events([plivo], "buy") == [number]  # the look-up bought nothing
    assert plivo.client().get(number).routing.voice_target == first  # type: ignore[union-attr]

    assert step("preview", second)["changes"] == {"same": 1, "update": 1}  # update, no replace
    assert step("up", second)["outputs"]["number"] == number
    assert plivo.client().get(number).routing.voice_target == second  # type: ignore[union-attr]
    assert step("refresh", second)["changes"] == {"same": 2}
    assert events([plivo], "buy") == [number] and events([plivo], "release") == []

    assert step("destroy", second)["changes"] == {"delete": 2}
    assert events([plivo], "release") == [number]
    for secret in plivo.secret_values():
        assert secret not in json.dumps(up)
