"""``phonenumbers:previewInventory``: learn at preview that a number cannot be had.

``check`` of a resource about to be created asks the vendor (searches only, never buys):

* criteria: one search per distinct set of criteria per provider process (cached, and
  concurrent checks of the same criteria wait for the one search). When it finds nothing,
  each set criterion is relaxed in turn (failure path only) to name the one that leaves
  nothing, e.g. ``area_code: no US local number in 999 at plivo; 20+ without area_code``;
* an exact ``number``: already owned by the account ("use adopt=True") or not offered;
* ``adopt=True``: the account must own the number.

Never on update, refresh or delete. With the setting off ``check`` makes no vendor call.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Mapping
from typing import Any

from . import e164
from ._criteria import off_criteria
from .errors import ValidationError
from .inputs import has_unknown
from .models import NumberQuery
from .vendors.base import Vendor

__all__ = ["InventoryCheck", "has_unknown"]

#: Criteria relaxed (in this order) to find the one that leaves nothing.
_RELAXABLE = ("area_code", "contains", "capabilities", "max_monthly_cost")
_Failures = list[tuple[str, str]]


def _probes(number: str, query: NumberQuery) -> list[NumberQuery]:
    """Searches that should offer exactly ``number``, narrowest first (vendors differ in how
    a prefix or a digit string narrows a search)."""
    national = e164.digits(number)[len(str(e164.country_code(number))) :]
    base = NumberQuery(country=query.country, number_type=query.number_type)
    probes = [dataclasses.replace(base, area_code=national)]
    if e164.country_code(number) == 1:
        probes.append(dataclasses.replace(base, area_code=national[:3], contains=national))
    probes.append(dataclasses.replace(base, contains=national))
    return probes


def _describe(query: NumberQuery) -> str:
    parts = [f"{query.country} {query.number_type} number"]
    if query.area_code:
        parts.append(f"in {query.area_code}")
    if query.contains:
        parts.append(f"containing {query.contains}")
    if query.capabilities:
        parts.append(f"with {'+'.join(query.capabilities)}")
    if query.max_monthly_cost is not None:
        parts.append(f"at most {query.max_monthly_cost:f} a month")
    return " ".join(parts)


def _relaxed(query: NumberQuery, key: str) -> NumberQuery | None:
    value = getattr(query, key)
    if value in (None, (), ""):
        return None
    empty: dict[str, Any] = {key: () if key == "capabilities" else None}
    return dataclasses.replace(query, **empty)


class InventoryCheck:
    """Process-wide cache of preview searches: ``{(vendor, query, options): count}``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._done: dict[tuple[Any, ...], tuple[int, bool]] = {}
        self._pending: dict[tuple[Any, ...], threading.Lock] = {}

    def clear(self) -> None:
        """Forget every cached answer (new stack config)."""
        with self._lock:
            self._done.clear()

    def _count(
        self, vendor: Vendor, query: NumberQuery, options: Mapping[str, Any]
    ) -> tuple[int, bool]:
        """``(matching candidates on the first page, more pages?)``, searched once per key."""
        key = (vendor.name, query, tuple(sorted((k, repr(v)) for k, v in options.items())))
        with self._lock:
            if key in self._done:
                return self._done[key]
            gate = self._pending.setdefault(key, threading.Lock())
        with gate:
            with self._lock:
                if key in self._done:
                    return self._done[key]
            page = vendor.search_with_options(query, options)
            count = sum(1 for c in page.numbers if off_criteria(c, query) is None)
            answer = (count, page.next_cursor is not None)
            with self._lock:
                self._done[key] = answer
                self._pending.pop(key, None)
            return answer

    def failures(
        self,
        vendor: Vendor,
        props: Mapping[str, Any],
        query_of: Callable[[Mapping[str, Any]], NumberQuery],
    ) -> _Failures:
        """``(field, reason)`` problems of a resource about to be created (checked inputs)."""
        number = props.get("number")
        if props.get("adopt") is True and isinstance(number, str):
            if vendor.get(number) is None:
                return [
                    (
                        "number",
                        f"the {vendor.name} account does not own {number}; adopt "
                        "needs a number the account owns (or set adopt=False to buy it)",
                    )
                ]
            return []
        if isinstance(number, str) and number:
            return self._exact(vendor, number, query_of(props), props)
        return self._criteria(vendor, query_of(props), props.get("vendor_options") or {})

    def _exact(
        self, vendor: Vendor, number: str, query: NumberQuery, props: Mapping[str, Any]
    ) -> _Failures:
        if vendor.get(number) is not None:
            return [
                (
                    "number",
                    f"{number} is already owned by this {vendor.name} account: "
                    "use adopt=True to manage it",
                )
            ]
        options = props.get("vendor_options") or {}
        for probe in _probes(number, query):
            try:
                page = vendor.search_with_options(probe, options)
            except ValidationError:
                continue  # this vendor cannot search that way; try the next form
            if any(c.number == number for c in page.numbers):
                return []
        return [
            (
                "number",
                f"{number} is not for sale at {vendor.name} now; choose another "
                "number or drop `number` to search by criteria",
            )
        ]

    def _criteria(
        self, vendor: Vendor, query: NumberQuery, options: Mapping[str, Any]
    ) -> _Failures:
        count, _ = self._count(vendor, query, options)
        if count:
            return []
        wanted = _describe(query)
        for key in _RELAXABLE:
            relaxed = _relaxed(query, key)
            if relaxed is None:
                continue
            more, more_pages = self._count(vendor, relaxed, options)
            if more:
                return [
                    (
                        key,
                        f"no {wanted} at {vendor.name}; "
                        f"{more}{'+' if more_pages else ''} without this criterion",
                    )
                ]
        return [("country", f"no {wanted} at {vendor.name}")]
