"""Audit: numbers the account owns that Pulumi state does not hold, and how to fix them.

A provider process killed right after a purchase (or any failure a dynamic provider
cannot report) leaves a number that is paid for every month but that no stack knows.
:func:`audit` compares what a vendor account owns (``Vendor.list_owned``) with the
``PhoneNumber`` resources of a ``pulumi stack export`` file (the local test engine writes
the same format); the command line (``python -m pulumi_phonenumbers audit``) then lists
them, releases them after confirmation, or prints the ``adopt=True`` program lines that
bring them under management.

Plain Python: no Pulumi import, usable from scripts and CI.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from .errors import NotFound, PhoneNumbersError
from .models import Money, OwnedNumber
from .stack_files import (
    PHONE_NUMBER_TYPE,
    PHONE_NUMBER_TYPES,
    HeldNumber,
    StackState,
    load_config_file,
    load_state,
    load_states,
    number_key,
)
from .vendors.base import Vendor

__all__ = [
    "MAX_PRICE_LOOKUPS",
    "PHONE_NUMBER_TYPE",
    "PHONE_NUMBER_TYPES",
    "AuditReport",
    "HeldNumber",
    "StackState",
    "amount_text",
    "audit",
    "load_config_file",
    "load_state",
    "load_states",
    "number_key",
    "release_unmanaged",
]


@dataclass
class AuditReport:
    """What the account owns versus what the state holds."""

    vendor: str
    owned: list[OwnedNumber]
    state: StackState | None
    #: Owned but held by no resource of the state (empty without a state).
    unmanaged: list[OwnedNumber] = field(default_factory=list)
    #: Held by the state but not owned any more (``pulumi refresh`` drops them).
    missing: list[HeldNumber] = field(default_factory=list)
    #: ``{number_key: monthly cost}`` where the listing's own is not the best known one
    #: (``None``: unknown).
    costs: dict[str, Money | None] = field(default_factory=dict)

    def cost(self, owned: OwnedNumber) -> Money | None:
        """The monthly cost of an owned number, as well as the audit knows it."""
        return self.costs.get(number_key(owned.number), owned.monthly_cost)

    def to_json(self) -> dict[str, Any]:
        """A JSON-able summary (``--json``)."""
        return {
            "vendor": self.vendor,
            "state": self.state.path if self.state else None,
            "states": list(self.state.paths) if self.state else [],
            "owned": [self._owned_json(o) for o in self.owned],
            "unmanaged": [o.number for o in self.unmanaged],
            "missing": [{"number": h.number, "urn": h.urn} for h in self.missing],
            "pending_operations": [
                {"type": h.operation, "urn": h.urn, "number": h.number or None, "state": h.source}
                for h in self.pending
            ],
            "pending_creates": [h.urn for h in self.pending if h.pending_create],
            "unreadable": list(self.state.unreadable) if self.state else [],
        }

    def _owned_json(self, owned: OwnedNumber) -> dict[str, Any]:
        cost = self.cost(owned)
        return {
            "number": owned.number,
            "vendor_id": owned.vendor_id,
            "status": owned.status,
            "monthly_cost": amount_text(cost),
            "currency": cost.currency if cost else None,
            "routing": owned.routing.to_dict(exclude_none=True),
        }

    @property
    def pending(self) -> list[HeldNumber]:
        """Pending operations of the state(s) that may concern this vendor."""
        return self.state.pending(self.vendor) if self.state else []


def amount_text(money: Money | None) -> str | None:
    """The amount as printed everywhere: two decimals, half up (``None``: unknown)."""
    if money is None:
        return None
    try:
        return f"{money.amount.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):f}"
    except InvalidOperation:  # NaN, infinity, or too large
        return None


# -- the audit and its fixes ------------------------------------------------------------------
def audit(vendor: Vendor, state: StackState | None) -> AuditReport:
    """List what ``vendor``'s account owns and compare it with ``state``."""
    owned = sorted(vendor.list_owned(), key=lambda o: o.number)
    report = AuditReport(vendor.name, owned, state)
    held = state.held_by(vendor.name) if state is not None else {}
    if state is not None:
        numbers = {number_key(o.number) for o in owned}
        report.unmanaged = [o for o in owned if number_key(o.number) not in held]
        report.missing = [h for n, h in sorted(held.items()) if n not in numbers]
    report.costs = _missing_costs(vendor, owned, held)
    return report


#: At most this many numbers are looked up one by one for their price (a vendor without a
#: get-one endpoint lists the whole account for each).
MAX_PRICE_LOOKUPS = 20


def _missing_costs(
    vendor: Vendor, owned: Iterable[OwnedNumber], held: dict[str, HeldNumber]
) -> dict[str, Money | None]:
    """Costs for the rows a listing gives without one (KrosAI's and Sondos' list rows carry
    no price and read 0): the state's recorded cost, else one GET of the number, else
    unknown (``None``): a zero that no source states is not printed as a price."""
    costs: dict[str, Money | None] = {}
    lookups = 0
    for number in owned:
        if number.monthly_cost.amount != 0:
            continue
        key = number_key(number.number)
        recorded = held[key].monthly_cost if key in held else None
        if recorded is not None and recorded.amount != 0:
            costs[key] = recorded
            continue
        costs[key] = None
        if lookups < MAX_PRICE_LOOKUPS:
            lookups += 1
            try:
                detail = vendor.get(number.number, number.vendor_id or None)
            except PhoneNumbersError:
                continue
            if detail is not None and detail.monthly_cost.amount != 0:
                costs[key] = detail.monthly_cost
    return costs


def release_unmanaged(vendor: Vendor, numbers: Iterable[OwnedNumber]) -> list[tuple[str, str]]:
    """Release each number; ``[(number, problem)]`` for those that failed ("" = released)."""
    results = []
    for owned in numbers:
        try:
            vendor.release(owned.number, owned.vendor_id)
            results.append((owned.number, ""))
        except NotFound:
            results.append((owned.number, ""))
        except PhoneNumbersError as exc:
            results.append((owned.number, str(exc)))
    return results
