"""Look before you buy: what a ``PhoneNumber`` with these criteria would be offered.

Plain Python, no Pulumi import: :func:`find_available` searches a vendor (never buys) with
the same validation and messages as ``PhoneNumber``'s ``check``, pages until ``limit``
matching candidates are found, and drops any candidate that does not meet the criteria
whatever the vendor's search claimed. :mod:`pulumi_phonenumbers.functions` wraps it as the
Pulumi-style ``get_available_numbers`` and the ``search`` command prints it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from . import _criteria
from . import inputs as _inputs
from .config import NAMESPACE, Settings
from .errors import PhoneNumbersError
from .models import AvailableNumber, NumberQuery
from .vendors import get_vendor, vendor_infos

__all__ = [
    "MAX_LIMIT",
    "AvailableNumberResult",
    "InvalidCriteria",
    "find_available",
    "off_criteria",
    "settings_from_config",
    "validate_criteria",
]

#: Most candidates one look-up returns (and the most pages it reads is derived from it).
MAX_LIMIT = 100
_MAX_PAGES = 10


class InvalidCriteria(PhoneNumbersError, ValueError):
    """The criteria would fail ``PhoneNumber``'s check; ``failures`` lists ``(field, reason)``."""

    def __init__(self, failures: Sequence[tuple[str, str]]) -> None:
        self.failures = list(failures)
        super().__init__("; ".join(f"{f}: {r}" if f else r for f, r in self.failures))


@dataclass(frozen=True)
class AvailableNumberResult:
    """One number a vendor offers now (prices per month / once, in ``currency``)."""

    number: str
    monthly_cost: float
    setup_cost: float
    currency: str
    locality: str
    capabilities: list[str]
    number_type: str

    @classmethod
    def of(cls, candidate: AvailableNumber) -> AvailableNumberResult:
        """The neutral result of a vendor's candidate."""
        monthly, setup = candidate.monthly_cost, candidate.setup_cost
        return cls(
            number=candidate.number,
            monthly_cost=float(monthly.amount),
            setup_cost=float(setup.amount),
            currency=monthly.currency or setup.currency or "",
            locality=candidate.locality,
            capabilities=sorted(candidate.capabilities),
            number_type=candidate.number_type,
        )


def settings_from_config(config: Mapping[str, Any] | None) -> Settings:
    """Settings from a mapping of ``phonenumbers:*`` keys (bare keys accepted), else the
    environment only."""
    if config is None:
        return Settings()
    prefix = NAMESPACE + ":"
    return Settings.from_stack_config(
        {(k if k.startswith(prefix) else prefix + k): v for k, v in config.items()}
    )


def validate_criteria(
    settings: Settings,
    *,
    vendor: str | None,
    criteria: Mapping[str, Any],
    options: Mapping[str, Any] | None = None,
) -> tuple[str, NumberQuery, dict[str, Any]]:
    """``(vendor, query, vendor_options)`` of valid criteria; :class:`InvalidCriteria` else.

    The same rules and messages as ``PhoneNumber``'s check (it is the same code).
    """
    news: dict[str, Any] = {k: v for k, v in criteria.items() if v is not None}
    if vendor is not None:
        news["vendor"] = vendor
    if options:
        news["vendor_options"] = dict(options)
    infos = vendor_infos()
    default_vendor = settings.get("vendor") or "sandbox"
    normalized, failures = _inputs.validate(news, default_vendor, infos)
    name = normalized.get("vendor")
    if not failures and isinstance(name, str) and name in infos:
        failures.extend(
            type(get_vendor(name, settings)).check_query(
                _inputs.query_of(normalized), normalized.get("vendor_options") or {}
            )
        )
    if failures:
        raise InvalidCriteria(failures)
    assert isinstance(name, str)
    return name, _inputs.query_of(normalized), dict(normalized.get("vendor_options") or {})


def off_criteria(candidate: AvailableNumber, query: NumberQuery) -> list[str]:
    """The criterion of ``query`` that ``candidate`` does not meet (``[]`` when it meets
    them all): the check :class:`~pulumi_phonenumbers._purchase.Purchase` makes before it
    buys a candidate, so a look-up never offers what a create would refuse."""
    found = _criteria.off_criteria(candidate, query)
    return [found[0]] if found else []


def find_available(
    settings: Settings,
    vendor_name: str,
    query: NumberQuery,
    options: Mapping[str, Any] | None = None,
    limit: int = 20,
) -> list[AvailableNumberResult]:
    """Up to ``limit`` candidates meeting ``query``, cheapest first within each page order.

    Searches only; reads at most a few pages. Candidates the vendor offered that do not
    meet the criteria (a broken or over-eager search) are left out.
    """
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidCriteria([("limit", f"must be 1-{MAX_LIMIT}, got {limit!r}")])
    vendor = get_vendor(vendor_name, settings)
    found: dict[str, AvailableNumberResult] = {}
    try:
        cursor: str | None = None
        for _ in range(_MAX_PAGES):
            page = vendor.search_with_options(query, options or {}, cursor)
            for candidate in page.numbers:
                if candidate.number not in found and not off_criteria(candidate, query):
                    found[candidate.number] = AvailableNumberResult.of(candidate)
            cursor = page.next_cursor
            if len(found) >= limit or not cursor or not page.numbers:
                break
    finally:
        vendor.close()
    return list(found.values())[:limit]
