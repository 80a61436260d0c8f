"""Run one ``pulumi`` command with the project's program served inline (``--client``).

``python -m pulumi_phonenumbers.testing._inline_host PROJECT_DIR -- pulumi up --yes ...``

The real CLI normally starts the Go language host ``pulumi-language-python``, which answers
the engine's ``Run`` by starting the SDK's own ``pulumi-language-python-exec`` script with the
run's settings as arguments and its config in ``PULUMI_CONFIG`` / ``PULUMI_CONFIG_SECRET_KEYS``.
That host is a nested Go module without release tags, and a module proxy that does not serve
its pseudo-version cannot provide it. This stands in for it: the Python SDK's gRPC
``LanguageServer`` answers the engine here (the command is run with
``--client=127.0.0.1:<port>`` appended, as the Automation API does for inline programs), and
its ``Run`` does what the Go host does: it starts ``pulumi-language-python-exec`` (built by
``make pulumi-cli`` beside the CLI) in a process of its own, so the program runs exactly as
under ``pulumi up`` with the Go host, down to the stack trace each resource records in the
state. Everything else (engine, state, config, secrets, the dynamic-provider plugin) is the
real CLI's. The command's exit code is this process's exit code.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc
from pulumi.automation._server import LanguageServer
from pulumi.runtime.proto import language_pb2, language_pb2_grpc

# Commands that run (or may run) the program; the others take no --client flag.
PROGRAM_COMMANDS = frozenset({"up", "update", "preview", "pre", "refresh", "destroy"})


EXECUTOR = "pulumi-language-python-exec"
# The exec script's "error already shown to the user" exit code: the engine is told to bail.
_BAIL_EXIT_CODE = 32


class _ExecHost(LanguageServer):
    """The SDK's ``LanguageServer`` whose ``Run`` is the Go host's: exec the program's process."""

    def __init__(self, project: Path, executor: str) -> None:
        super().__init__(lambda: None)
        self.project = project
        self.executor = executor

    def Run(self, request: Any, context: Any) -> Any:
        pwd = request.pwd or str(self.project)
        args = {
            "monitor": request.monitor_address,
            # the inline protocol's first program argument is the engine's address
            "engine": request.args[0] if request.args else "",
            "project": request.project,
            "stack": request.stack,
            "pwd": pwd,
            "dry_run": "true" if request.dryRun else "false",
            "parallel": str(request.parallel),
            "organization": request.organization,
            "root_directory": request.info.root_directory or str(self.project),
        }
        argv = [f"--{k}={v}" for k, v in args.items() if v]
        program = request.info.program_directory or request.program or pwd
        env = {
            **os.environ,
            "PULUMI_CONFIG": json.dumps(dict(request.config)),
            "PULUMI_CONFIG_SECRET_KEYS": json.dumps(list(request.configSecretKeys)),
        }
        code = subprocess.call(
            [sys.executable, "-u", self.executor, *argv, program], env=env, cwd=pwd
        )
        if code == 0:
            return language_pb2.RunResponse()
        if code == _BAIL_EXIT_CODE:
            return language_pb2.RunResponse(bail=True)
        return language_pb2.RunResponse(error=f"Program exited with non-zero exit code: {code}")


def executor() -> str:
    """``pulumi-language-python-exec`` on ``PATH`` (``make pulumi-cli`` builds it in .tools/bin)."""
    found = shutil.which(EXECUTOR)
    if found is None:
        raise SystemExit(f"{EXECUTOR} is not on PATH: run `make pulumi-cli` (it is built there)")
    return found


def serve(project: Path) -> tuple[grpc.Server, int]:
    """Start the language server for ``project``; the server and its port."""
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=4),
        options=[("grpc.max_receive_message_length", 400 * 1024 * 1024)],
    )
    host = _ExecHost(project, executor())
    language_pb2_grpc.add_LanguageRuntimeServicer_to_server(host, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    return server, port


def main(argv: list[str]) -> int:
    if "--" not in argv or argv.index("--") != 1:
        print("usage: _inline_host PROJECT_DIR -- pulumi ARGS...", file=sys.stderr)
        return 2
    project = Path(argv[0]).resolve()
    command = argv[2:]
    os.chdir(project)
    server, port = serve(project)
    try:
        verb = next((a for a in command[1:] if not a.startswith("-")), "")
        extra = [f"--client=127.0.0.1:{port}"] if verb in PROGRAM_COMMANDS else []
        return subprocess.call([*command, *extra])
    finally:
        server.stop(0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
