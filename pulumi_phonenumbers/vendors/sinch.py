"""Sinch Numbers API v1 (``/v1/projects/{projectId}/...``) over httpx.

Auth is OAuth2 client credentials (default; see :mod:`._sinch_auth`) or HTTP Basic
``keyId:keySecret`` (``phonenumbers:sinchAuthMode basic``). Numbers travel in paths as
E.164 with the ``+`` percent-encoded (``%2B1415...``).

Routing: ``voice_target`` = ``voiceConfiguration.appId`` (RTC), ``sms_target`` =
``smsConfiguration.servicePlanId``, ``label`` = ``displayName``. ``:rent`` carries voice and
SMS configuration but not ``displayName`` (``purchase_routing``): a wanted label costs one
PATCH right after the rent, made by ``Purchase`` (which releases the number if it fails).

A released number stays in ``activeNumbers`` with ``expireAt`` set until the end of its
paid period; ``get`` and ``list_owned`` treat such a number as gone.

Provisioning is asynchronous: a new configuration first appears under
``scheduledVoiceProvisioning`` / ``smsConfiguration.scheduledProvisioning`` with status
``WAITING`` or ``IN_PROGRESS`` and moves to the top level later. The client reports the
scheduled value as the routing while it is pending (status ``provisioning``); a ``FAILED``
provisioning reports the configuration actually in force and status ``provisioning_failed``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from typing import Any

import httpx
import phonenumbers

from .. import _answers as answers
from .. import e164
from .._http import HttpClient, segment
from .._pace import bucket_for
from ..config import Settings
from ..errors import ConfigError, NotFound, ValidationError
from ..models import AvailableNumber, NumberQuery, OwnedNumber, Routing, SearchPage
from . import _sinch_wire as wire
from ._shared import confirm_released, listed_after_not_found
from ._sinch_auth import SinchOAuth, TokenCache, token_error
from .base import Vendor, VendorInfo

__all__ = ["SinchVendor"]

_NAME = "sinch"
_UUID = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
#: ``size`` of a search (Sinch's search has no paging) and ``pageSize`` of a list.
_SEARCH_SIZE = 50
_PAGE_SIZE = 100


class SinchVendor(Vendor):
    """Sinch Numbers API v1. Buying (``:rent``) is limited to US local numbers by Sinch."""

    name = _NAME
    # Sinch sells in many countries, but its rent endpoints only take US LOCAL numbers:
    # check_query refuses everything else with that reason (a static country list here
    # would fail earlier with a message that does not say why).
    info = VendorInfo(
        countries=frozenset(),
        number_types=frozenset({"local", "mobile", "toll_free"}),
        routing_fields=frozenset({"voice_target", "sms_target", "label"}),
        capabilities=frozenset({"voice", "sms"}),
        purchase_routing=frozenset({"voice_target", "sms_target"}),
        target_format="a Sinch Voice app id (UUID)",
        target_examples=(
            "0a6f6c4e-3b1d-4b7a-9a51-6f1e2d3c4b5a",
            "7d2e9f10-8c4b-4e6a-b1f3-2a9d8c7b6e5f",
        ),
        target_pattern=_UUID,
        notes=(
            "Buying is US local only: Sinch's `:rent` (Numbers API v1) is deprecated "
            "and limited to US LOCAL numbers; other numbers need the Number Order API.",
            "New routing is provisioned asynchronously; status is `provisioning` until "
            "Sinch applies it, `provisioning_failed` if it fails.",
        ),
    )

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        project = settings.require("sinchProjectId", _NAME)
        key_id = settings.require("sinchKeyId", _NAME)
        key_secret = settings.require("sinchKeySecret", _NAME)
        mode = (settings.get("sinchAuthMode") or "oauth").strip().lower()
        secrets = settings.secrets()
        self._tokens: TokenCache | None = None
        self._timeout = settings.timeout
        auth: httpx.Auth | tuple[str, str]
        if mode == "basic":
            auth = (key_id, key_secret)
        elif mode == "oauth":
            token_http = HttpClient(
                _NAME,
                settings.require("sinchAuthBaseUrl", _NAME),
                error_mapper=token_error,
                timeout=settings.timeout,
                secrets=secrets,
                base_url_key="sinchAuthBaseUrl",
            )
            self._tokens = TokenCache(token_http, key_id, key_secret)
            auth = SinchOAuth(self._tokens)
        else:
            raise ConfigError(
                f"phonenumbers:sinchAuthMode must be 'oauth' or 'basic', got {mode!r}"
            )
        base = settings.require("sinchBaseUrl", _NAME).rstrip("/")
        self._prefix = f"/v1/projects/{segment(project)}"
        self.http = HttpClient(
            _NAME,
            base,
            error_mapper=wire.error,
            not_found=wire.not_found,
            timeout=settings.timeout,
            pacer=bucket_for(_NAME, settings.requests_per_second(_NAME)),
            auth=auth,
            secrets=secrets,
        )
        if self._tokens is not None:
            # Bearer tokens are credentials too: redacted from messages and library logs.
            self._tokens.on_token = self._redact_token
        #: ``pageSize`` of ``GET /activeNumbers`` (Sinch documents no default or maximum).
        self.list_page_size = _PAGE_SIZE

    @classmethod
    def check_query(cls, query: NumberQuery, options: Mapping[str, Any]) -> list[tuple[str, str]]:
        """Anything but a US local number fails at preview, saying why (``:rent``'s limit)."""
        why = (
            "Sinch's :rent (Numbers API v1) only supports US local numbers; buy others "
            "through Sinch's Number Order API or choose another vendor"
        )
        problems = []
        if query.country != "US":
            problems.append(("country", f"vendor sinch cannot buy {query.country} numbers: {why}"))
        if query.number_type != "local":
            # The reason is said once per check, on the first failure.
            said = f": {why}" if not problems else " (see country)"
            problems.append(
                ("number_type", f"vendor sinch cannot buy {query.number_type} numbers{said}")
            )
        return problems

    # -- helpers ------------------------------------------------------------------------------
    def _redact_token(self, token: str) -> None:
        self.http.add_secret(token)
        if self._tokens is not None:
            self._tokens.http.add_secret(token)

    def _number_path(self, collection: str, number: str, verb: str = "") -> str:
        return f"{self._prefix}/{collection}/{segment(number)}{verb}"

    # -- the six verbs ------------------------------------------------------------------------
    def search(self, query: NumberQuery, cursor: str | None = None) -> SearchPage:
        params: list[tuple[str, str | int]] = [
            ("regionCode", query.country),
            ("type", wire.TYPES.get(query.number_type, query.number_type.upper())),
        ]
        if query.area_code:
            code = phonenumbers.country_code_for_region(query.country)
            params += [
                ("numberPattern.pattern", f"+{code}{query.area_code}"),
                ("numberPattern.searchPattern", "START"),
            ]
        elif query.contains:
            params += [
                ("numberPattern.pattern", query.contains),
                ("numberPattern.searchPattern", "CONTAINS"),
            ]
        params += [("capabilities", cap.upper()) for cap in query.capabilities]
        params.append(("size", _SEARCH_SIZE))
        what = f"search {query.country} {query.number_type} numbers"
        response = self.http.request(
            "GET", f"{self._prefix}/availableNumbers", kind="read", what=what, params=params
        )
        page = answers.parse(_NAME, response, wire.AvailableList, what)
        offers = answers.each(_NAME, page.available_numbers, wire.Available, what)
        numbers = [wire.available(n) for n in offers]
        if query.area_code and query.contains:  # one numberPattern per request
            numbers = [n for n in numbers if query.contains in e164.digits(n.number)]
        return SearchPage(numbers=tuple(numbers), next_cursor=None)  # Sinch search has no paging

    def buy(
        self, candidate: AvailableNumber, routing: Routing, options: Mapping[str, Any]
    ) -> OwnedNumber:
        body: dict[str, Any] = {}
        if routing.voice_target:
            body["voiceConfiguration"] = {"type": "RTC", "appId": routing.voice_target}
        if routing.sms_target:
            body["smsConfiguration"] = {"servicePlanId": routing.sms_target}
        response = self.http.request(
            "POST",
            self._number_path("availableNumbers", candidate.number, ":rent"),
            kind="purchase",
            what=f"rent {candidate.number}",
            json=body,
        )
        # An unreadable 2xx is UnparsableAnswer: ambiguous, the purchase code checks ownership.
        rented = answers.parse(_NAME, response, wire.ActiveWire, f"rent {candidate.number}")
        return wire.owned(rented)

    def get(self, number: str, vendor_id: str | None = None) -> OwnedNumber | None:
        """``GET /activeNumbers/{n}``; ``None`` only when Sinch's 404 for the number is
        confirmed by the account listing, or Sinch shows it released (``expireAt`` set)."""
        what = f"get {number}"
        try:
            response = self.http.request(
                "GET", self._number_path("activeNumbers", number), kind="read", what=what
            )
        except NotFound as exc:
            return listed_after_not_found(self, number, exc, "sinchBaseUrl")
        active = answers.parse(_NAME, response, wire.ActiveWire, what)
        return None if active.released else wire.owned(active)

    def list_owned(self) -> Iterator[OwnedNumber]:
        # Omitting `type` lists MOBILE numbers only (a documented Sinch quirk): ask per type.
        seen: set[str] = set()
        for wire_type in wire.TYPES.values():
            token: str | None = None
            while True:
                params: dict[str, str | int] = {"type": wire_type, "pageSize": self.list_page_size}
                if token:
                    params["pageToken"] = token
                what = f"list {wire_type} numbers"
                response = self.http.request(
                    "GET", f"{self._prefix}/activeNumbers", kind="read", what=what, params=params
                )
                page = answers.parse(_NAME, response, wire.ActiveList, what)
                for active in answers.each(_NAME, page.active_numbers, wire.ActiveWire, what):
                    if active.phone_number not in seen and not active.released:
                        seen.add(active.phone_number)
                        yield wire.owned(active)
                token = page.next_page_token
                if not token or not page.active_numbers:
                    break

    def update_routing(self, owned: OwnedNumber, old: Routing, new: Routing) -> OwnedNumber:
        body = wire.patch_body(old, new)
        if not body:
            return owned.replace(routing=new)
        if old.sms_target and new.sms_target and old.sms_target != new.sms_target:
            # Sinch: unlink the current service plan before linking another one, and the link
            # may be refused while the unlink is still provisioning: wait for it first.
            unlinked = self._patch(owned.number, {"smsConfiguration": {"servicePlanId": ""}})
            self._settled(owned.number, unlinked)
        try:
            result = self._patch(owned.number, body)
        except ValidationError as exc:
            raise ValidationError(
                f"{exc}; Sinch refused the routing change of {owned.number}"
                + (
                    " (a voice app cannot be detached this way: assign another app or detach it "
                    "in the Sinch dashboard)"
                    if old.voice_target and not new.voice_target
                    else ""
                ),
                vendor=_NAME,
                status=exc.status,
                code=exc.code,
            ) from None
        if old.voice_target and not new.voice_target and result.routing.voice_target:
            # voiceConfiguration.appId "" is the SMS unlink form applied to voice (undocumented
            # there): if Sinch kept the app, say so instead of reporting it detached.
            raise ValidationError(
                f"sinch: asked to detach Voice app {old.voice_target} from {owned.number} "
                f'(voiceConfiguration.appId ""), and Sinch kept {result.routing.voice_target}; '
                "assign another app (routing.voice_target) or detach it in the Sinch dashboard",
                vendor=_NAME,
            )
        return result

    def _settled(self, number: str, after: OwnedNumber) -> None:
        """Wait (bounded) until a scheduled SMS provisioning of ``number`` has finished."""
        if after.status != "provisioning":
            return
        deadline = time.monotonic() + min(30.0, 3 * self._timeout)
        pause = 0.05
        while time.monotonic() < deadline:
            now = self.get(number)
            if now is None or now.status != "provisioning":
                return
            time.sleep(pause)
            pause = min(pause * 2, 2.0)

    def _patch(self, number: str, body: Mapping[str, Any]) -> OwnedNumber:
        what = f"update {number}"
        response = self.http.request(
            "PATCH",
            self._number_path("activeNumbers", number),
            kind="write",
            what=what,
            json=dict(body),
        )
        return wire.owned(answers.parse(_NAME, response, wire.ActiveWire, what))

    def release(self, number: str, vendor_id: str) -> None:
        """``POST :release``; Sinch's 404 is success once the listing confirms it."""
        try:
            self.http.request(
                "POST",
                self._number_path("activeNumbers", number, ":release"),
                kind="release",
                what=f"release {number}",
            )
        except NotFound as exc:
            confirm_released(self, number, exc, "sinchBaseUrl")

    def close(self) -> None:
        self.http.close()
        if self._tokens is not None:
            self._tokens.close()
