"""Drive the real ``pulumi`` CLI, offline by construction (tests, ``make demo``, ``make bench``).

The CLI is ``.tools/bin/pulumi`` (built by ``make pulumi-cli``) or, failing that, a ``pulumi``
on ``PATH``. Each :class:`PulumiCLI` works on a copy of one project in a scratch directory:

* ``PULUMI_HOME`` is a scratch directory (no credentials, plugins or workspaces of the user's),
* state goes to a ``file://`` backend beside it, encrypted with a throw-away passphrase,
* ``PULUMI_SKIP_UPDATE_CHECK`` and ``PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION`` are set, so
  nothing is fetched: a missing plugin is an error, never a download,
* ``PATH`` starts with ``.tools/bin`` (the dynamic-provider launcher
  ``pulumi-resource-pulumi-python``) and this interpreter's directory, and the project's
  ``Pulumi.yaml`` names this virtual environment as the stack's ``virtualenv``.

Programs run through the Go language host ``pulumi-language-python`` when it is beside the
CLI (users' path: ``pulumi up`` in the project directory); otherwise through a stand-in
host (:mod:`._inline_host`, ``--client``) that starts the SDK's ``pulumi-language-python-exec``
for each run as the Go host does. :attr:`PulumiCLI.program_host` says which.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..config import NAMESPACE, secret_config_keys

__all__ = [
    "TOOLS_BIN",
    "CLIResult",
    "PulumiCLI",
    "PulumiCLIError",
    "language_host",
    "pulumi_binary",
]


def _secret_keys() -> set[str]:
    """The namespaced secret config keys, read at use (a vendor registered later is in)."""
    return {f"{NAMESPACE}:{k}" for k in secret_config_keys()}


TOOLS_BIN = Path(__file__).resolve().parents[2] / ".tools" / "bin"
PASSPHRASE = "throw-away-local-passphrase"


def pulumi_binary() -> str | None:
    """``.tools/bin/pulumi`` when built, else the ``pulumi`` on ``PATH``, else None.

    ``PHONENUMBERS_PULUMI`` overrides both: the path of the CLI to use ("" = none).
    """
    if "PHONENUMBERS_PULUMI" in os.environ:
        chosen = os.environ["PHONENUMBERS_PULUMI"]
        return chosen if chosen and os.access(chosen, os.X_OK) else None
    built = TOOLS_BIN / "pulumi"
    if built.is_file() and os.access(built, os.X_OK):
        return str(built)
    return shutil.which("pulumi")


def language_host(binary: str) -> str | None:
    """The Go ``pulumi-language-python`` beside ``binary`` or on ``PATH``, or None."""
    beside = Path(binary).parent / "pulumi-language-python"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("pulumi-language-python")


class PulumiCLIError(RuntimeError):
    """A ``pulumi`` command failed; the message carries the end of its output."""


@dataclass(frozen=True)
class CLIResult:
    """One finished command."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


