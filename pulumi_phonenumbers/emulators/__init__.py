"""Local emulators of the vendor APIs (moto style: a shared store, one HTTP face per vendor).

Start one with ``python -m pulumi_phonenumbers.emulators VENDOR --port 0`` or, in-process,
:func:`start`.

This package is the ``emulators`` extra (it needs ``werkzeug``); the runtime never imports
it. The store the faces serve lives in :mod:`pulumi_phonenumbers.store`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ..store import Store

try:
    import werkzeug  # noqa: F401  (fail here, with the fix, rather than deep in a face)
except ModuleNotFoundError as exc:  # pragma: no cover - exercised in a fresh venv
    raise ModuleNotFoundError(
        "the emulators need the 'emulators' extra: "
        "pip install 'pulumi-phonenumbers[emulators]' (or '[testing]')",
        name=exc.name,
    ) from exc

if TYPE_CHECKING:
    from .server import EMULATORS, RunningEmulator, start

__all__ = ["EMULATORS", "RunningEmulator", "Store", "start"]

_LAZY = {"EMULATORS": "server", "RunningEmulator": "server", "start": "server"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{module}", __name__), name)
