"""The shared store behind the ``sandbox`` vendor and every emulator.

It is part of the runtime (the sandbox is the default vendor), so it depends on nothing
but the standard library and ``phonenumbers``; the emulators import it from here.
"""

from __future__ import annotations

from .db import OwnedRecord, Store, Unavailable
from .inventory import VERIFICATION_COUNTRIES, InventoryItem, generate

__all__ = [
    "VERIFICATION_COUNTRIES",
    "InventoryItem",
    "OwnedRecord",
    "Store",
    "Unavailable",
    "generate",
]
