"""KrosAI: numbers from the KrosAI inventory, routed to a KrosAI endpoint (agent, SIP...).

Wire reference: ``vendor-apis.md`` §4. KrosAI publishes two inconsistent descriptions (a
GitBook guide and an OpenAPI "Cockpit API"); this client speaks the **guide** dialect:
``x-api-key`` auth, ``GET /phone-numbers/available``, snake_case fields, and reads both
``number`` and ``e164`` back.

Decisions:

* Buying needs an ``inventory_id``. Candidates found by :meth:`KrosAIVendor.search` carry it
  in ``vendor_ref``. An exact-number buy (a bare candidate) first looks the number up in
  the inventory by country, type and the number's area code, then buys that
  ``inventory_id``. The OpenAPI-only "dashboard flow" (``e164``/``country``/``type``) is
  not used, so every purchase takes the one documented path and KrosAI prices it.
* Errors branch on the JSON ``code``, never on the status (the guide says 400 for KYC and
  balance errors, a third-party client expects 403 and 402).
* A 404 counts as "not owned" only when it carries KrosAI's JSON error envelope; any other
  404 means the base URL is wrong, and must not make ``refresh`` drop numbers from state.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from pydantic import AliasChoices, BaseModel, ConfigDict, Field
from pydantic import ValidationError as _PydanticError

from .. import e164
from .._http import HttpClient, default_error, parse_retry_after
from ..config import Settings
from ..errors import (
    AuthError,
    ComplianceError,
    NotAvailable,
    NotFound,
    PaymentError,
    RateLimited,
    ServerError,
    ValidationError,
    VendorError,
)
from ..models import (
    CAPABILITIES,
    AvailableNumber,
    Money,
    NumberQuery,
    OwnedNumber,
    Routing,
    SearchPage,
)
from .base import Vendor, VendorInfo

__all__ = ["KrosAIVendor"]

_NAME = "krosai"
_SEARCH_PAGE = 50  # the API allows 1..100
_LIST_PAGE = 100
_MAX_PAGES = 50  # bound on pages fetched by one search / lookup (runaway paging guard)
_CENT = Decimal("0.01")
_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
#: Array keys seen in KrosAI answers: guide search, OpenAPI ``action=available``, list.
_ARRAY_KEYS = ("available_numbers", "data", "phone_numbers")

_SUBMIT = "complete KYC verification in the KrosAI dashboard, then run `pulumi up` again"
_WAIT = "KYC is still under review in the KrosAI dashboard; run `pulumi up` once it is approved"
_RESUBMIT = "KYC was declined; resubmit it in the KrosAI dashboard or contact KrosAI support"
#: KYC codes of the guide and of the OpenAPI reference, with what the user has to do.
_KYC_TODO = {
    "KYC_REQUIRED": _SUBMIT,
    "KYC_NOT_SUBMITTED": _SUBMIT,
    "KYC_PENDING": _WAIT,
    "KYC_INITIATED": _WAIT,
    "KYC_DECLINED": _RESUBMIT,
}
_AUTH_CODES = frozenset({"UNAUTHORIZED", "INVALID_API_KEY", "KEY_EXPIRED", "IP_NOT_ALLOWED"})
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

    number: str = Field(validation_alias=AliasChoices("number", "e164", "phone_number"))
    country: str = ""
    type: str = ""
    monthly_cost_cents: int | None = _either("monthly_cost_cents", "monthlyCostCents")
    setup_cost_cents: int | None = _either("setup_cost_cents", "setupCostCents")
    currency: str = "USD"
    capabilities: dict[str, bool] | list[str] | None = None


class _Available(_Wire):
    inventory_id: str = Field(validation_alias=AliasChoices("inventory_id", "inventoryId", "id"))


class _PhoneNumber(_Wire):
    id: str
    status: str = "active"
    endpoint_id: str | None = _either("endpoint_id", "endpointId")
    allow_inbound: bool | None = _either("allow_inbound", "allowInbound")
    allow_outbound: bool | None = _either("allow_outbound", "allowOutbound")


_M = TypeVar("_M", bound=_Wire)


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _parse(model: type[_M], raw: Any, response: httpx.Response, what: str) -> _M:
    """A wire model, or :class:`ServerError` (the request may have taken effect)."""
    try:
        return model.model_validate(raw)
    except _PydanticError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise ServerError(
            f"{_NAME}: unexpected answer while trying to {what} ({where}: {first['msg']})",
            vendor=_NAME,
            status=response.status_code,
        ) from None


def _items(body: Any) -> list[Any]:
    """The array of an answer: any of :data:`_ARRAY_KEYS`, or a bare array."""
    if isinstance(body, list):
        return body
    if isinstance(body, dict):
        for key in _ARRAY_KEYS:
            if isinstance(body.get(key), list):
                return list(body[key])
    return []


def _total(body: Any) -> int | None:
    value = body.get("total") if isinstance(body, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _money(cents: int | None, currency: str) -> Money:
    amount = (Decimal(cents) / 100).quantize(_CENT) if cents is not None else Decimal("0")
    return Money(amount=amount, currency=currency or "USD")


def _capabilities(raw: dict[str, bool] | list[str] | None) -> tuple[str, ...]:
    """Neutral capabilities; without the field, a voice number (KrosAI is voice-first)."""
    if raw is None:
        return ("voice",)
    have = {k for k, v in raw.items() if v} if isinstance(raw, dict) else set(raw)
    return tuple(c for c in CAPABILITIES if c in have)


def _path(vendor_id: str) -> str:
    return f"/phone-numbers/{quote(vendor_id, safe='')}"


def _error(response: httpx.Response) -> VendorError:
    """Map KrosAI's ``{"error": msg, "code": CODE}`` envelope by ``code``, then by status."""
    body = _json(response)
    envelope = isinstance(body, dict) and ("error" in body or "code" in body)
    status = response.status_code
    if not envelope:
        if status == 404:
            # Not KrosAI's answer (wrong path or proxy): never read as "number gone".
            return VendorError(
                f"{_NAME}: HTTP 404 from a URL that is not the KrosAI API; check "
                "phonenumbers:krosaiBaseUrl",
                vendor=_NAME,
                status=status,
            )
        return default_error(_NAME, response, response.reason_phrase)
    assert isinstance(body, dict)
    code = str(body.get("code") or "")
    message = str(body.get("error") or body.get("message") or response.reason_phrase)
    text = f"{_NAME}: {code or f'HTTP {status}'}: {message}"
    kwargs: dict[str, Any] = {"vendor": _NAME, "status": status, "code": code}
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
    return default_error(_NAME, response, message, code)


