"""Wire shapes and per-number state of the Sinch emulator (Numbers API v1).

Pure functions over plain dicts: request validation (400 ``INVALID_ARGUMENT`` with
``fieldViolations``), the asynchronous provisioning simulation, and rendering of
``AvailableNumber`` / ``ActiveNumber`` objects shaped like Sinch's (``""`` for unset string
ids, ``null`` for unset timestamps, money as decimal strings).

Provisioning: a voice or SMS configuration from ``:rent`` or ``PATCH`` is put under
``scheduledVoiceProvisioning`` / ``smsConfiguration.scheduledProvisioning`` with status
``WAITING``; every ``GET /activeNumbers/{n}`` counts one read (``IN_PROGRESS``), and after
``reads`` reads it moves to the top level (or turns ``FAILED`` when the outcome switch says
so). ``reads == 0`` settles at once.
"""

from __future__ import annotations

import base64
import binascii
import re
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypedDict

import phonenumbers

from ..store import InventoryItem

__all__ = [
    "PENDING",
    "WIRE_TYPES",
    "PatternFilter",
    "SinchFailure",
    "active_number",
    "advance",
    "apply_request",
    "available_number",
    "initial_state",
    "invalid",
    "matches",
    "neutral_routing",
    "not_found",
    "page_offset",
    "page_token",
    "parse_rfc3339",
    "pattern_filter",
    "rfc3339",
]

WIRE_TYPES = {"local": "LOCAL", "mobile": "MOBILE", "toll_free": "TOLL_FREE"}
PENDING = ("WAITING", "IN_PROGRESS")
_MONTH = 30 * 86400
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_PATTERN = re.compile(r"^\+?\d{1,15}$")
_SEARCH_PATTERNS = ("START", "CONTAINS", "END")


class PatternFilter(TypedDict, total=False):
    """Keyword filters of :meth:`~.store.Store.search` for a number pattern."""

    starts_with: str
    contains: str
    ends_with: str


class SinchFailure(Exception):
    """An error answer in Sinch's envelope: ``{"error": {code, message, status, details}}``."""

    def __init__(
        self, code: int, status: str, message: str, details: Sequence[Mapping[str, Any]] = ()
    ) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.details = [dict(d) for d in details]

    def body(self) -> dict[str, Any]:
        """The JSON envelope."""
        return {
            "error": {
                "code": self.code,
                "message": str(self),
                "status": self.status,
                "details": self.details,
            }
        }


def invalid(field: str, description: str) -> SinchFailure:
    """400 ``INVALID_ARGUMENT`` naming the field."""
    return SinchFailure(
        400,
        "INVALID_ARGUMENT",
        f'parsing field "{field}": {description}',
        [{"type": "BadRequest", "fieldViolations": [{"field": field, "description": description}]}],
    )


def not_found(resource_type: str, name: str) -> SinchFailure:
    """404 ``NOT_FOUND`` with a ``ResourceInfo`` detail."""
    return SinchFailure(
        404,
        "NOT_FOUND",
        f"{resource_type} not found: {name}".rstrip(": "),
        [
            {
                "type": "ResourceInfo",
                "resourceType": resource_type,
                "resourceName": name,
                "owner": "",
                "description": "",
            }
        ],
    )


def rfc3339(ts: float) -> str:
    """``2024-06-06T14:42:42.022227Z``."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_rfc3339(text: str) -> float:
    """The inverse of :func:`rfc3339` (a timestamp)."""
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC).timestamp()


def pattern_filter(
    pattern: str | None, search_pattern: str | None, country: str, field: str = "numberPattern"
) -> PatternFilter:
    """Store-search keywords for a number pattern.

    ``START`` with a ``+`` matches the E.164 prefix (``+1415``); without one, the national
    number (``415``). ``CONTAINS`` and ``END`` match digits anywhere / at the end.
    """
    if search_pattern and search_pattern not in _SEARCH_PATTERNS:
        raise invalid(f"{field}.searchPattern", f'"{search_pattern}" is not a valid value')
    if not pattern:
        return {}
    if not _PATTERN.match(pattern):
        raise invalid(f"{field}.pattern", f'"{pattern}" must be digits, optionally after "+"')
    mode = search_pattern or "START"
    if mode == "START":
        prefix = pattern if pattern.startswith("+") else f"+{country_code_of(country)}{pattern}"
        return {"starts_with": prefix}
    if mode == "CONTAINS":
        return {"contains": pattern.lstrip("+")}
    return {"ends_with": pattern.lstrip("+")}


def matches(number: str, filters: PatternFilter) -> bool:
    """True when an E.164 number passes :func:`pattern_filter`'s filters."""
    if "starts_with" in filters and not number.startswith(filters["starts_with"]):
        return False
    if "contains" in filters and filters["contains"] not in number:
        return False
    return "ends_with" not in filters or number.endswith(filters["ends_with"])


def page_token(offset: int) -> str:
    """An opaque ``nextPageToken`` for the page starting at ``offset``."""
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode()


