"""KrosAI: numbers from the KrosAI inventory, routed to a KrosAI endpoint (agent, SIP...).

Wire reference: ``vendor-apis.md`` §4 and §8 (wire models in :mod:`._krosai_wire`). KrosAI
documents three inconsistent dialects; ``phonenumbers:krosaiDialect`` picks one
(docs/wire-evidence.md says why ``guide`` is the default):

* ``guide`` (default): ``x-api-key``, search ``GET /phone-numbers/available`` (with
  ``area_code``), snake_case ``endpoint_id`` / ``allow_inbound`` / ``allow_outbound``;
* ``openapi`` (the 1.3.0 reference): ``Authorization: Bearer``, search ``GET
  /phone-numbers?action=available`` (area code filtered here), camelCase ``endpointId`` /
  ``allowInbound`` / ``allowOutbound``;
* ``bridge``: the ``openapi`` dialect under ``/api/v1`` with an ``organization_id`` query
  parameter (``phonenumbers:krosaiOrganizationId``) on every call.

Answers are read in either spelling (``number``/``e164``...). Because a server silently
ignores a field spelled the other way, every routing change is read back: the answer to a
purchase or a PATCH must carry the routing sent (a purchase answer that does not is checked
once more with a GET), or the call fails naming ``phonenumbers:krosaiDialect``.

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

from collections.abc import Collection, Iterator, Mapping
from typing import Any

import httpx

from .. import _answers as answers
from .. import e164
from .._http import HttpClient, Kind
from .._pace import bucket_for
from ..config import Settings
from ..errors import ConfigError, NotAvailable, NotFound, ValidationError
from ..models import AvailableNumber, NumberQuery, OwnedNumber, Routing, SearchPage
from . import _krosai_wire as wire
from ._shared import confirm_released, json_or_none, listed_after_not_found, matches
from .base import Vendor, VendorInfo

__all__ = ["KrosAIVendor"]

_NAME = wire.VENDOR
_DEFAULT_BASE = "https://api.krosai.com/v1"
_BRIDGE_BASE = "https://api.krosai.com/api/v1"
_SEARCH_PAGE = 50  # the API allows 1..100
_LIST_PAGE = 100
_MAX_PAGES = 50  # bound on pages fetched by one search / lookup (runaway paging guard)
_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"


class KrosAIVendor(Vendor):
    """KrosAI Numbers over its REST API (guide dialect, ``x-api-key``)."""

    name = _NAME
    info = VendorInfo(
        countries=frozenset({"NG", "KE", "US"}),
        number_types=frozenset({"local", "mobile", "toll_free"}),
        routing_fields=frozenset({"voice_target", "inbound", "outbound"}),
        purchase_routing=frozenset({"voice_target", "inbound", "outbound"}),
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
        dialect = (settings.get("krosaiDialect") or "guide").strip().lower()
        if dialect not in wire.DIALECTS:
            raise ConfigError(
                f"{_NAME}: phonenumbers:krosaiDialect must be one of "
                f"{', '.join(wire.DIALECTS)}, got {dialect!r}"
            )
        self.dialect = dialect
        base = (settings.get("krosaiBaseUrl") or _DEFAULT_BASE).rstrip("/")
        if dialect == "bridge" and base == _DEFAULT_BASE:
            base = _BRIDGE_BASE
        self._org: dict[str, str] = {}
        if dialect == "bridge":
            org = settings.require("krosaiOrganizationId", _NAME)
            self._org = {"organization_id": org}
        auth = {"x-api-key": key} if dialect == "guide" else {"Authorization": f"Bearer {key}"}
        self.http = HttpClient(
            _NAME,
            base,
            error_mapper=wire.error_from,
            not_found=wire.not_found,
            timeout=settings.timeout,
            pacer=bucket_for(_NAME, settings.requests_per_second(_NAME)),
            headers=auth,
            secrets=settings.secrets(),
        )

    def _request(
        self,
        method: str,
        path: str,
        *,
        kind: Kind,
        what: str,
        params: Mapping[str, str | int] | None = None,
        json: Any = None,
    ) -> httpx.Response:
        """One call, with the bridge dialect's ``organization_id`` on it."""
        merged = {**(params or {}), **self._org} or None
        return self.http.request(method, path, kind=kind, what=what, params=merged, json=json)

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
            matching = tuple(a for a in found if matches(a, query))
            if matching or offset_next is None:
                return SearchPage(
                    numbers=matching, next_cursor=str(offset_next) if offset_next else None
                )
            offset = offset_next
        return SearchPage(next_cursor=str(offset))

    def _inventory_page(
        self, country: str, number_type: str, area_code: str | None, offset: int
    ) -> tuple[list[AvailableNumber], int | None]:
        """One inventory page and the offset of the next one (``None`` at the end)."""
        params: dict[str, str | int] = {
            "country": country,
            "type": number_type,
            "limit": _SEARCH_PAGE,
        }
        guide = self.dialect == "guide"
        if area_code and guide:
            params["area_code"] = area_code  # a guide-only filter; elsewhere filtered below
        if offset:
            params["offset"] = offset
        if not guide:
            params["action"] = "available"
        what = f"search {country} {number_type} numbers"
        path = "/phone-numbers/available" if guide else "/phone-numbers"
        response = self._request("GET", path, kind="read", what=what, params=params)
        body = answers.body(_NAME, response, what)
        raw = wire.items(body)
        found = [wire.available(a) for a in answers.each(_NAME, raw, wire.Available, what)]
        if area_code and not guide:
            found = [a for a in found if e164.area_code(a.number) == area_code]
        return found, wire.next_offset(body, offset, len(raw))

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
        body = wire.buy_body(candidate.vendor_ref, routing, self.dialect)
        what = f"buy {candidate.number}"
        response = self._request("POST", "/phone-numbers", kind="purchase", what=what, json=body)
        # An unreadable 2xx is UnparsableAnswer: ambiguous, the purchase code checks ownership.
        bought = wire.owned(answers.parse(_NAME, response, wire.PhoneNumber, what), candidate)
        declared = [f for f in self.info.routing_fields if getattr(routing, f) is not None]
        if wire.dropped(routing, bought.routing, declared):  # read back before believing it
            again = self._get_by_id(bought.vendor_id, bought.number)
            bought = again.replace(monthly_cost=bought.monthly_cost) if again else bought
        self._check_routing(bought, routing, declared, "purchase")
        return bought

    def _check_routing(
        self, owned: OwnedNumber, sent: Routing, fields: Collection[str], action: str
    ) -> None:
        """Fail (naming the dialect setting) when KrosAI did not keep routing fields sent."""
        lost = wire.dropped(sent, owned.routing, fields)
        if lost:
            raise ValidationError(
                f"{_NAME}: the {action} of {owned.number} did not apply routing."
                f"{', routing.'.join(lost)} (sent in the {self.dialect!r} dialect, KrosAI "
                "answered without it): the API likely speaks another dialect; set "
                "phonenumbers:krosaiDialect (guide, openapi or bridge)",
                vendor=_NAME,
            )

    # -- get / list -----------------------------------------------------------------------
    def get(self, number: str, vendor_id: str | None = None) -> OwnedNumber | None:
        """``GET /phone-numbers/{id}``; without an id (or a stale one), the id is found by
        listing first. ``None`` only when ``NUMBER_NOT_OWNED`` is confirmed by the listing."""
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
            response = self._request("GET", wire.path(vendor_id), kind="read", what=what)
        except NotFound as exc:
            return listed_after_not_found(self, number, exc, "krosaiBaseUrl")
        return wire.owned(answers.parse(_NAME, response, wire.PhoneNumber, what))

    def list_owned(self) -> Iterator[OwnedNumber]:
        """``GET /phone-numbers?limit=&offset=`` following ``total``."""
        offset = 0
        while True:
            what = "list owned numbers"
            response = self._request(
                "GET",
                "/phone-numbers",
                kind="read",
                what=what,
                params={"limit": _LIST_PAGE, "offset": offset},
            )
            body = answers.body(_NAME, response, what)
            raw = wire.items(body)
            for row in answers.each(_NAME, raw, wire.PhoneNumber, what):
                yield wire.owned(row)
            offset += len(raw)
            total = wire.total(body)
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
        body = wire.patch_body(changed, new, self.dialect)
        if not body:
            return owned.replace(routing=new)
        vendor_id = owned.vendor_id or self._vendor_id(owned.number)
        what = f"update routing of {owned.number}"
        response = self._request("PATCH", wire.path(vendor_id), kind="write", what=what, json=body)
        raw = json_or_none(response)
        if isinstance(raw, dict) and "id" in raw:
            updated = wire.owned(answers.parse(_NAME, response, wire.PhoneNumber, what), owned)
        else:  # the PATCH answer body is optional: read the number back
            got = self._get_by_id(vendor_id, owned.number)
            if got is None:
                raise NotFound(
                    f"{_NAME}: {owned.number} is no longer owned by this account",
                    vendor=_NAME,
                    status=404,
                )
            updated = got
        sent = [f for f in changed if f == "voice_target" or getattr(new, f) is not None]
        self._check_routing(updated, new, sent, "routing update")
        return updated

    def release(self, number: str, vendor_id: str) -> None:
        """``DELETE /phone-numbers/{id}``; ``NUMBER_NOT_OWNED`` is success once the listing
        confirms it (without an id, a listing without the number is the answer)."""
        vendor_id = vendor_id or self._vendor_id(number, missing_ok=True)
        if not vendor_id:
            return
        try:
            self._request("DELETE", wire.path(vendor_id), kind="release", what=f"release {number}")
        except NotFound as exc:
            confirm_released(self, number, exc, "krosaiBaseUrl")

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
