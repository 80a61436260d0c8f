"""pulumi-phonenumbers: telephone numbers as Pulumi resources.

``PhoneNumber`` and ``PhoneNumberFleet`` are imported lazily so that the vendor clients,
models and emulators can be used without loading the Pulumi SDK.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import (
    AuthError,
    ComplianceError,
    ConfigError,
    InventoryExhausted,
    NotAvailable,
    NotFound,
    PaymentError,
    PhoneNumbersError,
    RateLimited,
    ServerError,
    TransportError,
    ValidationError,
    VendorError,
)
from .models import AvailableNumber, Money, NumberQuery, OwnedNumber, Routing

if TYPE_CHECKING:
    from .fleet import PhoneNumberFleet
    from .functions import get_available_numbers, get_available_numbers_output
    from .lookup import AvailableNumberResult, InvalidCriteria
    from .provider import PhoneNumberProvider
    from .resource import PhoneNumber, PhoneNumberArgs, RoutingArgs

__all__ = [
    "AuthError",
    "AvailableNumber",
    "AvailableNumberResult",
    "ComplianceError",
    "ConfigError",
    "InvalidCriteria",
    "InventoryExhausted",
    "Money",
    "NotAvailable",
    "NotFound",
    "NumberQuery",
    "OwnedNumber",
    "PaymentError",
    "PhoneNumber",
    "PhoneNumberArgs",
    "PhoneNumberFleet",
    "PhoneNumberProvider",
    "PhoneNumbersError",
    "RateLimited",
    "Routing",
    "RoutingArgs",
    "ServerError",
    "TransportError",
    "ValidationError",
    "VendorError",
    "get_available_numbers",
    "get_available_numbers_output",
]

_LAZY = {
    "PhoneNumber": "resource",
    "PhoneNumberArgs": "resource",
    "RoutingArgs": "resource",
    "PhoneNumberFleet": "fleet",
    "PhoneNumberProvider": "provider",
    "get_available_numbers": "functions",
    "get_available_numbers_output": "functions",
    "AvailableNumberResult": "lookup",
    "InvalidCriteria": "lookup",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'pulumi_phonenumbers' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f".{module}", __name__), name)
