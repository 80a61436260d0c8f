"""``PhoneNumberFleet`` over ``Construct``: the same keys and budget rules as the Python
component (:mod:`pulumi_phonenumbers.fleet`), with native ``PhoneNumber`` children that this
same plugin then creates."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
from pulumi.provider.experimental import provider as p
from pulumi.provider.experimental.property_value import PropertyValue

from ..fleet import _cheapest, fleet_budget, fleet_keys
from ..inputs import CRITERIA_KEYS, UNKNOWN
from . import FLEET_TYPE, RESOURCE_TYPE
from .values import to_values

__all__ = ["construct_fleet"]

_CRITERIA = ("vendor", *CRITERIA_KEYS)
_PASSED = (*_CRITERIA, "routing", "vendor_options", "release_on_delete")
_OUTPUTS = ("number", "vendor_id", "monthly_cost", "status")


class _Member(pulumi.CustomResource):
    """One native ``phonenumbers:index:PhoneNumber`` (served by this plugin)."""

    number: pulumi.Output[str]
    monthly_cost: pulumi.Output[float]

    def __init__(self, name: str, props: Mapping[str, Any], opts: pulumi.ResourceOptions) -> None:
        super().__init__(RESOURCE_TYPE, name, {**props, **dict.fromkeys(_OUTPUTS)}, opts)


class _Fleet(pulumi.ComponentResource):
    def __init__(self, name: str, opts: pulumi.ResourceOptions) -> None:
        super().__init__(FLEET_TYPE, name, None, opts)


async def _known(output: pulumi.Output[Any]) -> PropertyValue:
    if not await output.is_known():
        return PropertyValue(UNKNOWN)  # the engine's unknown marker
    return to_values({"v": await output.future()})["v"]


async def construct_fleet(
    name: str, inputs: Mapping[str, Any], options: pulumi.ResourceOptions
) -> p.ConstructResponse:
    """Register the fleet and its members; answer its URN and ``numbers`` / ``monthly_cost``."""
    member_keys = fleet_keys(inputs.get("size"), inputs.get("keys"))
    share = None
    cap = inputs.get("max_total_monthly_cost")
    if cap is not None:
        criteria = {k: inputs.get(k) for k in _CRITERIA}
        fleet_budget(len(member_keys), cap, inputs.get("max_monthly_cost"))
        cheapest = _cheapest(criteria) if member_keys else None
        share = fleet_budget(len(member_keys), cap, inputs.get("max_monthly_cost"), cheapest)
    fleet = _Fleet(name, options)
    props = {k: inputs[k] for k in _PASSED if inputs.get(k) is not None}
    if share is not None:
        props["budget_monthly_cost"] = share
    child = pulumi.ResourceOptions(parent=fleet)
    members = [(key, _Member(f"{name}-{key}", props, child)) for key in member_keys]
    numbers = pulumi.Output.all(*[m.number for _, m in members]).apply(
        lambda values: {key: str(v) for (key, _), v in zip(members, values, strict=True)}
    )
    monthly = pulumi.Output.all(*[m.monthly_cost for _, m in members]).apply(
        lambda values: round(sum(float(v or 0) for v in values), 4)
    )
    fleet.register_outputs({"numbers": numbers, "monthly_cost": monthly})
    state = {"numbers": await _known(numbers), "monthly_cost": await _known(monthly)}
    return p.ConstructResponse(
        urn=await fleet.urn.future() or "", state=state, state_dependencies={}
    )
