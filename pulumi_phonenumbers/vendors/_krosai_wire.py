"""KrosAI's wire format, private to :mod:`pulumi_phonenumbers.vendors.krosai`.

Lenient pydantic models of the guide dialect's JSON (snake_case, with the OpenAPI camelCase
names accepted too), the array/total reading of list answers, cents -> :class:`Money`, the
mapping onto the vendor-neutral models, and the error mapper, which branches on KrosAI's
JSON ``code`` before the status (vendor-apis.md §4).
"""

from __future__ import annotations

from collections.abc import Collection
from decimal import Decimal
from typing import Any

import httpx
from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from .. import e164
from .._answers import E164
from .._http import default_error, parse_retry_after, segment
from ..errors import (
    AuthError,
    ComplianceError,
    NotAvailable,
    NotFound,
    PaymentError,
    RateLimited,
    ValidationError,
    VendorError,
)
from ..models import CAPABILITIES, AvailableNumber, Money, OwnedNumber, Routing
from ._shared import acquired, json_or_none

__all__ = [
    "DIALECTS",
    "VENDOR",
    "Available",
    "PhoneNumber",
    "available",
    "buy_body",
    "dropped",
    "error_from",
    "items",
    "next_offset",
    "not_found",
    "owned",
    "patch_body",
    "path",
    "total",
]

VENDOR = "krosai"
_CENT = Decimal("0.01")
#: Array keys seen in KrosAI answers: guide search, OpenAPI ``action=available``, list.
_ARRAY_KEYS = ("available_numbers", "data", "phone_numbers")

_SUBMIT = "complete KYC verification in the KrosAI dashboard, then run `pulumi up` again"
# KrosAI's own message already says the KYC state; these add only what to do.
_WAIT = "run `pulumi up` once KYC is approved in the KrosAI dashboard"
_RESUBMIT = "resubmit KYC in the KrosAI dashboard or contact KrosAI support"
#: KYC codes of the guide and of the OpenAPI reference, with what the user has to do.
_KYC_TODO = {
    "KYC_REQUIRED": _SUBMIT,
    "KYC_NOT_SUBMITTED": _SUBMIT,
    "KYC_PENDING": _WAIT,
    "KYC_INITIATED": _WAIT,
    "KYC_DECLINED": _RESUBMIT,
}
_AUTH_CODES = frozenset({"UNAUTHORIZED", "INVALID_API_KEY", "KEY_EXPIRED", "IP_NOT_ALLOWED"})
#: Dialects (``phonenumbers:krosaiDialect``) and the camelCase request spellings of the
#: OpenAPI 1.3.0 reference and the Bridge API (the guide spells them snake_case).
DIALECTS = ("guide", "openapi", "bridge")
_CAMEL = {
    "endpoint_id": "endpointId",
    "allow_inbound": "allowInbound",
    "allow_outbound": "allowOutbound",
}
#: Neutral routing field -> KrosAI field (DESIGN.md §3).
_ROUTING_WIRE = (
    ("voice_target", "endpoint_id"),
    ("inbound", "allow_inbound"),
    ("outbound", "allow_outbound"),
)


def _either(*names: str) -> Any:
    """An optional field read under any of ``names`` (guide snake_case, OpenAPI camelCase)."""
    return Field(None, validation_alias=AliasChoices(*names))