def page_offset(token: str | None) -> int:
    """The offset in a ``pageToken`` (0 when absent); 400 for a token we never issued."""
    if not token:
        return 0
    try:
        text = base64.urlsafe_b64decode(token.encode()).decode()
        if not text.startswith("o:"):
            raise ValueError(text)
        return max(0, int(text[2:]))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise invalid("pageToken", "is not a token this API returned") from None


def country_code_of(country: str) -> int:
    """Calling code of a region (``US`` -> 1; 0 when unknown)."""
    return int(phonenumbers.country_code_for_region(country))


def wire_caps(capabilities: Sequence[str]) -> list[str]:
    """Neutral capabilities as Sinch's ``SMS`` / ``VOICE``."""
    return [c.upper() for c in ("sms", "voice") if c in capabilities]


def _money(item: InventoryItem, amount: Any) -> dict[str, str]:
    return {"currencyCode": item.currency, "amount": str(amount)}


def available_number(item: InventoryItem) -> dict[str, Any]:
    """An ``AvailableNumber`` object."""
    return {
        "phoneNumber": item.number,
        "regionCode": item.country,
        "type": WIRE_TYPES[item.number_type],
        "capability": wire_caps(item.capabilities),
        "setupPrice": _money(item, item.setup),
        "monthlyPrice": _money(item, item.monthly),
        "paymentIntervalMonths": 1,
        "supportingDocumentationRequired": item.needs_verification,
    }


# -- configuration requests ----------------------------------------------------------------------
def _text(body: Mapping[str, Any], key: str, field: str, default: str = "") -> str:
    value = body.get(key, default)
    if value is None:
        return default
    if not isinstance(value, str):
        raise invalid(f"{field}.{key}" if field else key, "must be a string")
    return value


def parse_voice(raw: Any) -> dict[str, str] | None:
    """A validated ``voiceConfiguration`` (``None`` when absent); empty objects fail."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise invalid("voiceConfiguration", "must be an object")
    if not raw:
        raise invalid("voiceConfiguration", "must not be empty; omit it to leave voice as is")
    kind = _text(raw, "type", "voiceConfiguration", "RTC") or "RTC"  # legacy: no type = RTC
    ids = {"RTC": "appId", "EST": "trunkId", "FAX": "serviceId"}
    if kind not in ids:
        raise invalid("voiceConfiguration.type", f'"{kind}" is not a valid value')
    config = {"type": kind, "appId": "", "trunkId": "", "serviceId": ""}
    key = ids[kind]
    config[key] = _text(raw, key, "voiceConfiguration")
    if kind == "RTC" and config["appId"] and not _UUID.match(config["appId"]):
        raise invalid("voiceConfiguration.appId", f'"{config["appId"]}" is not a valid app id')
    return config


def parse_sms(raw: Any) -> dict[str, str] | None:
    """A validated ``smsConfiguration`` (``None`` when absent); ``servicePlanId`` required."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise invalid("smsConfiguration", "must be an object")
    if not raw:
        raise invalid("smsConfiguration", "must not be empty; omit it to leave SMS as is")
    if "servicePlanId" not in raw:
        raise invalid("smsConfiguration.servicePlanId", "is required")
    return {
        "servicePlanId": _text(raw, "servicePlanId", "smsConfiguration"),
        "campaignId": _text(raw, "campaignId", "smsConfiguration"),
    }


def initial_state(project: str) -> dict[str, Any]:
    """The ``data`` of a freshly rented number."""
    return {
        "projectId": project,
        "displayName": "",
        "callbackUrl": "",
        "voice": {
            "type": "RTC",
            "appId": "",
            "trunkId": "",
            "serviceId": "",
            "lastUpdatedTime": None,
        },
        "voiceScheduled": None,
        "sms": {"servicePlanId": "", "campaignId": ""},
        "smsScheduled": None,
    }


def _effective_plan(state: Mapping[str, Any]) -> str:
    scheduled = state.get("smsScheduled")
    if scheduled and scheduled["status"] in PENDING:
        return str(scheduled["servicePlanId"])
    return str(state["sms"]["servicePlanId"])


