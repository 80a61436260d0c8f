"""Run one ``pulumi`` command with the project's program served inline (``--client``).

``python -m pulumi_phonenumbers.testing._inline_host PROJECT_DIR -- pulumi up --yes ...``

The real CLI normally starts the Go language host ``pulumi-language-python``, which runs the
project's ``__main__.py``. That host is a nested Go module without release tags, and a module
proxy that does not serve its pseudo-version cannot provide it. This stands in for it the way
the Automation API's inline programs do: the Python SDK's own ``LanguageServer`` runs in this
process with ``runpy`` of the project's ``__main__.py`` as its program, and the command is run
with ``--client=127.0.0.1:<port>`` appended, so the engine asks this process, not a plugin, to
run the program. Everything else (engine, state, config, secrets, the dynamic-provider
plugin) is the real CLI's. The command's exit code is this process's exit code.
"""

from __future__ import annotations

import os
import runpy
import subprocess
import sys
from concurrent import futures
from pathlib import Path

import grpc
from pulumi.automation._server import LanguageServer
from pulumi.runtime.proto import language_pb2_grpc

# Commands that run (or may run) the program; the others take no --client flag.
PROGRAM_COMMANDS = frozenset({"up", "update", "preview", "pre", "refresh", "destroy"})


def _program(project: Path) -> None:
    runpy.run_path(str(project / "__main__.py"), run_name="__main__")


def serve(project: Path) -> tuple[grpc.Server, int]:
    """Start the inline language server for ``project``; the server and its port."""
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=4),
        options=[("grpc.max_receive_message_length", 400 * 1024 * 1024)],
    )
    host = LanguageServer(lambda: _program(project))
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
    sys.path.insert(0, str(project))
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
