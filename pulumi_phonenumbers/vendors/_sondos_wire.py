"""Sondos AI's wire format, private to :mod:`pulumi_phonenumbers.vendors.sondos`.

Lenient pydantic models of the search, purchase and account-list answers (the list shape is
inferred: a bare array or ``{"data": [...]}``), number normalisation, the mapping onto the
vendor-neutral models, and the error mapper for ``{"error": msg}`` and Laravel's
``{"message", "errors": {field: [..]}}`` bodies (vendor-apis.md §5).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict
from pydantic import ValidationError as WireError

from .. import e164
from .._http import default_error
from ..errors import ServerError, VendorError
from ..models import AvailableNumber, Money, NumberQuery, OwnedNumber, Routing

__all__ = [
    "VENDOR",
    "Listed",
    "Offer",
    "available",
    "error_from",
    "items",
    "message_of",
    "national",
    "normalize",
    "owned",
    "purchase_data",
    "purchased",
]

VENDOR = "sondos"
#: List states that mean "release scheduled" (inferred; the list shape is undocumented).
_PENDING_STATES = frozenset({"pending_release", "scheduled_for_release", "releasing", "released"})


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Offer(_Wire):
    """One search result (verified field list)."""

    phone_number: str
    phone_number_formatted: str = ""
    country_code: str = ""
    price: Decimal | None = None
    stripe_price_id: str | None = None
    address_requirements: str | None = None
    sms_capable: bool = False


class _Purchased(_Wire):
    """The ``data`` of a 201 purchase answer (verified)."""

    id: int
    phone_number: str
    country_code: str = ""
    type: str = "normal"
    sms_capable: bool = False


class _AssistantRef(_Wire):
    id: int


class Listed(_Wire):
    """One entry of the account list (shape inferred; unknown fields ignored)."""

    id: int
    phone_number: str
    country_code: str = ""
    type: str | None = None
    type_label: str | None = None
    sms_capable: bool | None = None
    price: Decimal | None = None
    assistant_id: int | None = None
    assistant: _AssistantRef | None = None
    status: str | None = None
    scheduled_release_at: str | None = None

    @property
    def pending_release(self) -> bool:
        return bool(self.scheduled_release_at) or (self.status or "").lower() in _PENDING_STATES

    @property
    def caller_id(self) -> bool:
        kind = (self.type or self.type_label or "").lower().replace(" ", "").replace("_", "")
        return kind == "callerid"

    @property
    def assigned_to(self) -> int | None:
        if self.assistant_id is not None:
            return self.assistant_id
        return self.assistant.id if self.assistant is not None else None


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


def _json(response: httpx.Response, what: str) -> Any:
    try:
        return response.json()
    except ValueError:
        raise ServerError(
            f"sondos: answer is not JSON (while trying to {what})",
            vendor=VENDOR,
            status=response.status_code,
        ) from None


def items(response: httpx.Response, what: str) -> list[Any]:
    """A bare array or ``{"data": [...]}``."""
    body = _json(response, what)
    found = body.get("data") if isinstance(body, dict) else body
    if not isinstance(found, list):
        raise ServerError(
            f"sondos: unexpected {what} answer", vendor=VENDOR, status=response.status_code
        )
    return found


def purchase_data(response: httpx.Response, what: str) -> _Purchased:
    """The ``data`` of a purchase answer; anything else is an ambiguous :class:`ServerError`."""
    body = _json(response, what)
    try:
        return _Purchased.model_validate(body.get("data") if isinstance(body, dict) else None)
    except WireError:
        # Ambiguous: the purchase most likely happened; the provider asks get() next.
        raise ServerError(
            f"sondos: unexpected purchase answer (while trying to {what})",
            vendor=VENDOR,
            status=response.status_code,
        ) from None


# -- mapping ------------------------------------------------------------------------------
def _capabilities(sms_capable: bool | None) -> tuple[str, ...]:
    return ("voice", "sms") if sms_capable else ("voice",)


def national(number: str) -> str:
    """The national significant digits of an E.164 number."""
    return e164.digits(number)[len(str(e164.country_code(number))) :]


def normalize(text: str) -> str | None:
    """E.164, or ``None`` when the text is not a valid number."""
    try:
        return e164.normalize(text)
    except e164.InvalidNumber:
        return None


def available(offer: Offer, query: NumberQuery) -> AvailableNumber | None:
    """A search result (``None`` when its number does not parse)."""
    number = normalize(offer.phone_number)
    if number is None:
        return None
    return AvailableNumber(
        number=number,
        country=(offer.country_code or query.country).upper(),
        number_type="local",
        capabilities=_capabilities(offer.sms_capable),
        monthly_cost=Money(amount=offer.price or Decimal("0"), currency="USD"),
        locality=e164.locality(number),
    )


def purchased(data: _Purchased, candidate: AvailableNumber) -> OwnedNumber:
    """The bought number; price and locality come from the candidate (no routing yet)."""
    return OwnedNumber(
        number=normalize(data.phone_number) or candidate.number,
        vendor_id=str(data.id),
        country=(data.country_code or candidate.country).upper(),
        number_type="local",
        capabilities=_capabilities(data.sms_capable),
        monthly_cost=candidate.monthly_cost,
        locality=candidate.locality or e164.locality(candidate.number),
    )


def owned(listed: Listed) -> OwnedNumber | None:
    """An active listed number; ``None`` for unparsable, pending-release and caller-ID ones."""
    number = normalize(listed.phone_number)
    if number is None or listed.pending_release or listed.caller_id:
        return None
    assistant = listed.assigned_to
    return OwnedNumber(
        number=number,
        vendor_id=str(listed.id),
        country=(listed.country_code or e164.country_of(number)).upper(),
        number_type="local",
        capabilities=_capabilities(listed.sms_capable),
        monthly_cost=Money(amount=listed.price or Decimal("0"), currency="USD"),
        locality=e164.locality(number),
        status="active",
        routing=Routing(voice_target=str(assistant) if assistant is not None else None),
    )
