"""``PhoneNumber``: a telephone number as a Pulumi resource (a dynamic resource).

Type token ``pulumi-python:dynamic/phonenumbers:PhoneNumber``. Changing it, or a
resource's parent, changes URNs, which means replacement, which releases numbers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.dynamic import Resource

from .inputs import INPUT_KEYS
from .provider import PhoneNumberProvider

__all__ = ["PhoneNumber", "PhoneNumberArgs", "RoutingArgs"]


@dataclass
class RoutingArgs:
    """Where traffic to the number goes; fields a vendor cannot honour fail at preview."""

    voice_target: pulumi.Input[str] | None = None
    sms_target: pulumi.Input[str] | None = None
    label: pulumi.Input[str] | None = None
    inbound: pulumi.Input[bool] | None = None
    outbound: pulumi.Input[bool] | None = None

    def to_props(self) -> dict[str, Any]:
        """The ``routing`` input object (unset fields omitted)."""
        return {k: v for k, v in vars(self).items() if v is not None}


@dataclass
class PhoneNumberArgs:
    """Inputs of :class:`PhoneNumber`. Criteria are hints: an edit the held number still
    satisfies changes nothing; a routing edit is an in-place update."""

    vendor: pulumi.Input[str] | None = None
    country: pulumi.Input[str] | None = None
    number_type: pulumi.Input[str] | None = None
    area_code: pulumi.Input[str] | None = None
    contains: pulumi.Input[str] | None = None
    capabilities: pulumi.Input[Sequence[pulumi.Input[str]]] | None = None
    max_monthly_cost: pulumi.Input[float] | None = None
    budget_monthly_cost: pulumi.Input[float] | None = None
    number: pulumi.Input[str] | None = None
    adopt: pulumi.Input[bool] | None = None
    release_on_delete: pulumi.Input[bool] | None = None
    routing: RoutingArgs | Mapping[str, Any] | None = None
    vendor_options: pulumi.Input[Mapping[str, Any]] | None = None
    _extra: dict[str, Any] = field(default_factory=dict, repr=False)

    def to_props(self) -> dict[str, Any]:
        """The input property bag (unset values omitted; ``check`` fills defaults)."""
        props: dict[str, Any] = {}
        for key, value in vars(self).items():
            if key == "_extra" or value is None:
                continue
            props[key] = value.to_props() if isinstance(value, RoutingArgs) else value
        props.update(self._extra)
        return props


class PhoneNumber(Resource, module="phonenumbers", name="PhoneNumber"):
    """A number bought (or adopted) at a vendor, routed as declared, released on delete.

    Outputs echo the inputs and add ``number`` (E.164, also the resource id), ``vendor_id``,
    ``number_capabilities``, ``monthly_cost``, ``setup_cost``, ``currency``, ``locality``,
    ``status`` and the applied ``routing``.
    """

    vendor: pulumi.Output[str]
    country: pulumi.Output[str]
    number_type: pulumi.Output[str]
    area_code: pulumi.Output[str | None]
    contains: pulumi.Output[str | None]
    capabilities: pulumi.Output[list[str]]
    max_monthly_cost: pulumi.Output[float | None]
    budget_monthly_cost: pulumi.Output[float | None]
    number: pulumi.Output[str]
    adopt: pulumi.Output[bool]
    release_on_delete: pulumi.Output[bool]
    routing: pulumi.Output[dict[str, Any]]
    vendor_options: pulumi.Output[dict[str, Any]]
    vendor_id: pulumi.Output[str]
    number_capabilities: pulumi.Output[list[str]]
    monthly_cost: pulumi.Output[float]
    setup_cost: pulumi.Output[float]
    currency: pulumi.Output[str]
    locality: pulumi.Output[str]
    status: pulumi.Output[str]

    _OUTPUTS = (
        "vendor_id",
        "number_capabilities",
        "monthly_cost",
        "setup_cost",
        "currency",
        "locality",
        "status",
    )

    def __init__(
        self,
        resource_name: str,
        args: PhoneNumberArgs | None = None,
        opts: pulumi.ResourceOptions | None = None,
        **kwargs: Any,
    ) -> None:
        """``PhoneNumber(name, PhoneNumberArgs(...))`` or ``PhoneNumber(name, country="US")``."""
        if args is None:
            routing = kwargs.pop("routing", None)
            args = PhoneNumberArgs(**kwargs)
            args.routing = routing
        elif kwargs:
            raise TypeError("pass either args or keyword inputs, not both")
        props = args.to_props()
        for key in (*INPUT_KEYS, *self._OUTPUTS):
            props.setdefault(key, None)
        super().__init__(PhoneNumberProvider(), resource_name, props, opts)
