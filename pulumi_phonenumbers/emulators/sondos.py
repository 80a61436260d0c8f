"""Sondos AI emulator face (vendor-apis.md §5), served under ``/api`` like the real host.

Routes (Bearer auth; 401 ``{"message": "Unauthenticated."}`` otherwise)::

    GET    /api/user/phone-numbers/search?country_code=&contains=   {"data": [offer, ...]}
    POST   /api/user/phone-numbers/purchase {"phone_number"}          201 {"message", "data"}
    GET    /api/user/phone-numbers/all                                 {"data": [entry, ...]}
    GET    /api/user/phone-numbers   (legacy: SMS-capable, active subscription only)
    GET    /api/user/assistants/get?per_page=&page=                    Laravel page of assistants
    GET    /api/user/assistants/phone-numbers[?type=inbound|outbound]  bare array
    PUT    /api/user/assistant/{id} {"phone_number_id": int|null}      (PUT only)
    DELETE /api/user/phone-numbers/{id}                                schedules the release

Modelling choices (inferred, vendor-apis.md §5.8):

* ``contains`` matches anywhere in the national number; numbers whose national number starts
  with it come first (so ``contains=415`` yields area 415, as the docs' example intends);
  at most 50 results, no paging. Only local numbers of US, CA, GB and AU are sold.
* Integer autoincrement ids; the id is the owned record's ``vendor_id``.
* Payment state is the switch ``sondos_payment_method``: ``valid`` | ``none`` (402 "No
  payment method on file.") | ``failing`` (402 "Payment failed.").
* Assistants are created on first use. Assignment is one-to-one: an assistant holds one
  ``phone_number_id`` and a number has one inbound assistant, so assigning a number held by
  another assistant moves it, and an assistant's previous number becomes unassigned.
* DELETE schedules the release: the Store releases the number at once (ledger ``release``,
  back on sale), while ``/all`` keeps listing it with ``has_active_subscription: false``
  until the end of the billing period, and a second DELETE is 400.
* ``GET /user/phone-numbers/all`` answers the documented item
  ``{id, phone_number, country_code, type, type_label, sms_capable, region,
  has_active_subscription, created_at}`` (no assistant field: routing is read from the
  assistants, each carrying ``phone_number_id``). ``GET /user/phone-numbers`` is the legacy
  list: only SMS-capable numbers with an active subscription, so a voice-only number is
  missing from it (docs.aiployees.com / docs.autocalls.ai "get all phone numbers").
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import phonenumbers
from werkzeug.wrappers import Request, Response

from ..store import InventoryItem, OwnedRecord, Store, Unavailable
from .base import BadRequest, Face, Handler, json_response

__all__ = ["API_KEY", "ENTRY_FIELDS", "SondosFace"]

API_KEY = "sondos_emulator_key_5f2a9c1e7b"
_COUNTRIES = ("US", "CA", "GB", "AU")
_PAGE = 50
_PERIOD = timedelta(days=30)
_PAYMENT = "sondos_payment_method"
#: Face state kept in Store settings (so ``/_emulator/reset`` clears it).
_NEXT_ID, _ASSISTANTS, _SCHEDULED = "sondos_next_id", "sondos_assistants", "sondos_scheduled"
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
#: The fields of the documented ``/user/phone-numbers/all`` item (docs.aiployees.com,
#: Famulor's client types).
ENTRY_FIELDS = (
    "id",
    "phone_number",
    "country_code",
    "type",
    "type_label",
    "sms_capable",
    "region",
    "has_active_subscription",
    "created_at",
)
_RELEASED = (
    "Phone number released successfully. It will be removed at the end of the billing period."
)


class _Invalid(BadRequest):
    """A Laravel 422 for one field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message, status=422, code=field)


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


def _national(number: str) -> str:
    return phonenumbers.national_significant_number(phonenumbers.parse(number))


