"""Emulator of the Sinch Numbers API v1 and Sinch's OAuth2 token endpoint, on one server.

``POST /oauth2/token`` (Basic ``keyId:keySecret``, ``grant_type=client_credentials``) issues
opaque bearer tokens with an expiry; ``/v1/projects/{projectId}/...`` accepts those tokens
or Basic auth. An expired token gets 401 with ``WWW-Authenticate: ... expired``.

Numbers in paths are accepted raw (``+1415...``) or URL-encoded (``%2B1415...``); the
custom-method suffixes ``:rent``, ``:rentAny`` and ``:release`` are part of the last path
segment. ``:rent`` / ``:rentAny`` only take US ``LOCAL`` numbers (deprecated endpoints).
``GET /activeNumbers`` without ``type`` lists ``MOBILE`` numbers only (Sinch's quirk).
Unknown request fields and query parameters are ignored (so a singular ``capability``, the
spelling of one docs page, filters nothing: the OAS and the SDK say ``capabilities``).
See :mod:`._sinch_numbers` for shapes and provisioning.

Switches (``POST /_emulator/settings``):

* ``sinch_token_ttl``: lifetime in seconds of tokens issued from now on (default 3600).
* ``sinch_expire_tokens``: ``true`` expires every token issued so far, at the next API call.
* ``sinch_provisioning_reads``: reads of a number before a new configuration leaves
  ``scheduled*Provisioning`` for the top level (default 2; 0 = immediately).
* ``sinch_provisioning_outcome``: ``succeed`` (default) or ``fail`` (status ``FAILED``).
* ``sinch_voice_unlink``: the answer to ``voiceConfiguration.appId: ""`` (undocumented for
  voice): ``accept`` (default: the detach is scheduled like any change), ``ignore`` (200, app
  kept) or ``reject`` (400 ``INVALID_ARGUMENT``).
* ``sinch_sms_swap``: ``queue`` (default) takes a new SMS configuration while another is still
  provisioning; ``refuse_pending`` answers it 400 ``FAILED_PRECONDITION``.

A released number lingers: ``:release`` answers the number with ``expireAt`` set (the end of
the paid period) and ``GET /activeNumbers`` / ``GET /activeNumbers/{n}`` keep showing it so
until then (sinch-sdk-python's e2e release step; the OAS' ``expireAt``), while the Store
counts it released at once (ledger ``release``, back on sale); buying it again hides it.

Every issued token is counted in the store setting ``sinch_tokens_issued`` (the ledger
keeps to number events: buy, update, release).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Mapping
from typing import Any

import phonenumbers
from phonenumbers import geocoder
from werkzeug.wrappers import Request, Response

from ..store import OwnedRecord, Store, Unavailable, generate
from . import _sinch_numbers as wire
from ._sinch_numbers import SinchFailure, invalid, not_found
from ._sinch_tokens import TokenTable, basic_credentials, token_endpoint
from .base import Face, Handler, json_response

__all__ = ["KEY_ID", "KEY_SECRET", "PROJECT_ID", "SinchFace"]

PROJECT_ID = "51bc3f40-f266-4ca8-8938-a1ed0ff32b9a"
KEY_ID = "3f1c2b4a-9d8e-4f7a-b6c5-0e1d2c3b4a59"
KEY_SECRET = "emuSinchKeySecret-7Qx2Lr9Vt4Nw"
_VENDOR = "sinch"
_PROJECT = r"/v1/projects/(?P<project>[^/]+)"
_NUMBER = r"(?P<number>[^/:]+)"
_E164 = re.compile(r"^\+\d{6,15}$")
_STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "UNIMPLEMENTED",
    409: "ALREADY_EXISTS",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}
_NEUTRAL = {v: k for k, v in wire.WIRE_TYPES.items()}
_DEFAULT_LIST_PAGE = 100
#: Store setting: released numbers still listed, E.164 -> their released ``ActiveNumber``.
_LINGERING = "sinch_lingering"
_MAX_PAGE = 1000


def _int_param(request: Request, name: str, default: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise invalid(name, f'"{raw}" is not a valid int32') from None
    if value < 1:
        raise invalid(name, "must be positive")
    return min(value, _MAX_PAGE)


def _number_type(raw: str | None, field: str = "type") -> str:
    if raw not in _NEUTRAL:
        raise invalid(field, f'"{raw}" is not a valid value')
    return _NEUTRAL[raw]


def _capabilities(values: list[str], field: str) -> list[str]:
    caps = []
    for value in values:
        if value not in ("SMS", "VOICE"):
            raise invalid(field, f'"{value}" is not a valid value')
        caps.append(value.lower())
    return caps


class SinchFace(Face):
    """Sinch Numbers API v1 + OAuth2 token endpoint."""

    vendor = _VENDOR
    purchase_path = r":rent$"
    search_path = r"/availableNumbers\?"
    switches = {
        "sinch_token_ttl": (3600, 600, 60, 10, 5, 2, 1),
        "sinch_expire_tokens": (True, False),
        "sinch_provisioning_reads": (0, 1, 2, 3, 5, 10),
        "sinch_provisioning_outcome": ("succeed", "fail"),
        "sinch_voice_unlink": ("accept", "ignore", "reject"),
        "sinch_sms_swap": ("queue", "refuse_pending"),
    }

    def __init__(self, store: Store) -> None:
        super().__init__(store)
        self._count_lock = threading.Lock()
        self._tokens = TokenTable()  # outlives reset(), like Sinch's signed tokens
        self._numbers_lock = threading.Lock()

    def routes(self) -> list[tuple[str, str, Handler]]:
        active, available = f"{_PROJECT}/activeNumbers", f"{_PROJECT}/availableNumbers"
        return [
            ("POST", r"/oauth2/token", self.token),
            ("GET", f"{_PROJECT}/availableRegions", self.regions),
            ("GET", available, self.search),
            ("POST", f"{available}:rentAny", self.rent_any),
            ("GET", f"{available}/{_NUMBER}", self.check),
            ("POST", f"{available}/{_NUMBER}:rent", self.rent),
            ("GET", active, self.list_active),
            ("GET", f"{active}/{_NUMBER}", self.get_active),
            ("PATCH", f"{active}/{_NUMBER}", self.patch_active),
            ("POST", f"{active}/{_NUMBER}:release", self.release),
        ]

    def config(self, url: str) -> dict[str, str]:
        return {
            "phonenumbers:sinchBaseUrl": url,
            "phonenumbers:sinchAuthBaseUrl": url,
            "phonenumbers:sinchProjectId": PROJECT_ID,
            "phonenumbers:sinchKeyId": KEY_ID,
            "phonenumbers:sinchKeySecret": KEY_SECRET,
            "phonenumbers:sinchAuthMode": "oauth",
        }

    # -- errors and dispatch --------------------------------------------------------------
    def error(self, status: int, message: str, code: str = "") -> Response:
        name = code or _STATUS_NAMES.get(status, "UNKNOWN")
        return self._failure(SinchFailure(status, name, message))

    @staticmethod
    def _failure(failure: SinchFailure, headers: Mapping[str, str] | None = None) -> Response:
        return json_response(failure.body(), failure.code, headers)

    def dispatch(self, request: Request) -> Response:
        try:
            return super().dispatch(request)
        except SinchFailure as failure:
            return self._failure(failure)

    # -- auth ---------------------------------------------------------------------------------
    def authenticate(self, request: Request, groups: Mapping[str, str]) -> Response | None:
        if "project" not in groups:  # the token endpoint checks its own credentials
            return None
        header = request.headers.get("Authorization", "")
        unauthenticated = SinchFailure(401, "UNAUTHENTICATED", "Unauthorized")
        if header[:7].lower() == "bearer ":
            if self.store.setting("sinch_expire_tokens", False):  # one-shot switch
                self.store.set_setting("sinch_expire_tokens", False)
                self._tokens.expire_all()
            state = self._tokens.state(header[7:].strip())
            if state != "valid":
                text = "expired" if state == "expired" else "is invalid"
                challenge = f'Bearer error="invalid_token", error_description="The token {text}"'
                return self._failure(unauthenticated, {"WWW-Authenticate": challenge})
        elif basic_credentials(header) != (KEY_ID, KEY_SECRET):
            return self._failure(unauthenticated, {"WWW-Authenticate": 'Basic realm="sinch"'})
        if groups["project"] != PROJECT_ID:
            return self._failure(SinchFailure(403, "PERMISSION_DENIED", ""))
        return None

    def token(self, request: Request) -> Response:
        """``POST /oauth2/token``; every issued token is counted (``sinch_tokens_issued``)."""
        ttl = int(self.store.setting("sinch_token_ttl", 3600))
        response, issued = token_endpoint(request, (KEY_ID, KEY_SECRET), self._tokens, ttl)
        if issued:
            with self._count_lock:
                count = int(self.store.setting("sinch_tokens_issued", 0))
                self.store.set_setting("sinch_tokens_issued", count + 1)
        return response

    # -- available numbers -------------------------------------------------------------------
    @staticmethod
    def _number(raw: str) -> str:
        if not _E164.match(raw):
            raise invalid("phoneNumber", f'"{raw}" is not an E.164 number with a leading "+"')
        return raw

    @staticmethod
    def _state(record: OwnedRecord) -> dict[str, Any]:
        # Numbers put in the store by other means (tests, the console) get default state.
        return {**wire.initial_state(PROJECT_ID), **record.data}

    def _provisioning(self) -> tuple[int, bool]:
        reads = int(self.store.setting("sinch_provisioning_reads", 2))
        return reads, self.store.setting("sinch_provisioning_outcome", "succeed") == "fail"

    def regions(self, request: Request, project: str) -> Response:
        """``GET /availableRegions``, optionally filtered by repeated ``types``."""
        wanted = {_number_type(t, "types") for t in request.args.getlist("types")}
        regions: dict[str, set[str]] = {}
        for item in generate():
            if not wanted or item.number_type in wanted:
                regions.setdefault(item.country, set()).add(wire.WIRE_TYPES[item.number_type])
        body = []
        for code, types in sorted(regions.items()):
            example = phonenumbers.example_number(code)
            name = geocoder.country_name_for_number(example, "en") if example else ""
            body.append({"regionCode": code, "regionName": name or code, "types": sorted(types)})
        return json_response({"availableRegions": body})

    def search(self, request: Request, project: str) -> Response:
        """``GET /availableNumbers``: ``regionCode`` and ``type`` required; no paging."""
        args = request.args
        region = args.get("regionCode")
        if not region:
            raise invalid("regionCode", "is required")
        if "type" not in args:
            raise invalid("type", "is required")
        number_type = _number_type(args.get("type"))
        # `capabilities` (OAS 1.0.3, sinch 2.3.0); a singular `capability` is an unknown
        # parameter, ignored as the real gateway would: the filter then simply does not apply.
        caps = _capabilities(args.getlist("capabilities"), "capabilities")
        filters = wire.pattern_filter(
            args.get("numberPattern.pattern"),
            args.get("numberPattern.searchPattern"),
            region.upper(),
        )
        items, _ = self.store.search(
            country=region.upper(),
            number_type=number_type,
            capabilities=caps,
            limit=_int_param(request, "size", 100),
            **filters,
        )
        return json_response({"availableNumbers": [wire.available_number(i) for i in items]})

    def check(self, request: Request, project: str, number: str) -> Response:
        """``GET /availableNumbers/{phoneNumber}``."""
        item = self.store.available(self._number(number))
        if item is None:
            raise not_found("AvailableNumber", number)
        return json_response(wire.available_number(item))

    @staticmethod
    def _rentable(region: str, number_type: str) -> None:
        if region != "US" or number_type != "local":
            raise SinchFailure(
                400,
                "INVALID_ARGUMENT",
                f"{region} {wire.WIRE_TYPES.get(number_type, number_type)} numbers "
                "cannot be rented with this deprecated endpoint: only US LOCAL "
                "numbers are supported; use the Number Order API",
            )

    def _take(self, number: str, body: Mapping[str, Any], project: str) -> Response:
        reads, fail = self._provisioning()
        state = wire.apply_request(
            wire.initial_state(project), body, reads=reads, fail=fail, allow_label=False
        )
        try:
            record = self.store.buy(
                number,
                vendor=_VENDOR,
                vendor_id=number,
                routing=wire.neutral_routing(state),
                data=state,
            )
        except Unavailable:
            raise not_found("AvailableNumber", number) from None
        return json_response(wire.active_number(record.item, state, record.bought_at))

    def rent(self, request: Request, project: str, number: str) -> Response:
        """``POST /availableNumbers/{phoneNumber}:rent`` (US LOCAL only)."""
        body = self.json_body(request)
        wire.parse_voice(body.get("voiceConfiguration"))
        wire.parse_sms(body.get("smsConfiguration"))
        item = self.store.available(self._number(number))
        if item is None:
            raise not_found("AvailableNumber", number)
        self._rentable(item.country, item.number_type)
        return self._take(number, body, project)

    def rent_any(self, request: Request, project: str) -> Response:
        """``POST /availableNumbers:rentAny``: the first match of the criteria."""
        body = self.json_body(request, required=True)
        region, kind = body.get("regionCode"), body.get("type")
        if not isinstance(region, str) or not region:
            raise invalid("regionCode", "is required")
        if not isinstance(kind, str) or not kind:
            raise invalid("type", "is required")
        number_type = _number_type(kind)
        self._rentable(region, number_type)
        pattern = body.get("numberPattern") or {}
        if not isinstance(pattern, dict):
            raise invalid("numberPattern", "must be an object")
        caps = body.get("capabilities") or []
        if not isinstance(caps, list):
            raise invalid("capabilities", "must be a list")
        filters = wire.pattern_filter(pattern.get("pattern"), pattern.get("searchPattern"), region)
        wire.parse_voice(body.get("voiceConfiguration"))
        wire.parse_sms(body.get("smsConfiguration"))
        items, _ = self.store.search(
            country=region,
            number_type=number_type,
            capabilities=_capabilities(caps, "capabilities"),
            limit=20,
            **filters,
        )
        for item in items:
            try:
                return self._take(item.number, body, project)
            except SinchFailure as failure:
                if failure.code != 404:
                    raise
        raise not_found("AvailableNumber", "")

    # -- active numbers ----------------------------------------------------------------------
    def list_active(self, request: Request, project: str) -> Response:
        """``GET /activeNumbers``; ``type`` defaults to MOBILE; token paging."""
        args = request.args
        number_type = _number_type(args.get("type", "MOBILE"))
        region = (args.get("regionCode") or "").upper()
        caps = set(_capabilities(args.getlist("capabilities"), "capabilities"))
        filters = wire.pattern_filter(
            args.get("numberPattern.pattern"),
            args.get("numberPattern.searchPattern"),
            region or "US",
        )
        order = args.get("orderBy", "phoneNumber")
        if order not in ("phoneNumber", "displayName"):
            raise invalid("orderBy", f'"{order}" is not a valid value')
        size = _int_param(request, "pageSize", _DEFAULT_LIST_PAGE)
        offset = wire.page_offset(args.get("pageToken"))
        rows = [
            (r.item, wire.active_number(r.item, self._state(r), r.bought_at))
            for r in self.store.owned()
        ]
        rows += [
            (item, snapshot)
            for number, snapshot in self._lingering().items()
            if (item := self.store.available(number)) is not None
        ]
        rows = [
            (item, obj)
            for item, obj in rows
            if item.number_type == number_type
            and (not region or item.country == region)
            and caps <= set(item.capabilities)
            and wire.matches(item.number, filters)
        ]
        rows.sort(
            key=lambda row: (
                (str(row[1]["displayName"]), row[0].number)
                if order == "displayName"
                else row[0].number
            )
        )
        page = rows[offset : offset + size]
        nxt = offset + len(page)
        token = wire.page_token(nxt) if nxt < len(rows) else ""
        return json_response(
            {
                "activeNumbers": [obj for _, obj in page],
                "nextPageToken": token,
                "totalSize": len(rows),
            }
        )

    def _lingering(self) -> dict[str, Any]:
        """Released numbers still listed: not bought again and before their ``expireAt``."""
        now = time.time()
        lingering = dict(self.store.setting(_LINGERING, {}) or {})
        return {
            number: snapshot
            for number, snapshot in lingering.items()
            if wire.parse_rfc3339(snapshot["expireAt"]) > now and self.store.get(number) is None
        }

    def get_active(self, request: Request, project: str, number: str) -> Response:
        """``GET /activeNumbers/{phoneNumber}``: also one provisioning read."""
        number = self._number(number)
        with self._numbers_lock:
            record = self.store.get(number)
            if record is None:
                snapshot = self._lingering().get(number)
                if snapshot is not None:
                    return json_response(snapshot)
                raise not_found("ActiveNumber", number)
            state = self._state(record)
            _, fail = self._provisioning()
            if wire.advance(state, fail=fail):
                self.store.update(
                    number,
                    vendor=_VENDOR,
                    data=state,
                    log=False,
                    routing=wire.neutral_routing(state),
                )
        return json_response(wire.active_number(record.item, state, record.bought_at))

    def patch_active(self, request: Request, project: str, number: str) -> Response:
        """``PATCH /activeNumbers/{phoneNumber}``: displayName, voice, SMS, callbackUrl."""
        number = self._number(number)
        body = self.json_body(request)
        with self._numbers_lock:
            record = self.store.get(number)
            if record is None:
                raise not_found("ActiveNumber", number)
            reads, fail = self._provisioning()
            before = wire.neutral_routing(self._state(record))
            state = wire.apply_request(
                self._state(record),
                body,
                reads=reads,
                fail=fail,
                voice_unlink=self.store.setting("sinch_voice_unlink", "accept"),
                sms_swap=self.store.setting("sinch_sms_swap", "queue"),
            )
            after = wire.neutral_routing(state)
            self.store.update(
                number,
                vendor=_VENDOR,
                data=state,
                routing={k: v for k, v in after.items() if before.get(k) != v},
            )
        return json_response(wire.active_number(record.item, state, record.bought_at))

    def release(self, request: Request, project: str, number: str) -> Response:
        """``POST /activeNumbers/{phoneNumber}:release``: 200 with ``expireAt`` set."""
        number = self._number(number)
        with self._numbers_lock:
            record = self.store.get(number)
            if record is None:
                raise not_found("ActiveNumber", number)
            released = wire.active_number(
                record.item, self._state(record), record.bought_at, released=True
            )
            if not self.store.release(number, vendor=_VENDOR):
                raise not_found("ActiveNumber", number)
            lingering = dict(self.store.setting(_LINGERING, {}) or {})
            lingering[number] = released
            self.store.set_setting(_LINGERING, lingering)
        return json_response(released)
