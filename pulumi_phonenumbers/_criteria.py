"""The criteria of a search, as text and as a check on each candidate before it is bought.

A vendor's search is not trusted to honour the criteria (a search for area code 415 may
answer with 212 numbers): :func:`off_criteria` checks every candidate against country,
number type, area code, ``contains``, capabilities and ``max_monthly_cost`` before
:class:`~pulumi_phonenumbers._purchase.Purchase` buys it. Country, type and area code
are read from the number itself (its numbering plan), never from what the vendor says
about it; capabilities and price can only be taken from the vendor's offer.
"""

from __future__ import annotations

from . import e164
from .models import AvailableNumber, NumberQuery

__all__ = ["criteria_text", "off_criteria"]

#: Vendor extras that mean a neutral type (Plivo ``fixed``/``national`` are landlines).
_TYPE_ALIASES = {"fixed": "local", "national": "local", "tollfree": "toll_free"}


def criteria_text(query: NumberQuery) -> str:
    """``country=US, number_type=local, area_code=415`` (unset criteria left out)."""
    parts = []
    for key, value in query.to_dict(exclude_none=True).items():
        if value in ((), [], ""):
            continue
        if isinstance(value, list | tuple):
            value = "+".join(str(v) for v in value)
        parts.append(f"{key}={value}")
    return ", ".join(parts)


def _neutral(number_type: str) -> str:
    return _TYPE_ALIASES.get(number_type, number_type)


def _valid_in(number: str, region: str) -> bool:
    """NANP toll-free numbers belong to no one region: valid in ``region`` is enough."""
    import phonenumbers

    return bool(phonenumbers.is_valid_number_for_region(phonenumbers.parse(number), region))


def off_criteria(candidate: AvailableNumber, query: NumberQuery) -> tuple[str, str] | None:
    """``(criterion, why)`` when ``candidate`` does not satisfy ``query``, else None.

    ``("area_code", "area_code 212 is not 415")``; the criterion of a number that is not
    valid E.164 at all is ``"number"``.
    """
    number = candidate.number
    if not e164.is_e164(number):
        return "number", f"{number!r} is not a valid E.164 number"
    country = e164.country_of(number)
    if country != query.country and not _valid_in(number, query.country):
        return "country", f"country {country} is not {query.country}"
    wanted = _neutral(query.number_type)
    claimed = _neutral(candidate.number_type) if candidate.number_type else wanted
    plan = e164.number_type_of(number)
    # The numbering plan tells toll-free and (in most countries) mobile numbers apart;
    # NANP landlines and mobiles share one plan type, so there the vendor's word decides.
    if claimed != wanted or (plan != wanted and "toll_free" in (plan, wanted)):
        return "number_type", f"number_type {plan if plan != wanted else claimed} is not {wanted}"
    if plan == "mobile" and wanted != "mobile":
        return "number_type", f"number_type mobile is not {wanted}"
    national = e164.digits(number)[len(str(e164.country_code(number))) :]
    if query.area_code and not national.startswith(query.area_code):
        return "area_code", f"area_code {national[: len(query.area_code)]} is not {query.area_code}"
    if query.contains and query.contains not in e164.digits(number):
        return "contains", f"it does not contain {query.contains}"
    missing = sorted(set(query.capabilities) - set(candidate.capabilities))
    if missing:
        return "capabilities", f"it lacks {'+'.join(missing)}"
    limit = query.max_monthly_cost
    if limit is not None and candidate.monthly_cost.amount > limit:
        return "max_monthly_cost", f"monthly cost {candidate.monthly_cost.amount} is above {limit}"
    return None
