"""Plivo emulator internals: wire objects, query parsing and the search filters.

Objects follow the fixtures of ``vendor-apis.md`` §1.2 (PhoneNumber) and §1.4
(AccountPhoneNumber). Places come from the ``phonenumbers`` geocoder; LATA and rate centre
are derived (real LATAs for the inventory's US area codes, a stable stand-in otherwise).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

import phonenumbers
from phonenumbers import geocoder

from ..store import InventoryItem, OwnedRecord
from .base import BadRequest

__all__ = [
    "SEARCH_TYPES",
    "account_number",
    "api_id",
    "bool_param",
    "int_param",
    "meta",
    "phone_number",
    "search_filters",
    "services_param",
]

#: Search ``type`` values: ``tollfree``, ``local``, ``mobile``, ``national``, ``fixed``
#: (www.plivo.com/docs/numbers/phone-numbers; ``fixed`` = the ``local`` and ``national``
#: sub-types), plus ``any`` (the SDK's docstring). Anything else is a 400.
SEARCH_TYPES = frozenset({"any", "fixed", "local", "national", "mobile", "tollfree"})
_NANP = frozenset({"US", "CA"})
_LATA = {
    "415": 722,
    "628": 722,
    "212": 132,
    "646": 132,
    "718": 132,
    "310": 730,
    "512": 558,
    "305": 460,
    "206": 674,
    "617": 128,
}


def api_id() -> str:
    """A fresh ``api_id`` (Plivo uses time-based UUIDs)."""
    return str(uuid.uuid1())


@functools.lru_cache(maxsize=256)
def _country_name_of(country: str) -> str:
    # Named from the region's example number: NANP toll-free numbers have no country in the
    # geocoder.
    example = phonenumbers.example_number(country)
    name = geocoder.country_name_for_number(example, "en") if example else ""
    return str(name or country).upper()


def _country_name(item: InventoryItem) -> str:
    return _country_name_of(item.country)


@functools.lru_cache(maxsize=4096)
def _city(item: InventoryItem) -> str | None:
    """The place of a geographic number, or ``None`` (mobile, toll-free, non-geographic)."""
    if item.number_type != "local":
        return None
    place = item.locality.split(",")[0].split(" - ")[0].strip()
    if not place or place.upper() in {item.country, _country_name(item)}:
        return None
    return place


@functools.lru_cache(maxsize=4096)
def _national(item: InventoryItem) -> str:
    return str(phonenumbers.parse(item.number).national_number)


def sub_type(item: InventoryItem) -> str:
    """``local`` / ``national`` (a landline with no place) / ``mobile`` / ``tollfree``."""
    if item.number_type == "toll_free":
        return "tollfree"
    if item.number_type == "mobile":
        return "mobile"
    return "local" if _city(item) else "national"


def _type(item: InventoryItem) -> str:
    return {"toll_free": "tollfree", "mobile": "mobile"}.get(item.number_type, "fixed")


def _region(item: InventoryItem) -> str:
    country = _country_name(item)
    if _city(item) is None:
        return country.title()
    return f"{item.locality}, {country}"


def _lata(item: InventoryItem) -> int | None:
    if item.country not in _NANP or item.number_type != "local":
        return None
    npa = item.area_code[:3]
    return _LATA.get(npa, 800 + int(npa) % 100)


def _rate_center(item: InventoryItem) -> str | None:
    if item.country not in _NANP or item.number_type != "local":
        return None
    place = item.locality.split(",")[0]
    return re.sub(r"[^A-Z]", "", place.upper())[:10] or None


def _rate(value: Any) -> str:
    return f"{value:.5f}"


def _services(item: InventoryItem) -> dict[str, Any]:
    caps = set(item.capabilities)
    return {
        "voice_enabled": "voice" in caps,
        "voice_rate": _rate(0.0085 if "voice" in caps else 0),
        "sms_enabled": "sms" in caps,
        "sms_rate": _rate(0.0080 if "sms" in caps else 0),
        "mms_enabled": "mms" in caps,
        "mms_rate": _rate(0.0200 if "mms" in caps else 0),
    }


def phone_number(item: InventoryItem, auth_id: str) -> dict[str, Any]:
    """The search-result object of an available number (§1.2)."""
    digits = item.number.lstrip("+")
    city = _city(item)
    obj: dict[str, Any] = {
        "country": _country_name(item),
        "city": city.upper() if city else None,
        "lata": _lata(item),
        "monthly_rental_rate": _rate(item.monthly),
        "number": digits,
        "type": _type(item),
        "sub_type": sub_type(item),
        "prefix": item.area_code,
        "rate_center": _rate_center(item),
        "region": _region(item),
        "resource_uri": f"/v1/Account/{auth_id}/PhoneNumber/{digits}/",
        "restriction": "country-address" if item.needs_verification else None,
        "restriction_text": (
            "An address in the country is required before the number can be used"
            if item.needs_verification
            else None
        ),
        "setup_rate": _rate(item.setup),
        **_services(item),
    }
    if item.needs_verification:
        obj["prerequisites"] = [
            {"proof_required": True, "proof_type": ["Any"], "scope": "country", "type": "address"}
        ]
    return obj


def _renewal(bought: dt.date) -> dt.date:
    month = bought.month % 12 + 1
    year = bought.year + (bought.month == 12)
    day = min(bought.day, 28)
    return dt.date(year, month, day)


def account_number(
    record: OwnedRecord, auth_id: str, *, with_api_id: bool = False
) -> dict[str, Any]:
    """The AccountPhoneNumber object of an owned number (§1.4)."""
    item, data, routing = record.item, record.data, record.routing
    digits = item.number.lstrip("+")
    bought = dt.datetime.fromtimestamp(record.bought_at or 0, dt.UTC).date()
    app = routing.get("app_id")
    city = _city(item)
    obj: dict[str, Any] = {
        "added_on": bought.isoformat(),
        "active": record.status == "active",
        "alias": routing.get("alias"),
        "application": f"/v1/Account/{auth_id}/Application/{app}/" if app else None,
        "carrier": "Plivo",
        "monthly_rental_rate": _rate(item.monthly),
        "number": digits,
        "number_type": sub_type(item),
        "city": city.upper() if city else None,
        "cnam_lookup": data.get("cnam_lookup", "disabled"),
        "compliance_application_id": data.get("compliance_application_id"),
        "compliance_status": data.get("compliance_status"),
        "country": _country_name(item).title(),
        "region": _region(item),
        "resource_uri": f"/v1/Account/{auth_id}/Number/{digits}/",
        "sub_account": data.get("sub_account"),
        "tendlc_campaign_id": None,
        "tendlc_registration_status": "UNREGISTERED" if item.country == "US" else None,
        "toll_free_sms_verification": None,
        "renewal_date": _renewal(bought).isoformat(),
        **_services(item),
    }
    if with_api_id:
        obj = {"api_id": api_id(), **obj}
    return obj


# -- query parameters -----------------------------------------------------------------------
def int_param(args: Mapping[str, str], name: str, default: int, low: int, high: int | None) -> int:
    """An integer query parameter in ``[low, high]`` (400 in Plivo's words otherwise)."""
    raw = args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"{name} must be an integer") from None
    if high is not None and value > high:
        raise BadRequest(f"{name} must be <= {high}")
    if value < low:
        raise BadRequest(f"{name} must be >= {low}")
    return value


