"""The KrosAI face: KrosAI's three published dialects over the shared store, one at a time.

KrosAI documents its API three ways, inconsistently (``vendor-apis.md`` §4 and §8). The
switch ``krosai_dialect`` picks the one this face speaks, strictly (a client speaking another
gets what that server would answer):

* ``guide`` (default; the GitBook guide and the team's seed): base ``/v1``, ``x-api-key``,
  search ``GET /phone-numbers/available`` (``{"available_numbers", "total"}``, ``area_code``
  honoured), snake_case request fields ``endpoint_id`` / ``allow_inbound`` /
  ``allow_outbound`` (camelCase ones are unknown fields, ignored), ``number`` in answers,
  ``allow_outbound`` true by default;
* ``openapi`` (the "KrosAI Cockpit API" 1.3.0 reference): base ``/v1``, ``Authorization:
  Bearer`` (``x-api-key`` as its documented alternative), search ``GET
  /phone-numbers?action=available`` (``{"data", "total", "limit", "offset"}``; ``/available``
  is read as a phone-number id), camelCase request fields ``endpointId`` / ``allowInbound`` /
  ``allowOutbound`` (snake_case ignored), ``e164`` in answers, ``allow_outbound`` false by
  default;
* ``bridge`` (the "Bridge API" pages): the ``openapi`` dialect under ``/api/v1``, Bearer only
  ("X-API-Key is not accepted") and an ``organization_id`` query parameter on every call.

A path outside the dialect's base answers 404 ``NOT_FOUND`` (not ``NUMBER_NOT_OWNED``, so a
client pointed at the wrong base is told to check its base URL, never that a number is gone).
Buy by ``inventory_id`` or by the dashboard flow (``e164`` + ``country`` + ``type``).
Phone-number ids are ``pn_`` + 24 hex digits (the guide's form). Errors are
``{"error": msg, "code": CODE}``. Switches (``POST /_emulator/settings``): ``kyc``
(``none``/``submitted``/``approved``/``declined``), ``balance`` (``ok``/``insufficient``),
``kyc_status`` (400/403) and ``balance_status`` (400/402) for the status those errors
carry, ``search_shape`` (the array key of the guide search answer, or ``array``),
``rate_limit`` (``on`` enforces the documented 50/s and 5/s on purchase) and
``krosai_dialect``.
"""

from __future__ import annotations

import math
import re
import threading
import time
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar

from werkzeug.wrappers import Request, Response

from ..store import InventoryItem, OwnedRecord, Store, Unavailable
from .base import BadRequest, Face, Handler, json_response

__all__ = ["API_KEY", "DIALECTS", "ORGANIZATION_ID", "KrosAIFace"]

#: The emulator's one valid key (a KrosAI test key).
API_KEY = "kros_test_7c1e9f0a4b2d8e6f3a5c1b9d"
ORGANIZATION_ID = "0c3f5a1e-2b4d-4e6f-8a9b-1c2d3e4f5a6b"
_ORGANIZATION = ORGANIZATION_ID
DIALECTS = ("guide", "openapi", "bridge")
#: Request field spellings per dialect (neutral snake_case -> what the dialect reads).
_CAMEL = {
    "endpoint_id": "endpointId",
    "allow_inbound": "allowInbound",
    "allow_outbound": "allowOutbound",
    "inventory_id": "inventoryId",
}
_PREFIX = r"/(?:api/)?v1"
_ID = r"(?P<pn_id>[^/]+)"
_TYPES = ("local", "mobile", "toll_free")
_ENDPOINT_RE = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
#: Documented per-second limits (Pro plan; ``POST /phone-numbers`` 5/s).
_LIMIT, _BUY_LIMIT = 50, 5
_KYC = {
    "none": ("KYC_REQUIRED", "KYC verification is required before purchasing numbers"),
    "submitted": ("KYC_PENDING", "KYC verification is pending review"),
    "declined": ("KYC_DECLINED", "KYC verification was declined"),
}
_DEFAULT_CODES = {
    400: "VALIDATION_ERROR",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    429: "RATE_LIMIT_EXCEEDED",
    500: "INTERNAL_ERROR",
    503: "SERVICE_UNAVAILABLE",
}


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _cents(amount: Any) -> int:
    return int(amount * 100)