class PulumiCLI:
    """One stack of one project copy, on a file backend under ``workdir``.

    The project's ``Pulumi.<stack>.yaml`` files are left behind unless ``stack_files``.
    """

    def __init__(
        self,
        project: Path,
        workdir: Path,
        stack: str = "dev",
        binary: str | None = None,
        timeout: float = 600.0,
        inline: bool | None = None,
        stack_files: bool = False,
    ) -> None:
        found = binary or pulumi_binary()
        if found is None:
            raise PulumiCLIError("no pulumi CLI: run `make pulumi-cli` (or put pulumi on PATH)")
        self.binary = found
        self.stack = stack
        self.timeout = timeout
        self.inline = language_host(found) is None if inline is None else inline
        self.program_host = (
            "a stand-in host (--client) running pulumi-language-python-exec"
            if self.inline
            else "the Go language host pulumi-language-python"
        )
        self.project = workdir / project.name
        shutil.copytree(
            project,
            self.project,
            dirs_exist_ok=True,
            ignore=shutil.ignore_patterns(
                *([] if stack_files else ["Pulumi.*.yaml"]), "__pycache__", "venv", ".github"
            ),
        )
        self._use_this_virtualenv()
        home = workdir / "pulumi-home"
        backend = workdir / "backend"
        home.mkdir(parents=True, exist_ok=True)
        backend.mkdir(parents=True, exist_ok=True)
        path = [str(Path(found).resolve().parent), str(Path(sys.executable).parent)]
        if TOOLS_BIN.is_dir():
            path.insert(0, str(TOOLS_BIN))
        self.env = {
            **os.environ,
            "PULUMI_HOME": str(home.resolve()),
            "PULUMI_BACKEND_URL": backend.resolve().as_uri(),
            "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            "PULUMI_PYTHON_CMD": sys.executable,
            "PATH": os.pathsep.join([*path, os.environ.get("PATH", "")]),
        }
        self.env.pop("PULUMI_ACCESS_TOKEN", None)

    def _use_this_virtualenv(self) -> None:
        """Name this interpreter's virtual environment as the stack's ``virtualenv``."""
        if sys.prefix == sys.base_prefix:
            return  # not a virtual environment: PULUMI_PYTHON_CMD names the interpreter
        settings_file = self.project / "Pulumi.yaml"
        settings = yaml.safe_load(settings_file.read_text())
        runtime = settings.get("runtime")
        if isinstance(runtime, str):
            runtime = {"name": runtime}
        runtime.setdefault("options", {})["virtualenv"] = sys.prefix
        settings["runtime"] = runtime
        settings_file.write_text(yaml.safe_dump(settings, sort_keys=False))

    def command(self, *args: str) -> list[str]:
        """The argv that runs ``pulumi --non-interactive <args>`` in this project."""
        cli = [self.binary, "--non-interactive", *args]
        if not self.inline:
            return cli
        host = "pulumi_phonenumbers.testing._inline_host"
        return [sys.executable, "-m", host, str(self.project), "--", *cli]

    def run(
        self, *args: str, check: bool = True, env: Mapping[str, str] | None = None
    ) -> CLIResult:
        """Run ``pulumi <args>`` to the end; raise :class:`PulumiCLIError` when it fails."""
        proc = subprocess.run(
            self.command(*args),
            cwd=self.project,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=self.timeout,
            check=False,
        )
        result = CLIResult(tuple(args), proc.returncode, proc.stdout, proc.stderr)
        if check and proc.returncode != 0:
            tail = "\n".join(result.output.strip().splitlines()[-30:])
            raise PulumiCLIError(f"`pulumi {' '.join(args)}` exited {proc.returncode}:\n{tail}")
        return result

    def shell(self, line: str, env: Mapping[str, str] | None = None) -> CLIResult:
        """Run a shell command line as written (a CI step), ``pulumi`` resolving to this CLI.

        With the stand-in host, ``pulumi`` on the line's ``PATH`` is a generated shim
        that runs the real CLI through :mod:`._inline_host`.
        """
        shims = self.project.parent / "shims"
        shims.mkdir(exist_ok=True)
        shim = shims / "pulumi"
        host = "pulumi_phonenumbers.testing._inline_host"
        target = (
            f'exec "{sys.executable}" -m {host} "{self.project}" -- "{self.binary}" "$@"'
            if self.inline
            else f'exec "{self.binary}" "$@"'
        )
        shim.write_text(f"#!/bin/sh\n{target}\n")
        shim.chmod(0o755)
        full = {**self.env, **(env or {})}
        full["PATH"] = os.pathsep.join([str(shims), full["PATH"]])
        proc = subprocess.run(
            ["bash", "-c", line],
            cwd=self.project,
            env=full,
            capture_output=True,
            text=True,
            timeout=self.timeout,
            check=False,
        )
        return CLIResult((line,), proc.returncode, proc.stdout, proc.stderr)

    def spawn(self, *args: str, log: Path) -> subprocess.Popen[bytes]:
        """Start ``pulumi <args>`` in a session of its own (see :meth:`kill`), output to ``log``."""
        with log.open("wb") as out:
            return subprocess.Popen(
                self.command(*args),
                cwd=self.project,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @staticmethod
    def kill(proc: subprocess.Popen[bytes]) -> None:
        """SIGKILL every process of a :meth:`spawn`-ed command's session at once.

        The CLI starts each plugin in a process group of its own, so killing the command's
        group would leave the dynamic-provider plugin running (and possibly still buying);
        its session (``start_new_session``) holds them all, as a dead CI runner would.
        """
        for pid in [proc.pid, *_session_members(proc.pid)]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        proc.wait(timeout=60)

    def init(self, config: Mapping[str, Any]) -> None:
        """Create the stack and set its config (credentials as secrets)."""
        self.run("stack", "init", self.stack)
        self.set_all(config)

    def set_config(self, key: str, value: Any, secret: bool | None = None) -> None:
        """``pulumi config set [--secret] key value`` (non-strings as JSON); credentials
        are always secrets."""
        as_secret = key in _secret_keys() if secret is None else secret
        flags = ["--secret"] if as_secret else []
        self.run("config", "set", "--stack", self.stack, *flags, "--", key, _text(value))

    def set_all(self, config: Mapping[str, Any]) -> None:
        """``pulumi config set-all``: one command for many keys, credentials as secrets."""
        if not config:
            return
        secret_keys = _secret_keys()
        pairs = []
        for key, value in config.items():
            pairs += ["--secret" if key in secret_keys else "--plaintext", f"{key}={_text(value)}"]
        self.run("config", "set-all", "--stack", self.stack, *pairs)

    def up(self, *flags: str) -> dict[str, Any]:
        """``pulumi up --yes --skip-preview``; the stack outputs afterwards."""
        self.run("up", "--yes", "--skip-preview", "--stack", self.stack, *flags)
        return self.outputs()

    def preview(self, *flags: str) -> str:
        """``pulumi preview --diff`` output."""
        return self.run("preview", "--diff", "--stack", self.stack, *flags).stdout

    def preview_json(self) -> dict[str, Any]:
        """``pulumi preview --json``: the plan with its ``steps`` and ``changeSummary``."""
        data: dict[str, Any] = json.loads(
            self.run("preview", "--json", "--stack", self.stack).stdout
        )
        return data

    def refresh(self) -> str:
        """``pulumi refresh --yes --skip-preview``."""
        return self.run("refresh", "--yes", "--skip-preview", "--stack", self.stack).stdout

    def destroy(self, check: bool = True) -> CLIResult:
        """``pulumi destroy --yes --skip-preview``."""
        return self.run("destroy", "--yes", "--skip-preview", "--stack", self.stack, check=check)

    def outputs(self) -> dict[str, Any]:
        """``pulumi stack output --json --show-secrets``."""
        text = self.run("stack", "output", "--json", "--show-secrets", "--stack", self.stack)
        data: dict[str, Any] = json.loads(text.stdout or "{}")
        return data

    def export(self) -> dict[str, Any]:
        """``pulumi stack export`` (secrets stay encrypted)."""
        data: dict[str, Any] = json.loads(self.run("stack", "export", "--stack", self.stack).stdout)
        return data

    def remove(self) -> None:
        """``pulumi stack rm --yes`` (refuses while the stack still has resources)."""
        self.run("stack", "rm", "--yes", self.stack)


def _text(value: Any) -> str:
    """A config value as the CLI takes it: strings as they are, anything else as JSON."""
    return value if isinstance(value, str) else json.dumps(value)


def _session_members(sid: int) -> list[int]:
    """Live processes whose session id is ``sid`` (Linux ``/proc``)."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        # state ppid pgrp session ...; a zombie (Z) is already dead
        if len(fields) > 3 and fields[3] == str(sid) and fields[0] != "Z":
            members.append(int(entry.name))
    return members