def apply_request(
    state: dict[str, Any],
    body: Mapping[str, Any],
    *,
    reads: int,
    fail: bool,
    allow_label: bool = True,
    voice_unlink: str = "accept",
    sms_swap: str = "queue",
) -> dict[str, Any]:
    """Apply a rent / PATCH body to ``state`` (in place, also returned). Unknown keys ignored.

    ``voice_unlink`` is the dialect for ``voiceConfiguration.appId: ""``: ``accept`` (schedules
    the detach), ``ignore`` (answers 200, keeps the app) or ``reject`` (400). ``sms_swap``:
    ``queue`` takes a new SMS configuration while another is provisioning, ``refuse_pending``
    answers it 400 ``FAILED_PRECONDITION``.
    """
    voice = parse_voice(body.get("voiceConfiguration"))
    sms = parse_sms(body.get("smsConfiguration"))
    if voice is not None and voice["type"] == "RTC" and not voice["appId"]:
        if voice_unlink == "reject":
            raise invalid("voiceConfiguration.appId", "must not be empty")
        if voice_unlink == "ignore":
            voice = None
    pending_sms = state.get("smsScheduled") or {}
    if sms is not None and sms_swap == "refuse_pending" and pending_sms.get("status") in PENDING:
        raise SinchFailure(
            400,
            "FAILED_PRECONDITION",
            "the SMS configuration of this number is still being provisioned; "
            "retry when scheduledProvisioning has finished",
        )
    label = _text(body, "displayName", "") if allow_label and "displayName" in body else None
    callback = _text(body, "callbackUrl", "") if "callbackUrl" in body else None
    if sms is not None:
        current = _effective_plan(state)
        if current and sms["servicePlanId"] and sms["servicePlanId"] != current:
            raise SinchFailure(
                400,
                "INVALID_ARGUMENT",
                "the number must be unlinked from its current service plan "
                '(servicePlanId "") before it is linked to a new one',
                [
                    {
                        "type": "BadRequest",
                        "fieldViolations": [
                            {
                                "field": "smsConfiguration.servicePlanId",
                                "description": f"currently linked to {current}",
                            }
                        ],
                    }
                ],
            )
    now = rfc3339(time.time())
    if label is not None:
        state["displayName"] = label
    if callback is not None:
        state["callbackUrl"] = callback
    if voice is not None:
        state["voiceScheduled"] = {
            **voice,
            "status": "WAITING",
            "lastUpdatedTime": now,
            "readsLeft": reads,
        }
    if sms is not None:
        state["smsScheduled"] = {
            **sms,
            "status": "WAITING",
            "lastUpdatedTime": now,
            "errorCodes": [],
            "readsLeft": reads,
        }
    if reads <= 0:
        _settle(state, fail)
    return state


def _settle(state: dict[str, Any], fail: bool, only_due: bool = False) -> None:
    now = rfc3339(time.time())
    for key, top in (("voiceScheduled", "voice"), ("smsScheduled", "sms")):
        scheduled = state.get(key)
        if not scheduled or scheduled["status"] not in PENDING:
            continue
        if only_due and scheduled["readsLeft"] > 0:
            continue
        if fail:
            scheduled.update(status="FAILED", lastUpdatedTime=now, readsLeft=0)
            if key == "smsScheduled":
                scheduled["errorCodes"] = ["SMS_PROVISIONING_FAILED"]
            continue
        fields = {
            k: v
            for k, v in scheduled.items()
            if k not in ("status", "readsLeft", "errorCodes", "lastUpdatedTime")
        }
        state[top] = {**state[top], **fields}
        if key == "voiceScheduled":
            state[top]["lastUpdatedTime"] = now
        state[key] = None


def advance(state: dict[str, Any], *, fail: bool) -> bool:
    """Count one read of the number; True when the state changed."""
    changed = False
    for key in ("voiceScheduled", "smsScheduled"):
        scheduled = state.get(key)
        if scheduled and scheduled["status"] in PENDING:
            scheduled["readsLeft"] -= 1
            scheduled["status"] = "IN_PROGRESS"
            changed = True
    if changed:
        _settle(state, fail, only_due=True)
    return changed


def neutral_routing(state: Mapping[str, Any]) -> dict[str, Any]:
    """What the number routes to, vendor-neutrally (pending values count as applied)."""
    voice = state["voice"]
    scheduled = state.get("voiceScheduled")
    if scheduled and scheduled["status"] in PENDING:
        voice = scheduled
    app = voice["appId"] if voice["type"] == "RTC" else ""
    return {
        "voice_target": app or None,
        "sms_target": _effective_plan(state) or None,
        "label": state["displayName"] or None,
    }


def active_number(
    item: InventoryItem, state: Mapping[str, Any], bought_at: float, released: bool = False
) -> dict[str, Any]:
    """An ``ActiveNumber`` object (``expireAt`` set once released)."""
    next_charge = rfc3339(bought_at + _MONTH)
    voice: dict[str, Any] = dict(state["voice"])
    if state.get("voiceScheduled"):
        voice["scheduledVoiceProvisioning"] = {
            k: v for k, v in state["voiceScheduled"].items() if k != "readsLeft"
        }
    sms: dict[str, Any] = dict(state["sms"])
    if state.get("smsScheduled"):
        sms["scheduledProvisioning"] = {
            k: v for k, v in state["smsScheduled"].items() if k != "readsLeft"
        }
    return {
        "phoneNumber": item.number,
        "projectId": state["projectId"],
        "displayName": state["displayName"],
        "regionCode": item.country,
        "type": WIRE_TYPES[item.number_type],
        "capability": wire_caps(item.capabilities),
        "money": _money(item, item.monthly),
        "paymentIntervalMonths": 1,
        "nextChargeDate": next_charge,
        "expireAt": next_charge if released else None,
        "smsConfiguration": sms,
        "voiceConfiguration": voice,
        "callbackUrl": state["callbackUrl"],
    }
