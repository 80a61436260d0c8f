"""Local emulators of the vendor APIs (moto style: a shared store, one HTTP face per vendor).

Start one with ``python -m pulumi_phonenumbers.emulators VENDOR --port 0`` or, in-process,
:func:`start`.
"""

from __future__ import annotations

from .server import EMULATORS, RunningEmulator, start
from .store import Store

__all__ = ["EMULATORS", "RunningEmulator", "Store", "start"]
