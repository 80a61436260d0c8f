"""The Plivo face: ``/v1/Account/{auth_id}/...`` over the shared store (vendor-apis.md §1).

What it holds to:

* Trailing slashes, as Plivo's SDKs always send them. A path without one is answered with
  ``301`` to the slashed path (Django's ``APPEND_SLASH`` behaviour; inferred), so a client
  that drops the slash fails loudly instead of being served.
* HTTP Basic ``auth_id:auth_token``, checked against the ``auth_id`` in the path. A request
  without credentials gets a 401 body without ``api_id`` (Plivo sends some like that);
  wrong credentials or another account's path get ``{"api_id", "error"}``.
* ``limit`` at most 20; success codes 200 / 201 (buy) / 202 (update) / 204 (delete); every
  error as ``{"api_id", "error"}``; 404 ``not found`` when buying a number not for sale.
* Numbers in countries that need address proof are bought with per-number status
  ``pending`` and ``compliance_status: "pending"``.
* Bodies are JSON (what the SDKs send); form-encoded bodies are accepted too.
* ``app_id: ""`` on an update (unlink) is a dialect switch, ``plivo_unlink`` (Plivo documents
  no unlink): ``clears`` (default; what the old SDK's ``unlink_application_number`` meant),
  ``ignored`` (answers "changed" and keeps the application: plivo-node#63) or ``default_app``
  (assigns the account's ``default_number_app``, ``DEFAULT_NUMBER_APP``, as the docs say
  for an ``app_id`` not specified).
* One subaccount, ``SUBACCOUNT_AUTH_ID`` (same token): its credentials work everywhere except
  a purchase, which Plivo answers with 404 ``not found`` even for a number its search just
  offered ([seed] buy note, vendor-apis.md §8). Buying for a subaccount = main-account
  credentials + ``subaccount`` in the body.

Routing is stored under Plivo's own names (``app_id``, ``alias``), so the ledger shows
exactly which fields an update sent. ``app_id`` is accepted as a JSON number or a string
of digits.
"""

from __future__ import annotations

import hmac
import operator
import re
from collections.abc import Mapping
from typing import Any, ClassVar

from werkzeug.wrappers import Request, Response

from ..store import Store, Unavailable
from . import _plivo_objects as wire
from .base import BadRequest, Face, Handler, json_response

__all__ = [
    "DEFAULT_AUTH_ID",
    "DEFAULT_AUTH_TOKEN",
    "DEFAULT_NUMBER_APP",
    "SUBACCOUNT_AUTH_ID",
    "PlivoFace",
]

#: A well-formed main-account id ("MA" + 18 upper-case letters or digits).
DEFAULT_AUTH_ID = "MAPLIVOEMULATOR00001"
DEFAULT_AUTH_TOKEN = "ZW11bGF0b3ItcGxpdm8tYXV0aC10b2tlbi0wMDAx"
#: The account's ``default_number_app`` (the ``default_app`` unlink dialect assigns it).
DEFAULT_NUMBER_APP = "10000000000000001"
_UNLINK = "plivo_unlink"
#: A subaccount of the emulated account ("SA" + 18), authenticated with the same token.
SUBACCOUNT_AUTH_ID = "SAPLIVOEMULATOR00001"
_ACCOUNT = r"/v1/Account/(?P<auth_id>[^/]+)"
_SUBACCOUNT = re.compile(r"^SA[A-Z0-9]{18}$")
_ALL = 1_000_000  # "no limit" for the store: the face filters and pages in Python


