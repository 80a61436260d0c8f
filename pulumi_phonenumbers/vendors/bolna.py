"""Bolna: numbers bought through Bolna (Twilio in the US, Plivo or Vobiz in India), routed
to a Bolna voice agent.

Wire reference: ``vendor-apis.md`` §3 (wire models in :mod:`._bolna_wire`). Bearer auth;
every list is a bare JSON array.

Quirks this client absorbs:

* No paging and no get-one endpoint: ``get`` lists ``GET /phone-numbers/all`` and filters.
* Ids come dashed (buy) or as 32 bare hex digits (list); they are compared and reported
  in one canonical form, the lowercase dashed UUID.
* The purchase cannot carry routing: the agent is attached afterwards with
  ``POST /inbound/setup`` (``Purchase`` makes that one extra call, and releases the number
  if it fails), and detached with ``POST /inbound/unlink``.
* Prices: search says USD (``5.0``), buy says cents (``500``), list says ``"$5.0"``.
* Error bodies are ``{"error": int, "message"}``, ``{"detail": str}`` (auth) or FastAPI's
  ``{"detail": [...]}`` (422). An invalid key is a 403, a missing one a 401. Bolna's
  business-error texts are not published: only "not available" / "not found" texts are
  recognised, and any other 400 to a purchase is ambiguous (a ``ServerError``: the purchase
  code asks the account whether it now owns the number), any other 400/404 to a release is
  settled by the account listing (docs/wire-evidence.md).
* The telephony ``provider`` (``twilio`` | ``plivo`` | ``vobiz``) is a ``vendor_options``
  entry; India also takes a ``region`` code that narrows the search.
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
from ..errors import ConfigError, NotFound, ServerError, ValidationError
from ..inputs import is_unknown
from ..models import AvailableNumber, NumberQuery, OwnedNumber, Routing, SearchPage
from . import _bolna_wire as wire
from ._bolna_wire import canonical_id
from ._shared import confirm_released
from .base import Vendor, VendorInfo

__all__ = ["PROVIDERS", "BolnaVendor", "canonical_id"]

_NAME = wire.VENDOR
#: Telephony providers Bolna buys from, and which countries each one serves.
PROVIDERS: Mapping[str, frozenset[str]] = {
    "twilio": frozenset({"US"}),
    "plivo": frozenset({"IN"}),
    "vobiz": frozenset({"IN"}),
}
_DEFAULT_PROVIDER = {"US": "twilio", "IN": "plivo"}
_UUID_RE = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"


def default_provider(country: str) -> str:
    """The telephony provider Bolna uses for ``country`` when none is chosen."""
    return _DEFAULT_PROVIDER.get(country.upper(), "twilio")


def _problems(query: NumberQuery, options: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    provider = options.get("provider")
    if provider is not None and not is_unknown(provider):
        serves = PROVIDERS.get(provider) if isinstance(provider, str) else None
        fits = sorted(p for p, c in PROVIDERS.items() if query.country in c)
        if serves is None:
            yield (
                "vendor_options.provider",
                (
                    f"vendor bolna has no telephony provider {provider!r}; choose one of "
                    f"{', '.join(sorted(PROVIDERS))}"
                ),
            )
        elif query.country not in serves:
            yield (
                "vendor_options.provider",
                (
                    f"vendor bolna does not sell {query.country} numbers through {provider}; "
                    f"use {' or '.join(fits) or 'another vendor'}"
                ),
            )
    region = options.get("region")
    if region is not None and not is_unknown(region):
        if query.country != "IN":
            yield (
                "vendor_options.region",
                (
                    "vendor bolna takes a region only for Indian numbers (country IN); use "
                    "area_code to narrow a US search"
                ),
            )
        elif isinstance(region, bool) or not re.fullmatch(r"[0-9]{1,4}", str(region)):
            yield (
                "vendor_options.region",
                (
                    f"vendor bolna expects region to be an Indian region code such as '80', got "
                    f"{region!r}"
                ),
            )
    if query.country == "US" and query.area_code and len(query.area_code) != 3:
        yield (
            "area_code",
            (f"vendor bolna searches US numbers by a 3-digit area code, got {query.area_code!r}"),
        )


class BolnaVendor(Vendor):
    """Bolna phone numbers over its REST API (``Authorization: Bearer bn-...``)."""

    name = _NAME
    info = VendorInfo(
        countries=frozenset({"US", "IN"}),
        number_types=frozenset({"local"}),
        routing_fields=frozenset({"voice_target"}),
        options={
            "provider": "telephony provider: twilio (US), plivo or vobiz (IN); default "
            "twilio for US, plivo for IN",
            "region": "India only: region code that narrows the search, e.g. '80' "
            "(Karnataka), '22' (Maharashtra), '11' (NCR)",
        },
        capabilities=frozenset({"voice"}),
        target_format="a Bolna agent id (UUID, lowercase with dashes)",
        target_examples=(
            "3c90c3cc-0d44-4b50-8888-8dd25736052a",
            "7a1d2b9e-4c3f-4e8a-9b6d-2f5e8c1a0b47",
        ),
        target_pattern=_UUID_RE,
        notes=(
            "US numbers through Twilio, Indian numbers through Plivo or Vobiz "
            "(vendor_options.provider, vendor_options.region)",
            "routing = one agent per number, attached with one extra call after the purchase",
            "flat $5/month; no paging, no get-one endpoint (read = list + filter)",
            "search filters contains on the client side, within the one result page",
        ),
    )

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        key = settings.require("bolnaApiKey", _NAME)
        base = (settings.get("bolnaBaseUrl") or "https://api.bolna.ai").rstrip("/")
        self.http = HttpClient(
            _NAME,
            base,
            error_mapper=wire.error_from,
            not_found=wire.not_found,
            timeout=settings.timeout,
            pacer=bucket_for(_NAME, settings.requests_per_second(_NAME)),
            headers={"Authorization": f"Bearer {key}"},
            secrets=settings.secrets(),
        )

    def close(self) -> None:
        """Close the connection pool."""
        self.http.close()

    # -- check-time validation -------------------------------------------------------------
    @classmethod
    def check_query(cls, query: NumberQuery, options: Mapping[str, Any]) -> list[tuple[str, str]]:
        """``provider`` must suit the country, ``region`` is India-only, US area codes 3 digits."""
        return list(_problems(query, options))

    # -- search ----------------------------------------------------------------------------
    def search(self, query: NumberQuery, cursor: str | None = None) -> SearchPage:
        """Numbers for sale with the default telephony provider (one page, no paging)."""
        return self.search_with_options(query, {}, cursor)

    def search_with_options(
        self, query: NumberQuery, options: Mapping[str, Any], cursor: str | None = None
    ) -> SearchPage:
        """``GET /phone-numbers/search``: a bare array, so there is only one page.

        ``provider`` and ``region`` come from ``options``; ``contains`` is filtered here.
        Candidates carry their telephony provider in ``vendor_ref`` for :meth:`buy`.
        """
        if cursor:
            return SearchPage()
        provider = str(options.get("provider") or default_provider(query.country))
        params: dict[str, str] = {"country": query.country, "provider": provider}
        if query.area_code:
            params["pattern"] = query.area_code
        region = options.get("region")
        if region is not None and query.country == "IN":
            params["region"] = str(region)
        what = f"search {query.country} numbers"
        response = self.http.request(
            "GET", "/phone-numbers/search", kind="read", what=what, params=params
        )
        found = []
        for offer in answers.rows(_NAME, response, wire.Available, what):
            available = wire.available(offer, query, provider)
            if query.contains and query.contains not in e164.digits(available.number):
                continue
            found.append(available)
        return SearchPage(numbers=tuple(found))

    # -- buy -------------------------------------------------------------------------------
    def buy(
        self, candidate: AvailableNumber, routing: Routing, options: Mapping[str, Any]
    ) -> OwnedNumber:
        """``POST /phone-numbers/buy`` ``{country, phone_number, provider}``.

        The provider is ``options["provider"]``, else the one the search offered the number
        through, else the country's default. The purchase carries no routing: ``Purchase``
        attaches the agent with :meth:`update_routing` afterwards.
        """
        country = candidate.country or wire.country_of(candidate.number)
        provider = str(options.get("provider") or candidate.vendor_ref or default_provider(country))
        what = f"buy {candidate.number}"
        body = {"country": country, "phone_number": candidate.number, "provider": provider}
        try:
            response = self.http.request(
                "POST", "/phone-numbers/buy", kind="purchase", what=what, json=body
            )
        except ValidationError as exc:
            if exc.status != 400:  # 422: our request was malformed, nothing was bought
                raise
            # A 400 whose text is not Bolna's "not available": unknown, so ambiguous.
            raise ServerError(
                f"{exc}; an answer this client does not recognise, so whether "
                f"{candidate.number} was bought is checked before going on",
                vendor=_NAME,
                status=exc.status,
                code=exc.code,
            ) from None
        # An unreadable 2xx is UnparsableAnswer: ambiguous, the purchase code checks ownership.
        bought = answers.parse(_NAME, response, wire.Purchase, what)
        return wire.purchased(bought, candidate, country)

    # -- get / list ------------------------------------------------------------------------
    def list_owned(self) -> Iterator[OwnedNumber]:
        """``GET /phone-numbers/all`` (one bare array, BYO numbers included)."""
        what = "list owned numbers"
        response = self.http.request("GET", "/phone-numbers/all", kind="read", what=what)
        for listed in answers.rows(_NAME, response, wire.Listed, what):
            yield wire.owned(listed)

    def get(self, number: str, vendor_id: str | None = None) -> OwnedNumber | None:
        """List and filter: by id when one is given (either id form), else by number."""
        if vendor_id:
            wanted = canonical_id(vendor_id)
            return next((o for o in self.list_owned() if o.vendor_id == wanted), None)
        target = wire.normalize(number)
        return next((o for o in self.list_owned() if o.number == target), None)

    # -- routing / release -------------------------------------------------------------------
    def update_routing(self, owned: OwnedNumber, old: Routing, new: Routing) -> OwnedNumber:
        """Attach (``/inbound/setup``) or detach (``/inbound/unlink``) the agent; only when
        ``voice_target`` changed. Re-attaching replaces the previous agent."""
        unsupported = sorted(set(old.changed_fields(new)) - self.info.routing_fields)
        if unsupported:
            raise ValidationError(
                f"{_NAME}: cannot honour routing.{unsupported[0]}; Bolna routes a number to "
                "one agent (voice_target) only",
                vendor=_NAME,
            )
        result = owned.replace(routing=Routing(voice_target=new.voice_target))
        if old.voice_target == new.voice_target:
            return result
        phone_number_id = self._id_of(owned)
        if new.voice_target is not None:
            self.http.request(
                "POST",
                "/inbound/setup",
                kind="write",
                what=f"attach agent {new.voice_target} to {owned.number}",
                json={"agent_id": new.voice_target, "phone_number_id": phone_number_id},
            )
        else:
            self.http.request(
                "POST",
                "/inbound/unlink",
                kind="write",
                what=f"detach the agent from {owned.number}",
                json={"phone_number_id": phone_number_id},
            )
        return result

    def _id_of(self, owned: OwnedNumber) -> str:
        if owned.vendor_id:
            return canonical_id(owned.vendor_id)
        found = self.get(owned.number)
        if found is None:
            raise NotFound(
                f"{_NAME}: {owned.number} is not owned by this account", vendor=_NAME, status=404
            )
        return found.vendor_id

    def release(self, number: str, vendor_id: str) -> None:
        """``DELETE /phone-numbers/{id}``; Bolna's "not found" (404, or its 400) is success
        once the list confirms the number is gone (a wrong base URL must not pass for it)."""
        if not vendor_id:
            found = self.get(number)
            if found is None:
                return
            vendor_id = found.vendor_id
        vendor_id = canonical_id(vendor_id)
        try:
            self.http.request(
                "DELETE",
                f"/phone-numbers/{segment(vendor_id)}",
                kind="release",
                what=f"release {number}",
            )
        except NotFound as exc:
            confirm_released(self, number, exc, "bolnaBaseUrl")
        except (ValidationError, ConfigError) as exc:
            # An unrecognised 400, or a 404 without Bolna's "not found": the listing decides
            # (it also fails, naming the base URL, if the URL is wrong).
            if isinstance(exc, ValidationError) and exc.status != 400:
                raise
            if any(o.vendor_id == vendor_id for o in self.list_owned()):
                raise
            return
