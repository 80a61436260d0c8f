"""The process-wide claim set: which numbers sibling creates are buying, and when we bought.

One provider process serves every resource of a stack with 4 worker threads (DESIGN.md
§4). Parallel creates with the same criteria meet the same first candidate: each claims
a number before buying it, and a sibling that finds it claimed moves on. A number this
process bought stays remembered (with the moment of the purchase) until it is released,
so that a sibling working from an older search page skips it without a wasted purchase.

Provider instances carry no attributes (unpickling skips ``__init__``), so this state is
process-wide: :class:`~pulumi_phonenumbers._purchase.Purchase` owns the one instance,
which also holds the search pages sibling creates share (:mod:`._pages`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from ._pages import PageCache

__all__ = ["Claims"]


class Claims:
    """Thread-safe claims on ``(vendor, number)`` and the purchase times of this process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: set[tuple[str, str]] = set()
        #: When (``time.monotonic()``) this process bought each number not released since.
        self._bought: dict[tuple[str, str], float] = {}
        #: First search pages shared by sibling creates with the same criteria.
        self.pages = PageCache()

    @contextmanager
    def claim(self, vendor: str, number: str) -> Iterator[bool]:
        """Hold ``number`` for the ``with`` block; yields False when a sibling holds it."""
        key = (vendor, number)
        with self._lock:
            claimed = key not in self._held
            if claimed:
                self._held.add(key)
        try:
            yield claimed
        finally:
            if claimed:
                with self._lock:
                    self._held.discard(key)

    def held(self, vendor: str, number: str) -> bool:
        """Is a sibling create buying ``number`` right now?"""
        with self._lock:
            return (vendor, number) in self._held

    def mark_bought(self, vendor: str, number: str) -> None:
        """Remember that this process bought ``number`` now."""
        with self._lock:
            self._bought[(vendor, number)] = time.monotonic()

    def bought_at(self, vendor: str, number: str) -> float | None:
        """When this process bought ``number`` (monotonic seconds), or None."""
        with self._lock:
            return self._bought.get((vendor, number))

    def forget(self, vendor: str, number: str) -> None:
        """``number`` was released: a later search may offer it again."""
        with self._lock:
            self._bought.pop((vendor, number), None)
