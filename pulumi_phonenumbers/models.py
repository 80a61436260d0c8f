"""Vendor-neutral models. Vendor modules take and return only these.

Amounts are :class:`decimal.Decimal` inside the package and floats in Pulumi outputs.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "CAPABILITIES",
    "NUMBER_TYPES",
    "AvailableNumber",
    "Capability",
    "Money",
    "NumberQuery",
    "OwnedNumber",
    "Routing",
    "SearchPage",
]

Capability = Literal["voice", "sms", "mms"]
CAPABILITIES: tuple[str, ...] = ("voice", "sms", "mms")
#: Neutral types; vendors may accept extras (Plivo ``national`` / ``fixed``).
NUMBER_TYPES: tuple[str, ...] = ("local", "mobile", "toll_free")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Money(_Frozen):
    """An amount in a currency (``Decimal`` so that sums are exact)."""

    amount: Decimal = Decimal("0")
    currency: str = "USD"


class NumberQuery(_Frozen):
    """Search criteria, already validated and normalised by ``check``."""

    country: str = "US"
    number_type: str = "local"
    area_code: str | None = None
    contains: str | None = None
    capabilities: tuple[str, ...] = ()
    max_monthly_cost: Decimal | None = None


class Routing(_Frozen):
    """Where traffic to a number goes. ``None`` = not managed / not set.

    ``voice_target`` is an app, endpoint, agent or assistant id depending on the vendor;
    ``sms_target`` a messaging service plan; ``label`` a display name / alias;
    ``inbound``/``outbound`` allow or block call directions.
    """

    voice_target: str | None = None
    sms_target: str | None = None
    label: str | None = None
    inbound: bool | None = None
    outbound: bool | None = None

    def changed_fields(self, other: Routing) -> list[str]:
        """Names of the fields whose value differs between ``self`` and ``other``."""
        return [
            name for name in Routing.model_fields if getattr(self, name) != getattr(other, name)
        ]

    def is_empty(self) -> bool:
        """True when no field is set."""
        return all(getattr(self, name) is None for name in Routing.model_fields)


class AvailableNumber(_Frozen):
    """A number the vendor offers for purchase."""

    number: str
    country: str
    number_type: str
    capabilities: tuple[str, ...] = ()
    monthly_cost: Money = Field(default_factory=Money)
    setup_cost: Money = Field(default_factory=Money)
    locality: str = ""
    #: Vendor handle needed to buy it (KrosAI ``inventory_id``, Bolna ``provider``), if any.
    vendor_ref: str | None = None


class OwnedNumber(_Frozen):
    """A number the account owns, as the vendor reports it now."""

    number: str
    vendor_id: str
    country: str
    number_type: str
    capabilities: tuple[str, ...] = ()
    monthly_cost: Money = Field(default_factory=Money)
    setup_cost: Money = Field(default_factory=Money)
    locality: str = ""
    #: ``active``, or a vendor state such as ``pending`` (verification outstanding).
    status: str = "active"
    routing: Routing = Field(default_factory=Routing)


class SearchPage(_Frozen):
    """One page of search results; ``next_cursor`` is ``None`` on the last page."""

    numbers: tuple[AvailableNumber, ...] = ()
    next_cursor: str | None = None