def bool_param(args: Mapping[str, str], name: str) -> bool | None:
    """``true`` / ``false`` (also 1/0); ``None`` when absent."""
    raw = args.get(name)
    if raw is None or raw == "":
        return None
    value = raw.strip().lower()
    if value in ("true", "1", "yes"):
        return True
    if value in ("false", "0", "no"):
        return False
    raise BadRequest(f"{name} must be true or false")


def services_param(args: Mapping[str, str]) -> tuple[str, ...]:
    """``services=voice,sms`` -> every listed service is required."""
    raw = args.get("services") or ""
    wanted = tuple(s.strip().lower() for s in raw.split(",") if s.strip())
    for service in wanted:
        if service not in ("voice", "sms", "mms"):
            raise BadRequest("services is invalid; use voice, sms, mms or a comma combination")
    return wanted


def _pattern(raw: str) -> re.Pattern[str]:
    """``pattern``: a prefix after the country code; ``?``/``x`` = one digit, ``*`` = any run.

    Only digits are documented; the wildcards are an emulator convenience (inferred).
    """
    if not re.fullmatch(r"[0-9?xX*]{1,15}", raw):
        raise BadRequest("pattern is invalid")
    body = "".join({"?": r"\d", "x": r"\d", "X": r"\d", "*": r"\d*"}.get(c, c) for c in raw)
    return re.compile(body)