class SondosFace(Face):
    """Sondos AI over the shared store."""

    vendor = "sondos"
    purchase_path = r"/purchase$"
    search_path = r"/phone-numbers/search"
    list_only = True
    purchase_time = "second"
    switches: ClassVar[Mapping[str, tuple[Any, ...]]] = {_PAYMENT: ("valid", "none", "failing")}

    def __init__(self, store: Store) -> None:
        super().__init__(store)
        self._lock = threading.RLock()

    def routes(self) -> list[tuple[str, str, Handler]]:
        """Paths under ``/api`` (the configured base URL ends in ``/api``)."""
        numbers = r"/api/user/phone-numbers"
        assistant = r"/api/user/assistant/(?P<assistant_id>[^/]+)"
        return [
            ("GET", numbers + r"/search", self.search),
            ("POST", numbers + r"/purchase", self.purchase),
            ("GET", numbers, self.list_legacy),
            ("GET", numbers + r"/all", self.list_all),
            ("GET", r"/api/user/assistants/get", self.list_assistants),
            ("GET", r"/api/user/assistants/phone-numbers", self.list_assignable),
            ("PUT", assistant, self.update_assistant),
            ("DELETE", numbers + r"/(?P<number_id>[^/]+)", self.release),
        ]

    def authenticate(self, request: Request, groups: Mapping[str, str]) -> Response | None:
        """Bearer ``API_KEY``; Laravel's 401 body otherwise."""
        if request.headers.get("Authorization", "") == f"Bearer {API_KEY}":
            return None
        return json_response({"message": "Unauthenticated."}, status=401)

    def error(self, status: int, message: str, code: str = "") -> Response:
        """``{"error": msg}``; Laravel shapes for 401 and 422 (``code`` = the field)."""
        if status == 401:
            return json_response({"message": "Unauthenticated."}, status=401)
        if status == 422:
            return json_response(
                {"message": message, "errors": {code or "request": [message]}}, status=422
            )
        return json_response({"error": message}, status=status)

    def config(self, url: str) -> dict[str, str]:
        """Stack config pointing the ``sondos`` vendor here."""
        return {"phonenumbers:sondosBaseUrl": url + "/api", "phonenumbers:sondosApiKey": API_KEY}

    # -- search / purchase ----------------------------------------------------------------
    def search(self, request: Request) -> Response:
        """Available local numbers of one country, best matches first."""
        country = (request.args.get("country_code") or "US").strip().upper()
        if not re.fullmatch(r"[A-Z]{2}", country):
            raise _Invalid("country_code", "The country code field must be 2 characters.")
        contains = (request.args.get("contains") or "").strip()
        if contains and not contains.isdigit():
            raise _Invalid("contains", "The contains field format is invalid.")
        if len(contains) > 10:
            raise _Invalid("contains", "The contains field must not be greater than 10 characters.")
        if country not in _COUNTRIES:
            return json_response({"data": []})
        items, _ = self.store.search(
            country=country, number_type="local", contains=contains or None, limit=100_000
        )
        if contains:
            items = [i for i in items if contains in _national(i.number)]
            items.sort(key=lambda i: (not _national(i.number).startswith(contains), i.number))
        return json_response({"data": [self._offer(i) for i in items[:_PAGE]]})

    @staticmethod
    def _offer(item: InventoryItem) -> dict[str, Any]:
        parsed = phonenumbers.parse(item.number)
        return {
            "phone_number": item.number,
            "phone_number_formatted": phonenumbers.format_number(
                parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL
            ),
            "country_code": item.country,
            "price": float(item.monthly),
            "stripe_price_id": f"price_sondos_{item.country.lower()}_local",
            "address_requirements": "local" if item.needs_verification else "none",
            "sms_capable": "sms" in item.capabilities,
        }

    def purchase(self, request: Request) -> Response:
        """Availability, then payment, then the account record (the documented pipeline)."""
        number = self._body(request).get("phone_number")
        if number is None or number == "":
            raise _Invalid("phone_number", "The phone number field is required.")
        if not isinstance(number, str) or not _E164.match(number):
            raise _Invalid("phone_number", "The phone number format is invalid.")
        with self._lock:
            if self.store.get(number) is not None:
                raise BadRequest("This phone number is already in use.")
            item = self.store.available(number)
            if item is None or item.country not in _COUNTRIES or item.number_type != "local":
                raise BadRequest("This phone number is not available.")
            payment = self.store.setting(_PAYMENT, "valid")
            if payment == "none":
                raise BadRequest("No payment method on file.", status=402)
            if payment == "failing":
                raise BadRequest("Payment failed.", status=402)
            number_id = int(self.store.setting(_NEXT_ID, 1))
            try:
                self.store.buy(
                    number,
                    vendor=self.vendor,
                    vendor_id=str(number_id),
                    data={"id": number_id, "type": "normal"},
                )
            except Unavailable:
                raise BadRequest("This phone number is already in use.") from None
            self.store.set_setting(_NEXT_ID, number_id + 1)
        return json_response(
            {
                "message": "Phone number purchased successfully.",
                "data": {
                    "id": number_id,
                    "phone_number": number,
                    "country_code": item.country,
                    "type": "normal",
                    "sms_capable": "sms" in item.capabilities,
                },
            },
            status=201,
        )

    # -- lists --------------------------------------------------------------------------------
    def list_all(self, request: Request) -> Response:
        """Every number; a scheduled release shows ``has_active_subscription: false``."""
        return json_response({"data": self._entries()})

    def list_legacy(self, request: Request) -> Response:
        """The legacy list: SMS-capable numbers with an active subscription only."""
        rows = [e for e in self._entries() if e["sms_capable"] and e["has_active_subscription"]]
        return json_response({"data": rows})

    def _entries(self) -> list[dict[str, Any]]:
        owned = self.store.owned()
        entries = [self._entry(r) for r in owned]
        current = {r.number for r in owned}
        for number_id, pending in sorted(self._scheduled().items(), key=lambda kv: int(kv[0])):
            if pending["phone_number"] not in current:  # hidden once the number is bought again
                entries.append(
                    {
                        "id": int(number_id),
                        **{k: pending[k] for k in ENTRY_FIELDS if k in pending and k != "id"},
                        "has_active_subscription": False,
                    }
                )
        return entries

    def list_assistants(self, request: Request) -> Response:
        """Laravel's paginator over the assistants (``per_page`` 1..100, default 10)."""
        per_page = self._positive(request, "per_page", 10)
        if per_page > 100:
            raise _Invalid("per_page", "The per page field must not be greater than 100.")
        page = self._positive(request, "page", 1)
        rows = sorted(self._assistants().values(), key=lambda a: int(a["id"]))
        last = max(1, -(-len(rows) // per_page))
        chunk = rows[(page - 1) * per_page : page * per_page]
        return json_response(
            {
                "current_page": page,
                "data": chunk,
                "last_page": last,
                "per_page": per_page,
                "total": len(rows),
            }
        )

    @staticmethod
    def _positive(request: Request, name: str, default: int) -> int:
        raw = request.args.get(name)
        if raw is None or raw == "":
            return default
        if not raw.isdigit() or int(raw) < 1:
            raise _Invalid(name, f"The {name.replace('_', ' ')} field must be at least 1.")
        return int(raw)

    def list_assignable(self, request: Request) -> Response:
        """Documented bare array; ``type=inbound`` leaves out numbers already assigned."""
        holders = self._holders()
        only_free = request.args.get("type") == "inbound"
        rows = []
        for record in self.store.owned():
            free = int(record.vendor_id) not in holders
            if only_free and not free:
                continue
            rows.append(
                {
                    "id": int(record.vendor_id),
                    "phone_number": record.number,
                    "country_code": record.item.country,
                    "type_label": "Normal",
                    "is_available": free,
                }
            )
        return json_response(rows)

    @staticmethod
    def _entry(record: OwnedRecord) -> dict[str, Any]:
        return {
            "id": int(record.vendor_id),
            "phone_number": record.number,
            "country_code": record.item.country,
            "type": "normal",
            "type_label": "Dedicated Number",
            "sms_capable": "sms" in record.item.capabilities,
            "region": "us1",
            "has_active_subscription": True,
            "created_at": _iso(record.bought_at),
        }

    # -- assistants ---------------------------------------------------------------------------
    def update_assistant(self, request: Request, assistant_id: str) -> Response:
        """Create on first use; ``phone_number_id`` assigns (moving it) or, null, unassigns."""
        if not assistant_id.isdigit():
            raise BadRequest("Assistant not found.", status=404)
        body = self._body(request)
        with self._lock:
            assistants = self._assistants()
            assistant = assistants.get(assistant_id) or {
                "id": int(assistant_id),
                "user_id": 1,
                "phone_number_id": None,
                "name": f"Assistant {assistant_id}",
                "type": "inbound",
                "status": "active",
            }
            if "phone_number_id" in body:
                number_id = self._number_id(body["phone_number_id"])
                self._assign(assistants, assistant, number_id)
            for key, value in body.items():
                if key not in ("id", "phone_number_id"):
                    assistant[key] = value
            assistants[assistant_id] = assistant
            self.store.set_setting(_ASSISTANTS, assistants)
        return json_response({"message": "Assistant updated successfully.", "data": assistant})

    def _number_id(self, value: Any) -> int | None:
        if value is None:
            return None
        if isinstance(value, bool) or not (
            isinstance(value, int) or (isinstance(value, str) and value.isdigit())
        ):
            raise _Invalid("phone_number_id", "The phone number id field must be an integer.")
        if self.store.get_by_id(str(int(value))) is None:
            raise _Invalid("phone_number_id", "The selected phone number id is invalid.")
        return int(value)

    def _assign(
        self, assistants: dict[str, Any], assistant: dict[str, Any], number_id: int | None
    ) -> None:
        """Keep assignment one-to-one and mirror it into the owned records' routing."""
        previous = assistant.get("phone_number_id")
        if previous == number_id:
            return
        if previous is not None:
            self._route(previous, None)
        if number_id is not None:
            for other in assistants.values():
                if other is not assistant and other.get("phone_number_id") == number_id:
                    other["phone_number_id"] = None
            self._route(number_id, str(assistant["id"]))
        assistant["phone_number_id"] = number_id

    def _route(self, number_id: int, target: str | None) -> None:
        record = self.store.get_by_id(str(number_id))
        if record is not None:
            self.store.update(record.number, vendor=self.vendor, routing={"voice_target": target})

    # -- release -------------------------------------------------------------------------------
    def release(self, request: Request, number_id: str) -> Response:
        """Schedule the release; the Store (and ledger) count it released at once."""
        with self._lock:
            scheduled = self._scheduled()
            if number_id in scheduled:
                raise BadRequest("Phone number is already scheduled for release.")
            record = self.store.get_by_id(number_id) if number_id.isdigit() else None
            if record is None:
                raise BadRequest("Phone number not found.", status=404)
            assistants = self._assistants()
            for assistant in assistants.values():  # side effect: inbound assistants unassigned
                if assistant.get("phone_number_id") == int(number_id):
                    assistant["phone_number_id"] = None
            self.store.set_setting(_ASSISTANTS, assistants)
            scheduled[number_id] = {
                **self._entry(record),
                "scheduled_release_at": _iso(record.bought_at + _PERIOD.total_seconds()),
            }
            self.store.set_setting(_SCHEDULED, scheduled)
            self.store.release(record.number, vendor=self.vendor)
        return json_response({"message": _RELEASED})

    # -- state helpers ----------------------------------------------------------------------------
    def _assistants(self) -> dict[str, Any]:
        return dict(self.store.setting(_ASSISTANTS, {}) or {})

    def _scheduled(self) -> dict[str, Any]:
        return dict(self.store.setting(_SCHEDULED, {}) or {})

    def _holders(self) -> dict[int, int]:
        """Owned number id -> the assistant id holding it."""
        return {
            int(a["phone_number_id"]): int(a["id"])
            for a in self._assistants().values()
            if a.get("phone_number_id") is not None
        }

    @staticmethod
    def _body(request: Request) -> dict[str, Any]:
        """The JSON body; junk counts as empty (Laravel validates the fields it finds)."""
        try:
            return Face.json_body(request)
        except BadRequest:
            return {}
