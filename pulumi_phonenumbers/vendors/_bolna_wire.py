"""Bolna's wire format, private to :mod:`pulumi_phonenumbers.vendors.bolna`.

Lenient pydantic models of Bolna's answers (every list a bare JSON array), the three price
shapes (search USD ``5.0``, buy cents ``500``, list ``"$5.0"``), id and number
normalisation, the mapping onto the vendor-neutral models, and the error mapper for
``{"error": int, "message"}``, ``{"detail": str}`` and FastAPI's ``{"detail": [...]}``
bodies (vendor-apis.md §3).
"""

from __future__ import annotations

import re
import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict

from .. import e164
from .._answers import E164
from .._http import default_error
from ..errors import NotAvailable, NotFound, VendorError
from ..models import AvailableNumber, Money, NumberQuery, OwnedNumber, Routing
from ._shared import acquired, json_or_none

__all__ = [
    "VENDOR",
    "Available",
    "Listed",
    "Purchase",
    "available",
    "canonical_id",
    "country_of",
    "error_from",
    "normalize",
    "not_found",
    "owned",
    "purchased",
]

VENDOR = "bolna"
_AMOUNT = re.compile(r"[-+]?\d+(?:\.\d+)?")
_VOICE = ("voice",)


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Available(_Wire):
    """One search result (``GET /phone-numbers/search``)."""

    phone_number: E164
    region: str | None = None
    friendly_name: str | None = None
    locality: str | None = None
    provider: str | None = None
    price: float | int | str | None = None


class Purchase(_Wire):
    """The answer of ``POST /phone-numbers/buy`` (price in cents)."""

    id: str
    phone_number: E164
    price: float | int | str | None = None
    telephony_provider: str | None = None
    agent_id: str | None = None


class Listed(_Wire):
    """One entry of ``GET /phone-numbers/all`` (BYO numbers that are not E.164 are skipped)."""

    id: str
    phone_number: E164
    agent_id: str | None = None
    price: float | int | str | None = None
    telephony_provider: str | None = None
    rented: bool | None = None
    created_at: Any = None


# -- normalisation ------------------------------------------------------------------------
def canonical_id(raw: str) -> str:
    """A Bolna id in one form: lowercase dashed UUID (ids that are not UUIDs: unchanged)."""
    try:
        return str(uuid.UUID(raw.strip()))
    except (ValueError, AttributeError):
        return raw


def normalize(raw: str) -> str:
    """E.164 when the number parses, else the text as given (a BYO number)."""
    try:
        return e164.normalize(raw)
    except e164.InvalidNumber:
        return raw.strip()


def country_of(number: str) -> str:
    """The number's country, or ``""``."""
    try:
        return e164.country_of(number)
    except Exception:  # a BYO number that does not parse
        return ""


def _usd(value: float | int | str | None, *, cents: bool = False) -> Money:
    """Money from a number (USD, or cents with ``cents``) or a string such as ``"$5.0"``."""
    if value is None or isinstance(value, bool):
        return Money()
    currency = "USD"
    if isinstance(value, str):
        match = _AMOUNT.search(value.replace(",", ""))
        if match is None:
            return Money()
        if "₹" in value or "INR" in value.upper():
            currency = "INR"
        text = match.group(0)
    else:
        text = str(value)
    try:
        amount = Decimal(text)
    except InvalidOperation:
        return Money()
    if cents:
        amount = (amount / 100).quantize(Decimal("0.01"))
    return Money(amount=amount, currency=currency)


# -- mapping ------------------------------------------------------------------------------
def available(wire: Available, query: NumberQuery, provider: str) -> AvailableNumber:
    """A search result; ``vendor_ref`` = the telephony provider that offers it."""
    number = wire.phone_number
    return AvailableNumber(
        number=number,
        country=country_of(number) or query.country,
        number_type=query.number_type,
        capabilities=_VOICE,
        monthly_cost=_usd(wire.price),
        locality=wire.locality or e164.locality(number),
        vendor_ref=wire.provider or provider,
    )


def purchased(wire: Purchase, candidate: AvailableNumber, country: str) -> OwnedNumber:
    """The bought number (no routing yet: the purchase cannot carry it)."""
    number = wire.phone_number
    return OwnedNumber(
        number=number,
        vendor_id=canonical_id(wire.id),
        country=country_of(number) or country,
        number_type=candidate.number_type,
        capabilities=_VOICE,
        monthly_cost=_usd(wire.price, cents=True),
        locality=e164.locality(number) if number.startswith("+") else "",
    )


def owned(wire: Listed) -> OwnedNumber:
    """A listed number; routing = its agent."""
    number = wire.phone_number
    return OwnedNumber(
        number=number,
        vendor_id=canonical_id(wire.id),
        country=country_of(number),
        number_type=e164.number_type_of(number) if number.startswith("+") else "local",
        capabilities=_VOICE,
        monthly_cost=_usd(wire.price),
        locality=e164.locality(number) if number.startswith("+") else "",
        routing=Routing(voice_target=canonical_id(wire.agent_id) if wire.agent_id else None),
        acquired=acquired(wire.created_at),
    )


# -- errors -------------------------------------------------------------------------------
def _message(body: Any, fallback: str) -> str:
    """Bolna's message: ``message``, else ``detail`` (text or FastAPI's list), else ``error``."""
    if not isinstance(body, dict):
        return fallback
    for key in ("message", "detail", "error"):
        value = body.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
        if isinstance(value, list) and value:
            parts = []
            for item in value:
                if isinstance(item, dict):
                    loc = ".".join(str(p) for p in item.get("loc", ()) if p != "body")
                    parts.append(f"{loc}: {item.get('msg', '')}" if loc else str(item.get("msg")))
                else:
                    parts.append(str(item))
            return "; ".join(parts)
    return fallback


def not_found(response: httpx.Response) -> bool:
    """Bolna's own "not found" for an object (``{"detail": "Phone number not found"}``);
    FastAPI's bare ``{"detail": "Not Found"}`` is an unknown route, not a missing number."""
    body = json_or_none(response)
    if not isinstance(body, dict):
        return False
    message = _message(body, "")
    return "not found" in message.lower() and message.strip().lower() != "not found"


def error_from(response: httpx.Response) -> VendorError:
    """Status -> class, plus Bolna's "not available" (buy) and "not found" (400 or 404)."""
    body = json_or_none(response)
    message = _message(body, response.reason_phrase)
    code = ""
    if isinstance(body, dict) and isinstance(body.get("error"), int):
        code = str(body["error"])
    error = default_error(VENDOR, response, message, code)
    status = response.status_code
    if 400 <= status < 500 and status not in (401, 403, 429):
        lower = message.lower()
        cls: type[VendorError] | None = None
        if "not available" in lower or "unavailable" in lower:
            cls = NotAvailable
        elif status in (400, 404) and "not found" in lower:
            cls = NotFound
        if cls is not None:
            return cls(str(error), vendor=VENDOR, status=status, code=code)
    return error
