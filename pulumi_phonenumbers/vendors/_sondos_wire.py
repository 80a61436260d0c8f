"""Sondos AI's wire format, private to :mod:`pulumi_phonenumbers.vendors.sondos`.

Lenient pydantic models of the search, purchase, account-list (``/user/phone-numbers/all``)
and assistants-list answers, number normalisation, the mapping onto the
vendor-neutral models, and the error mapper for ``{"error": msg}`` and Laravel's
``{"message", "errors": {field: [..]}}`` bodies (vendor-apis.md §5).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict

from .. import e164
from .._answers import E164
from .._http import default_error
from ..errors import VendorError
from ..models import AvailableNumber, Money, NumberQuery, OwnedNumber, Routing
from ._shared import acquired

__all__ = [
    "VENDOR",
    "Assistant",
    "AssistantsPage",
    "Listed",
    "Offer",
    "Purchased",
    "available",
    "data_or_array",
    "error_from",
    "is_active",
    "message_of",
    "national",
    "not_found",
    "owned",
    "purchased",
]

VENDOR = "sondos"
#: Sondos' own "no such object" texts (``{"error": "Phone number not found."}``).
_NOT_FOUND = re.compile(r"(phone number|assistant) not found\.?", re.IGNORECASE)


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Offer(_Wire):
    """One search result (verified field list)."""

    phone_number: E164
    phone_number_formatted: str = ""
    country_code: str = ""
    price: Decimal | None = None
    stripe_price_id: str | None = None
    address_requirements: str | None = None
    sms_capable: bool = False


class Purchased(_Wire):
    """The ``data`` of a 201 purchase answer (verified)."""

    id: int
    phone_number: E164
    country_code: str = ""
    type: str = "normal"
    sms_capable: bool = False


class Assistant(_Wire):
    """One assistant of ``GET /user/assistants/get`` (only what routing needs; docs.autocalls.ai
    "List assistants": ``phone_number_id`` is the number assigned to it)."""

    id: int
    phone_number_id: int | None = None
    type: str | None = None

    @property
    def inbound(self) -> bool:
        return (self.type or "").lower() == "inbound"


class AssistantsPage(_Wire):
    """Laravel's paginator: ``{current_page, data, last_page, ...}``."""

    data: list[Any]
    last_page: int = 1


class Listed(_Wire):
    """One item of ``GET /user/phone-numbers/all`` (documented; no assistant field)."""

    id: int
    phone_number: E164
    country_code: str = ""
    type: str | None = None
    type_label: str | None = None
    sms_capable: bool | None = None
    region: str | None = None
    has_active_subscription: bool | None = None
    created_at: str | None = None

    @property
    def pending_release(self) -> bool:
        """A purchased number whose subscription is cancelled: release scheduled."""
        purchased = (self.type or "normal").lower() == "normal"
        return purchased and self.has_active_subscription is False

    @property
    def caller_id(self) -> bool:
        kind = (self.type or self.type_label or "").lower().replace(" ", "").replace("_", "")
        return kind == "callerid"


# -- answers ------------------------------------------------------------------------------
def message_of(response: httpx.Response) -> str:
    """``{"error": msg}``, Laravel ``{"message", "errors": {field: [..]}}``, or the reason."""
    try:
        body: Any = response.json()
    except ValueError:
        return response.reason_phrase
    if not isinstance(body, dict):
        return response.reason_phrase
    if isinstance(body.get("error"), str):
        return str(body["error"])
    message = str(body.get("message") or response.reason_phrase)
    errors = body.get("errors")
    if isinstance(errors, dict) and errors:
        details = "; ".join(
            f"{field}: {' '.join(str(m) for m in msgs) if isinstance(msgs, list) else msgs}"
            for field, msgs in errors.items()
        )
        message = f"{message} ({details})"
    return message


def error_from(response: httpx.Response) -> VendorError:
    """Status -> class, with Sondos' message."""
    return default_error(VENDOR, response, message_of(response))


def not_found(response: httpx.Response) -> bool:
    """Sondos' own 404 (``{"error": "Phone number not found."}``, or the assistant's)."""
    try:
        body = response.json()
    except ValueError:
        return False
    error = body.get("error") if isinstance(body, dict) else None
    return isinstance(error, str) and _NOT_FOUND.fullmatch(error.strip()) is not None


def data_or_array(body: Any) -> Any:
    """The rows of a list answer: a bare array or ``{"data": [...]}``."""
    return body.get("data") if isinstance(body, dict) else body


# -- mapping ------------------------------------------------------------------------------
def _capabilities(sms_capable: bool | None) -> tuple[str, ...]:
    return ("voice", "sms") if sms_capable else ("voice",)


def national(number: str) -> str:
    """The national significant digits of an E.164 number."""
    return e164.digits(number)[len(str(e164.country_code(number))) :]


def available(offer: Offer, query: NumberQuery) -> AvailableNumber:
    """A search result (its number is validated E.164 already)."""
    number = offer.phone_number
    return AvailableNumber(
        number=number,
        country=(offer.country_code or query.country).upper(),
        number_type="local",
        capabilities=_capabilities(offer.sms_capable),
        monthly_cost=Money(amount=offer.price or Decimal("0"), currency="USD"),
        locality=e164.locality(number),
    )


def purchased(data: Purchased, candidate: AvailableNumber) -> OwnedNumber:
    """The bought number; price and locality come from the candidate (no routing yet)."""
    return OwnedNumber(
        number=data.phone_number,
        vendor_id=str(data.id),
        country=(data.country_code or candidate.country).upper(),
        number_type="local",
        capabilities=_capabilities(data.sms_capable),
        monthly_cost=candidate.monthly_cost,
        locality=candidate.locality or e164.locality(candidate.number),
    )


def is_active(listed: Listed) -> bool:
    """A number this account holds: not pending release, not a caller ID."""
    return not listed.pending_release and not listed.caller_id


def owned(listed: Listed, assistant: str | None) -> OwnedNumber | None:
    """An active listed number routed to ``assistant``; ``None`` when not active.

    The list item has no price, so ``monthly_cost`` reads as 0 USD (the purchase's
    candidate price is what create reports).
    """
    number = listed.phone_number
    if not is_active(listed):
        return None
    return OwnedNumber(
        number=number,
        vendor_id=str(listed.id),
        country=(listed.country_code or e164.country_of(number)).upper(),
        number_type="local",
        capabilities=_capabilities(listed.sms_capable),
        monthly_cost=Money(amount=Decimal("0"), currency="USD"),
        locality=e164.locality(number),
        status="active",
        routing=Routing(voice_target=assistant),
        acquired=acquired(listed.created_at),
    )
