"""``PhoneNumberFleet``: N numbers from one set of criteria and one routing.

A component resource (type token ``phonenumbers:index:PhoneNumberFleet``) whose children
are :class:`~pulumi_phonenumbers.resource.PhoneNumber` resources named
``f"{name}-{key}"`` and parented to the fleet. Keys are what keep numbers stable:

* ``size=N`` keys the members ``"0"`` .. ``"N-1"``; shrinking releases the highest keys,
  growing buys the new ones, the others are untouched.
* ``keys=["support", "sales"]`` keys members by name; removing a key releases exactly
  that number, adding one buys one.

``max_total_monthly_cost`` caps what the fleet may spend a month. At preview the fleet is
refused when ``size`` x ``max_monthly_cost`` exceeds it, or (with stack config
``phonenumbers:previewInventory`` on) ``size`` x the cheapest matching price of one search.
At ``up`` each member may buy a number of at most ``max_total_monthly_cost / size`` a month
(its ``budget_monthly_cost``), so the fleet's sum can never pass the cap, whatever the
purchase order; a member that would is refused before it buys.

Renaming the fleet, or moving a member to another parent, changes URNs, which replaces
(and so releases) numbers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import pulumi

from .lookup import InvalidCriteria
from .resource import PhoneNumber, RoutingArgs

__all__ = ["FLEET_TYPE", "PhoneNumberFleet", "fleet_budget", "fleet_keys"]

FLEET_TYPE = "phonenumbers:index:PhoneNumberFleet"
_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")


def fleet_budget(
    count: int, max_total: float | None, max_each: Any, cheapest: float | None = None
) -> float | None:
    """Each member's share of ``max_total`` (None without a cap); InvalidCriteria naming
    ``max_total_monthly_cost`` when ``count`` members cannot fit under it."""
    if max_total is None:
        return None
    if isinstance(max_total, bool) or not isinstance(max_total, int | float) or max_total <= 0:
        raise InvalidCriteria(
            [("max_total_monthly_cost", f"must be a number > 0, got {max_total!r}")]
        )
    for what, price in (("max_monthly_cost", max_each), ("the cheapest matching number", cheapest)):
        if not isinstance(price, int | float) or isinstance(price, bool):
            continue  # unset, or an Output: checked at up by each member's share
        if count * price > max_total:
            raise InvalidCriteria(
                [
                    (
                        "max_total_monthly_cost",
                        f"{count} numbers x {what} {price:.2f} = "
                        f"{count * price:.2f} a month exceeds {max_total:.2f}",
                    )
                ]
            )
    return max_total / count if count else None


def _cheapest(criteria: Mapping[str, Any]) -> float | None:
    """With ``phonenumbers:previewInventory`` on and plain criteria: one search's lowest
    monthly price (None otherwise)."""
    if not pulumi.Config("phonenumbers").get_bool("previewInventory"):
        return None
    if any(isinstance(v, pulumi.Output) for v in criteria.values()):
        return None
    from .functions import get_available_numbers

    found = get_available_numbers(**{k: v for k, v in criteria.items() if v is not None})
    return min((r.monthly_cost for r in found), default=None)


def fleet_keys(size: int | None, keys: Sequence[str] | None) -> list[str]:
    """The member keys for ``size`` or ``keys`` (exactly one of them); ValueError otherwise."""
    if (size is None) == (keys is None):
        raise ValueError("PhoneNumberFleet needs exactly one of size=N or keys=[...]")
    if size is not None:
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise ValueError(f"PhoneNumberFleet size must be a whole number >= 0, got {size!r}")
        return [str(i) for i in range(size)]
    if isinstance(keys, str) or not isinstance(keys, Sequence):
        raise ValueError(
            "PhoneNumberFleet keys must be a list of strings such as ['support', 'sales']"
        )
    out: list[str] = []
    for key in keys:
        if not isinstance(key, str) or not _KEY.match(key):
            raise ValueError(
                f"PhoneNumberFleet key {key!r} must be 1-63 letters, digits, "
                "'.', '_' or '-', starting with a letter or digit"
            )
        if key in out:
            raise ValueError(f"PhoneNumberFleet key {key!r} appears twice")
        out.append(key)
    return out


class PhoneNumberFleet(pulumi.ComponentResource):
    """A pool of numbers bought with the same criteria and routed the same way.

    Exactly one of ``size`` (members keyed ``"0"`` .. ``"N-1"``) or ``keys`` (members keyed
    by name) must be given, as a plain value known when the program runs. Every other
    argument is passed to each member :class:`~pulumi_phonenumbers.resource.PhoneNumber`.

    Outputs:
        numbers: ``{key: E.164 number}`` of every member.
        monthly_cost: the sum of the members' ``monthly_cost`` (vendor currency).

    Attributes:
        members: ``{key: PhoneNumber}``, for wiring single numbers elsewhere.
    """

    numbers: pulumi.Output[dict[str, str]]
    monthly_cost: pulumi.Output[float]
    members: dict[str, PhoneNumber]

    def __init__(
        self,
        name: str,
        size: int | None = None,
        keys: Sequence[str] | None = None,
        vendor: pulumi.Input[str] | None = None,
        country: pulumi.Input[str] | None = None,
        number_type: pulumi.Input[str] | None = None,
        area_code: pulumi.Input[str] | None = None,
        contains: pulumi.Input[str] | None = None,
        capabilities: pulumi.Input[Sequence[pulumi.Input[str]]] | None = None,
        max_monthly_cost: pulumi.Input[float] | None = None,
        routing: RoutingArgs | Mapping[str, Any] | None = None,
        vendor_options: pulumi.Input[Mapping[str, Any]] | None = None,
        release_on_delete: pulumi.Input[bool] | None = None,
        max_total_monthly_cost: float | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """Declare the fleet and one ``PhoneNumber`` per key (see the class docstring)."""
        member_keys = fleet_keys(size, keys)
        share = None
        if max_total_monthly_cost is not None:
            criteria = {
                "vendor": vendor,
                "country": country,
                "number_type": number_type,
                "area_code": area_code,
                "contains": contains,
                "capabilities": capabilities,
                "max_monthly_cost": max_monthly_cost,
            }
            fleet_budget(len(member_keys), max_total_monthly_cost, max_monthly_cost)
            share = fleet_budget(
                len(member_keys),
                max_total_monthly_cost,
                max_monthly_cost,
                _cheapest(criteria) if member_keys else None,
            )
        super().__init__(FLEET_TYPE, name, None, opts)
        child_opts = pulumi.ResourceOptions(parent=self)
        # A loop, not a comprehension: every member records the Python stack it was declared
        # from in the state, and a comprehension is one more frame for each of them.
        self.members: dict[str, PhoneNumber] = {}
        for key in member_keys:
            self.members[key] = PhoneNumber(
                f"{name}-{key}",
                vendor=vendor,
                country=country,
                number_type=number_type,
                area_code=area_code,
                contains=contains,
                capabilities=capabilities,
                max_monthly_cost=max_monthly_cost,
                routing=routing,
                vendor_options=vendor_options,
                release_on_delete=release_on_delete,
                budget_monthly_cost=share,
                opts=child_opts,
            )
        members = list(self.members.items())
        self.numbers = pulumi.Output.all(*[m.number for _, m in members]).apply(
            lambda values: {key: str(v) for (key, _), v in zip(members, values, strict=True)}
        )
        self.monthly_cost = pulumi.Output.all(*[m.monthly_cost for _, m in members]).apply(
            lambda values: round(sum(float(v or 0) for v in values), 4)
        )
        self.register_outputs({"numbers": self.numbers, "monthly_cost": self.monthly_cost})
