"""Private wire models of the Sinch Numbers API v1 and their mapping to neutral models.

Nothing here leaves :mod:`.sinch`: responses are parsed with lenient pydantic models
(unknown fields ignored) and turned into :class:`~pulumi_phonenumbers.models.OwnedNumber` /
:class:`~pulumi_phonenumbers.models.AvailableNumber`; errors in Sinch's envelope
``{"error": {code, message, status, details}}`` become the package's error tree.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field

from .. import e164
from .._answers import E164
from .._http import default_error
from ..errors import (
    AuthError,
    NotAvailable,
    NotFound,
    RateLimited,
    ServerError,
    ValidationError,
    VendorError,
)
from ..models import AvailableNumber, Money, OwnedNumber, Routing

__all__ = [
    "TYPES",
    "ActiveList",
    "ActiveWire",
    "Available",
    "AvailableList",
    "available",
    "error",
    "not_found",
    "owned",
    "patch_body",
]

_NAME = "sinch"
TYPES = {"local": "LOCAL", "mobile": "MOBILE", "toll_free": "TOLL_FREE"}
_NEUTRAL_TYPES = {v: k for k, v in TYPES.items()}
_PENDING = frozenset({"WAITING", "IN_PROGRESS"})
_STATUS_CLASSES: dict[str, type[VendorError]] = {
    "UNAUTHENTICATED": AuthError,
    "PERMISSION_DENIED": AuthError,
    "INVALID_ARGUMENT": ValidationError,
    "FAILED_PRECONDITION": ValidationError,
    "OUT_OF_RANGE": ValidationError,
    "NOT_FOUND": NotFound,
    "RESOURCE_EXHAUSTED": RateLimited,
    "INTERNAL": ServerError,
    "UNKNOWN": ServerError,
    "UNAVAILABLE": ServerError,
}


# -- private wire models -----------------------------------------------------------------
class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class _Money(_Wire):
    currency: str = Field("USD", alias="currencyCode")
    amount: Decimal = Decimal("0")

    def neutral(self) -> Money:
        return Money(amount=self.amount, currency=self.currency or "USD")


class Available(_Wire):
    phone_number: E164 = Field(alias="phoneNumber")
    region_code: str = Field("", alias="regionCode")
    type: str = ""
    capability: list[str] = []
    setup_price: _Money = Field(default_factory=_Money, alias="setupPrice")
    monthly_price: _Money = Field(default_factory=_Money, alias="monthlyPrice")


class _ScheduledVoice(_Wire):
    type: str = "RTC"
    app_id: str | None = Field(None, alias="appId")
    status: str = ""


class _Voice(_Wire):
    type: str = "RTC"
    app_id: str | None = Field(None, alias="appId")
    scheduled: _ScheduledVoice | None = Field(None, alias="scheduledVoiceProvisioning")


class _ScheduledSms(_Wire):
    service_plan_id: str | None = Field(None, alias="servicePlanId")
    status: str = ""
    error_codes: list[str] = Field([], alias="errorCodes")


class _Sms(_Wire):
    service_plan_id: str | None = Field(None, alias="servicePlanId")
    scheduled: _ScheduledSms | None = Field(None, alias="scheduledProvisioning")


class ActiveWire(_Wire):
    phone_number: E164 = Field(alias="phoneNumber")
    display_name: str | None = Field(None, alias="displayName")
    region_code: str = Field("", alias="regionCode")
    type: str = ""
    capability: list[str] = []
    money: _Money = Field(default_factory=_Money)
    voice: _Voice | None = Field(None, alias="voiceConfiguration")
    sms: _Sms | None = Field(None, alias="smsConfiguration")
    #: Set by ``:release`` (end of the paid period): a released number stays listed until
    #: then, so a set ``expireAt`` means released, not renewed, i.e. gone.
    expire_at: str | None = Field(None, alias="expireAt")

    @property
    def released(self) -> bool:
        return bool(self.expire_at)


class ActiveList(_Wire):
    """A page of ``GET /activeNumbers``; rows are validated one by one."""

    active_numbers: list[Any] = Field([], alias="activeNumbers")
    next_page_token: str | None = Field(None, alias="nextPageToken")


class AvailableList(_Wire):
    """``GET /availableNumbers``; rows are validated one by one."""

    available_numbers: list[Any] = Field(alias="availableNumbers")


# -- mapping ---------------------------------------------------------------------------------
def _envelope(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    inner = body.get("error") if isinstance(body, dict) else None
    return inner if isinstance(inner, dict) else {}


def not_found(response: httpx.Response) -> bool:
    """Sinch's own 404 for a number: ``NOT_FOUND`` with a ``ResourceInfo`` detail naming an
    ``ActiveNumber`` or ``AvailableNumber`` (an unknown route or a proxy has no such detail)."""
    body = _envelope(response)
    return body.get("status") == "NOT_FOUND" and any(
        isinstance(d, dict)
        and d.get("type") == "ResourceInfo"
        and d.get("resourceType") in ("ActiveNumber", "AvailableNumber")
        for d in body.get("details") or []
    )


def error(response: httpx.Response) -> VendorError:
    """``{"error": {code, message, status, details}}`` -> the error tree."""
    body = _envelope(response)
    status = str(body.get("status") or "")
    message = str(body.get("message") or "") or response.reason_phrase
    details = [d for d in body.get("details") or [] if isinstance(d, dict)]
    for detail in details:
        for violation in detail.get("fieldViolations") or []:
            if isinstance(violation, dict):
                message += f"; {violation.get('field')}: {violation.get('description')}"
    base = default_error(_NAME, response, f"{status}: {message}" if status else message, status)
    cls = _STATUS_CLASSES.get(status, type(base))
    if status == "NOT_FOUND" and any(d.get("resourceType") == "AvailableNumber" for d in details):
        cls = NotAvailable
    return cls(
        str(base), vendor=_NAME, status=base.status, code=status, retry_after=base.retry_after
    )


def _caps(values: list[str]) -> tuple[str, ...]:
    return tuple(sorted({v.lower() for v in values if v.upper() in ("SMS", "VOICE")}))


def available(wire: Available) -> AvailableNumber:
    return AvailableNumber(
        number=wire.phone_number,
        country=wire.region_code,
        number_type=_NEUTRAL_TYPES.get(wire.type, wire.type.lower()),
        capabilities=_caps(wire.capability),
        monthly_cost=wire.monthly_price.neutral(),
        setup_cost=wire.setup_price.neutral(),
        locality=e164.locality(wire.phone_number),
    )


def owned(wire: ActiveWire) -> OwnedNumber:
    status = "active"
    voice_target: str | None = None
    voice = wire.voice
    if voice is not None:
        current = voice.app_id if voice.type == "RTC" else None
        scheduled = voice.scheduled
        if scheduled is not None and scheduled.status in _PENDING:
            status = "provisioning"
            current = scheduled.app_id if scheduled.type == "RTC" else None
        elif scheduled is not None and scheduled.status == "FAILED":
            status = "provisioning_failed"
        voice_target = current or None
    sms_target: str | None = None
    if wire.sms is not None:
        current = wire.sms.service_plan_id
        sched_sms = wire.sms.scheduled
        if sched_sms is not None and sched_sms.status in _PENDING:
            status = "provisioning" if status == "active" else status
            current = sched_sms.service_plan_id
        elif sched_sms is not None and sched_sms.status == "FAILED":
            status = "provisioning_failed"
        sms_target = current or None
    return OwnedNumber(
        number=wire.phone_number,
        vendor_id=wire.phone_number,
        country=wire.region_code,
        number_type=_NEUTRAL_TYPES.get(wire.type, wire.type.lower()),
        capabilities=_caps(wire.capability),
        monthly_cost=wire.money.neutral(),
        setup_cost=Money(amount=Decimal("0"), currency=wire.money.currency or "USD"),
        locality=e164.locality(wire.phone_number),
        status=status,
        routing=Routing(
            voice_target=voice_target, sms_target=sms_target, label=wire.display_name or None
        ),
    )


def patch_body(old: Routing, new: Routing) -> dict[str, Any]:
    """Only the objects whose routing field changed; never an empty configuration object."""
    body: dict[str, Any] = {}
    if old.label != new.label:
        body["displayName"] = new.label or ""
    if old.voice_target != new.voice_target:
        body["voiceConfiguration"] = {"type": "RTC", "appId": new.voice_target or ""}
    if old.sms_target != new.sms_target:
        body["smsConfiguration"] = {"servicePlanId": new.sms_target or ""}
    return body
