"""Vendor registry: ``{name: "module:Class"}`` and :func:`get_vendor`.

Adding a vendor = one module here, one emulator face, one line in :data:`REGISTRY`.
Modules are imported lazily so the provider's start-up only pays for the vendors in use.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Iterator, Mapping

from ..config import Settings
from .base import Vendor, VendorInfo

__all__ = [
    "REGISTRY",
    "Vendor",
    "VendorInfo",
    "get_vendor",
    "vendor_class",
    "vendor_infos",
    "vendor_names",
]

REGISTRY: dict[str, str] = {
    "bolna": "pulumi_phonenumbers.vendors.bolna:BolnaVendor",
    "krosai": "pulumi_phonenumbers.vendors.krosai:KrosAIVendor",
    "plivo": "pulumi_phonenumbers.vendors.plivo:PlivoVendor",
    "sandbox": "pulumi_phonenumbers.vendors.sandbox:SandboxVendor",
    "sinch": "pulumi_phonenumbers.vendors.sinch:SinchVendor",
    "sondos": "pulumi_phonenumbers.vendors.sondos:SondosVendor",
}

_lock = threading.Lock()


def vendor_names() -> list[str]:
    """Registered vendor names, sorted."""
    return sorted(REGISTRY)


def vendor_class(name: str) -> type[Vendor]:
    """Import and return the vendor class registered under ``name`` (KeyError if unknown)."""
    module_name, _, class_name = REGISTRY[name].partition(":")
    cls: type[Vendor] = getattr(importlib.import_module(module_name), class_name)
    return cls


def get_vendor(name: str, settings: Settings, cache: dict[str, Vendor] | None = None) -> Vendor:
    """A configured vendor instance; with ``cache``, one instance per name (thread-safe)."""
    if cache is None:
        return vendor_class(name)(settings)
    vendor = cache.get(name)
    if vendor is None:
        with _lock:
            vendor = cache.get(name)
            if vendor is None:
                vendor = vendor_class(name)(settings)
                cache[name] = vendor
    return vendor


class _LazyInfos(Mapping[str, VendorInfo]):
    """``{name: VendorInfo}`` importing each vendor module only when it is looked up.

    A vendor whose module does not import is absent. Iterating imports every vendor (only
    the "unknown vendor" message does that).
    """

    def __getitem__(self, name: str) -> VendorInfo:
        if name not in REGISTRY:
            raise KeyError(name)
        try:
            return vendor_class(name).info
        except ImportError:
            raise KeyError(name) from None

    def __iter__(self) -> Iterator[str]:
        return iter([name for name in sorted(REGISTRY) if name in self])

    def __len__(self) -> int:
        return sum(1 for _ in self)


def vendor_infos() -> Mapping[str, VendorInfo]:
    """Every available vendor's :class:`VendorInfo`, imported on first look-up (cheap start-up)."""
    return _LazyInfos()
