"""PropertyValue <-> plain Python, so the shared core sees what the dynamic face sees.

Unknown (computed) values become the dynamic face's ``UNKNOWN`` sentinel string, which is also
what goes back (the engine's own marker for an unknown);
whole numbers stay ints on the way in (the core compares them with ``int | float``) and become
floats on the way out (PropertyValue holds only floats). Secretness is kept per top-level key:
a key that was secret in the request is secret in the answer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pulumi.provider.experimental.property_value import Computed, PropertyValue

from .. import inputs as _inputs

__all__ = ["secret_keys", "to_plain", "to_plain_map", "to_values"]


def to_plain(value: PropertyValue) -> Any:
    """The plain value of ``value`` (secret markers dropped: see :func:`secret_keys`)."""
    raw = value.value
    if isinstance(raw, Computed):
        return _inputs.UNKNOWN
    if isinstance(raw, Mapping):
        return {k: to_plain(v) for k, v in raw.items()}
    if isinstance(raw, tuple):
        return [to_plain(v) for v in raw]
    if isinstance(raw, float) and raw.is_integer() and abs(raw) < 2**53:
        return int(raw)
    return raw


def to_plain_map(values: Mapping[str, PropertyValue]) -> dict[str, Any]:
    """:func:`to_plain` of every value of a property map."""
    return {k: to_plain(v) for k, v in values.items()}


def secret_keys(*maps: Mapping[str, PropertyValue]) -> set[str]:
    """Top-level keys holding a secret anywhere inside, in any of ``maps``."""
    return {k for m in maps for k, v in m.items() if v.contains_secret()}


def _value(plain: Any) -> PropertyValue:
    if plain is None:
        return PropertyValue.null()
    if isinstance(plain, bool | str):  # the UNKNOWN sentinel too: the engine reads it as
        # unknown, and this SDK's PropertyValue.computed() cannot be marshalled
        return PropertyValue(plain)
    if isinstance(plain, int | float):
        return PropertyValue(float(plain))
    if isinstance(plain, Mapping):
        return PropertyValue({str(k): _value(v) for k, v in plain.items()})
    if isinstance(plain, Iterable):
        return PropertyValue([_value(v) for v in plain])
    raise TypeError(f"cannot send a {type(plain).__name__} to the engine")


def to_values(plain: Mapping[str, Any], secret: Iterable[str] = ()) -> dict[str, PropertyValue]:
    """A property map of ``plain``; the keys in ``secret`` are marked secret."""
    hidden = set(secret)
    return {k: _value(v).with_secret(k in hidden) for k, v in plain.items()}
