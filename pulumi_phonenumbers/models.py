"""Vendor-neutral models. Vendor modules take and return only these.

They are small frozen dataclasses with plain helpers (``from_dict``, ``to_dict``,
``replace``, ``field_names``) and a few coercions (amounts to :class:`~decimal.Decimal`,
sequences to tuples, mappings to nested models); they are not pydantic models and do not
type-check their fields. Pydantic validates the vendors' wire JSON inside the vendor
modules; keeping it off these models keeps it off the provider's start-up path (see
``make bench``).

Amounts are :class:`decimal.Decimal` inside the package and floats in Pulumi outputs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar, Literal, TypeVar, dataclass_transform

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

_M = TypeVar("_M", bound="_Model")


def _decimal(value: Any) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"not an amount: {value!r}")
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"not an amount: {value!r}") from None


def _opt_decimal(value: Any) -> Decimal | None:
    return None if value is None else _decimal(value)


def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, list | tuple | set | frozenset):
        raise ValueError(f"not a list of strings: {value!r}")
    return tuple(str(v) for v in value)


@dataclass_transform(frozen_default=True, field_specifiers=(dataclasses.field,))
class _Model:
    """Frozen value object (subclasses are dataclasses) with plain dict helpers."""

    #: The field names, in declaration order.
    field_names: ClassVar[tuple[str, ...]] = ()
    _coerce: ClassVar[Mapping[str, Callable[[Any], Any]]] = {}

    def __init_subclass__(cls) -> None:
        super().__init_subclass__()
        dataclasses.dataclass(frozen=True)(cls)
        cls.field_names = tuple(f.name for f in dataclasses.fields(cls))  # type: ignore[arg-type]

    def __post_init__(self) -> None:
        for name, convert in self._coerce.items():
            object.__setattr__(self, name, convert(getattr(self, name)))

    @classmethod
    def from_dict(cls: type[_M], obj: Any) -> _M:
        """An instance from a mapping (or the instance itself)."""
        if isinstance(obj, cls):
            return obj
        if not isinstance(obj, Mapping):
            raise ValueError(f"{cls.__name__} expects a mapping, got {type(obj).__name__}")
        return cls(**obj)

    def to_dict(self, *, exclude_none: bool = False) -> dict[str, Any]:
        """The fields as a dict (nested models as dicts)."""
        out: dict[str, Any] = {}
        for name in self.field_names:
            value = getattr(self, name)
            if value is None and exclude_none:
                continue
            if isinstance(value, _Model):
                value = value.to_dict(exclude_none=exclude_none)
            elif isinstance(value, tuple) and any(isinstance(v, _Model) for v in value):
                value = tuple(v.to_dict(exclude_none=exclude_none) for v in value)
            out[name] = value
        return out

    def replace(self: _M, **changes: Any) -> _M:
        """A copy with ``changes`` applied (coerced like the constructor)."""
        return dataclasses.replace(self, **changes)  # type: ignore[type-var]


def _opt_window(value: Any) -> tuple[float, float] | None:
    if value is None:
        return None
    earliest, latest = value
    return (float(earliest), float(latest))


def _nested(model: type[_M]) -> Callable[[Any], _M]:
    return model.from_dict


class Money(_Model):
    """An amount in a currency (``Decimal`` so that sums are exact)."""

    amount: Decimal = Decimal("0")
    currency: str = "USD"

    _coerce: ClassVar[Mapping[str, Callable[[Any], Any]]] = {"amount": _decimal}


class NumberQuery(_Model):
    """Search criteria, already validated and normalised by ``check``."""

    country: str = "US"
    number_type: str = "local"
    area_code: str | None = None
    contains: str | None = None
    capabilities: tuple[str, ...] = ()
    max_monthly_cost: Decimal | None = None

    _coerce: ClassVar[Mapping[str, Callable[[Any], Any]]] = {
        "capabilities": _strings,
        "max_monthly_cost": _opt_decimal,
    }


class Routing(_Model):
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
        return [name for name in self.field_names if getattr(self, name) != getattr(other, name)]

    def declared(self) -> dict[str, Any]:
        """The fields that are set (not ``None``), by name: what a program declared."""
        return {
            name: getattr(self, name)
            for name in self.field_names
            if getattr(self, name) is not None
        }

    def is_empty(self) -> bool:
        """True when no field is set."""
        return not self.declared()


_MONEY: dict[str, Callable[[Any], Any]] = {
    "capabilities": _strings,
    "monthly_cost": _nested(Money),
    "setup_cost": _nested(Money),
}


class AvailableNumber(_Model):
    """A number the vendor offers for purchase."""

    number: str
    country: str
    number_type: str
    capabilities: tuple[str, ...] = ()
    monthly_cost: Money = dataclasses.field(default_factory=Money)
    setup_cost: Money = dataclasses.field(default_factory=Money)
    locality: str = ""
    #: Vendor handle needed to buy it (KrosAI ``inventory_id``, Bolna ``provider``), if any.
    vendor_ref: str | None = None

    _coerce: ClassVar[Mapping[str, Callable[[Any], Any]]] = _MONEY


class OwnedNumber(_Model):
    """A number the account owns, as the vendor reports it now."""

    number: str
    vendor_id: str
    country: str
    number_type: str
    capabilities: tuple[str, ...] = ()
    monthly_cost: Money = dataclasses.field(default_factory=Money)
    setup_cost: Money = dataclasses.field(default_factory=Money)
    locality: str = ""
    #: ``active``, or a vendor state such as ``pending`` (verification outstanding).
    status: str = "active"
    routing: Routing = dataclasses.field(default_factory=Routing)
    #: When the vendor says the account got the number, as POSIX seconds ``(earliest,
    #: latest)`` (a vendor that reports only a day gives that day's bounds); ``None`` when
    #: the vendor's answer does not say. The purchase path compares it with its own
    #: attempt to tell its purchase from another stack's (``_ownership``).
    acquired: tuple[float, float] | None = None

    _coerce: ClassVar[Mapping[str, Callable[[Any], Any]]] = {
        **_MONEY,
        "routing": _nested(Routing),
        "acquired": _opt_window,
    }


def _available_numbers(value: Any) -> tuple[AvailableNumber, ...]:
    return tuple(AvailableNumber.from_dict(v) for v in value)


class SearchPage(_Model):
    """One page of search results; ``next_cursor`` is ``None`` on the last page."""

    numbers: tuple[AvailableNumber, ...] = ()
    next_cursor: str | None = None

    _coerce: ClassVar[Mapping[str, Callable[[Any], Any]]] = {"numbers": _available_numbers}
