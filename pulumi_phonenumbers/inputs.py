"""Validation and normalisation of ``PhoneNumber`` inputs (what ``check`` and ``diff`` use).

Plain Python, no Pulumi import: :func:`validate` returns normalised inputs and a list of
``(field, reason)`` failures and never raises, whatever it is given. Values equal to
:data:`UNKNOWN` (Pulumi's preview placeholder) are passed through unvalidated.
Normalisation is idempotent, so ``check`` never causes a perpetual diff.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from . import e164
from .models import CAPABILITIES, NUMBER_TYPES, NumberQuery, Routing

__all__ = [
    "INPUT_KEYS",
    "MAX_MONTHLY_COST_LIMIT",
    "ROUTING_KEYS",
    "UNKNOWN",
    "is_unknown",
    "neutral_type",
    "query_of",
    "routing_of",
    "unsatisfied",
    "validate",
]

#: ``pulumi.runtime.rpc.UNKNOWN``: the value of an unknown input during preview.
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
INPUT_KEYS: tuple[str, ...] = (
    "adopt",
    "area_code",
    "capabilities",
    "contains",
    "country",
    "max_monthly_cost",
    "number",
    "number_type",
    "release_on_delete",
    "routing",
    "vendor",
    "vendor_options",
)
ROUTING_KEYS: tuple[str, ...] = Routing.field_names
CRITERIA_KEYS: tuple[str, ...] = (
    "area_code",
    "capabilities",
    "contains",
    "country",
    "max_monthly_cost",
    "number_type",
)
MAX_MONTHLY_COST_LIMIT = 10_000.0
#: Vendor extras that mean a neutral type (Plivo ``fixed``/``national`` are landlines).
_TYPE_ALIASES = {"fixed": "local", "national": "local", "tollfree": "toll_free"}
_ID_RE = re.compile(r"^[A-Za-z0-9._:@/+-]{1,128}$")


def neutral_type(number_type: str) -> str:
    """Map a vendor extra type onto ``local`` / ``mobile`` / ``toll_free``."""
    return _TYPE_ALIASES.get(number_type, number_type)


def is_unknown(value: Any) -> bool:
    """True for Pulumi's unknown placeholder (the rpc string or ``pulumi.output.Unknown``)."""
    if isinstance(value, str):
        return value == UNKNOWN
    return type(value).__name__ == "Unknown"


