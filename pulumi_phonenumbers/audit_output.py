"""What the audit prints: the table, money, the release question, adopt lines, imports.

Every amount is printed one way, :func:`money_text` (two decimals and the currency:
``0.80 USD``), whatever the vendor's own precision (``0.80000``, ``0.8``, ``5.0``). Vendor
text (statuses, currencies) is cleaned of control characters and cut to a column width, so
a long or hostile value cannot break the table or the terminal.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable
from decimal import Decimal

from .audit import AuditReport, HeldNumber, StackState, amount_text, number_key
from .models import Money, OwnedNumber

__all__ = [
    "NATIVE_TYPE",
    "adopt_program",
    "clean_text",
    "import_commands",
    "money_text",
    "release_question",
    "report_text",
]

#: The native provider's type token, which ``pulumi import`` takes.
NATIVE_TYPE = "phonenumbers:index:PhoneNumber"
_STATUS_WIDTH = 20


def clean_text(text: str, limit: int) -> str:
    """Printable, one line, at most ``limit`` characters (``...`` marks a cut)."""
    text = " ".join("".join(c if c.isprintable() else " " for c in text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def money_text(money: Money | None) -> str:
    """``0.80 USD``: two decimals (half up) and the currency; ``unknown`` for ``None``."""
    if money is None:
        return "unknown"
    return f"{amount_text(money) or '?'} {clean_text(money.currency, 8) or '?'}"


def _monthly(money: Money | None) -> str:
    return f"{money_text(money)}/month" if money is not None else "cost unknown"


def _total(costs: Iterable[Money | None]) -> str:
    """``2.40 USD/month`` (one sum per currency, ``+`` between them; unknowns said apart)."""
    sums: dict[str, Decimal] = {}
    unknown = 0
    for cost in costs:
        if cost is None or not cost.amount.is_finite():
            unknown += 1
        else:
            sums[cost.currency] = sums.get(cost.currency, Decimal(0)) + cost.amount
    parts = [_monthly(Money(amount=a, currency=c)) for c, a in sorted(sums.items())]
    if unknown:
        parts.append(f"{unknown} of unknown cost" if parts else "cost unknown")
    return " + ".join(parts)


def _holder(held: HeldNumber, state: StackState) -> str:
    """``name``, with its file when several were read and its pending operation if any."""
    details = [held.source] if len(state.paths) > 1 else []
    if held.operation:
        details.append(f"pending {held.operation}")
    return f"{held.name} ({', '.join(details)})" if details else held.name


def _mark(report: AuditReport, owned: OwnedNumber) -> str:
    state = report.state
    if state is None:
        return ""
    holders = state.holders(report.vendor).get(number_key(owned.number))
    if not holders:
        return "NOT IN STATE"
    return "managed by " + ", ".join(_holder(h, state) for h in holders)


def report_text(report: AuditReport) -> str:
    """The human report: a header, one aligned row per owned number, then notes."""
    state = report.state
    lines = [
        f"{report.vendor}: the account owns {len(report.owned)} number(s)"
        + (
            f"; {state.path} {'holds' if len(state.paths) == 1 else 'hold'} "
            f"{len(state.held_by(report.vendor))}"
            if state
            else " (no --state given: nothing can be marked)"
        )
    ]
    rows = [
        (
            owned.number,
            clean_text(owned.status, _STATUS_WIDTH),
            _monthly(report.cost(owned)),
            _mark(report, owned),
        )
        for owned in report.owned
    ]
    widths = [max((len(row[i]) for row in rows), default=0) for i in range(3)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        lines.append(("  " + "  ".join([*cells, row[3]])).rstrip())
    for missing in report.missing:
        where = _holder(missing, state) if state else missing.name
        lines.append(
            f"  {missing.number} in state ({where}) but not owned: `pulumi refresh` drops it"
        )
    if state is not None:
        lines += _pending_lines(report, state)
    return "\n".join(lines) + "\n"


def _pending_lines(report: AuditReport, state: StackState) -> list[str]:
    """Pending operations and unreadable entries, apart from the table."""
    lines = []
    several = len(state.paths) > 1
    for pending in report.pending:
        where = f" in {pending.source}" if several else ""
        if pending.pending_create and not pending.number:
            lines.append(
                f"  pending creating: {pending.name}{where} - the create was interrupted; "
                "a number it bought shows above as NOT IN STATE"
            )
        else:
            lines.append(
                f"  pending {pending.operation}: {pending.name}{where} "
                f"({pending.number or 'no number'}) - interrupted; its number counts as held"
            )
    for urn in state.unreadable:
        lines.append(
            f"  unreadable: {urn.rsplit('::', 1)[-1]} - a PhoneNumber whose number the state "
            "does not show (export with --show-secrets)"
        )
    return lines


def release_question(report: AuditReport) -> str:
    """The confirmation asked before ``--release`` (only ``yes`` answers it)."""
    count = len(report.unmanaged)
    total = _total(report.cost(o) for o in report.unmanaged)
    creates = report.state.pending_creates(report.vendor) if report.state else []
    note = (
        f"The state has {len(creates)} interrupted create(s): one of these numbers may "
        "be theirs (adopt it instead: --adopt-program). "
        if creates
        else ""
    )
    return (
        f"Release {count} number(s) ({total}) from the {report.vendor} account? "
        f"{note}Numbers held by stacks not given with --state look unmanaged too. "
        "A released number is gone for good. Type 'yes' to release: "
    )


def _resource_name(vendor: str, number: str, taken: set[str]) -> str:
    base = f"{vendor}-{re.sub(r'[^0-9]', '', number)}"
    name, n = base, 2
    while name in taken:
        name, n = f"{base}-{n}", n + 1
    taken.add(name)
    return name


def _to_manage(report: AuditReport) -> list[tuple[str, OwnedNumber]]:
    """``(resource name, number)`` for every number to bring under management: the
    unmanaged ones (every owned one without a state), names unique in the state."""
    numbers = report.unmanaged if report.state is not None else report.owned
    taken = {h.name for h in report.state.numbers} if report.state else set()
    return [(_resource_name(report.vendor, o.number, taken), o) for o in numbers]


def adopt_program(report: AuditReport) -> str:
    """Python program lines declaring every unmanaged number with ``adopt=True``."""
    numbers = _to_manage(report)
    if not numbers:
        return "# Nothing to adopt: every number the account owns is in the stack.\n"
    pending = report.state.pending_creates(report.vendor) if report.state else []
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
    for name, owned in numbers:
        routing = owned.routing.to_dict(exclude_none=True)
        args = [
            repr(name),
            f"vendor={report.vendor!r}",
            f"number={owned.number!r}",
            "adopt=True",
            "release_on_delete=False",
        ]
        if routing:
            args.append(f"routing={routing!r}")
        lines.append(f"PhoneNumber({', '.join(args)})")
    return "\n".join(lines) + "\n"


def import_commands(report: AuditReport) -> str:
    """``pulumi import`` commands (native provider) for every unmanaged number."""
    numbers = _to_manage(report)
    if not numbers:
        return "# Nothing to import: every number the account owns is in the stack.\n"
    lines = [
        f"# Numbers the {report.vendor} account owns that the stack does not hold, as",
        f"# `pulumi import` commands for the native provider ({NATIVE_TYPE}). Run them in",
        f"# the stack with `pulumi config set phonenumbers:vendor {report.vendor}`. An imported",
        "# number is not released on delete unless the program sets release_on_delete: true.",
    ]
    for name, owned in numbers:
        lines.append(f"pulumi import {NATIVE_TYPE} {shlex.quote(name)} {shlex.quote(owned.number)}")
    return "\n".join(lines) + "\n"
