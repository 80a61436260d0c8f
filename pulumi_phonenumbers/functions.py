"""Pulumi-style lookup functions: ``get_available_numbers`` and its ``_output`` form.

Inside a Pulumi program the credentials come from stack config (``phonenumbers:*``,
secrets included), exactly the keys the provider reads; outside a program from the
``config`` mapping given, else the environment. The function searches and never buys, so it
runs at ``pulumi preview`` too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi

from .config import CONFIG_KEYS, NAMESPACE
from .lookup import AvailableNumberResult, find_available, settings_from_config, validate_criteria

__all__ = ["AvailableNumberResult", "get_available_numbers", "get_available_numbers_output"]


def _stack_config() -> dict[str, str]:
    """The ``phonenumbers:*`` stack config of the running program (empty outside one, so
    the environment variables apply)."""
    found: dict[str, str] = {}
    for key in CONFIG_KEYS:
        value = pulumi.runtime.get_config(f"{NAMESPACE}:{key.name}")
        if value is not None:
            found[key.name] = str(value)
    return found


def get_available_numbers(
    vendor: str | None = None,
    country: str = "US",
    number_type: str = "local",
    area_code: str | None = None,
    contains: str | None = None,
    capabilities: Sequence[str] | None = None,
    max_monthly_cost: float | None = None,
    limit: int = 20,
    config: Mapping[str, Any] | None = None,
    vendor_options: Mapping[str, Any] | None = None,
) -> list[AvailableNumberResult]:
    """Numbers ``vendor`` offers now that meet the criteria, as ``PhoneNumber`` would search.

    Raises :class:`~pulumi_phonenumbers.lookup.InvalidCriteria` (naming the field, with the
    same message as a ``PhoneNumber`` preview) for bad criteria, and the package's vendor
    errors (auth, transport...) when the search fails. Never buys.
    """
    settings = settings_from_config(config if config is not None else _stack_config())
    name, query, options = validate_criteria(
        settings,
        vendor=vendor,
        criteria={
            "country": country,
            "number_type": number_type,
            "area_code": area_code,
            "contains": contains,
            "capabilities": list(capabilities) if capabilities is not None else None,
            "max_monthly_cost": max_monthly_cost,
        },
        options=vendor_options,
    )
    return find_available(settings, name, query, options, limit)


def get_available_numbers_output(
    vendor: pulumi.Input[str | None] = None,
    country: pulumi.Input[str] = "US",
    number_type: pulumi.Input[str] = "local",
    area_code: pulumi.Input[str | None] = None,
    contains: pulumi.Input[str | None] = None,
    capabilities: pulumi.Input[Sequence[str] | None] = None,
    max_monthly_cost: pulumi.Input[float | None] = None,
    limit: pulumi.Input[int] = 20,
    config: Mapping[str, Any] | None = None,
) -> pulumi.Output[list[AvailableNumberResult]]:
    """:func:`get_available_numbers` over Inputs; the search runs once they are known."""
    args = pulumi.Output.all(
        vendor, country, number_type, area_code, contains, capabilities, max_monthly_cost, limit
    )
    return args.apply(
        lambda a: get_available_numbers(
            a[0], a[1], a[2], a[3], a[4], a[5], a[6], int(a[7]), config=config
        )
    )
