"""Shared plumbing: backends with a request counter, the provider process, timing, memory."""

from __future__ import annotations

import asyncio
import functools
import os
import platform
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import struct_pb2
from pulumi.runtime import proto, rpc

from pulumi_phonenumbers.testing import ProviderError, ProviderProcess
from pulumi_phonenumbers.testing.backends import Backend, emulated_vendors
from pulumi_phonenumbers.vendors import vendor_class

from .counting import RequestCounter

__all__ = [
    "LATENCY_MS",
    "REPO",
    "URN",
    "Harness",
    "calls_per_create",
    "cpu_seconds",
    "emulated",
    "machine",
    "median",
    "peak_rss_kb",
    "self_peak_rss_kb",
    "serialize",
    "serialized_provider",
    "short_error",
]

REPO = Path(__file__).resolve().parent.parent
URN = "urn:pulumi:bench::phonenumbers-bench::pulumi-python:dynamic/phonenumbers:PhoneNumber::{}"
LATENCY_MS = 50
#: The provider server's worker threads (``ThreadPoolExecutor(max_workers=4)``).
WORKERS = 4


def emulated() -> list[str]:
    """Every vendor with a client and an emulator face (picked up as they land)."""
    return emulated_vendors()


def calls_per_create(vendor: str) -> int:
    """The floor: search + purchase, +1 routing call when the purchase cannot carry it."""
    return 2 if vendor_class(vendor).info.buy_carries_routing else 3


@functools.cache
def serialized_provider() -> str:
    """The pickled :class:`PhoneNumberProvider`, as a resource stores it."""
    from pulumi.dynamic.dynamic import serialize_provider

    from pulumi_phonenumbers.provider import PhoneNumberProvider

    return str(serialize_provider(PhoneNumberProvider()))


def serialize(props: Mapping[str, Any]) -> struct_pb2.Struct:
    """Properties as the engine sends them (serialize once, send many times)."""
    struct: struct_pb2.Struct = asyncio.run(rpc.serialize_properties(dict(props), {}))
    return struct


def short_error(exc: BaseException) -> str:
    """``Type: last line`` of an exception (a provider traceback ends with the real error)."""
    lines = [line for line in str(exc).strip().splitlines() if line.strip()]
    return f"{type(exc).__name__}: {lines[-1] if lines else ''}"[:300]


def median(values: list[float]) -> float:
    """Median (0.0 for no values)."""
    return statistics.median(values) if values else 0.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a live process has used (0.0 when unknown)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


def peak_rss_kb(pid: int) -> int:
    """Peak resident set size of a live process in KiB (``VmHWM``), 0 when unknown."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def self_peak_rss_kb() -> int:
    """Peak resident set size of this process in KiB."""
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def machine() -> dict[str, Any]:
    """What the figures came from."""
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = 0.0
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        mem_gb = round(pages / 2**30, 1)
    except (OSError, ValueError):
        pass
    return {
        "cpu": cpu or platform.processor() or platform.machine(),
        "cores": os.cpu_count() or 0,
        "memory_gb": mem_gb,
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "executable": sys.executable,
    }


@dataclass
class Harness:
    """A backend (emulator with a request counter, or sandbox) and a configured provider."""

    backend: Backend
    provider: ProviderProcess
    counter: RequestCounter | None
    ser: str = field(default_factory=serialized_provider)

    @property
    def vendor(self) -> str:
        """The vendor under test."""
        return self.backend.vendor

    def urn(self, name: str) -> str:
        """A resource URN."""
        return URN.format(name)

    def checked(self, name: str, **inputs: Any) -> dict[str, Any]:
        """Check ``inputs`` (the vendor is added); raise on any check failure."""
        outcome = self.provider.check(
            self.urn(name), {}, {"__provider": self.ser, "vendor": self.vendor, **inputs}
        )
        if outcome.failures:
            raise RuntimeError(f"{self.vendor}: check failed: {outcome.failures}")
        return outcome.inputs

    # -- engine-like calls: pre-serialized requests, outputs passed back unparsed ----------
    def fast_create(self, urn: str, props: struct_pb2.Struct) -> Any:
        """Create with already serialized properties; returns the raw ``CreateResponse``.

        The Go engine spends next to nothing on this; the generic
        :class:`ProviderProcess` helpers (an event loop per (de)serialization) would put
        test-harness CPU into the figures on a 2-core machine.
        """
        return self._raw("Create", proto.CreateRequest(urn=urn, properties=props))

    def fast_delete(self, urn: str, created: Any) -> None:
        """Delete what :meth:`fast_create` returned (its outputs sent back unparsed)."""
        self._raw(
            "Delete", proto.DeleteRequest(urn=urn, id=created.id, properties=created.properties)
        )

    def _raw(self, method: str, request: Any) -> Any:
        try:
            return getattr(self.provider.stub, method)(request, timeout=120)
        except grpc.RpcError as exc:
            raise ProviderError(method, str(exc.code()), exc.details() or "") from None

    def mark(self) -> int:
        """Counter position (0 for the sandbox)."""
        return self.counter.mark() if self.counter else 0

    def latency(self, ms: int) -> None:
        """Set (or with 0 clear) the emulator's per-request latency."""
        if self.backend.emulator is None:
            return
        if ms:
            self.backend.faults(latency_ms=ms)
        else:
            self.backend.clear_faults()

    def owned(self) -> set[str]:
        """Numbers the account owns now (leak check)."""
        return self.backend.owned_numbers()


@contextmanager
def harness(
    vendor: str, directory: str | Path | None = None, env: Mapping[str, str] | None = None
) -> Iterator[Harness]:
    """Start ``vendor``'s backend (counted when emulated) and a configured provider."""
    with tempfile.TemporaryDirectory(prefix=f"bench-{vendor}-") as tmp:
        backend = Backend.start(vendor, directory or tmp)
        counter = RequestCounter.install(backend.emulator) if backend.emulator else None
        try:
            with ProviderProcess(env=env) as provider:
                provider.configure(backend.config)
                yield Harness(backend, provider, counter)
        finally:
            backend.stop()


def timed(fn: Any, *args: Any) -> tuple[float, Any]:
    """``(seconds, result)`` of one call."""
    started = time.perf_counter()
    result = fn(*args)
    return time.perf_counter() - started, result
