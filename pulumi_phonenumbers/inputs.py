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
from .models import CAPABILITIES, NUMBER_TYPES, NumberQuery, OwnedNumber, Routing

__all__ = [
    "ADOPT_CRITERIA",
    "INPUT_KEYS",
    "MAX_MONTHLY_COST_LIMIT",
    "PHONE_NUMBER_TYPE",
    "ROUTING_KEYS",
    "UNKNOWN",
    "has_unknown",
    "is_unknown",
    "known_options",
    "neutral_type",
    "query_of",
    "routing_of",
    "unmet_by",
    "unsatisfied",
    "validate",
]

#: The type token of a ``PhoneNumber`` in state (``resource.py`` declares it; never change it).
PHONE_NUMBER_TYPE = "pulumi-python:dynamic/phonenumbers:PhoneNumber"
#: ``pulumi.runtime.rpc.UNKNOWN``: the value of an unknown input during preview.
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
INPUT_KEYS: tuple[str, ...] = (
    "adopt",
    "area_code",
    "budget_monthly_cost",
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
_ASCII_DIGITS = re.compile(r"[0-9]+")


def neutral_type(number_type: str) -> str:
    """Map a vendor extra type onto ``local`` / ``mobile`` / ``toll_free``."""
    return _TYPE_ALIASES.get(number_type, number_type)


def is_unknown(value: Any) -> bool:
    """True for Pulumi's unknown placeholder (the rpc string or ``pulumi.output.Unknown``)."""
    if isinstance(value, str):
        return value == UNKNOWN
    return type(value).__name__ == "Unknown"


def has_unknown(value: Any) -> bool:
    """True when ``value`` is, or holds at any depth, Pulumi's unknown placeholder."""
    if isinstance(value, Mapping):
        return any(has_unknown(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(has_unknown(v) for v in value)
    return is_unknown(value)


def known_options(options: Any) -> dict[str, Any]:
    """The ``vendor_options`` whose values are fully known (what a vendor can check)."""
    if not isinstance(options, Mapping):
        return {}
    return {k: v for k, v in options.items() if not has_unknown(v)}


def validate(
    news: Mapping[str, Any], default_vendor: str, vendors: Mapping[str, Any]
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Normalise ``news``; return ``(inputs, failures)``. Never raises.

    ``vendors`` maps vendor names to their :class:`~.vendors.base.VendorInfo`-like objects
    (``countries``, ``number_types``, ``routing_fields``, ``options``, ``capabilities``).
    Each property gets at most one failure, and its reason does not repeat the property's
    name (the engine prints ``property: reason``). Unknown values, at any depth, are kept
    as they are and never reported.
    """
    if not isinstance(news, Mapping):
        return {}, [("", "the inputs must be an object")]
    return _Validation(news, default_vendor, vendors).run()


class _Validation:
    """One pass over an input bag: one method per input, each filling ``out``."""

    def __init__(
        self, news: Mapping[str, Any], default_vendor: str, vendors: Mapping[str, Any]
    ) -> None:
        self.news = news
        self.default_vendor = default_vendor
        self.vendors = vendors
        self.out: dict[str, Any] = {}
        self.failures: list[tuple[str, str]] = []
        self.info: Any = None
        self.vendor_name: Any = None

    def fail(self, prop: str, reason: str) -> None:
        self.failures.append((prop, reason))

    def run(self) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        self.unknown_keys()
        self.vendor()
        self.country_and_number()
        self.number_type()
        self.digits("area_code", 5)
        self.digits("contains", 15)
        self.capabilities()
        self.max_monthly_cost()
        self.max_monthly_cost("budget_monthly_cost")
        self.flags()
        self.routing()
        self.vendor_options()
        return self.out, self.failures

    def text(self, key: str) -> Any:
        """The stripped string (``None``, unknown, or ``None`` after a failure)."""
        value = self.news.get(key)
        if value is None or is_unknown(value):
            return value
        if not isinstance(value, str):
            self.fail(key, f"must be a string, got {type(value).__name__}")
            return None
        return value.strip()

    def unknown_keys(self) -> None:
        for key in self.news:
            if key not in INPUT_KEYS and key != "__provider":
                self.fail(str(key), f"not an input of PhoneNumber; use {', '.join(INPUT_KEYS)}")

    def vendor(self) -> None:
        vendor = self.text("vendor") or self.default_vendor
        if not is_unknown(vendor):
            vendor = vendor.lower()
            if vendor not in self.vendors:
                choices = ", ".join(sorted(self.vendors))
                self.fail("vendor", f"unknown vendor {vendor!r}; choose one of {choices}")
            self.info = self.vendors.get(vendor)
        self.vendor_name = self.out["vendor"] = vendor

    def country_and_number(self) -> None:
        country = self.text("country")
        valid_country = True
        if country and not is_unknown(country):
            country = country.upper()
            if not (country.isascii() and re.fullmatch(r"[A-Z]{2}", country)):
                valid_country = False
                self.fail(
                    "country",
                    "must be an ISO 3166-1 alpha-2 code such as 'US', "
                    f"got {self.news.get('country')!r}",
                )
        known_country = country if country and not is_unknown(country) else None
        number = self.text("number")
        if number and not is_unknown(number):
            try:
                number = e164.normalize(number, known_country if valid_country else None)
            except e164.InvalidNumber as exc:
                self.fail("number", f"{exc}; write it in E.164, e.g. '+14155550100'")
            else:
                region = e164.country_of(number)
                if known_country and valid_country and known_country != region:
                    self.fail("number", f"{number} is a {region} number but country is {country}")
                country = country or region
        self.out["number"] = number or None
        country = self.out["country"] = country or "US"
        info = self.info
        if (
            valid_country
            and info is not None
            and not is_unknown(country)
            and info.countries
            and country not in info.countries
        ):
            self.fail(
                "country",
                f"vendor {self.vendor_name} does not sell numbers in {country}; it sells in "
                f"{', '.join(sorted(info.countries))}",
            )

    def number_type(self) -> None:
        number_type = self.text("number_type") or "local"
        if not is_unknown(number_type):
            number_type = number_type.lower()
            allowed = set(self.info.number_types) if self.info is not None else set(NUMBER_TYPES)
            if is_unknown(self.vendor_name):  # any vendor's extra may turn out fine
                allowed.update(t for i in self.vendors.values() for t in i.number_types)
            if number_type not in allowed:
                who = f"vendor {self.vendor_name} does not offer" if self.info else "there is no"
                self.fail(
                    "number_type",
                    f"{who} {number_type!r}; choose one of {', '.join(sorted(allowed))}",
                )
        self.out["number_type"] = number_type

    def digits(self, key: str, limit: int) -> None:
        """``area_code`` / ``contains``: 1 to ``limit`` ASCII digits (``isdigit`` is too lax)."""
        value = self.text(key)
        if value and not is_unknown(value) and not _ASCII_DIGITS.fullmatch(value):
            self.fail(key, f"must be 1-{limit} digits 0-9, got {self.news.get(key)!r}")
        elif value and not is_unknown(value) and len(value) > limit:
            self.fail(key, f"must be 1-{limit} digits 0-9, got {len(value)} digits")
        self.out[key] = value or None

    def capabilities(self) -> None:
        caps = self.news.get("capabilities")
        if caps is None:
            self.out["capabilities"] = []
            return
        if is_unknown(caps):
            self.out["capabilities"] = caps
            return
        if not isinstance(caps, list | tuple) or not all(
            isinstance(c, str) or is_unknown(c) for c in caps
        ):
            self.fail("capabilities", "must be a list of 'voice', 'sms', 'mms'")
            self.out["capabilities"] = []
            return
        unknown = [c for c in caps if is_unknown(c)]
        norm = sorted({c.strip().lower() for c in caps if not is_unknown(c)})
        offered = set(self.info.capabilities) if self.info is not None else set(CAPABILITIES)
        problems = []
        strange = [repr(c) for c in norm if c not in CAPABILITIES]
        if strange:
            problems.append(f"unknown capability {', '.join(strange)}; use voice, sms or mms")
        unoffered = [repr(c) for c in norm if c in CAPABILITIES and c not in offered]
        if unoffered:
            problems.append(f"vendor {self.vendor_name} cannot filter on {', '.join(unoffered)}")
        if problems:
            self.fail("capabilities", "; ".join(problems))
        # Unknown elements (preview) stay, after the known ones, for the real check at `up`.
        self.out["capabilities"] = [*norm, *unknown]

    def max_monthly_cost(self, key: str = "max_monthly_cost") -> None:
        cost = self.news.get(key)
        if cost is None or is_unknown(cost):
            self.out[key] = cost
            return
        try:
            if isinstance(cost, bool) or (isinstance(cost, str) and not cost.isascii()):
                raise TypeError
            amount = float(Decimal(str(cost)))
            if not math.isfinite(amount):
                raise ValueError
        except (TypeError, ValueError, InvalidOperation):
            self.fail(key, f"must be a number (digits 0-9), got {cost!r}")
            self.out[key] = None
            return
        if amount <= 0 or amount > MAX_MONTHLY_COST_LIMIT:
            self.fail(key, f"must be > 0 and <= {MAX_MONTHLY_COST_LIMIT:g}, got {cost!r}")
        self.out[key] = amount

    def flags(self) -> None:
        """``adopt`` and ``release_on_delete`` (adopted numbers are kept by default)."""
        for key in ("adopt", "release_on_delete"):
            value = self.news.get(key)
            if value is not None and not is_unknown(value) and not isinstance(value, bool):
                self.fail(key, f"must be true or false, got {value!r}")
                value = None
            self.out[key] = value
        out = self.out
        if out["adopt"] is None:
            out["adopt"] = False
        if out["release_on_delete"] is None:
            out["release_on_delete"] = not out["adopt"] if not is_unknown(out["adopt"]) else UNKNOWN
        if out["adopt"] is True and not out["number"]:
            self.fail("adopt", "needs number: the E.164 number the account already owns")

    def mapping(self, key: str) -> Mapping[str, Any] | None:
        """The object under ``key`` to validate, or ``None`` once ``out[key]`` is settled
        (unset -> ``{}``, unknown kept as it is, not an object -> a failure and ``{}``)."""
        value = self.news.get(key)
        if isinstance(value, Mapping):
            return value
        if value is not None and not is_unknown(value):
            self.fail(key, "must be an object")
        self.out[key] = value if is_unknown(value) else {}
        return None

    def routing(self) -> None:
        routing = self.mapping("routing")
        if routing is not None:
            norm: dict[str, Any] = {}
            for key, value in routing.items():
                ok = self.routing_field(f"routing.{key}", key, value)
                if ok is not None:
                    norm[key] = ok
            self.out["routing"] = norm

    def routing_field(self, prop: str, key: str, value: Any) -> Any:
        """The normalised routing value, or ``None`` (unset, or a failure was recorded)."""
        info = self.info
        if key not in ROUTING_KEYS:
            self.fail(prop, f"not a routing field; use {', '.join(ROUTING_KEYS)}")
            return None
        if value is None:
            return None
        if info is not None and key not in info.routing_fields:
            supported = ", ".join(sorted(info.routing_fields)) or "none"
            self.fail(prop, f"vendor {self.vendor_name} cannot honour it; it supports {supported}")
            return None
        if is_unknown(value):
            return value
        if key in ("inbound", "outbound"):
            if not isinstance(value, bool):
                self.fail(prop, "must be true or false")
                return None
            return value
        if not isinstance(value, str) or not value.strip():
            self.fail(prop, "must be a non-empty string")
            return None
        value = value.strip()
        if key == "label":
            if len(value) > 128:
                self.fail(prop, "must be at most 128 characters")
                return None
            return value
        if not _ID_RE.match(value):
            self.fail(prop, f"{value!r} is not a valid target id")
            return None
        if (
            info is not None
            and key == "voice_target"
            and not re.match(info.target_pattern, value, re.ASCII)
        ):
            self.fail(
                prop,
                f"vendor {self.vendor_name} expects {info.target_format} "
                f"(e.g. {info.target_examples[0]!r}), got {value!r}",
            )
            return None
        return value

    def vendor_options(self) -> None:
        options = self.mapping("vendor_options")
        if options is None:
            return
        if self.info is not None:
            known = ", ".join(sorted(self.info.options)) or "none"
            for key in options:
                if key not in self.info.options:
                    self.fail(
                        f"vendor_options.{key}",
                        f"vendor {self.vendor_name} has no such option; its options: {known}",
                    )
        self.out["vendor_options"] = dict(options)


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

    # ``budget_monthly_cost`` (a fleet's share of its budget) caps what a create may buy,
    # but is no criterion: diff never replaces a held number because of it.
    costs = [get(k) for k in ("max_monthly_cost", "budget_monthly_cost")]
    known = [c for c in costs if c is not None]
    cost = min(known) if known else None
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
    if not e164.is_e164(number):
        # A state written before numbers were validated at the wire (e.g. a vendor's
        # "1415/../../Number/..."): it satisfies no criterion, so changed ones replace it.
        return [
            k
            for k in CRITERIA_KEYS
            if news.get(k) not in (None, "", []) and not is_unknown(news.get(k))
        ]
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


#: Criteria an adopted number is held to. ``country`` is checked against the number by
#: ``check``; ``number_type`` always has a default, so it says nothing the user asked for.
ADOPT_CRITERIA: tuple[str, ...] = ("area_code", "contains", "capabilities", "max_monthly_cost")


def unmet_by(owned: OwnedNumber, props: Mapping[str, Any]) -> list[str]:
    """How the number the account owns misses the declared criteria, one line per criterion
    (each names the input); empty when it meets them all."""
    cost = owned.monthly_cost.amount
    outs = {
        "number": owned.number,
        "number_capabilities": list(owned.capabilities),
        "monthly_cost": float(cost),
    }
    has = ", ".join(sorted(owned.capabilities)) or "none"
    lines = {
        "area_code": f"area_code {props.get('area_code')}: it is not in that area code",
        "contains": f"contains {props.get('contains')}: its digits do not contain it",
        "capabilities": (
            f"capabilities {', '.join(props.get('capabilities') or [])}: it has {has}"
        ),
        "max_monthly_cost": (
            f"max_monthly_cost {props.get('max_monthly_cost')}: it costs {cost} "
            f"{owned.monthly_cost.currency} a month"
        ),
    }
    return [lines[k] for k in unsatisfied(outs, props) if k in ADOPT_CRITERIA]
