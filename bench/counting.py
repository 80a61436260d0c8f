"""Count every vendor API request an emulator serves, and stage a purchase race.

The counter is :class:`pulumi_phonenumbers.testing._counting.RequestCounter` (the tests use
it too), re-exported here with its :class:`Request` and :func:`shape`.
:class:`PurchaseRace` is a counter hook that takes the candidate off sale just before our
purchase lands.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable

from pulumi_phonenumbers.store import Store, Unavailable
from pulumi_phonenumbers.testing._counting import NUMBER_RE, UUID_RE, Request, RequestCounter, shape

__all__ = ["PurchaseRace", "Request", "RequestCounter", "shape"]


class PurchaseRace:
    """Someone else buys the candidate just before our purchase request lands (once).

    Armed as a :class:`RequestCounter` hook, it watches non-GET requests for an available
    number (its digits, in the path, query or body) or an inventory id, takes that number
    off sale in the store as a console purchase would, then disarms. The vendor then
    answers our purchase in its own "not available" way.
    """

    def __init__(self, store: Store, foreign_id: Callable[[], str] | None = None) -> None:
        self.store = store
        #: Ids in the vendor's own shape (the emulators list every owned number).
        self.foreign_id = foreign_id or (lambda: f"race_{uuid.uuid4().hex}")
        self.taken: str | None = None
        self._lock = threading.Lock()

    def __call__(self, method: str, target: str, body: bytes) -> None:
        if method == "GET":
            return
        with self._lock:
            if self.taken is not None:
                return
            text = f"{target} {body.decode('utf-8', 'replace')}"
            for number in self._candidates(text):
                try:
                    self.store.buy(number, vendor="console", vendor_id=self.foreign_id())
                except Unavailable:
                    continue
                self.taken = number
                return

    def _candidates(self, text: str) -> list[str]:
        found: list[str] = []
        for raw in NUMBER_RE.findall(text):
            digits = raw.replace("%2B", "").lstrip("+")
            if self.store.available(f"+{digits}") is not None:
                found.append(f"+{digits}")
        for ref in UUID_RE.findall(text):
            item = self.store.item_by_ref(ref.lower())
            if item is not None and self.store.available(item.number) is not None:
                found.append(item.number)
        return found

    def undo(self) -> None:
        """Give the raced number back to the inventory."""
        if self.taken is not None:
            self.store.release(self.taken, vendor="console")
