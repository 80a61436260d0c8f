"""Plivo's wire format, private to :mod:`pulumi_phonenumbers.vendors.plivo`.

Pydantic models of the JSON Plivo returns (``extra="allow"``: Plivo adds fields over time),
the error mapper, and the mapping onto the vendor-neutral models. Money arrives as strings
with five decimals, ``lata`` as an int or a string, ``meta.next`` as a relative URL, ``null``
or ``""`` (vendor-apis.md §1.2, §1.4).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from pydantic import BaseModel, ConfigDict

from .. import e164
from .._answers import E164
from .._http import default_error
from ..errors import ComplianceError, PaymentError, ValidationError, VendorError
from ..models import CAPABILITIES, AvailableNumber, Money, OwnedNumber, Routing
from ._shared import acquired

__all__ = [
    "AccountNumber",
    "BuyResponse",
    "Meta",
    "Page",
    "PhoneNumber",
    "available",
    "error_from",
    "next_offset",
    "not_found",
    "owned",
]

VENDOR = "plivo"
_DONE_COMPLIANCE = {"", "approved", "accepted", "verified", "completed"}


class _Wire(BaseModel):
    model_config = ConfigDict(extra="allow")


class Meta(_Wire):
    """Paging block of list answers."""

    limit: int | None = None
    offset: int | None = None
    next: str | None = None
    previous: str | None = None
    total_count: int | None = None


class _Rates(_Wire):
    number: E164  # Plivo sends digits without "+"; validated and held as E.164
    monthly_rental_rate: Decimal | None = None
    voice_enabled: bool = False
    sms_enabled: bool = False
    mms_enabled: bool = False
    city: str | None = None
    region: str | None = None

    def capabilities(self) -> tuple[str, ...]:
        flags = {"voice": self.voice_enabled, "sms": self.sms_enabled, "mms": self.mms_enabled}
        return tuple(c for c in CAPABILITIES if flags[c])

    def locality(self) -> str:
        return self.city.title() if self.city else (self.region or "")


class PhoneNumber(_Rates):
    """An available number (``GET /PhoneNumber/``)."""

    type: str | None = None
    sub_type: str | None = None
    setup_rate: Decimal | None = None
    lata: int | str | None = None
    prefix: str | None = None


class AccountNumber(_Rates):
    """An owned number (``GET /Number/`` and ``GET /Number/{n}/``)."""

    number_type: str | None = None
    alias: str | None = None
    application: str | None = None
    compliance_status: str | None = None
    #: ``YYYY-MM-DD``: the day Plivo added the number to the account (no time, no zone).
    added_on: Any = None


class Page(_Wire):
    """``GET /PhoneNumber/`` and ``GET /Number/``: rows are validated one by one."""

    meta: Meta = Meta()
    objects: list[Any]


class _Bought(_Wire):
    number: str
    status: str = ""


class BuyResponse(_Wire):
    """``POST /PhoneNumber/{n}/`` (201)."""

    message: str = ""
    status: str = ""
    numbers: list[_Bought] = []

    def status_of(self, number: str) -> str:
        """The per-number status as ``OwnedNumber.status``: ``active`` or ``pending``..."""
        state = next((n.status for n in self.numbers if plus(n.number) == number), "")
        return "active" if state.lower() in ("", "success", "fulfilled") else state.lower()


def error_from(response: httpx.Response) -> VendorError:
    """Plivo's ``{"api_id"?, "error": str | dict}`` body mapped onto the error tree."""
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    message = ""
    if isinstance(body, dict):
        raw = body.get("error", body.get("message"))
        if isinstance(raw, dict):
            message = "; ".join(f"{key}: {value}" for key, value in raw.items())
        elif raw is not None:
            message = str(raw)
    if not message:
        message = response.text.strip()[:200] or response.reason_phrase
    error = default_error(VENDOR, response, message)
    lower = message.lower()
    refined: type[VendorError] | None = None
    # Inferred: Plivo's exact texts are unknown; these words mark KYC and balance refusals.
    if isinstance(error, ValidationError) or response.status_code == 403:
        if any(word in lower for word in ("compliance", "verification", "address", "regulat")):
            refined = ComplianceError
        elif any(word in lower for word in ("insufficient", "balance", "credit")):
            refined = PaymentError
    if refined is None:
        return error
    return refined(
        str(error),
        vendor=error.vendor,
        status=error.status,
        code=error.code,
        retry_after=error.retry_after,
    )


def not_found(response: httpx.Response) -> bool:
    """Plivo's own 404: its ``{"api_id"?, "error"}`` envelope (not an HTML or proxy page).

    Plivo answers an unknown route the same way, so this alone never makes a number gone:
    the account listing is asked as well (``vendors._shared.listed_after_not_found``).
    """
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and isinstance(body.get("error"), str | dict)


def plus(digits: str) -> str:
    """Plivo's digits -> E.164."""
    return "+" + digits.strip().lstrip("+")


def next_offset(meta: Meta, offset: int, count: int) -> int | None:
    """Where the next page starts, or ``None``; ``meta.next`` null or "" ends the walk."""
    if count == 0:
        return None
    if meta.next:
        values = parse_qs(urlsplit(meta.next).query).get("offset")
        if values and values[0].isdigit():
            return int(values[0])
        return offset + count
    if "next" not in meta.model_fields_set and meta.total_count is not None:
        return offset + count if offset + count < meta.total_count else None
    return None


def _money(amount: Decimal | None) -> Money:
    return Money(amount=amount if amount is not None else Decimal("0"), currency="USD")


def _available_type(obj: PhoneNumber) -> str:
    kind, sub = (obj.type or "").lower(), (obj.sub_type or "").lower()
    if kind in ("tollfree", "toll-free") or sub == "tollfree":
        return "toll_free"
    if kind == "mobile":
        return "mobile"
    return "national" if sub == "national" else "local"


def _owned_type(raw: str | None) -> str:
    kind = (raw or "").lower()
    if kind in ("tollfree", "toll-free", "toll_free"):
        return "toll_free"
    return kind if kind in ("mobile", "national") else "local"


def _app_id(application: str | None) -> str | None:
    """``/v1/Account/MA.../Application/29986316244302815/`` -> ``29986316244302815``."""
    parts = [p for p in (application or "").split("/") if p]
    return parts[-1] if parts else None


def available(obj: PhoneNumber, country: str) -> AvailableNumber:
    """A search result as an :class:`AvailableNumber`."""
    return AvailableNumber(
        number=obj.number,
        country=country,
        number_type=_available_type(obj),
        capabilities=obj.capabilities(),
        monthly_cost=_money(obj.monthly_rental_rate),
        setup_cost=_money(obj.setup_rate),
        locality=obj.locality(),
    )


def owned(obj: AccountNumber) -> OwnedNumber:
    """An account number as an :class:`OwnedNumber` (routing = ``app_id`` and ``alias``)."""
    number = obj.number
    state = (obj.compliance_status or "").strip().lower()
    return OwnedNumber(
        number=number,
        vendor_id=e164.digits(number),
        country=e164.country_of(number),
        number_type=_owned_type(obj.number_type),
        capabilities=obj.capabilities(),
        monthly_cost=_money(obj.monthly_rental_rate),
        locality=obj.locality(),
        status="active" if state in _DONE_COMPLIANCE else state,
        routing=Routing(voice_target=_app_id(obj.application), label=obj.alias or None),
        acquired=acquired(obj.added_on),
    )
