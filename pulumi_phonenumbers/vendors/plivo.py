"""Plivo: search, buy, get, list, re-route and release numbers over Plivo's REST API v1.

Wire reference: ``vendor-apis.md`` section 1 (wire models in :mod:`._plivo_wire`). Every
path lives under ``{plivoBaseUrl}/v1/Account/{auth_id}/`` and ends with a slash; numbers
appear in paths as E.164 digits without ``+`` (also the ``vendor_id``). Routing maps
``voice_target`` onto the number's ``app_id`` (the application handles voice *and* SMS, so
there is no separate ``sms_target``) and ``label`` onto its ``alias``. The purchase carries
``app_id`` (``purchase_routing``), so a create costs one search and one purchase (plus one
update, made by ``Purchase``, for a label: the purchase has no alias field).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from .. import _answers as answers
from .. import e164
from .._http import HttpClient, segment
from .._pace import bucket_for
from ..config import Settings
from ..errors import (
    ConfigError,
    NotAvailable,
    NotFound,
    ValidationError,
)
from ..models import CAPABILITIES, AvailableNumber, NumberQuery, OwnedNumber, Routing, SearchPage
from . import _plivo_wire as wire
from ._shared import confirm_released, listed_after_not_found
from .base import Vendor, VendorInfo

__all__ = ["PlivoVendor"]

_PAGE = 20  # Plivo's maximum page size (limit <= 20)
#: Pages one search call may read while ``contains`` (filtered here) matches nothing.
_CONTAINS_SCAN_PAGES = 10
_AUTH_ID = re.compile(r"^(MA|SA)[A-Z0-9]{18}$")
_SUBACCOUNT = re.compile(r"^SA[A-Z0-9]{18}$")
#: Neutral number types onto Plivo's search ``type``, which accepts ``tollfree``, ``local``,
#: ``mobile``, ``national`` and ``fixed`` (www.plivo.com/docs/numbers/phone-numbers).
#: ``fixed`` covers the ``local`` *and* ``national`` sub-types, so a neutral ``local`` is
#: searched as ``local``; the extras ``fixed`` and ``national`` pass through unchanged.
_SUBACCOUNT_BUY = (
    "vendor plivo: phonenumbers:plivoAuthId is a subaccount auth id (SA...), and Plivo refuses "
    "purchases made with subaccount credentials (404 'not found' for every number). Set the "
    "main account's credentials (MA...) and pass the subaccount as vendor_options.subaccount"
)
_SEARCH_TYPE = {"local": "local", "mobile": "mobile", "toll_free": "tollfree"}
#: The result types (from ``type``/``sub_type``) a search for each neutral type may offer.
_OFFERED = {"fixed": frozenset({"local", "national"})}


class PlivoVendor(Vendor):
    """Plivo numbers over HTTPS (one pooled client per provider process)."""

    name = wire.VENDOR
    info = VendorInfo(
        countries=frozenset({"US", "CA", "GB", "DE", "FR", "IN", "NG", "KE", "AU", "BR"}),
        number_types=frozenset({"local", "mobile", "toll_free", "national", "fixed"}),
        routing_fields=frozenset({"voice_target", "label"}),
        options={
            "cnam_lookup": "`enabled` or `disabled`: caller-name lookup (US local/toll-free only)",
            "subaccount": "auth id (SA + 18 characters) of the subaccount that gets the number",
            "compliance_application_id": "approved compliance application for regulated countries",
        },
        capabilities=frozenset(CAPABILITIES),
        purchase_routing=frozenset({"voice_target"}),
        target_format="a numeric Plivo application id",
        target_examples=("29986316244302815", "17248282830499840"),
        target_pattern=r"^\d{1,24}$",
        notes=(
            "One Plivo application answers both calls and messages: `routing.sms_target` is "
            "refused; route SMS through the application given as `voice_target`.",
            "Numbers in countries that need address or identity proof (DE, FR, IN, AU, BR) come "
            "back with status `pending` until Plivo approves the documents.",
            "`contains` is filtered client-side (Plivo's `pattern` only matches a prefix).",
        ),
    )

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        auth_id = settings.require("plivoAuthId", wire.VENDOR).strip()
        token = settings.require("plivoAuthToken", wire.VENDOR)
        if not _AUTH_ID.match(auth_id):
            raise ConfigError(
                "plivo: phonenumbers:plivoAuthId must be a 20-character Plivo auth id starting "
                "with MA (main account) or SA (subaccount)"
            )
        self._subaccount = bool(_SUBACCOUNT.match(auth_id))
        base = (settings.get("plivoBaseUrl") or "https://api.plivo.com").rstrip("/")
        # The auth id is part of every URL: it is redacted like the token.
        self.http = HttpClient(
            wire.VENDOR,
            f"{base}/v1/Account/{auth_id}/",
            error_mapper=wire.error_from,
            not_found=wire.not_found,
            timeout=settings.timeout,
            pacer=bucket_for(wire.VENDOR, settings.requests_per_second(wire.VENDOR)),
            auth=(auth_id, token),
            secrets=(*settings.secrets(), auth_id, token),
        )

    def close(self) -> None:
        """Close the connection pool."""
        self.http.close()

    # -- check time -------------------------------------------------------------------------
    @classmethod
    def check_query(cls, query: NumberQuery, options: Mapping[str, Any]) -> list[tuple[str, str]]:
        """Validate ``vendor_options`` values (their keys are already checked by ``inputs``)."""
        problems: list[tuple[str, str]] = []

        def fail(option: str, reason: str) -> None:
            problems.append((f"vendor_options.{option}", f"vendor plivo: {reason}"))

        cnam = options.get("cnam_lookup")
        if cnam is not None and cnam not in ("enabled", "disabled"):
            fail("cnam_lookup", f"must be 'enabled' or 'disabled', got {cnam!r}")
        elif cnam is not None and (
            query.country != "US" or query.number_type not in ("local", "fixed", "toll_free")
        ):
            fail("cnam_lookup", "applies to US local and toll-free numbers only")
        sub = options.get("subaccount")
        if sub is not None and not (isinstance(sub, str) and _SUBACCOUNT.match(sub)):
            fail("subaccount", "must be a subaccount auth id: 'SA' + 18 upper-case letters/digits")
        app = options.get("compliance_application_id")
        if app is not None and not (isinstance(app, str) and app.strip()):
            fail("compliance_application_id", "must be a non-empty string")
        return problems

    @classmethod
    def check_credentials(cls, settings: Settings) -> list[tuple[str, str]]:
        """Subaccount credentials cannot buy: Plivo answers 404 "not found" to every purchase."""
        if _SUBACCOUNT.match((settings.get("plivoAuthId") or "").strip()):
            return [("vendor", _SUBACCOUNT_BUY)]
        return []

    # -- the six verbs ----------------------------------------------------------------------
    def search(self, query: NumberQuery, cursor: str | None = None) -> SearchPage:
        """``GET /PhoneNumber/``: one page of 20; the cursor is Plivo's ``offset``."""
        params: dict[str, str | int] = {
            "country_iso": query.country,
            "type": _SEARCH_TYPE.get(query.number_type, query.number_type),
            "limit": _PAGE,
        }
        if query.area_code:
            params["pattern"] = query.area_code  # numbers starting with country code + pattern
        if query.capabilities:
            params["services"] = ",".join(c for c in CAPABILITIES if c in query.capabilities)
        offset = int(cursor or 0)
        scans = 0
        while True:
            params["offset"] = offset
            response = self.http.request(
                "GET",
                "PhoneNumber/",
                kind="read",
                params=params,
                what=f"search {query.country} numbers",
            )
            what = f"search {query.country} numbers"
            page = answers.parse(wire.VENDOR, response, wire.Page, what)
            offers = answers.each(wire.VENDOR, page.objects, wire.PhoneNumber, what)
            wanted = _OFFERED.get(query.number_type, frozenset({query.number_type}))
            # Never offer (and so never buy) another sub-type than the one asked for.
            numbers = [
                n
                for n in (wire.available(obj, query.country) for obj in offers)
                if n.number_type in wanted
            ]
            if query.contains:
                numbers = [n for n in numbers if query.contains in e164.digits(n.number)]
            following = wire.next_offset(page.meta, offset, len(page.objects))
            scans += 1
            if numbers or following is None or not query.contains:
                break
            if scans >= _CONTAINS_SCAN_PAGES:
                break
            offset = following
        cursor_out = str(following) if following is not None else None
        return SearchPage(numbers=tuple(numbers), next_cursor=cursor_out)

    def buy(
        self, candidate: AvailableNumber, routing: Routing, options: Mapping[str, Any]
    ) -> OwnedNumber:
        """``POST /PhoneNumber/{n}/`` with ``app_id``; 404 means the number is not for sale.

        Builds the result from ``candidate`` and the answer (no extra GET). A bare candidate
        (exact-number buy) gets the geocoder's locality and zero prices until the next read.
        """
        number = candidate.number
        body: dict[str, Any] = {}
        if routing.voice_target:
            body["app_id"] = routing.voice_target
        for key in ("cnam_lookup", "subaccount", "compliance_application_id"):
            if options.get(key) is not None:
                body[key] = str(options[key])
        try:
            response = self.http.request(
                "POST",
                f"PhoneNumber/{_path(number)}/",
                kind="purchase",
                json=body,
                what=f"buy {number}",
            )
        except NotFound as exc:
            if self._subaccount:  # every candidate would get the same 404: stop here
                raise ConfigError(_SUBACCOUNT_BUY) from None
            raise NotAvailable(str(exc), vendor=wire.VENDOR, status=exc.status) from None
        owned = OwnedNumber(
            number=number,
            vendor_id=e164.digits(number),
            country=candidate.country,
            number_type=candidate.number_type,
            capabilities=candidate.capabilities,
            monthly_cost=candidate.monthly_cost,
            setup_cost=candidate.setup_cost,
            locality=candidate.locality or self._geo(number),
            status=answers.parse(
                wire.VENDOR, response, wire.BuyResponse, f"buy {number}"
            ).status_of(number),
            routing=Routing(voice_target=routing.voice_target),
        )
        return owned

    def get(self, number: str, vendor_id: str | None = None) -> OwnedNumber | None:
        """``GET /Number/{n}/``; ``None`` only when Plivo's 404 is confirmed by the listing."""
        what = f"get {number}"
        try:
            response = self.http.request("GET", f"Number/{_path(number)}/", kind="read", what=what)
        except NotFound as exc:
            return listed_after_not_found(self, number, exc, "plivoBaseUrl")
        return wire.owned(answers.parse(wire.VENDOR, response, wire.AccountNumber, what))

    def list_owned(self) -> Iterator[OwnedNumber]:
        """``GET /Number/`` page by page (20 a page) until ``meta.next`` is empty."""
        offset: int | None = 0
        while offset is not None:
            what = "list numbers"
            response = self.http.request(
                "GET", "Number/", kind="read", what=what, params={"limit": _PAGE, "offset": offset}
            )
            page = answers.parse(wire.VENDOR, response, wire.Page, what)
            for obj in answers.each(wire.VENDOR, page.objects, wire.AccountNumber, what):
                yield wire.owned(obj)
            offset = wire.next_offset(page.meta, offset, len(page.objects))

    def update_routing(self, owned: OwnedNumber, old: Routing, new: Routing) -> OwnedNumber:
        """``POST /Number/{n}/`` with only the changed ``app_id`` / ``alias`` (202)."""
        changed = set(old.changed_fields(new))
        body: dict[str, str] = {}
        # Unsetting sends app_id "": Plivo documents no detach value; "" is what the old SDK's
        # unlink_application_number sent, and plivo-node#63 reports it answered "changed"
        # without unlinking, so an unlink is read back below (docs/wire-evidence.md).
        if "voice_target" in changed:
            body["app_id"] = new.voice_target or ""
        if "label" in changed:
            body["alias"] = new.label or ""
        applied = owned.replace(routing=Routing(voice_target=new.voice_target, label=new.label))
        if not body:
            return applied
        try:
            self.http.request(
                "POST",
                f"Number/{_path(owned.number)}/",
                kind="write",
                json=body,
                what=f"re-route {owned.number}",
            )
        except NotFound as exc:
            raise NotFound(
                f"{exc}; the account no longer owns {owned.number}",
                vendor=wire.VENDOR,
                status=exc.status,
            ) from None
        if "voice_target" in changed and new.voice_target is None and old.voice_target:
            return self._unlinked(applied, old.voice_target)
        return applied

    def _unlinked(self, applied: OwnedNumber, old_app: str) -> OwnedNumber:
        """Read back an unlink: fail clearly if Plivo kept ``old_app`` on the number."""
        now = self.get(applied.number)
        if now is None:
            raise NotFound(
                f"plivo: {applied.number} is no longer owned by this account",
                vendor=wire.VENDOR,
                status=404,
            )
        if now.routing.voice_target == old_app:
            raise ValidationError(
                f"plivo: asked to detach application {old_app} from {applied.number} "
                '(app_id ""), and Plivo answered "changed" but kept it. Plivo documents no '
                "way to detach an application: route the number to another application "
                "(routing.voice_target) or detach it in the Plivo console",
                vendor=wire.VENDOR,
            )
        # Detached, or Plivo put the account's default_number_app there (its documented default
        # for a number without app_id): either way the old target no longer answers.
        return applied

    def release(self, number: str, vendor_id: str) -> None:
        """``DELETE /Number/{n}/`` (204); Plivo's 404 is success once the listing confirms it."""
        try:
            self.http.request(
                "DELETE", f"Number/{_path(number)}/", kind="release", what=f"release {number}"
            )
        except NotFound as exc:
            confirm_released(self, number, exc, "plivoBaseUrl")

    # -- helpers ----------------------------------------------------------------------------
    @staticmethod
    def _geo(number: str) -> str:
        try:
            return e164.locality(number)
        except Exception:  # an unparsable number has no locality; never fail a purchase on it
            return ""


def _path(number: str) -> str:
    """A number as Plivo's path segment: E.164 digits, percent-encoded."""
    return segment(e164.digits(number))
