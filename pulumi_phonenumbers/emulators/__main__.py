"""``python -m pulumi_phonenumbers.emulators VENDOR [--port N] [--store PATH]``.

Prints one JSON line ``{"vendor", "url", "config"}`` and serves until killed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
import threading

from .server import EMULATORS, PortInUse, start


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(prog="python -m pulumi_phonenumbers.emulators")
    parser.add_argument("vendor", choices=sorted(EMULATORS))
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0 = any free)")
    parser.add_argument("--store", default=None, help="SQLite file (default: a temp file)")
    args = parser.parse_args(argv)
    try:
        emulator = start(args.vendor, args.port, args.store)
    except PortInUse as exc:
        print(exc.strerror, file=sys.stderr)
        return 1
    sys.stdout.write(
        json.dumps({"vendor": args.vendor, "url": emulator.url, "config": emulator.config}) + "\n"
    )
    sys.stdout.flush()
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    with contextlib.suppress(KeyboardInterrupt):
        done.wait()
    emulator.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
