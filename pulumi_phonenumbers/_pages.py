"""One search page shared by sibling creates with the same criteria.

A fleet declares many numbers with the same criteria; the provider process creates them
4 at a time. Each create used to search (one request) before buying (one more), although
every search returned the same page. Here the first page of a search is kept per
``(vendor, query, options)`` and handed to every create of this process with those
criteria, so a fleet spends about ``1 + 1/page size`` requests per number.

Sharing a page changes nothing about what is bought: claims
(:class:`~pulumi_phonenumbers._claims.Claims`) still keep siblings on distinct
candidates, each create still checks every candidate against its own criteria, and a
candidate another stack took meanwhile is answered "not available" and the next one is
tried. A page is searched again when it is older than :data:`MAX_AGE` seconds
(``phonenumbers:searchPageSeconds``; ``0``: every create searches) or has
run dry: every candidate on it is spent (bought or tried by a create of this process,
or off the criteria) or held by a sibling create right now.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .models import NumberQuery, SearchPage

__all__ = ["MAX_AGE", "PageCache", "PageKey", "page_key"]

#: Seconds a shared search page is used before it is searched again.
MAX_AGE = 30.0

#: Candidates left on a page when one create starts searching the next one (the provider
#: serves 4 operations at once: its siblings meanwhile take these).
PREFETCH_AT = 4

PageKey = tuple[str, NumberQuery, str]


def page_key(vendor: str, query: NumberQuery, options: Mapping[str, Any]) -> PageKey:
    """The criteria two creates must share to share a page (vendor, query, options)."""
    return (vendor, query, repr(sorted((str(k), repr(v)) for k, v in options.items())))


@dataclass
class _Entry:
    page: SearchPage
    #: ``time.monotonic()`` just before the search was sent.
    asked: float
    spent: set[str] = field(default_factory=set)


class PageCache:
    """Thread-safe first search pages, one per :func:`page_key`."""

    def __init__(self, max_age: float = MAX_AGE, prefetch_at: int = PREFETCH_AT) -> None:
        self.max_age = max_age
        self.prefetch_at = prefetch_at
        self._lock = threading.Lock()
        self._entries: dict[PageKey, _Entry] = {}
        self._fetching: dict[PageKey, threading.Lock] = {}

    def first_page(
        self,
        key: PageKey,
        search: Callable[[], SearchPage],
        held: Callable[[str], bool],
        newer_than: float = 0.0,
    ) -> tuple[SearchPage, float]:
        """The shared first page for ``key`` and when it was asked (``time.monotonic()``).

        ``search`` fetches a fresh page when there is none, it is older than
        :attr:`max_age` or was asked before ``newer_than`` (a create's second pass wants
        a page searched after its first began), or it ran dry (every number spent or
        ``held``: being bought by a sibling, or bought by this process). One create
        searches at a time per key; the others wait and use its page, except when the page
        is nearly dry (at most :attr:`prefetch_at` candidates left): then one create
        searches the next page while the others take what is left.
        """
        with self._lock:
            fetching = self._fetching.setdefault(key, threading.Lock())
        entry = self._usable(key, newer_than)
        left = self._left(entry, held) if entry is not None else 0
        if entry is not None and left > self.prefetch_at:
            return entry.page, entry.asked
        if entry is not None and left > 0:
            # Nearly dry: one create searches the next page while its siblings take the
            # last candidates of this one (instead of all of them waiting for the search).
            if not fetching.acquire(blocking=False):
                return entry.page, entry.asked
            try:
                return self._fetch(key, search)
            finally:
                fetching.release()
        with fetching:
            entry = self._usable(key, newer_than)
            if entry is not None and self._left(entry, held) > 0:
                return entry.page, entry.asked  # a sibling searched while we waited
            return self._fetch(key, search)

    def _usable(self, key: PageKey, newer_than: float) -> _Entry | None:
        with self._lock:
            entry = self._entries.get(key)
        if entry is None or entry.asked < newer_than:
            return None
        if time.monotonic() - entry.asked >= self.max_age:
            return None
        return entry

    def _left(self, entry: _Entry, held: Callable[[str], bool]) -> int:
        """Candidates of ``entry`` neither spent nor ``held``."""
        with self._lock:
            spent = set(entry.spent)
        return sum(1 for c in entry.page.numbers if c.number not in spent and not held(c.number))

    def _fetch(self, key: PageKey, search: Callable[[], SearchPage]) -> tuple[SearchPage, float]:
        asked = time.monotonic()
        page = search()
        with self._lock:
            self._entries[key] = _Entry(page, asked)
        return page, asked

    def spent(self, key: PageKey, asked: float, number: str) -> bool:
        """Was ``number`` of the page asked at ``asked`` bought or tried by a sibling?"""
        with self._lock:
            entry = self._entries.get(key)
            return entry is not None and entry.asked == asked and number in entry.spent

    def spend(self, key: PageKey, number: str) -> None:
        """``number`` was bought or tried by a create: siblings need not try it from this page."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                entry.spent.add(number)

    def clear(self) -> None:
        """Forget every page (new settings: another account or base URL)."""
        with self._lock:
            self._entries.clear()
