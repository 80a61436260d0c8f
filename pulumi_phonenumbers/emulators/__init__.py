"""Local emulators of the vendor APIs (moto style: a shared store, one HTTP face per vendor).

Start one with ``python -m pulumi_phonenumbers.emulators VENDOR --port 0`` or, in-process,
:func:`start`.

The names below are imported lazily: the sandbox vendor imports this package's store and
inventory on the provider's start-up path, which must not pay for the HTTP server.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .server import EMULATORS, RunningEmulator, start
    from .store import Store

__all__ = ["EMULATORS", "RunningEmulator", "Store", "start"]

_LAZY = {"EMULATORS": "server", "RunningEmulator": "server", "start": "server", "Store": "store"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{module}", __name__), name)