def validate(
    news: Mapping[str, Any], default_vendor: str, vendors: Mapping[str, Any]
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Normalise ``news``; return ``(inputs, failures)``. Never raises.

    ``vendors`` maps vendor names to their :class:`~.vendors.base.VendorInfo`-like objects
    (``countries``, ``number_types``, ``routing_fields``, ``options``, ``capabilities``).
    """
    failures: list[tuple[str, str]] = []
    out: dict[str, Any] = {}
    if not isinstance(news, Mapping):
        return {}, [("", "inputs must be an object")]
    for key in news:
        if key not in INPUT_KEYS and key != "__provider":
            failures.append((str(key), f"unknown input {key!r}; known: {', '.join(INPUT_KEYS)}"))

    def text(key: str) -> str | None:
        value = news.get(key)
        if value is None or is_unknown(value):
            return value
        if not isinstance(value, str):
            failures.append((key, f"{key} must be a string, got {type(value).__name__}"))
            return None
        return value.strip()

    # vendor
    vendor = text("vendor") or default_vendor
    if not is_unknown(vendor):
        vendor = vendor.lower()
        if vendor not in vendors:
            failures.append(
                ("vendor", f"unknown vendor {vendor!r}; choose one of {', '.join(sorted(vendors))}")
            )
    out["vendor"] = vendor
    info = vendors.get(vendor) if not is_unknown(vendor) else None

    # number (exact) and country
    number = text("number")
    country = text("country")
    if country and not is_unknown(country):
        country = country.upper()
        if not re.fullmatch(r"[A-Z]{2}", country):
            failures.append(
                (
                    "country",
                    f"country must be an ISO 3166-1 alpha-2 code such as "
                    f"'US', got {news.get('country')!r}",
                )
            )
    if number and not is_unknown(number):
        try:
            number = e164.normalize(
                number, country if country and not is_unknown(country) else None
            )
        except e164.InvalidNumber as exc:
            failures.append(("number", f"{exc}; write it in E.164, e.g. '+14155550100'"))
        else:
            region = e164.country_of(number)
            if country and not is_unknown(country) and country != region:
                failures.append(
                    ("number", f"{number} is a {region} number but country is {country}")
                )
            country = country or region
    out["number"] = number or None
    country = country or "US"
    out["country"] = country
    if (
        info is not None
        and not is_unknown(country)
        and info.countries
        and country not in info.countries
    ):
        failures.append(
            (
                "country",
                f"vendor {vendor} does not sell numbers in {country}; it "
                f"sells in {', '.join(sorted(info.countries))}",
            )
        )

    # number_type
    number_type = text("number_type") or "local"
    if not is_unknown(number_type):
        number_type = number_type.lower()
        allowed = set(info.number_types) if info is not None else set(NUMBER_TYPES)
        if number_type not in allowed:
            who = f"vendor {vendor}" if info is not None else "number_type"
            failures.append(
                (
                    "number_type",
                    f"{who} does not offer number_type "
                    f"{number_type!r}; choose one of "
                    f"{', '.join(sorted(allowed))}",
                )
            )
    out["number_type"] = number_type

    # area_code, contains
    for key, limit in (("area_code", 5), ("contains", 15)):
        value = text(key)
        if value and not is_unknown(value) and (not value.isdigit() or len(value) > limit):
            failures.append((key, f"{key} must be 1-{limit} digits, got {news.get(key)!r}"))
        out[key] = value or None

    # capabilities
    caps = news.get("capabilities")
    if caps is None:
        out["capabilities"] = []
    elif is_unknown(caps):
        out["capabilities"] = caps
    elif not isinstance(caps, list | tuple) or not all(isinstance(c, str) for c in caps):
        failures.append(("capabilities", "capabilities must be a list of 'voice', 'sms', 'mms'"))
        out["capabilities"] = []
    else:
        norm = sorted({c.strip().lower() for c in caps if not is_unknown(c)})
        offered = set(info.capabilities) if info is not None else set(CAPABILITIES)
        for cap in norm:
            if cap not in CAPABILITIES:
                failures.append(
                    ("capabilities", f"unknown capability {cap!r}; use voice, sms, mms")
                )
            elif cap not in offered:
                failures.append(
                    ("capabilities", f"vendor {vendor} cannot filter on capability {cap!r}")
                )
        out["capabilities"] = norm

    # max_monthly_cost
    cost = news.get("max_monthly_cost")
    if cost is None or is_unknown(cost):
        out["max_monthly_cost"] = cost
    else:
        try:
            if isinstance(cost, bool):
                raise TypeError
            amount = float(Decimal(str(cost)))
            if not math.isfinite(amount):
                raise ValueError
        except (TypeError, ValueError, InvalidOperation):
            failures.append(
                ("max_monthly_cost", f"max_monthly_cost must be a number, got {cost!r}")
            )
            out["max_monthly_cost"] = None
        else:
            if amount <= 0 or amount > MAX_MONTHLY_COST_LIMIT:
                failures.append(
                    (
                        "max_monthly_cost",
                        f"max_monthly_cost must be > 0 and <= "
                        f"{MAX_MONTHLY_COST_LIMIT:g}, got {cost!r}",
                    )
                )
            out["max_monthly_cost"] = amount

    # adopt / release_on_delete
    for key in ("adopt", "release_on_delete"):
        value = news.get(key)
        if value is not None and not is_unknown(value) and not isinstance(value, bool):
            failures.append((key, f"{key} must be true or false, got {value!r}"))
            value = None
        out[key] = value
    if out["adopt"] is None:
        out["adopt"] = False
    if out["release_on_delete"] is None:
        out["release_on_delete"] = not out["adopt"] if not is_unknown(out["adopt"]) else UNKNOWN
    if out["adopt"] is True and not out["number"]:
        failures.append(("adopt", "adopt=True needs number: the E.164 number the account owns"))

    # routing
    routing = news.get("routing")
    if routing is None:
        out["routing"] = {}
    elif is_unknown(routing):
        out["routing"] = routing
    elif not isinstance(routing, Mapping):
        failures.append(("routing", "routing must be an object"))
        out["routing"] = {}
    else:
        norm_routing: dict[str, Any] = {}
        for key, value in routing.items():
            prop = f"routing.{key}"
            if key not in ROUTING_KEYS:
                failures.append(
                    (prop, f"unknown routing field {key!r}; known: {', '.join(ROUTING_KEYS)}")
                )
                continue
            if value is None:
                continue
            if is_unknown(value):
                norm_routing[key] = value
            elif key in ("inbound", "outbound"):
                if not isinstance(value, bool):
                    failures.append((prop, f"{prop} must be true or false"))
                    continue
                norm_routing[key] = value
            elif not isinstance(value, str) or not value.strip():
                failures.append((prop, f"{prop} must be a non-empty string"))
                continue
            elif key != "label" and not _ID_RE.match(value.strip()):
                failures.append((prop, f"{prop} {value!r} is not a valid target id"))
                continue
            elif key == "label" and len(value) > 128:
                failures.append((prop, f"{prop} must be at most 128 characters"))
                continue
            else:
                norm_routing[key] = value.strip()
            if (
                info is not None
                and key == "voice_target"
                and key in info.routing_fields
                and not is_unknown(value)
                and not re.match(info.target_pattern, str(value).strip())
            ):
                failures.append(
                    (
                        prop,
                        f"vendor {vendor} expects routing.voice_target to be "
                        f"{info.target_format} (e.g. {info.target_examples[0]!r}), "
                        f"got {value!r}",
                    )
                )
            if info is not None and key not in info.routing_fields:
                failures.append(
                    (
                        prop,
                        f"vendor {vendor} cannot honour routing.{key}; it "
                        f"supports {', '.join(sorted(info.routing_fields)) or 'none'}",
                    )
                )
        out["routing"] = norm_routing

    # vendor_options
    options = news.get("vendor_options")
    if options is None:
        out["vendor_options"] = {}
    elif is_unknown(options):
        out["vendor_options"] = options
    elif not isinstance(options, Mapping):
        failures.append(("vendor_options", "vendor_options must be an object"))
        out["vendor_options"] = {}
    else:
        known = dict(info.options) if info is not None else {}
        for key in options:
            if info is not None and key not in known:
                failures.append(
                    (
                        f"vendor_options.{key}",
                        f"vendor {vendor} has no option {key!r}; known: "
                        f"{', '.join(sorted(known)) or 'none'}",
                    )
                )
        out["vendor_options"] = dict(options)
    return out, failures


def routing_of(props: Mapping[str, Any]) -> Routing:
    """The :class:`Routing` in inputs or outputs (unknown values dropped)."""
    raw = props.get("routing") or {}
    if not isinstance(raw, Mapping):
        return Routing()
    return Routing.from_dict(
        {k: v for k, v in raw.items() if k in ROUTING_KEYS and v is not None and not is_unknown(v)}
    )


def query_of(props: Mapping[str, Any]) -> NumberQuery:
    """The search criteria of checked inputs (unknown values count as unset)."""

    def get(key: str) -> Any:
        value = props.get(key)
        return None if is_unknown(value) else value

    cost = get("max_monthly_cost")
    caps = get("capabilities") or ()
    return NumberQuery(
        country=get("country") or "US",
        number_type=get("number_type") or "local",
        area_code=get("area_code") or None,
        contains=get("contains") or None,
        capabilities=tuple(c for c in caps if not is_unknown(c)),
        max_monthly_cost=Decimal(str(cost)) if cost is not None else None,
    )


def unsatisfied(outs: Mapping[str, Any], news: Mapping[str, Any]) -> list[str]:
    """Criteria in ``news`` that the number held in ``outs`` does not satisfy.

    Unknown values are treated as satisfied (criteria are hints; the real ``up``
    diffs again with known values).
    """
    number = outs.get("number")
    if not isinstance(number, str) or not number:
        return []
    bad: list[str] = []
    country = news.get("country")
    if country and not is_unknown(country) and country != e164.country_of(number):
        bad.append("country")
    ntype = news.get("number_type")
    if (
        ntype
        and not is_unknown(ntype)
        and ntype != outs.get("number_type")
        and neutral_type(ntype) != e164.number_type_of(number)
    ):
        bad.append("number_type")
    area = news.get("area_code")
    national = e164.digits(number)[len(str(e164.country_code(number))) :]
    if area and not is_unknown(area) and not national.startswith(area):
        bad.append("area_code")
    contains = news.get("contains")
    if contains and not is_unknown(contains) and contains not in e164.digits(number):
        bad.append("contains")
    caps = news.get("capabilities")
    if isinstance(caps, list) and not any(is_unknown(c) for c in caps):
        held_caps = set(outs.get("number_capabilities") or [])
        if not set(caps) <= held_caps:
            bad.append("capabilities")
    cost = news.get("max_monthly_cost")
    if cost is not None and not is_unknown(cost):
        monthly = outs.get("monthly_cost")
        if isinstance(monthly, int | float) and float(monthly) > float(cost):
            bad.append("max_monthly_cost")
    return bad
