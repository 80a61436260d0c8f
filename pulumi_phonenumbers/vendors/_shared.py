"""Helpers shared by the JSON vendor clients, private to :mod:`pulumi_phonenumbers.vendors`.

The second witness before a number is declared gone (:func:`listed_after_not_found`),
lenient JSON reading of error bodies (:func:`json_or_none`), and the client-side search
filter for what a vendor's search cannot narrow (:func:`matches`, KrosAI and Sondos).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import httpx

from .. import e164
from ..errors import ConfigError, NotFound, PhoneNumbersError, VendorError
from ..models import AvailableNumber, NumberQuery, OwnedNumber

if TYPE_CHECKING:
    from .base import Vendor

__all__ = ["acquired", "confirm_released", "json_or_none", "listed_after_not_found", "matches"]


def json_or_none(response: httpx.Response) -> Any:
    """The decoded JSON body, or ``None`` when the body is not JSON."""
    try:
        return response.json()
    except ValueError:
        return None


def listed_after_not_found(
    vendor: Vendor, number: str, first: PhoneNumbersError, base_url_key: str
) -> OwnedNumber | None:
    """The second witness, asked after the vendor's own "not found" for ``number``.

    Returns the number as the account listing shows it (the listing still has it: not
    gone), or ``None`` when a working listing confirms it is not owned: only then may
    ``get`` answer "gone" and ``release`` count as done. A listing that answers "not
    found" itself is a :class:`ConfigError` naming ``base_url_key``: one witness never
    makes a number gone. Other failures propagate unchanged (nothing is declared).
    """
    try:
        return next((o for o in vendor.list_owned() if o.number == number), None)
    except NotFound as exc:
        raise ConfigError(
            f"{first}; the account listing asked to confirm it failed too "
            f"({exc}), so {number} is not declared gone: check phonenumbers:{base_url_key}"
        ) from None


def confirm_released(vendor: Vendor, number: str, not_found: NotFound, base_url_key: str) -> None:
    """A release answered with the vendor's own "not found" counts as done only when the
    account listing (the second witness) no longer has ``number``; else a VendorError."""
    if listed_after_not_found(vendor, number, not_found, base_url_key) is not None:
        raise VendorError(
            f"{not_found}; but the account still lists {number}: it was not released",
            vendor=vendor.name,
            status=not_found.status,
        ) from None


def matches(available: AvailableNumber, query: NumberQuery) -> bool:
    """``contains``, ``capabilities`` and ``max_monthly_cost``, checked on the client side."""
    if query.contains and query.contains not in e164.digits(available.number):
        return False
    if not set(query.capabilities) <= set(available.capabilities):
        return False
    return query.max_monthly_cost is None or available.monthly_cost.amount <= query.max_monthly_cost


#: A day reported without a zone may be any zone's day (UTC-12 to UTC+14).
_ZONES = (-14 * 3600.0, 12 * 3600.0)


def acquired(raw: Any) -> tuple[float, float] | None:
    """A vendor's purchase time as ``(earliest, latest)`` POSIX seconds, or None.

    ``2025-01-10T10:00:00Z`` / ``...+02:00`` / ``2025-01-10T10:00:00.123`` (no zone: UTC)
    give that second; a bare date ``2025-01-10`` gives that day in any time zone.
    Anything else (human-readable strings, junk such as ``04:22:89``) gives None.
    """
    if not isinstance(raw, str) or not raw.strip():
        return None
    text = raw.strip()
    try:
        if len(text) == 10:
            day = dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC).timestamp()
            return (day + _ZONES[0], day + 86400.0 + _ZONES[1])
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    stamp = when.timestamp()
    return (stamp, stamp + 1.0)