def _pick(body: Mapping[str, Any], field: str, dialect: str) -> tuple[bool, Any]:
    """``(present, value)`` of a request field in the dialect's spelling (others ignored)."""
    name = field if dialect == "guide" else _CAMEL.get(field, field)
    if name in body:
        return True, body[name]
    return False, None


class _RateLimiter:
    """Fixed one-second windows per bucket; counts always, refuses only when enforced."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._window = 0
        self._counts: dict[str, int] = {}

    def hit(self, bucket: str, limit: int) -> tuple[int, int]:
        """Count a request; ``(remaining, reset unix ts)``, remaining < 0 when over."""
        now = time.time()
        window = int(now)
        with self._lock:
            if window != self._window:
                self._window, self._counts = window, {}
            self._counts[bucket] = self._counts.get(bucket, 0) + 1
            return limit - self._counts[bucket], window + 1

    def reset(self) -> None:
        """Forget every count."""
        with self._lock:
            self._window, self._counts = 0, {}


class KrosAIFace(Face):
    """KrosAI ``/v1`` (and ``/api/v1``) phone-number API."""

    vendor = "krosai"
    purchase_path = r"/phone-numbers$"
    search_path = r"/phone-numbers/available"
    purchase_time = "second"
    switches: ClassVar[Mapping[str, tuple[Any, ...]]] = {
        "kyc": ("approved", "none", "submitted", "declined"),
        "balance": ("ok", "insufficient"),
        "kyc_status": (400, 403),
        "balance_status": (400, 402),
        "search_shape": ("available_numbers", "data", "phone_numbers", "array"),
        "rate_limit": ("off", "on"),
        "krosai_dialect": DIALECTS,
    }

    def __init__(self, store: Store) -> None:
        super().__init__(store)
        self._limiter = _RateLimiter()

    def routes(self) -> list[tuple[str, str, Handler]]:
        """Guide and OpenAPI paths; ``/available`` precedes ``/{id}`` (guide only)."""
        numbers = f"{_PREFIX}/phone-numbers"
        return [
            ("GET", f"{numbers}/available", self.search_available),
            ("GET", numbers, self.list_or_search),
            ("POST", numbers, self.buy),
            ("GET", f"{numbers}/{_ID}", self.get),
            ("PATCH", f"{numbers}/{_ID}", self.update),
            ("DELETE", f"{numbers}/{_ID}", self.release),
        ]

    # -- face plumbing ------------------------------------------------------------------
    def _dialect(self) -> str:
        return str(self.store.setting("krosai_dialect", "guide"))

    def dispatch(self, request: Request) -> Response:
        """Rate-limit accounting around the base dispatch; X-RateLimit-* on every answer."""
        base = "/api/v1/" if self._dialect() == "bridge" else "/v1/"
        if not request.path.startswith(base):
            return self.error(404, f"Route {request.path} not found", "NOT_FOUND")
        enforce = self.store.setting("rate_limit", "off") == "on"
        remaining, reset = self._limiter.hit("all", _LIMIT)
        limit = _LIMIT
        if request.method == "POST" and re.fullmatch(f"{_PREFIX}/phone-numbers/?", request.path):
            buy_remaining, _ = self._limiter.hit("buy", _BUY_LIMIT)
            if buy_remaining < remaining:
                remaining, limit = buy_remaining, _BUY_LIMIT
        if enforce and remaining < 0:
            wait = round(max(0.05, reset - time.time()), 2)
            response = json_response(
                {
                    "error": "Rate limit exceeded",
                    "code": "RATE_LIMIT_EXCEEDED",
                    "retry_after": wait,
                },
                status=429,
                headers={"Retry-After": str(math.ceil(wait))},
            )
        else:
            response = super().dispatch(request)
        response.headers["X-RateLimit-Limit"] = str(limit)
        response.headers["X-RateLimit-Remaining"] = str(max(0, remaining))
        response.headers["X-RateLimit-Reset"] = str(reset)
        return response

    def authenticate(self, request: Request, groups: Mapping[str, str]) -> Response | None:
        """The dialect's header carrying :data:`API_KEY` (and, on the bridge, the org id)."""
        dialect = self._dialect()
        key = request.headers.get("x-api-key", "")
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        bearer = scheme.lower() == "bearer" and token.strip() == API_KEY
        if dialect == "bridge" and key and not bearer:
            return self.error(
                401, "X-API-Key is not accepted; use Authorization: Bearer", "UNAUTHORIZED"
            )
        accepted = {"guide": key == API_KEY, "openapi": bearer or key == API_KEY}
        if not accepted.get(dialect, bearer):
            return self.error(401, "Unauthorized - Invalid or missing API key", "UNAUTHORIZED")
        if dialect == "bridge":
            org = request.args.get("organization_id")
            if not org:
                return self.error(400, "organization_id is required", "MISSING_FIELDS")
            if org != ORGANIZATION_ID:
                return self.error(403, "Not a member of this organization", "FORBIDDEN")
        return None

    def error(self, status: int, message: str, code: str = "") -> Response:
        """``{"error": message, "code": CODE}``."""
        return json_response(
            {"error": message, "code": code or _DEFAULT_CODES.get(status, "ERROR")}, status=status
        )

    def config(self, url: str) -> dict[str, str]:
        """Base URL with ``/v1`` and the test key."""
        return {"phonenumbers:krosaiBaseUrl": f"{url}/v1", "phonenumbers:krosaiApiKey": API_KEY}

    def reset(self) -> None:
        """Forget rate-limit counts."""
        self._limiter.reset()

    # -- wire objects ------------------------------------------------------------------------
    @staticmethod
    def _inventory(item: InventoryItem) -> dict[str, Any]:
        caps = set(item.capabilities)
        return {
            "inventory_id": item.ref,
            "number": item.number,
            "e164": item.number,
            "country": item.country,
            "type": item.number_type,
            "monthly_cost_cents": _cents(item.monthly),
            "setup_cost_cents": _cents(item.setup),
            "currency": item.currency,
            "capabilities": {"voice": "voice" in caps, "sms": "sms" in caps, "fax": False},
        }

    def _number(self, record: OwnedRecord, *, detail: bool) -> dict[str, Any]:
        """A phone-number object; ``endpoint`` and costs only on single-object answers."""
        item, routing = record.item, record.routing
        number_key = "number" if self._dialect() == "guide" else "e164"
        endpoint_id = routing.get("endpoint_id")
        body: dict[str, Any] = {
            "id": record.vendor_id,
            number_key: item.number,
            "country": item.country,
            "type": item.number_type,
            "status": record.status,
            "endpoint_id": endpoint_id,
            "allow_inbound": routing.get("allow_inbound", True),
            "allow_outbound": routing.get("allow_outbound", True),
            "sip_uri": f"sip:{item.number.lstrip('+')}@sip.krosai.com",
            "organization_id": _ORGANIZATION,
            "created_at": record.data.get("created_at"),
            "updated_at": record.data.get("updated_at"),
        }
        if detail:
            caps = set(item.capabilities)
            body.update(
                monthly_cost_cents=_cents(item.monthly),
                setup_cost_cents=_cents(item.setup),
                currency=item.currency,
                capabilities={"voice": "voice" in caps, "sms": "sms" in caps, "fax": False},
                endpoint={
                    "id": endpoint_id,
                    "name": f"Endpoint {endpoint_id}",
                    "type": "agent",
                    "provider": "elevenlabs",
                }
                if endpoint_id
                else None,
            )
        return body

    @staticmethod
    def _paging(request: Request) -> tuple[int, int]:
        try:
            limit = int(request.args.get("limit", "20"))
            offset = int(request.args.get("offset", "0"))
        except ValueError:
            raise BadRequest("limit and offset must be integers") from None
        if not 1 <= limit <= 100 or offset < 0:
            raise BadRequest("limit must be 1..100 and offset >= 0")
        return limit, offset

    # -- handlers -----------------------------------------------------------------------------
    def search_available(self, request: Request) -> Response:
        """``/phone-numbers/available``: the guide's search; elsewhere an id named "available"."""
        if self._dialect() == "guide":
            return self.search(request)
        return self.get(request, "available")

    def search(self, request: Request, *, openapi: bool = False) -> Response:
        """Available inventory (guide form, or OpenAPI when ``openapi``)."""
        country = request.args.get("country", "").strip().upper()
        if not re.fullmatch(r"[A-Z]{2}", country):
            raise BadRequest("country is required (ISO 3166-1 alpha-2)", code="MISSING_FIELDS")
        number_type = request.args.get("type") or None
        if number_type is not None and number_type not in _TYPES:
            raise BadRequest(f"type must be one of {', '.join(_TYPES)}")
        limit, offset = self._paging(request)
        area = request.args.get("area_code") if not openapi else None  # a guide-only filter
        items, total = self.store.search(
            country=country,
            number_type=number_type,
            area_code=area or None,
            limit=limit,
            offset=offset,
        )
        rows = [self._inventory(i) for i in items]
        if openapi:
            return json_response({"data": rows, "total": total, "limit": limit, "offset": offset})
        shape = self.store.setting("search_shape", "available_numbers")
        if shape == "array":
            return json_response(rows)
        return json_response({shape: rows, "total": total, "limit": limit, "offset": offset})

    def list_or_search(self, request: Request) -> Response:
        """``GET /phone-numbers``: owned numbers, or inventory with ``action=available``."""
        # ``action`` is an OpenAPI/bridge parameter; the guide's server ignores it.
        action = request.args.get("action", "assigned") if self._dialect() != "guide" else ""
        if action == "available":
            return self.search(request, openapi=True)
        if action not in ("assigned", ""):
            raise BadRequest("action must be 'assigned' or 'available'")
        limit, offset = self._paging(request)
        status, country = request.args.get("status"), request.args.get("country")
        records = [
            r
            for r in self.store.owned()
            if (not status or r.status == status)
            and (not country or r.item.country == country.upper())
        ]
        rows = [self._number(r, detail=False) for r in records[offset : offset + limit]]
        return json_response(
            {"phone_numbers": rows, "total": len(records), "limit": limit, "offset": offset}
        )

    def buy(self, request: Request) -> Response:
        """``POST /phone-numbers``: API flow (``inventory_id``) or dashboard flow (``e164``...)."""
        body = self.json_body(request)  # empty: MISSING_FIELDS below, as for ``{}``
        routing = self._routing(body, purchase=True, dialect=self._dialect())
        item = self._wanted(body)
        kyc = self.store.setting("kyc", "approved")
        if kyc in _KYC:
            code, message = _KYC[kyc]
            raise BadRequest(message, status=self.store.setting("kyc_status", 400), code=code)
        if item is None or self.store.available(item.number) is None:
            raise BadRequest(
                "Phone number is no longer available", status=404, code="NUMBER_NOT_AVAILABLE"
            )
        if self.store.setting("balance", "ok") == "insufficient":
            raise BadRequest(
                f"Insufficient balance: {_cents(item.monthly + item.setup)} cents required",
                status=self.store.setting("balance_status", 400),
                code="INSUFFICIENT_BALANCE",
            )
        stamp = _now()
        try:
            record = self.store.buy(
                item.number,
                vendor=self.vendor,
                vendor_id=f"pn_{uuid.uuid4().hex[:24]}",
                status="pending" if item.needs_verification else "active",
                routing=routing,
                data={"created_at": stamp, "updated_at": stamp},
            )
        except Unavailable:
            raise BadRequest(
                "Phone number is no longer available", status=404, code="NUMBER_NOT_AVAILABLE"
            ) from None
        return json_response(self._number(record, detail=True), status=201)

    def _wanted(self, body: Mapping[str, Any]) -> InventoryItem | None:
        """The inventory item a purchase names; ``None`` when it is not in the inventory."""
        _, ref = _pick(body, "inventory_id", "guide")
        if ref is None:
            _, ref = _pick(body, "inventory_id", "openapi")
        if ref is not None:
            if not isinstance(ref, str) or not ref:
                raise BadRequest("inventory_id must be a string")
            return self.store.item_by_ref(ref)
        e164, country, ntype = body.get("e164"), body.get("country"), body.get("type")
        if not (e164 and country and ntype):
            raise BadRequest(
                "Provide inventory_id, or e164, country and type", code="MISSING_FIELDS"
            )
        if not all(isinstance(v, str) for v in (e164, country, ntype)) or ntype not in _TYPES:
            raise BadRequest(f"e164 and country must be strings, type one of {', '.join(_TYPES)}")
        item = self.store.item(e164)
        if item is not None and (item.country != country.upper() or item.number_type != ntype):
            raise BadRequest(f"{e164} is not a {country.upper()} {ntype} number")
        return item

    @staticmethod
    def _routing(body: Mapping[str, Any], *, purchase: bool, dialect: str) -> dict[str, Any]:
        """Routing fields of a body in the dialect's spelling, as stored (snake_case)."""
        out: dict[str, Any] = {}
        present, endpoint = _pick(body, "endpoint_id", dialect)
        if present:
            if endpoint is not None and not (
                isinstance(endpoint, str) and _ENDPOINT_RE.match(endpoint)
            ):
                raise BadRequest("endpoint_id must be an endpoint id (ep_... or a UUID) or null")
            out["endpoint_id"] = endpoint
        for snake in ("allow_inbound", "allow_outbound"):
            present, value = _pick(body, snake, dialect)
            if present:
                if not isinstance(value, bool):
                    raise BadRequest(f"{snake} must be a boolean")
                out[snake] = value
            elif purchase:  # defaults: the guide says both true, the OpenAPI outbound false
                out[snake] = dialect == "guide" or snake == "allow_inbound"
        return out

    def _owned_or_404(self, pn_id: str) -> OwnedRecord:
        record = self.store.get_by_id(pn_id)
        if record is None:
            raise BadRequest(
                "Phone number not found on this organization", status=404, code="NUMBER_NOT_OWNED"
            )
        return record

    def get(self, request: Request, pn_id: str) -> Response:
        """``GET /phone-numbers/{id}``: the full object (endpoint, costs)."""
        return json_response(self._number(self._owned_or_404(pn_id), detail=True))

    def update(self, request: Request, pn_id: str) -> Response:
        """``PATCH /phone-numbers/{id}``: endpoint and call directions, the dialect's spelling."""
        body = self.json_body(request, required=True)
        record = self._owned_or_404(pn_id)
        routing = self._routing(body, purchase=False, dialect=self._dialect())
        if not body:
            raise BadRequest("Nothing to update: send endpoint_id, allow_inbound or allow_outbound")
        if not routing:  # only fields this dialect does not know: ignored, like any server
            return json_response(self._number(record, detail=True))
        updated = self.store.update(
            record.number, vendor=self.vendor, routing=routing, data={"updated_at": _now()}
        )
        if updated is None:  # released between the two calls
            raise BadRequest(
                "Phone number not found on this organization", status=404, code="NUMBER_NOT_OWNED"
            )
        return json_response(self._number(updated, detail=True))

    def release(self, request: Request, pn_id: str) -> Response:
        """``DELETE /phone-numbers/{id}`` (``?action=release`` is accepted and the same)."""
        record = self._owned_or_404(pn_id)
        if not self.store.release(record.number, vendor=self.vendor):
            raise BadRequest(
                "Phone number not found on this organization", status=404, code="NUMBER_NOT_OWNED"
            )
        return json_response(
            {"success": True, "message": "Phone number released back to the inventory"}
        )