class _Wire(BaseModel):
    """Fields shared by inventory entries and phone-number objects."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    number: E164 = Field(validation_alias=AliasChoices("number", "e164", "phone_number"))
    country: str = ""
    type: str = ""
    monthly_cost_cents: int | None = _either("monthly_cost_cents", "monthlyCostCents")
    setup_cost_cents: int | None = _either("setup_cost_cents", "setupCostCents")
    currency: str = "USD"
    capabilities: dict[str, bool] | list[str] | None = None


class Available(_Wire):
    """An inventory entry (``GET /phone-numbers/available``)."""

    inventory_id: str = Field(validation_alias=AliasChoices("inventory_id", "inventoryId", "id"))


class PhoneNumber(_Wire):
    """An owned number (buy, get, list and PATCH answers)."""

    id: str
    status: str = "active"
    endpoint_id: str | None = _either("endpoint_id", "endpointId")
    allow_inbound: bool | None = _either("allow_inbound", "allowInbound")
    allow_outbound: bool | None = _either("allow_outbound", "allowOutbound")
    created_at: Any = _either("created_at", "createdAt")


# -- answers ------------------------------------------------------------------------------
def items(body: Any) -> list[Any]:
    """The array of an answer: any of :data:`_ARRAY_KEYS`, or a bare array."""
    if isinstance(body, list):
        return body
    if isinstance(body, dict):
        for key in _ARRAY_KEYS:
            if isinstance(body.get(key), list):
                return list(body[key])
    return []


def total(body: Any) -> int | None:
    """The answer's integer ``total``, if it has one."""
    value = body.get("total") if isinstance(body, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def next_offset(body: Any, offset: int, count: int) -> int | None:
    """Offset of the inventory page after one of ``count`` rows read at ``offset``, or ``None``."""
    whole = total(body)
    echoed = body.get("offset") if isinstance(body, dict) else None
    nxt = offset + count
    # No total, or a server that ignored our offset: no way to page safely.
    if whole is None or not count or nxt >= whole or echoed not in (None, offset):
        return None
    return nxt


def path(vendor_id: str) -> str:
    """The path of one owned number."""
    return f"/phone-numbers/{segment(vendor_id)}"


# -- requests -----------------------------------------------------------------------------
def _spelled(field: str, dialect: str) -> str:
    """A request field as ``dialect`` spells it (guide snake_case, OpenAPI/bridge camelCase)."""
    return field if dialect == "guide" else _CAMEL.get(field, field)


def buy_body(inventory_id: str | None, routing: Routing, dialect: str) -> dict[str, Any]:
    """``POST /phone-numbers``: the ``inventory_id`` plus every declared routing field."""
    body: dict[str, Any] = {"inventory_id": inventory_id}
    body.update(
        (_spelled(wire, dialect), getattr(routing, field))
        for field, wire in _ROUTING_WIRE
        if getattr(routing, field) is not None
    )
    return body


def patch_body(changed: Collection[str], new: Routing, dialect: str) -> dict[str, Any]:
    """``PATCH /phone-numbers/{id}``: the changed fields only.

    ``endpoint_id`` null detaches; an undeclared direction flag is left as it is.
    """
    return {
        _spelled(wire, dialect): getattr(new, field)
        for field, wire in _ROUTING_WIRE
        if field in changed and (field == "voice_target" or getattr(new, field) is not None)
    }


def dropped(sent: Routing, answer: Routing, fields: Collection[str]) -> list[str]:
    """The routing ``fields`` that ``answer`` does not carry as ``sent`` them."""
    return [f for f in fields if getattr(sent, f) != getattr(answer, f)]


# -- mapping ------------------------------------------------------------------------------
def _money(cents: int | None, currency: str) -> Money:
    amount = (Decimal(cents) / 100).quantize(_CENT) if cents is not None else Decimal("0")
    return Money(amount=amount, currency=currency or "USD")


def _capabilities(raw: dict[str, bool] | list[str] | None) -> tuple[str, ...]:
    """Neutral capabilities; without the field, a voice number (KrosAI is voice-first)."""
    if raw is None:
        return ("voice",)
    have = {k for k, v in raw.items() if v} if isinstance(raw, dict) else set(raw)
    return tuple(c for c in CAPABILITIES if c in have)


def available(wire: Available) -> AvailableNumber:
    """An inventory entry as an :class:`AvailableNumber` (``vendor_ref`` = ``inventory_id``)."""
    number = wire.number
    return AvailableNumber(
        number=number,
        country=wire.country.upper() or e164.country_of(number),
        number_type=wire.type or e164.number_type_of(number),
        capabilities=_capabilities(wire.capabilities),
        monthly_cost=_money(wire.monthly_cost_cents, wire.currency),
        setup_cost=_money(wire.setup_cost_cents, wire.currency),
        locality=e164.locality(number),
        vendor_ref=wire.inventory_id,
    )


def owned(wire: PhoneNumber, known: AvailableNumber | OwnedNumber | None = None) -> OwnedNumber:
    """The neutral model; facts an answer leaves out (list rows, PATCH) come from ``known``."""
    number = wire.number
    result = OwnedNumber(
        number=number,
        vendor_id=wire.id,
        country=wire.country.upper() or e164.country_of(number),
        number_type=wire.type or e164.number_type_of(number),
        capabilities=_capabilities(wire.capabilities),
        monthly_cost=_money(wire.monthly_cost_cents, wire.currency),
        setup_cost=_money(wire.setup_cost_cents, wire.currency),
        locality=e164.locality(number),
        status=wire.status,
        routing=Routing(
            voice_target=wire.endpoint_id,
            inbound=wire.allow_inbound,
            outbound=wire.allow_outbound,
        ),
        acquired=acquired(wire.created_at),
    )
    if known is None:
        return result
    missing: dict[str, Any] = {}
    if wire.capabilities is None:
        missing["capabilities"] = known.capabilities
    if wire.monthly_cost_cents is None:
        missing["monthly_cost"] = known.monthly_cost
    if wire.setup_cost_cents is None:
        missing["setup_cost"] = known.setup_cost
    return result.replace(**missing)


def not_found(response: httpx.Response) -> bool:
    """KrosAI's own 404 for a number: its envelope with ``NUMBER_NOT_OWNED`` (or, for a
    purchase, ``NUMBER_NOT_AVAILABLE``). A wrong path or a proxy has no such code."""
    body = json_or_none(response)
    return isinstance(body, dict) and body.get("code") in (
        "NUMBER_NOT_OWNED",
        "NUMBER_NOT_AVAILABLE",
    )


def error_from(response: httpx.Response) -> VendorError:
    """Map KrosAI's ``{"error": msg, "code": CODE}`` envelope by ``code``, then by status."""
    body = json_or_none(response)
    envelope = isinstance(body, dict) and ("error" in body or "code" in body)
    status = response.status_code
    if not envelope:
        return default_error(VENDOR, response, response.reason_phrase)
    assert isinstance(body, dict)
    code = str(body.get("code") or "")
    message = str(body.get("error") or body.get("message") or response.reason_phrase)
    text = f"{VENDOR}: {code or f'HTTP {status}'}: {message}"
    kwargs: dict[str, Any] = {"vendor": VENDOR, "status": status, "code": code}
    if code in _KYC_TODO:
        return ComplianceError(f"{text}; {_KYC_TODO[code]}", **kwargs)
    if code == "INSUFFICIENT_BALANCE":
        return PaymentError(
            f"{text}; top up the KrosAI account balance in the dashboard, then "
            "run `pulumi up` again",
            **kwargs,
        )
    if code == "NUMBER_NOT_AVAILABLE":
        return NotAvailable(text, **kwargs)
    if code == "NUMBER_NOT_OWNED":
        return NotFound(text, **kwargs)
    if code == "RATE_LIMIT_EXCEEDED" or status == 429:
        raw = body.get("retry_after")
        retry = (
            float(raw)
            if isinstance(raw, int | float) and not isinstance(raw, bool)
            else parse_retry_after(response.headers.get("retry-after"))
        )
        return RateLimited(text, retry_after=retry, **kwargs)
    if code in _AUTH_CODES:
        return AuthError(text, **kwargs)
    if code == "ENDPOINT_NOT_FOUND":
        return ValidationError(
            f"{text}; routing.voice_target must name an existing KrosAI endpoint", **kwargs
        )
    return default_error(VENDOR, response, message, code)
