"""Sondos AI: Bearer-auth REST API under ``https://app.sondos-ai.com/api`` (vendor-apis.md §5).

Wire mapping (models, parsing and the error mapper in :mod:`._sondos_wire`):

* search  ``GET /user/phone-numbers/search?country_code=&contains=`` -> ``{"data": [...]}``,
  one page, no paging. An area code is sent as ``contains`` (the docs' own example is
  ``contains=415``) and the results are filtered here by area code, ``contains``,
  capabilities and price, because ``contains`` matches anywhere in the number.
* buy     ``POST /user/phone-numbers/purchase {"phone_number"}`` -> 201 with an integer id.
  The purchase cannot carry routing (empty ``purchase_routing``).
* routing ``voice_target`` = an assistant id. ``PUT /user/assistant/{id}
  {"phone_number_id": id|null}``. An assistant answers one number and a number has one
  inbound assistant, so re-routing is *unassign the old assistant, then assign the new one*:
  correct whether the platform moves an assigned number implicitly or refuses it (the docs do
  not say), and 2 calls for 2 changed vendor objects.
* list    ``GET /user/phone-numbers/all`` -> ``{"data": [{id, phone_number, country_code, type,
  type_label, sms_capable, region, has_active_subscription, created_at}]}``; get = list +
  filter (no get-one endpoint). Never ``GET /user/phone-numbers``: on the platform this API
  is built on, that is a legacy list of SMS-capable numbers with an active subscription only,
  so a voice-only number would read as gone while still billed (docs/wire-evidence.md).
  The item has no assistant field: routing is read from ``GET /user/assistants/get`` (Laravel
  pages of assistants, each with ``phone_number_id``).
* release ``DELETE /user/phone-numbers/{id}`` only *schedules* the release (the number stays
  listed with ``has_active_subscription: false`` until the end of the billing period). For
  Pulumi a scheduled release is a release: a second DELETE (400 "already scheduled") and 404
  are success, and listed numbers without an active subscription are reported gone.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any

import httpx

from .. import _answers as answers
from .._http import HttpClient, segment
from .._pace import bucket_for
from ..config import Settings
from ..errors import (
    NotAvailable,
    NotFound,
    PaymentError,
    PhoneNumbersError,
    ValidationError,
)
from ..models import AvailableNumber, NumberQuery, OwnedNumber, Routing, SearchPage
from . import _sondos_wire as wire
from ._shared import confirm_released, matches
from .base import Vendor, VendorInfo

__all__ = ["SondosVendor"]

_VENDOR = wire.VENDOR
_MAX_CONTAINS = 10
_LIST_PATH = "/user/phone-numbers/all"
_ASSISTANTS_PATH = "/user/assistants/get"
#: Largest documented ``per_page`` of the assistants list; pages are read up to ``last_page``.
_ASSISTANTS_PAGE = 100
_MAX_ASSISTANT_PAGES = 1000


class SondosVendor(Vendor):
    """Sondos AI phone numbers routed to inbound assistants."""

    name = _VENDOR
    info = VendorInfo(
        countries=frozenset({"US", "CA", "GB", "AU"}),
        number_types=frozenset({"local"}),
        routing_fields=frozenset({"voice_target"}),
        capabilities=frozenset({"voice", "sms"}),
        target_format="a Sondos assistant id (integer)",
        target_examples=("812", "813"),
        target_pattern=r"^\d{1,12}$",
        notes=(
            "search has no paging; area code goes out as `contains` and is filtered locally",
            "routing = assigning the number to an inbound assistant (one number per assistant)",
            "release only schedules the release at the end of the billing period; it counts "
            "as released",
        ),
    )

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        key = settings.require("sondosApiKey", _VENDOR)
        base = (settings.get("sondosBaseUrl") or "").rstrip("/")
        self.http = HttpClient(
            _VENDOR,
            base,
            error_mapper=wire.error_from,
            not_found=wire.not_found,
            timeout=settings.timeout,
            pacer=bucket_for(_VENDOR, settings.requests_per_second(_VENDOR)),
            headers={"Authorization": f"Bearer {key}"},
            secrets=settings.secrets(),
        )

    def close(self) -> None:
        """Close the connection pool."""
        self.http.close()

    @classmethod
    def check_query(cls, query: NumberQuery, options: Mapping[str, Any]) -> list[tuple[str, str]]:
        """Sondos searches with at most 10 digits."""
        if query.contains and len(query.contains) > _MAX_CONTAINS:
            return [
                (
                    "contains",
                    f"vendor sondos searches with at most {_MAX_CONTAINS} digits, "
                    f"got {len(query.contains)}",
                )
            ]
        return []

    # -- search / buy ---------------------------------------------------------------------
    def search(self, query: NumberQuery, cursor: str | None = None) -> SearchPage:
        """The one page Sondos returns, filtered to what ``query`` asks for."""
        params = {"country_code": query.country.upper()}
        pattern = query.area_code or query.contains
        if pattern:
            params["contains"] = pattern[:_MAX_CONTAINS]
        what = f"search {query.country} numbers"
        response = self.http.request(
            "GET", "/user/phone-numbers/search", kind="read", what=what, params=params
        )
        numbers = []
        for offer in answers.rows(_VENDOR, response, wire.Offer, what, at=wire.data_or_array):
            available = wire.available(offer, query)
            if self._wanted(available, query):
                numbers.append(available)
        return SearchPage(numbers=tuple(numbers), next_cursor=None)

    @staticmethod
    def _wanted(available: AvailableNumber, query: NumberQuery) -> bool:
        if available.country != query.country.upper():
            return False
        if query.area_code and not wire.national(available.number).startswith(query.area_code):
            return False
        return matches(available, query)

    def buy(
        self, candidate: AvailableNumber, routing: Routing, options: Mapping[str, Any]
    ) -> OwnedNumber:
        """Purchase (201); 400 -> NotAvailable, 402 -> PaymentError. Carries no routing."""
        what = f"buy {candidate.number}"
        try:
            response = self.http.request(
                "POST",
                "/user/phone-numbers/purchase",
                kind="purchase",
                what=what,
                json={"phone_number": candidate.number},
            )
        except ValidationError as exc:
            if exc.status == 400:  # "already in use" / "not available"
                raise NotAvailable(str(exc), vendor=_VENDOR, status=400) from None
            raise
        except PaymentError as exc:
            raise PaymentError(
                f"{exc}; add a valid payment method in the Sondos AI dashboard "
                "(billing settings) and run again",
                vendor=_VENDOR,
                status=exc.status,
            ) from None
        # An unreadable 2xx is UnparsableAnswer: ambiguous, the purchase code checks ownership.
        data = answers.parse(_VENDOR, response, wire.Purchased, what, at=lambda b: b.get("data"))
        return wire.purchased(data, candidate)

    # -- get / list ---------------------------------------------------------------------------
    def get(self, number: str, vendor_id: str | None = None) -> OwnedNumber | None:
        """List + filter (no get-one endpoint), routing from the assistants. Pending release
        (no active subscription) counts as gone."""
        match: wire.Listed | None = None
        for listed in self._listed():
            if listed.phone_number != number:
                continue
            if vendor_id and str(listed.id) == vendor_id:
                match = listed
                break
            match = match or listed
        if match is None:
            return None
        return wire.owned(match, self._holders().get(match.id))

    def list_owned(self) -> Iterator[OwnedNumber]:
        """Every active number (pending-release and caller-ID entries left out)."""
        listed = list(self._listed())
        holders = self._holders() if listed else {}
        for entry in listed:
            owned = wire.owned(entry, holders.get(entry.id))
            if owned is not None:
                yield owned

    def _listed(self) -> Iterator[wire.Listed]:
        """The ``/user/phone-numbers/all`` items that are active numbers of this account."""
        what = "list phone numbers"
        response = self.http.request("GET", _LIST_PATH, kind="read", what=what)
        for listed in answers.rows(_VENDOR, response, wire.Listed, what, at=wire.data_or_array):
            if wire.is_active(listed):
                yield listed

    def _holders(self) -> dict[int, str]:
        """Phone number id -> the assistant answering it (inbound assistants win)."""
        holders: dict[int, tuple[bool, int]] = {}
        for page in range(1, _MAX_ASSISTANT_PAGES + 1):
            response = self.http.request(
                "GET",
                _ASSISTANTS_PATH,
                kind="read",
                what="list assistants",
                params={"per_page": str(_ASSISTANTS_PAGE), "page": str(page)},
            )
            page_of = answers.parse(_VENDOR, response, wire.AssistantsPage, "list assistants")
            assistants = answers.each(_VENDOR, page_of.data, wire.Assistant, "list assistants")
            last_page = page_of.last_page
            for assistant in assistants:
                if assistant.phone_number_id is None:
                    continue
                rank = (not assistant.inbound, assistant.id)
                held = holders.get(assistant.phone_number_id)
                if held is None or rank < held:
                    holders[assistant.phone_number_id] = rank
            if not assistants or page >= last_page:
                break
        return {number_id: str(rank[1]) for number_id, rank in holders.items()}

    # -- routing ------------------------------------------------------------------------------
    def update_routing(self, owned: OwnedNumber, old: Routing, new: Routing) -> OwnedNumber:
        """Unassign the old assistant (if any), then assign the new one (if any)."""
        before, after = old.voice_target, new.voice_target
        result = owned.replace(routing=Routing(voice_target=after))
        if before == after:
            return result
        number_id = self._number_id(owned)
        if before is not None:
            self._assign(
                before, None, f"unassign {owned.number} from assistant {before}", missing_ok=True
            )
        if after is not None:
            try:
                self._assign(after, number_id, f"assign {owned.number} to assistant {after}")
            except PhoneNumbersError:
                if before is not None:  # best effort: leave the number where it was
                    with contextlib.suppress(PhoneNumbersError):
                        self._assign(
                            before, number_id, f"re-assign {owned.number} to assistant {before}"
                        )
                raise
        return result

    def _assign(
        self, assistant: str, number_id: int | None, what: str, *, missing_ok: bool = False
    ) -> None:
        if not assistant.isdigit():
            raise ValidationError(
                f"sondos: assistant id must be an integer, got {assistant!r}", vendor=_VENDOR
            )
        try:
            self.http.request(
                "PUT",
                f"/user/assistant/{int(assistant)}",
                kind="write",
                what=what,
                json={"phone_number_id": number_id},
            )
        except NotFound:
            if missing_ok:  # the old assistant is gone, so it no longer holds the number
                return
            raise NotFound(
                f"sondos: assistant {assistant} does not exist on this account "
                f"(while trying to {what})",
                vendor=_VENDOR,
                status=404,
            ) from None

    def _number_id(self, owned: OwnedNumber) -> int:
        if owned.vendor_id.isdigit():
            return int(owned.vendor_id)
        found = self.get(owned.number)
        if found is None:
            raise NotFound(
                f"sondos: {owned.number} is not owned by this account", vendor=_VENDOR, status=404
            )
        return int(found.vendor_id)

    # -- release -----------------------------------------------------------------------------
    def release(self, number: str, vendor_id: str) -> None:
        """Schedule the release; already scheduled (400) is success, and so is Sondos' 404
        once the account listing confirms the number is not (or no longer) active."""
        if not vendor_id.isdigit():
            found = self.get(number)
            if found is None:
                return
            vendor_id = found.vendor_id

        def scheduled(response: httpx.Response) -> bool:
            return response.status_code == 400 and "scheduled" in wire.message_of(response).lower()

        try:
            self.http.request(
                "DELETE",
                f"/user/phone-numbers/{segment(vendor_id)}",
                kind="release",
                what=f"release {number}",
                ok=scheduled,
            )
        except NotFound as exc:
            confirm_released(self, number, exc, "sondosBaseUrl")
