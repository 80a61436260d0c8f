"""Drive the real ``pulumi`` CLI on a local file backend (when a ``pulumi`` binary exists).

Used by ``scripts/demo.py`` and the CLI test: the project is copied to a scratch
directory, state goes to ``PULUMI_BACKEND_URL=file://...`` with a throw-away passphrase,
and the language host and the dynamic-provider plugin run this interpreter (its directory
first on ``PATH``, ``PULUMI_PYTHON_CMD``), so nothing is installed and nothing leaves the
machine.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..config import CONFIG_KEYS, NAMESPACE

__all__ = ["PulumiCLI", "PulumiCLIError", "pulumi_binary"]

_SECRET_KEYS = {f"{NAMESPACE}:{k.name}" for k in CONFIG_KEYS if k.secret}


def pulumi_binary() -> str | None:
    """The ``pulumi`` executable on ``PATH``, or None."""
    return shutil.which("pulumi")


class PulumiCLIError(RuntimeError):
    """A ``pulumi`` command failed; the message carries its output."""


class PulumiCLI:
    """One stack of one project copy, on a file backend under ``workdir``."""

    def __init__(
        self,
        project: Path,
        workdir: Path,
        stack: str = "dev",
        binary: str | None = None,
        timeout: float = 300.0,
    ) -> None:
        found = binary or pulumi_binary()
        if found is None:
            raise PulumiCLIError("the pulumi CLI is not on PATH")
        self.binary = found
        self.stack = stack
        self.timeout = timeout
        self.project = workdir / project.name
        shutil.copytree(
            project,
            self.project,
            dirs_exist_ok=True,
            ignore=shutil.ignore_patterns("Pulumi.*.yaml", "__pycache__", "venv"),
        )
        backend = workdir / "backend"
        backend.mkdir(parents=True, exist_ok=True)
        python_dir = str(Path(sys.executable).parent)
        self.env = {
            **os.environ,
            "PULUMI_BACKEND_URL": backend.resolve().as_uri(),
            "PULUMI_CONFIG_PASSPHRASE": "local-demo-only",
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_PYTHON_CMD": sys.executable,
            "PATH": python_dir + os.pathsep + os.environ.get("PATH", ""),
        }

    def run(self, *args: str) -> str:
        """Run ``pulumi --non-interactive <args>`` in the project; its stdout."""
        cmd = [self.binary, "--non-interactive", *args]
        proc = subprocess.run(
            cmd,
            cwd=self.project,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=self.timeout,
            check=False,
        )
        if proc.returncode != 0:
            tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-25:])
            raise PulumiCLIError(f"`pulumi {' '.join(args)}` exited {proc.returncode}:\n{tail}")
        return proc.stdout

    def init(self, config: Mapping[str, Any]) -> None:
        """Create the stack and set its config (credentials as secrets)."""
        self.run("stack", "init", self.stack)
        for key, value in config.items():
            self.set_config(key, value)

    def set_config(self, key: str, value: Any) -> None:
        """``pulumi config set [--secret] key value`` (non-strings as JSON)."""
        text = value if isinstance(value, str) else json.dumps(value)
        secret = ["--secret"] if key in _SECRET_KEYS else []
        self.run("config", "set", "--stack", self.stack, *secret, "--", key, text)

    def up(self) -> dict[str, Any]:
        """``pulumi up --yes``; the stack outputs afterwards."""
        self.run("up", "--yes", "--skip-preview", "--stack", self.stack)
        return self.outputs()

    def preview(self) -> str:
        """``pulumi preview --diff`` output."""
        return self.run("preview", "--diff", "--stack", self.stack)

    def refresh(self) -> None:
        """``pulumi refresh --yes``."""
        self.run("refresh", "--yes", "--skip-preview", "--stack", self.stack)

    def destroy(self) -> None:
        """``pulumi destroy --yes``."""
        self.run("destroy", "--yes", "--skip-preview", "--stack", self.stack)

    def outputs(self) -> dict[str, Any]:
        """``pulumi stack output --json``."""
        data: dict[str, Any] = json.loads(
            self.run("stack", "output", "--json", "--show-secrets", "--stack", self.stack) or "{}"
        )
        return data

    def export(self) -> dict[str, Any]:
        """``pulumi stack export``."""
        data: dict[str, Any] = json.loads(self.run("stack", "export", "--stack", self.stack))
        return data

    def remove(self) -> None:
        """``pulumi stack rm --yes --force`` (state only; numbers were released by destroy)."""
        self.run("stack", "rm", "--yes", "--force", self.stack)
