"""Emulator face of Bolna's phone-number API (``vendor-apis.md`` §3) over the shared store.

Routes::

    GET    /phone-numbers/search?country=&pattern=&provider=&region=  bare array
    POST   /phone-numbers/buy          {country, phone_number, provider}
    GET    /phone-numbers/all          bare array (undashed ids, "$5.0" prices)
    DELETE /phone-numbers/{id}         {"message", "state": "deleted"}
    POST   /inbound/setup              {agent_id, phone_number_id}
    POST   /inbound/unlink             {phone_number_id}

Bearer auth: no header -> 401 ``{"detail": "Not authenticated"}``, an unknown key -> 403
``{"detail": "Unrecognized access token"}``. Schema violations are FastAPI 422s
(``{"detail": [...]}``); business errors are ``{"error": 400, "message": ...}``.
Switch ``unknown_id_status`` (404 | 400) picks how an unknown phone-number id is refused.
Bolna's real business-error texts are unknown (its OpenAPI only gives ``{"error": int,
"message": str}``), so switch ``bolna_error_texts`` picks them: ``emulator`` (default:
"Phone number not available" / "Phone number not found") or ``opaque`` (texts that name
neither, "Unable to process phone number request"), against which clients must stay safe.
"""

from __future__ import annotations

import collections
import datetime as dt
import json
import re
import time
import uuid
from collections.abc import Mapping
from typing import Any, ClassVar

import phonenumbers
from werkzeug.wrappers import Request, Response

from ..store import InventoryItem, OwnedRecord, Store, Unavailable
from .base import BadRequest, Face, Handler, json_response

__all__ = ["API_KEY", "BolnaFace"]

#: The one key the emulator accepts (``bn-`` like Bolna's keys).
API_KEY = "bn-emu-7d3f0c9a5b2e4e61a8c4f1d09b6e2a57"
_USER_ID = "28f9c34b-8eb0-4af5-8689-c2f6c4daec22"
_OPAQUE = "Unable to process phone number request"
_PROVIDERS = {"twilio": "US", "plivo": "IN", "vobiz": "IN"}
_DEFAULT_PROVIDER = {"US": "twilio", "IN": "plivo"}
_COUNTRIES = ("US", "IN")
_PRICE_USD = 5.0  # flat $5/month for every number (manage-phone-numbers SKILL.md)
_SEARCH_LIMIT = 50  # inferred: Twilio's default page size
_E164 = r"^\+[1-9][0-9]{7,14}$"
_DASHED_UUID = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
    r"[0-9a-fA-F]{12}$"
)
_HEX_UUID = re.compile(r"^[0-9a-fA-F]{32}$")


