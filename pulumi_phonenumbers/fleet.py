"""``PhoneNumberFleet``: N numbers from one set of criteria and one routing.

A component resource (type token ``phonenumbers:index:PhoneNumberFleet``) whose children
are :class:`~pulumi_phonenumbers.resource.PhoneNumber` resources named
``f"{name}-{key}"`` and parented to the fleet. Keys are what keep numbers stable:

* ``size=N`` keys the members ``"0"`` .. ``"N-1"``; shrinking releases the highest keys,
  growing buys the new ones, the others are untouched.
* ``keys=["support", "sales"]`` keys members by name; removing a key releases exactly
  that number, adding one buys one.

Renaming the fleet, or moving a member to another parent, changes URNs, which replaces
(and so releases) numbers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import pulumi

from .resource import PhoneNumber, RoutingArgs

__all__ = ["FLEET_TYPE", "PhoneNumberFleet"]

FLEET_TYPE = "phonenumbers:index:PhoneNumberFleet"
_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")


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
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """Declare the fleet and one ``PhoneNumber`` per key (see the class docstring)."""
        member_keys = fleet_keys(size, keys)
        super().__init__(FLEET_TYPE, name, None, opts)
        child_opts = pulumi.ResourceOptions(parent=self)
        self.members = {
            key: PhoneNumber(
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
                opts=child_opts,
            )
            for key in member_keys
        }
        members = list(self.members.items())
        self.numbers = pulumi.Output.all(*[m.number for _, m in members]).apply(
            lambda values: {key: str(v) for (key, _), v in zip(members, values, strict=True)}
        )
        self.monthly_cost = pulumi.Output.all(*[m.monthly_cost for _, m in members]).apply(
            lambda values: round(sum(float(v or 0) for v in values), 4)
        )
        self.register_outputs({"numbers": self.numbers, "monthly_cost": self.monthly_cost})