class PlivoFace(Face):
    """Plivo's Numbers API: search, buy, list, get, update, unrent."""

    vendor: ClassVar[str] = "plivo"
    purchase_path = r"/PhoneNumber/[^/]+/$"
    search_path = r"/PhoneNumber/\?"
    purchase_time = "day"
    switches: ClassVar[Mapping[str, tuple[Any, ...]]] = {
        _UNLINK: ("clears", "ignored", "default_app")
    }

    def __init__(
        self, store: Store, auth_id: str = DEFAULT_AUTH_ID, auth_token: str = DEFAULT_AUTH_TOKEN
    ) -> None:
        self.auth_id = auth_id
        self.auth_token = auth_token
        super().__init__(store)

    def routes(self) -> list[tuple[str, str, Handler]]:
        """Every endpoint of §1.1 but carrier numbers (``POST /Number/`` is a 405)."""
        number = r"(?P<number>[^/]+)"
        return [
            ("GET", _ACCOUNT + r"/PhoneNumber/", self.search),
            ("POST", _ACCOUNT + rf"/PhoneNumber/{number}/", self.buy),
            ("GET", _ACCOUNT + r"/Number/", self.list_numbers),
            ("GET", _ACCOUNT + rf"/Number/{number}/", self.get),
            ("POST", _ACCOUNT + rf"/Number/{number}/", self.update),
            ("DELETE", _ACCOUNT + rf"/Number/{number}/", self.delete),
        ]

    def config(self, url: str) -> dict[str, str]:
        """Base URL and credentials for ``phonenumbers:plivo*``."""
        return {
            "phonenumbers:plivoBaseUrl": url,
            "phonenumbers:plivoAuthId": self.auth_id,
            "phonenumbers:plivoAuthToken": self.auth_token,
        }

    def error(self, status: int, message: str, code: str = "") -> Response:
        """``{"api_id", "error"}``."""
        return json_response({"api_id": wire.api_id(), "error": message}, status)

    def dispatch(self, request: Request) -> Response:
        """Redirect slash-less API paths (inferred), then route as usual."""
        path = request.path
        if path.startswith("/v1/") and not path.endswith("/"):
            query = request.query_string.decode("latin-1")
            target = path + "/" + (f"?{query}" if query else "")
            response = self.error(301, "moved permanently: Plivo paths end with '/'")
            response.headers["Location"] = target
            return response
        return super().dispatch(request)

    def authenticate(self, request: Request, groups: Mapping[str, str]) -> Response | None:
        """Basic auth against the configured account and the ``auth_id`` in the path."""
        auth = request.authorization
        if auth is None or auth.type != "basic" or not auth.username:
            return json_response({"error": "Authentication credentials were not provided"}, 401)
        token_ok = hmac.compare_digest((auth.password or "").encode(), self.auth_token.encode())
        if auth.username not in (self.auth_id, SUBACCOUNT_AUTH_ID) or not token_ok:
            return self.error(401, "Authentication failed")
        if groups.get("auth_id") != auth.username:
            return self.error(
                401, "Authentication failed: the auth_id in the URL does not match the credentials"
            )
        return None

    # -- helpers ------------------------------------------------------------------------------
    @staticmethod
    def _body(request: Request) -> dict[str, Any]:
        if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            return dict(request.form.items())
        return Face.json_body(request)

    @staticmethod
    def _e164(number: str) -> str | None:
        return "+" + number if number.isdigit() and 6 <= len(number) <= 15 else None

    @staticmethod
    def _app_id(value: Any) -> str | None:
        """Any numeric form (JSON number, digit string); "" or null clears the app."""
        if value is None or value == "":
            return None
        if isinstance(value, bool):
            raise BadRequest("app_id is invalid")
        text = str(value).strip() if isinstance(value, int | str) else ""
        if not re.fullmatch(r"\d{1,24}", text):
            raise BadRequest("app_id is invalid")
        return text

    @staticmethod
    def _text(body: Mapping[str, Any], key: str) -> str | None:
        value = body.get(key)
        if value is not None and not isinstance(value, str):
            raise BadRequest(f"{key} is invalid")
        return value

    def _options(self, body: Mapping[str, Any], country: str, number_type: str) -> dict[str, Any]:
        """Purchase / update options shared by both endpoints, validated."""
        data: dict[str, Any] = {}
        cnam = self._text(body, "cnam_lookup")
        if cnam is not None:
            if cnam not in ("enabled", "disabled"):
                raise BadRequest("cnam_lookup must be enabled or disabled")
            if country != "US" or number_type == "mobile":
                raise BadRequest(
                    "cnam_lookup is applicable only for US local and toll-free numbers"
                )
            data["cnam_lookup"] = cnam
        sub = self._text(body, "subaccount")
        if sub is not None:
            if sub and not _SUBACCOUNT.match(sub):
                raise BadRequest("subaccount is invalid")
            data["sub_account"] = sub or None
        if "verification_info" in body:
            if not isinstance(body["verification_info"], dict):
                raise BadRequest("verification_info must be an object")
            data["verification_info"] = body["verification_info"]
        for key in ("cnam", "cnam_callback_url", "cnam_callback_method"):
            if self._text(body, key) is not None:
                data[key] = body[key]
        return data

    # -- handlers -------------------------------------------------------------------------
    def search(self, request: Request, auth_id: str) -> Response:
        """``GET /PhoneNumber/``: every documented filter over the store's inventory."""
        args = request.args
        country = (args.get("country_iso") or "").strip().upper()
        if not country:
            raise BadRequest("country_iso is required")
        if not re.fullmatch(r"[A-Z]{2}", country):
            raise BadRequest("country_iso is invalid")
        limit = wire.int_param(args, "limit", 20, 1, 20)
        offset = wire.int_param(args, "offset", 0, 0, None)
        store_type, preds = wire.search_filters(args)
        # Narrow in SQL what can be (digit patterns, services); the predicates do the rest.
        pattern = (args.get("pattern") or "").strip()
        prefix = None
        if pattern.isdigit():
            import phonenumbers

            prefix = f"+{phonenumbers.country_code_for_region(country)}{pattern}"
        items, _ = self.store.search(
            country=country,
            number_type=store_type,
            starts_with=prefix,
            capabilities=wire.services_param(args),
            limit=_ALL,
        )
        matching = [i for i in items if all(p(i) for p in preds)]
        page = matching[offset : offset + limit]
        return json_response(
            {
                "api_id": wire.api_id(),
                "meta": wire.meta(
                    f"/v1/Account/{auth_id}/PhoneNumber/", args, limit, offset, len(matching)
                ),
                "objects": [wire.phone_number(i, auth_id) for i in page],
            }
        )

    def buy(self, request: Request, auth_id: str, number: str) -> Response:
        """``POST /PhoneNumber/{n}/`` -> 201; 404 ``not found`` when it is not for sale."""
        body = self._body(request)
        if auth_id != self.auth_id:  # subaccount credentials cannot buy
            return self.error(404, "not found")
        e164 = self._e164(number)
        item = self.store.available(e164) if e164 else None
        if item is None or e164 is None:
            return self.error(404, "not found")
        app_id = self._app_id(body.get("app_id"))
        data = self._options(body, item.country, item.number_type)
        if "ha_enable" in body and not isinstance(body["ha_enable"], bool):
            raise BadRequest("ha_enable must be true or false")
        compliance = self._text(body, "compliance_application_id")
        pending = item.needs_verification
        data.update(
            compliance_application_id=compliance or None,
            compliance_status="pending" if pending else None,
        )
        routing = {"app_id": app_id} if app_id else {}
        try:
            self.store.buy(
                e164,
                vendor=self.vendor,
                vendor_id=number,
                status="pending" if pending else "active",
                routing=routing,
                data=data,
            )
        except Unavailable:
            return self.error(404, "not found")
        return json_response(
            {
                "api_id": wire.api_id(),
                "message": "created",
                "numbers": [{"number": number, "status": "pending" if pending else "Success"}],
                "status": "fulfilled",
            },
            201,
        )

    def list_numbers(self, request: Request, auth_id: str) -> Response:
        """``GET /Number/``: the account's numbers, filtered and paged (limit <= 20)."""
        args = request.args
        limit = wire.int_param(args, "limit", 20, 1, 20)
        offset = wire.int_param(args, "offset", 0, 0, None)
        objects = [wire.account_number(r, auth_id) for r in self.store.owned()]
        kind = (args.get("type") or args.get("number_type") or "").strip().lower()
        if kind:
            kinds = {
                "fixed": {"local", "national"},
                "toll-free": {"tollfree"},
                "toll_free": {"tollfree"},
            }.get(kind, {kind})
            objects = [o for o in objects if o["number_type"] in kinds]
        if args.get("number_startswith"):
            objects = [o for o in objects if o["number"].startswith(args["number_startswith"])]
        for key, field in (
            ("alias", "alias"),
            ("subaccount", "sub_account"),
            ("cnam_lookup", "cnam_lookup"),
            ("tendlc_campaign_id", "tendlc_campaign_id"),
            ("tendlc_registration_status", "tendlc_registration_status"),
            ("toll_free_sms_verification", "toll_free_sms_verification"),
        ):
            if args.get(key):
                wanted = args[key].lower()
                objects = [o for o in objects if str(o[field] or "").lower() == wanted]
        services = wire.services_param(args)
        if services:
            objects = [o for o in objects if all(o[f"{s}_enabled"] for s in services)]
        for suffix, keep in (
            ("", operator.eq),
            ("__gt", operator.gt),
            ("__gte", operator.ge),
            ("__lt", operator.lt),
            ("__lte", operator.le),
        ):
            date = args.get(f"renewal_date{suffix}")
            if date:
                if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", date):
                    raise BadRequest(f"renewal_date{suffix} must be YYYY-MM-DD")
                objects = [o for o in objects if keep(o["renewal_date"], date)]
        return json_response(
            {
                "api_id": wire.api_id(),
                "meta": wire.meta(
                    f"/v1/Account/{auth_id}/Number/", args, limit, offset, len(objects)
                ),
                "objects": objects[offset : offset + limit],
            }
        )

    def get(self, request: Request, auth_id: str, number: str) -> Response:
        """``GET /Number/{n}/`` with ``api_id``; 404 when the account does not own it."""
        e164 = self._e164(number)
        record = self.store.get(e164) if e164 else None
        if record is None:
            return self.error(404, "not found")
        return json_response(wire.account_number(record, auth_id, with_api_id=True))

    def update(self, request: Request, auth_id: str, number: str) -> Response:
        """``POST /Number/{n}/`` -> 202 ``{"message": "changed"}``; routing goes to the store."""
        body = self._body(request)
        e164 = self._e164(number)
        record = self.store.get(e164) if e164 else None
        if record is None or e164 is None:
            return self.error(404, "not found")
        routing: dict[str, Any] = {}
        if "app_id" in body:
            app_id = self._app_id(body["app_id"])
            if app_id is None:
                dialect = self.store.setting(_UNLINK, "clears")
                if dialect == "default_app":
                    routing["app_id"] = DEFAULT_NUMBER_APP
                elif dialect == "clears":
                    routing["app_id"] = None
            else:
                routing["app_id"] = app_id
        if "alias" in body:
            routing["alias"] = self._text(body, "alias") or None
        data = self._options(body, record.item.country, record.item.number_type)
        compliance = self._text(body, "compliance_application_id")
        if compliance is not None:
            if record.data.get("compliance_status") not in ("pending", "rejected"):
                raise BadRequest(
                    "compliance_application_id can be updated only while the "
                    "compliance status is pending or rejected"
                )
            data["compliance_application_id"] = compliance or None
        self.store.update(e164, vendor=self.vendor, routing=routing, data=data)
        return json_response({"message": "changed", "api_id": wire.api_id()}, 202)

    def delete(self, request: Request, auth_id: str, number: str) -> Response:
        """``DELETE /Number/{n}/`` -> 204 with no body; 404 when not owned."""
        e164 = self._e164(number)
        if e164 is None or not self.store.release(e164, vendor=self.vendor):
            return self.error(404, "not found")
        return Response(status=204)
