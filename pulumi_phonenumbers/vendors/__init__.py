"""Vendor clients by name: :data:`REGISTRY` (``{name: "module:Class"}``) and :func:`get_vendor`.

Both read :mod:`pulumi_phonenumbers.registry` (one entry per vendor; see "Adding a vendor"
in the README). Modules are imported lazily so the provider's start-up only pays for the
vendors in use.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Iterator, Mapping

from .. import registry
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


class _Clients(Mapping[str, str]):
    """``{name: "module:Class"}`` of every registered vendor: a live view of the registry."""

    def __getitem__(self, name: str) -> str:
        return registry.entry(name).client

    def __iter__(self) -> Iterator[str]:
        return iter([e.name for e in registry.entries()])

    def __len__(self) -> int:
        return len(registry.entries())


REGISTRY: Mapping[str, str] = _Clients()

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
