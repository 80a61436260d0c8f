"""A ``pulumi-language-python`` stand-in for the commands that take no ``--client``.

``pulumi import`` (and ``pulumi state ...``) load the project's language host as a plugin but
cannot be pointed at a ``--client`` host. When the Go host ``pulumi-language-python`` is
missing (see :mod:`._inline_host`), :func:`install` writes a ``pulumi-language-python``
launcher into a directory for ``PATH`` that serves exactly what :mod:`._inline_host` serves
for the project in the working directory the engine starts it in, and prints its port as
every plugin does.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ._inline_host import serve

__all__ = ["install"]


def install(directory: Path) -> Path:
    """Write the ``pulumi-language-python`` launcher into ``directory``; its path."""
    directory.mkdir(parents=True, exist_ok=True)
    launcher = directory / "pulumi-language-python"
    module = "pulumi_phonenumbers.testing._language_plugin"
    launcher.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m {module} "$@"\n')
    launcher.chmod(0o755)
    return launcher


def main() -> None:
    """Serve the project in the working directory until the engine ends this process."""
    project = Path.cwd()
    server, port = serve(project)
    print(port, flush=True)
    server.wait_for_termination()


if __name__ == "__main__":
    main()
