"""Sondos AI's wire format, private to :mod:`pulumi_phonenumbers.vendors.sondos`.

Lenient pydantic models of the search, purchase, account-list (``/user/phone-numbers/all``)
and assistants-list answers, number normalisation, the mapping onto the
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
    "Assistant",
    "Listed",
    "Offer",
    "assistants_page",
    "available",
    "error_from",
    "is_active",
    "items",
    "message_of",
    "national",
    "normalize",
    "owned",
    "purchase_data",
    "purchased",
]

VENDOR = "sondos"


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


class Assistant(_Wire):
    """One assistant of ``GET /user/assistants/get`` (only what routing needs; docs.autocalls.ai
    "List assistants": ``phone_number_id`` is the number assigned to it)."""

    id: int
    phone_number_id: int | None = None
    type: str | None = None

    @property
    def inbound(self) -> bool:
        return (self.type or "").lower() == "inbound"


class _AssistantsPage(_Wire):
    """Laravel's paginator: ``{current_page, data, last_page, ...}``."""

    data: list[Any]
    last_page: int = 1


class Listed(_Wire):
    """One item of ``GET /user/phone-numbers/all`` (documented; no assistant field)."""

    id: int
    phone_number: str
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


def assistants_page(response: httpx.Response) -> tuple[list[Assistant], int]:
    """The assistants of one page and ``last_page``; unparsable entries are skipped."""
    try:
        page = _AssistantsPage.model_validate(_json(response, "list assistants"))
    except WireError:
        raise ServerError(
            "sondos: unexpected list-assistants answer", vendor=VENDOR, status=response.status_code
        ) from None
    found = []
    for raw in page.data:
        try:
            found.append(Assistant.model_validate(raw))
        except WireError:
            continue
    return found, page.last_page


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


def is_active(listed: Listed) -> bool:
    """A number this account holds: parsable, not pending release, not a caller ID."""
    return (
        normalize(listed.phone_number) is not None
        and not listed.pending_release
        and not listed.caller_id
    )


def owned(listed: Listed, assistant: str | None) -> OwnedNumber | None:
    """An active listed number routed to ``assistant``; ``None`` when not active.

    The list item has no price, so ``monthly_cost`` reads as 0 USD (the purchase's
    candidate price is what create reports).
    """
    number = normalize(listed.phone_number)
    if number is None or not is_active(listed):
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
    )