Predicate = Callable[[InventoryItem], bool]


def _equals(getter: Callable[[InventoryItem], str | None], wanted: str) -> Predicate:
    return lambda item: (getter(item) or "").lower() == wanted


def search_filters(args: Mapping[str, str]) -> tuple[str | None, list[Predicate]]:
    """The search query as a store ``number_type`` plus Python predicates (400 on junk)."""
    kind = (args.get("type") or "any").strip().lower()
    if kind not in SEARCH_TYPES:
        raise BadRequest("type is invalid; use fixed, mobile, tollfree, local, national or any")
    store_type = {
        "fixed": "local",
        "local": "local",
        "national": "local",
        "mobile": "mobile",
        "any": None,
    }.get(kind, "toll_free")
    preds: list[Predicate] = []
    if kind in ("local", "national"):
        preds.append(lambda i: sub_type(i) == kind)

    if args.get("pattern"):
        regex = _pattern(args["pattern"].strip())
        preds.append(lambda i: regex.match(_national(i)) is not None)
    npanxx = (args.get("npanxx") or "").strip()
    if npanxx:
        if not re.fullmatch(r"\d{6}", npanxx):
            raise BadRequest("npanxx is invalid; it must be 6 digits")
        # local_calling_area: numbers local to that NPANXX, approximated by its NPA (inferred).
        prefix = npanxx[:3] if bool_param(args, "local_calling_area") else npanxx
        preds.append(lambda i: i.country in _NANP and _national(i).startswith(prefix))
    else:
        bool_param(args, "local_calling_area")  # validated, meaningless without npanxx
    text_filters: Sequence[tuple[str, Callable[[InventoryItem], str | None]]] = (
        ("city", lambda i: _city(i)),
        ("rate_center", _rate_center),
        ("lata", lambda i: None if _lata(i) is None else str(_lata(i))),
    )
    for name, getter in text_filters:
        wanted = (args.get(name) or "").strip().lower()
        if wanted:
            preds.append(_equals(getter, wanted))
    region = (args.get("region") or "").strip().lower()
    if region:
        preds.append(lambda i: region in _region(i).lower())
    services = services_param(args)
    if services:
        preds.append(lambda i: set(services) <= set(i.capabilities))
    if bool_param(args, "eligible"):
        preds.append(lambda i: not i.needs_verification)
    return store_type, preds


def meta(path: str, args: Mapping[str, str], limit: int, offset: int, total: int) -> dict[str, Any]:
    """``meta`` with relative ``next`` / ``previous`` URLs (``null`` at either end)."""

    def url(at: int) -> str:
        query = {k: v for k, v in args.items() if k not in ("limit", "offset")}
        return f"{path}?{urlencode({**query, 'limit': limit, 'offset': at})}"

    return {
        "limit": limit,
        "offset": offset,
        "total_count": total,
        "next": url(offset + limit) if offset + limit < total else None,
        "previous": url(max(0, offset - limit)) if offset > 0 else None,
    }
