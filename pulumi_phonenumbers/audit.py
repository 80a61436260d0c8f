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

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .errors import NotFound, PhoneNumbersError
from .models import OwnedNumber
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
    "PHONE_NUMBER_TYPE",
    "PHONE_NUMBER_TYPES",
    "AuditReport",
    "HeldNumber",
    "StackState",
    "adopt_program",
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

    def to_json(self) -> dict[str, Any]:
        """A JSON-able summary (``--json``)."""
        return {
            "vendor": self.vendor,
            "state": self.state.path if self.state else None,
            "states": list(self.state.paths) if self.state else [],
            "owned": [_owned_json(o) for o in self.owned],
            "unmanaged": [o.number for o in self.unmanaged],
            "missing": [{"number": h.number, "urn": h.urn} for h in self.missing],
            "pending_operations": [
                {"type": h.operation, "urn": h.urn, "number": h.number or None, "state": h.source}
                for h in self.pending
            ],
            "pending_creates": [h.urn for h in self.pending if h.pending_create],
            "unreadable": list(self.state.unreadable) if self.state else [],
        }

    @property
    def pending(self) -> list[HeldNumber]:
        """Pending operations of the state(s) that may concern this vendor."""
        return self.state.pending(self.vendor) if self.state else []


def _owned_json(owned: OwnedNumber) -> dict[str, Any]:
    return {
        "number": owned.number,
        "vendor_id": owned.vendor_id,
        "status": owned.status,
        "monthly_cost": str(owned.monthly_cost.amount),
        "currency": owned.monthly_cost.currency,
        "routing": owned.routing.to_dict(exclude_none=True),
    }


# -- the audit and its fixes ------------------------------------------------------------------
def audit(vendor: Vendor, state: StackState | None) -> AuditReport:
    """List what ``vendor``'s account owns and compare it with ``state``."""
    owned = sorted(vendor.list_owned(), key=lambda o: o.number)
    report = AuditReport(vendor.name, owned, state)
    if state is not None:
        held = state.held_by(vendor.name)
        numbers = {number_key(o.number) for o in owned}
        report.unmanaged = [o for o in owned if number_key(o.number) not in held]
        report.missing = [h for n, h in sorted(held.items()) if n not in numbers]
    return report


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


def _resource_name(vendor: str, number: str, taken: set[str]) -> str:
    base = f"{vendor}-{re.sub(r'[^0-9]', '', number)}"
    name, n = base, 2
    while name in taken:
        name, n = f"{base}-{n}", n + 1
    taken.add(name)
    return name


def adopt_program(report: AuditReport) -> str:
    """Python program lines declaring every unmanaged number with ``adopt=True``."""
    numbers = report.unmanaged if report.state is not None else report.owned
    if not numbers:
        return "# Nothing to adopt: every number the account owns is in the stack.\n"
    pending = report.state.pending_creates(report.vendor) if report.state else []
    taken = {h.name for h in report.state.numbers} if report.state else set()
    lines = [
        f"# Numbers the {report.vendor} account owns that the stack does not hold",
        "# (found by `pulumi-phonenumbers audit`). Add these to the Pulumi program and run",
        "# `pulumi up`: adopt=True takes a number over without buying it. Set",
        "# release_on_delete=True on the ones `pulumi destroy` should give back.",
    ]
    if pending:
        names = ", ".join(repr(h.name) for h in pending)
        lines.append(
            f"# Interrupted creates in this stack: {names}. If one of these numbers was "
            "bought for it, declare it there instead (number=..., adopt=True)."
        )
    lines += ["from pulumi_phonenumbers import PhoneNumber", ""]
    for owned in numbers:
        routing = owned.routing.to_dict(exclude_none=True)
        args = [
            repr(_resource_name(report.vendor, owned.number, taken)),
            f"vendor={report.vendor!r}",
            f"number={owned.number!r}",
            "adopt=True",
            "release_on_delete=False",
        ]
        if routing:
            args.append(f"routing={routing!r}")
        lines.append(f"PhoneNumber({', '.join(args)})")
    return "\n".join(lines) + "\n"