class _Unprocessable(Exception):
    """A FastAPI-style 422: ``errors`` is the ``detail`` list."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(errors[0]["msg"] if errors else "validation error")
        self.errors = errors


def _invalid(kind: str, loc: tuple[Any, ...], msg: str, value: Any, **ctx: Any) -> _Unprocessable:
    error: dict[str, Any] = {"type": kind, "loc": list(loc), "msg": msg, "input": value}
    if ctx:
        error["ctx"] = ctx
    return _Unprocessable([error])


def _iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).replace(tzinfo=None).isoformat()


def _humanized(ts: float, now: float) -> str:
    seconds = max(0, int(now - ts))
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''} ago"
    return "just now"


def _day(ts: float) -> str:
    """``17th Dec, 2024``."""
    when = dt.datetime.fromtimestamp(ts, dt.UTC)
    day = when.day
    suffix = "th" if 11 <= day % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix} {when:%b}, {when.year}"


def _place(item: InventoryItem) -> tuple[str, str]:
    """``(region, locality)``: US state code and city, or the Indian region code and city."""
    city, _, state = item.locality.partition(", ")
    if item.country == "IN":  # Bolna's Indian region codes are the 2-digit trunk prefixes
        return item.number[3:5], city
    return (state or city), city


def _friendly(number: str) -> str:
    parsed = phonenumbers.parse(number)
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL))


class BolnaFace(Face):
    """Bolna's ``/phone-numbers`` and ``/inbound`` endpoints."""

    vendor = "bolna"
    purchase_path = r"/phone-numbers/buy$"
    search_path = r"/phone-numbers/search"
    list_only = True
    purchase_time = "second"
    switches: ClassVar[Mapping[str, tuple[Any, ...]]] = {
        "unknown_id_status": (404, 400),
        "bolna_error_texts": ("emulator", "opaque"),
    }

    def __init__(self, store: Store) -> None:
        super().__init__(store)
        #: ``(METHOD, path)`` of every request that reached the face (tests count calls).
        self.calls: collections.deque[tuple[str, str]] = collections.deque(maxlen=10_000)

    def routes(self) -> list[tuple[str, str, Handler]]:
        return [
            ("GET", r"/phone-numbers/search", self.search),
            ("POST", r"/phone-numbers/buy", self.buy),
            ("GET", r"/phone-numbers/all", self.list_all),
            ("DELETE", r"/phone-numbers/(?P<phone_number_id>[^/]+)", self.delete),
            ("POST", r"/inbound/setup", self.setup),
            ("POST", r"/inbound/unlink", self.unlink),
        ]

    def config(self, url: str) -> dict[str, str]:
        return {"phonenumbers:bolnaBaseUrl": url, "phonenumbers:bolnaApiKey": API_KEY}

    def reset(self) -> None:
        self.calls.clear()

    def authenticate(self, request: Request, groups: Mapping[str, str]) -> Response | None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return json_response(
                {"detail": "Not authenticated"}, 401, {"WWW-Authenticate": "Bearer"}
            )
        if token.strip() != API_KEY:
            return json_response({"detail": "Unrecognized access token"}, 403)
        return None

    def error(self, status: int, message: str, code: str = "") -> Response:
        if status in (401, 403, 404, 405):
            # FastAPI's own wording for an unknown route / method.
            default = {404: "Not Found", 405: "Method Not Allowed"}.get(status)
            lowered = message in ("not found", "method not allowed")
            return json_response({"detail": default if default and lowered else message}, status)
        if status == 422:
            return json_response(
                {
                    "detail": [
                        {"type": "value_error", "loc": ["body"], "msg": message, "input": None}
                    ]
                },
                status,
            )
        return json_response({"error": status, "message": message}, status)

    def dispatch(self, request: Request) -> Response:
        self.calls.append((request.method, request.path))
        try:
            return super().dispatch(request)
        except _Unprocessable as exc:
            return json_response({"detail": exc.errors}, 422)

    # -- helpers -------------------------------------------------------------------------
    @staticmethod
    def _body(request: Request) -> dict[str, Any]:
        raw = request.get_data(cache=True)
        if not raw.strip():
            raise _invalid("missing", ("body",), "Field required", None)
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise _invalid(
                "json_invalid", ("body", 0), "JSON decode error", {}, error=str(exc)
            ) from None
        if not isinstance(body, dict):
            raise _invalid(
                "model_attributes_type",
                ("body",),
                "Input should be a valid dictionary or object to extract fields from",
                body,
            )
        return body

    @staticmethod
    def _enum(value: Any, allowed: tuple[str, ...], loc: tuple[Any, ...]) -> str:
        if value not in allowed:
            expected = " or ".join(f"'{a}'" for a in allowed)
            if len(allowed) > 2:
                expected = ", ".join(f"'{a}'" for a in allowed[:-1]) + f" or '{allowed[-1]}'"
            raise _invalid("enum", loc, f"Input should be {expected}", value, expected=expected)
        return str(value)

    @staticmethod
    def _required_str(body: Mapping[str, Any], key: str) -> str:
        if key not in body:
            raise _invalid("missing", ("body", key), "Field required", dict(body))
        value = body[key]
        if not isinstance(value, str):
            raise _invalid("string_type", ("body", key), "Input should be a valid string", value)
        return value

    def _record(self, raw_id: str) -> OwnedRecord | None:
        """The owned number with this id, dashed or 32 bare hex digits."""
        text = raw_id.strip()
        if not (_DASHED_UUID.match(text) or _HEX_UUID.match(text)):
            return None
        return self.store.get_by_id(str(uuid.UUID(text)))

    def _text(self, text: str) -> str:
        """A business-error text in the ``bolna_error_texts`` dialect."""
        if self.store.setting("bolna_error_texts", "emulator") == "opaque":
            return _OPAQUE
        return text

    def _unknown_id(self) -> Response:
        text = self._text("Phone number not found")
        if self.store.setting("unknown_id_status", 404) == 400:
            return json_response({"error": 400, "message": text}, 400)
        return json_response({"detail": text}, 404)

    def _listed(self, record: OwnedRecord, now: float) -> dict[str, Any]:
        data = record.data
        updated = float(data.get("updated_ts", record.bought_at))
        return {
            "id": uuid.UUID(record.vendor_id).hex,
            "humanized_created_at": _humanized(record.bought_at, now),
            "created_at": _iso(record.bought_at)[:19] + "Z",
            "humanized_updated_at": _humanized(updated, now),
            "updated_at": _iso(updated)[:19] + "Z",
            "renewal_at": _day(record.bought_at + 30 * 86400),
            "phone_number": record.number,
            "agent_id": record.routing.get("voice_target"),
            "price": f"${_PRICE_USD}",
            "telephony_provider": data.get("provider", _DEFAULT_PROVIDER.get(record.item.country)),
            "rented": True,
        }

    # -- handlers ------------------------------------------------------------------------
    def search(self, request: Request) -> Response:
        """``GET /phone-numbers/search``: up to 50 local numbers, a bare array."""
        args = request.args
        if "country" not in args:
            raise _invalid("missing", ("query", "country"), "Field required", None)
        country = self._enum(args.get("country"), _COUNTRIES, ("query", "country"))
        provider = args.get("provider") or _DEFAULT_PROVIDER[country]
        self._enum(provider, tuple(_PROVIDERS), ("query", "provider"))
        if _PROVIDERS[provider] != country:
            raise BadRequest(f"Provider {provider} does not offer {country} phone numbers")
        pattern = args.get("pattern", "").strip()
        if pattern and not pattern.isdigit():
            raise BadRequest("pattern must contain digits only")
        cc = phonenumbers.country_code_for_region(country)
        prefix = f"+{cc}{pattern}"
        region = args.get("region", "").strip()
        if region and country == "IN":  # US searches ignore region, as Bolna documents
            if not region.isdigit():
                raise BadRequest(f"Unknown region {region}")
            # Pattern and region are both prefixes of the national number: both must hold.
            other = f"+{cc}{region}"
            if not (prefix.startswith(other) or other.startswith(prefix)):
                return json_response([])
            prefix = max(prefix, other, key=len)
        items, _ = self.store.search(
            country=country, number_type="local", starts_with=prefix, limit=_SEARCH_LIMIT
        )
        body = []
        for item in items:
            where, city = _place(item)
            body.append(
                {
                    "region": where,
                    "friendly_name": _friendly(item.number),
                    "locality": city or None,
                    "phone_number": item.number,
                    "provider": provider,
                    "price": _PRICE_USD,
                }
            )
        return json_response(body)

    def buy(self, request: Request) -> Response:
        """``POST /phone-numbers/buy``: 200 with a dashed id and the price in cents."""
        body = self._body(request)
        country = self._enum(self._required_str(body, "country"), _COUNTRIES, ("body", "country"))
        number = self._required_str(body, "phone_number")
        if not re.match(_E164, number):
            raise _invalid(
                "string_pattern_mismatch",
                ("body", "phone_number"),
                f"String should match pattern '{_E164}'",
                number,
                pattern=_E164,
            )
        provider = body.get("provider")
        if provider is None:
            provider = _DEFAULT_PROVIDER[country]
        self._enum(provider, tuple(_PROVIDERS), ("body", "provider"))
        if _PROVIDERS[provider] != country:
            raise BadRequest(f"Provider {provider} does not offer {country} phone numbers")
        item = self.store.available(number)
        if item is None or item.country != country or item.number_type != "local":
            raise BadRequest(self._text("Phone number not available"))
        phone_number_id = str(uuid.uuid4())
        now = time.time()
        try:
            record = self.store.buy(
                number,
                vendor=self.vendor,
                vendor_id=phone_number_id,
                data={"provider": provider, "updated_ts": now},
            )
        except Unavailable:
            raise BadRequest(self._text("Phone number not available")) from None
        created = _iso(record.bought_at)
        return json_response(
            {
                "id": phone_number_id,
                "agent_id": None,
                "bolna_owned": True,
                "deleted": False,
                "renewal": True,
                "payment_uuid": str(uuid.uuid4()),
                "phone_number": number,
                "price": int(_PRICE_USD * 100),
                "telephony_provider": provider,
                "telephony_sid": number.lstrip("+"),
                "created_at": created,
                "updated_at": created,
            }
        )

    def list_all(self, request: Request) -> Response:
        """``GET /phone-numbers/all``: every owned number, undashed ids, ``"$5.0"`` prices."""
        now = time.time()
        return json_response([self._listed(r, now) for r in self.store.owned()])

    def delete(self, request: Request, phone_number_id: str) -> Response:
        """``DELETE /phone-numbers/{id}``: release through the store (the ledger records it)."""
        record = self._record(phone_number_id)
        if record is None or not self.store.release(record.number, vendor=self.vendor):
            return self._unknown_id()
        return json_response(
            {"message": "The phone number has been removed from your account", "state": "deleted"}
        )

    def _phone_number_id(self, body: Mapping[str, Any]) -> str:
        raw = body.get("phone_number_id")
        if raw is None:
            raise _invalid("missing", ("body", "phone_number_id"), "Field required", dict(body))
        if not isinstance(raw, str) or not (_DASHED_UUID.match(raw) or _HEX_UUID.match(raw)):
            raise _invalid(
                "uuid_parsing", ("body", "phone_number_id"), "Input should be a valid UUID", raw
            )
        return str(uuid.UUID(raw))

    def setup(self, request: Request) -> Response:
        """``POST /inbound/setup``: attach an agent (replacing any previous one)."""
        body = self._body(request)
        agent_id = body.get("agent_id")
        if agent_id is None:
            raise _invalid("missing", ("body", "agent_id"), "Field required", dict(body))
        if not isinstance(agent_id, str) or not _DASHED_UUID.match(agent_id):
            raise _invalid(
                "uuid_parsing", ("body", "agent_id"), "Input should be a valid UUID", agent_id
            )
        record = self._record(self._phone_number_id(body))
        if record is None:
            return self._unknown_id()
        agent = str(uuid.UUID(agent_id))
        # One number, one agent: re-mapping silently replaces the previous agent.
        self.store.update(
            record.number,
            vendor=self.vendor,
            routing={"voice_target": agent},
            data={"updated_ts": time.time()},
        )
        url = f"{request.host_url.rstrip('/')}/inbound_call?agent_id={agent}&user_id={_USER_ID}"
        return json_response(
            {"url": url, "phone_number": record.number, "id": uuid.UUID(record.vendor_id).hex}
        )

    def unlink(self, request: Request) -> Response:
        """``POST /inbound/unlink``: detach the agent (no agent attached is fine)."""
        body = self._body(request)
        record = self._record(self._phone_number_id(body))
        if record is None:
            return self._unknown_id()
        self.store.update(
            record.number,
            vendor=self.vendor,
            routing={"voice_target": None},
            data={"updated_ts": time.time()},
        )
        return json_response(
            {"url": None, "phone_number": record.number, "id": uuid.UUID(record.vendor_id).hex}
        )
