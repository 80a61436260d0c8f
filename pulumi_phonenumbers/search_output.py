"""What ``pulumi-phonenumbers search`` prints: a table of candidates, or JSON.

Amounts as everywhere else (two decimals and the currency); vendor text (localities) is
cleaned of control characters and cut to its column, so a hostile value cannot break the
table or the terminal.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from decimal import Decimal

from .audit import amount_text
from .audit_output import clean_text
from .lookup import AvailableNumberResult
from .models import Money

__all__ = ["results_json", "results_table"]

_LOCALITY_WIDTH = 24


def _money(amount: float, currency: str) -> str:
    text = amount_text(Money(amount=Decimal(str(amount)), currency=currency)) or "?"
    return f"{text} {clean_text(currency, 8) or '?'}"


def results_table(results: Sequence[AvailableNumberResult], what: str) -> str:
    """One line per candidate under a header; a clear line when there is none."""
    if not results:
        return f"no number offered for {what}\n"
    rows = [("NUMBER", "LOCALITY", "TYPE", "CAPABILITIES", "MONTHLY", "SETUP")]
    for r in results:
        rows.append(
            (
                r.number,
                clean_text(r.locality, _LOCALITY_WIDTH) or "-",
                clean_text(r.number_type, 12),
                ",".join(r.capabilities) or "-",
                _money(r.monthly_cost, r.currency),
                _money(r.setup_cost, r.currency),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    return "\n".join([f"{len(results)} number(s) offered for {what}:", *lines]) + "\n"


def results_json(results: Sequence[AvailableNumberResult]) -> str:
    """The results as a JSON list of objects (the fields of :class:`AvailableNumberResult`)."""
    return json.dumps([dataclasses.asdict(r) for r in results], indent=2) + "\n"