class KrosAIVendor(Vendor):
    """KrosAI Numbers over its REST API (guide dialect, ``x-api-key``)."""

    name = _NAME
    info = VendorInfo(
        countries=frozenset({"NG", "KE", "US"}),
        number_types=frozenset({"local", "mobile", "toll_free"}),
        routing_fields=frozenset({"voice_target", "inbound", "outbound"}),
        buy_carries_routing=True,
        target_format="a KrosAI endpoint id (ep_... or a UUID)",
        target_examples=("ep_xyz789", "3f6c2a9e-8d41-4b7a-9c55-0e1d2f3a4b5c"),
        target_pattern=rf"^(ep_[A-Za-z0-9_-]{{1,64}}|{_UUID})$",
        notes=(
            "routing rides on the purchase (endpoint_id, allow_inbound, allow_outbound)",
            "KYC must be approved in the KrosAI dashboard before any purchase",
            "search filters contains/capabilities on the client side (no such API filter)",
        ),
    )

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        key = settings.require("krosaiApiKey", _NAME)
        base = (settings.get("krosaiBaseUrl") or "https://api.krosai.com/v1").rstrip("/")
        self.http = HttpClient(
            _NAME,
            base,
            error_mapper=_error,
            timeout=settings.timeout,
            headers={"x-api-key": key},
            secrets=settings.secrets(),
        )

    def close(self) -> None:
        """Close the connection pool."""
        self.http.close()

    # -- search -------------------------------------------------------------------------
    def search(self, query: NumberQuery, cursor: str | None = None) -> SearchPage:
        """Inventory via ``GET /phone-numbers/available``; cursor = offset.

        ``contains``, ``capabilities`` and ``max_monthly_cost`` are filtered here; a page
        they empty is skipped, so a non-empty page or the end is always returned.
        """
        offset = int(cursor or 0)
        for _ in range(_MAX_PAGES):
            found, offset_next = self._inventory_page(
                query.country, query.number_type, query.area_code, offset
            )
            matching = tuple(a for a in found if self._matches(a, query))
            if matching or offset_next is None:
                return SearchPage(
                    numbers=matching, next_cursor=str(offset_next) if offset_next else None
                )
            offset = offset_next
        return SearchPage(next_cursor=str(offset))

    @staticmethod
    def _matches(available: AvailableNumber, query: NumberQuery) -> bool:
        if query.contains and query.contains not in e164.digits(available.number):
            return False
        if not set(query.capabilities) <= set(available.capabilities):
            return False
        return (
            query.max_monthly_cost is None
            or available.monthly_cost.amount <= query.max_monthly_cost
        )

    def _inventory_page(
        self, country: str, number_type: str, area_code: str | None, offset: int
    ) -> tuple[list[AvailableNumber], int | None]:
        """One inventory page and the offset of the next one (``None`` at the end)."""
        params: dict[str, str | int] = {
            "country": country,
            "type": number_type,
            "limit": _SEARCH_PAGE,
        }
        if area_code:
            params["area_code"] = area_code
        if offset:
            params["offset"] = offset
        what = f"search {country} {number_type} numbers"
        response = self.http.request(
            "GET", "/phone-numbers/available", kind="read", what=what, params=params
        )
        body = _json(response)
        raw = _items(body)
        found = [self._available(_parse(_Available, r, response, what)) for r in raw]
        total = _total(body)
        echoed = body.get("offset") if isinstance(body, dict) else None
        nxt = offset + len(raw)
        # No total, or a server that ignored our offset: no way to page safely.
        if total is None or not raw or nxt >= total or echoed not in (None, offset):
            return found, None
        return found, nxt

    @staticmethod
    def _available(wire: _Available) -> AvailableNumber:
        number = e164.normalize(wire.number)
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

    def _lookup(self, candidate: AvailableNumber) -> AvailableNumber | None:
        """The inventory entry (with its ``inventory_id``) of an exact number, if for sale."""
        area = e164.area_code(candidate.number) or None
        offset: int | None = 0
        pages = 0
        while offset is not None and pages < _MAX_PAGES:
            found, offset = self._inventory_page(
                candidate.country, candidate.number_type, area, offset
            )
            pages += 1
            match = next((a for a in found if a.number == candidate.number), None)
            if match is not None:
                return match
        return None

    # -- buy ----------------------------------------------------------------------------
    def buy(
        self, candidate: AvailableNumber, routing: Routing, options: Mapping[str, Any]
    ) -> OwnedNumber:
        """``POST /phone-numbers`` with the ``inventory_id``; routing rides on the purchase."""
        if candidate.vendor_ref is None:
            found = self._lookup(candidate)
            if found is None:
                raise NotAvailable(
                    f"{_NAME}: {candidate.number} is not in the KrosAI inventory "
                    f"for {candidate.country} {candidate.number_type} numbers",
                    vendor=_NAME,
                    status=404,
                    code="NUMBER_NOT_AVAILABLE",
                )
            candidate = found
        body: dict[str, Any] = {"inventory_id": candidate.vendor_ref}
        body.update(
            (wire, getattr(routing, field))
            for field, wire in _ROUTING_WIRE
            if getattr(routing, field) is not None
        )
        what = f"buy {candidate.number}"
        response = self.http.request(
            "POST", "/phone-numbers", kind="purchase", what=what, json=body
        )
        wire = _parse(_PhoneNumber, _json(response), response, what)
        return self._owned(wire, candidate)

    @staticmethod
    def _owned(
        wire: _PhoneNumber, known: AvailableNumber | OwnedNumber | None = None
    ) -> OwnedNumber:
        """The neutral model; facts an answer leaves out (list rows, PATCH) come from ``known``."""
        number = e164.normalize(wire.number)
        owned = OwnedNumber(
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
        )
        if known is None:
            return owned
        missing: dict[str, Any] = {}
        if wire.capabilities is None:
            missing["capabilities"] = known.capabilities
        if wire.monthly_cost_cents is None:
            missing["monthly_cost"] = known.monthly_cost
        if wire.setup_cost_cents is None:
            missing["setup_cost"] = known.setup_cost
        return owned.model_copy(update=missing)

    # -- get / list -----------------------------------------------------------------------
    def get(self, number: str, vendor_id: str | None = None) -> OwnedNumber | None:
        """``GET /phone-numbers/{id}``; without an id, the id is found by listing first."""
        if vendor_id:
            owned = self._get_by_id(vendor_id, number)
            if owned is None or owned.number == number:
                return owned
            # A stale id that now names another number: find the number by listing.
        found = self._vendor_id(number, missing_ok=True)
        return self._get_by_id(found, number) if found else None

    def _get_by_id(self, vendor_id: str, number: str) -> OwnedNumber | None:
        what = f"get {number}"
        try:
            response = self.http.request("GET", _path(vendor_id), kind="read", what=what)
        except NotFound:
            return None
        return self._owned(_parse(_PhoneNumber, _json(response), response, what))

    def list_owned(self) -> Iterator[OwnedNumber]:
        """``GET /phone-numbers?limit=&offset=`` following ``total``."""
        offset = 0
        while True:
            what = "list owned numbers"
            response = self.http.request(
                "GET",
                "/phone-numbers",
                kind="read",
                what=what,
                params={"limit": _LIST_PAGE, "offset": offset},
            )
            body = _json(response)
            raw = _items(body)
            for row in raw:
                yield self._owned(_parse(_PhoneNumber, row, response, what))
            offset += len(raw)
            total = _total(body)
            if (
                not raw
                or (total is not None and offset >= total)
                or (total is None and len(raw) < _LIST_PAGE)
            ):
                return

    # -- routing / release ------------------------------------------------------------------
    def update_routing(self, owned: OwnedNumber, old: Routing, new: Routing) -> OwnedNumber:
        """``PATCH /phone-numbers/{id}`` with only the fields that changed."""
        changed = old.changed_fields(new)
        unsupported = sorted(set(changed) - self.info.routing_fields)
        if unsupported:
            raise ValidationError(
                f"{_NAME}: cannot honour routing.{unsupported[0]}; KrosAI "
                "routes by endpoint_id, allow_inbound and allow_outbound",
                vendor=_NAME,
            )
        # endpoint_id null detaches; an undeclared direction flag is left as it is.
        body = {
            wire: getattr(new, field)
            for field, wire in _ROUTING_WIRE
            if field in changed and (field == "voice_target" or getattr(new, field) is not None)
        }
        if not body:
            return owned.model_copy(update={"routing": new})
        vendor_id = owned.vendor_id or self._vendor_id(owned.number)
        what = f"update routing of {owned.number}"
        response = self.http.request(
            "PATCH",
            _path(vendor_id),
            kind="write",
            what=what,
            json=body,
        )
        raw = _json(response)
        if not isinstance(raw, dict) or "id" not in raw:
            return owned.model_copy(update={"routing": new})
        return self._owned(_parse(_PhoneNumber, raw, response, what), owned)

    def release(self, number: str, vendor_id: str) -> None:
        """``DELETE /phone-numbers/{id}``; a number not owned (404) is already released."""
        vendor_id = vendor_id or self._vendor_id(number, missing_ok=True)
        if not vendor_id:
            return
        try:
            self.http.request(
                "DELETE",
                _path(vendor_id),
                kind="release",
                what=f"release {number}",
            )
        except NotFound:
            return

    def _vendor_id(self, number: str, *, missing_ok: bool = False) -> str:
        listed = next((o for o in self.list_owned() if o.number == number), None)
        if listed is not None:
            return listed.vendor_id
        if missing_ok:
            return ""
        raise NotFound(
            f"{_NAME}: {number} is not owned by this account",
            vendor=_NAME,
            status=404,
            code="NUMBER_NOT_OWNED",
        )
