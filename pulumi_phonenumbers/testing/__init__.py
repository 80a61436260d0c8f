"""Test tools: whole Pulumi programs offline, and the real dynamic-provider server.

These are TEST tools, not a deployment engine. :class:`LocalEngine` runs a program (a
function or a project directory) under Pulumi's mocks, sends every ``PhoneNumber`` to the
real ``pulumi.dynamic`` server over gRPC and keeps state in a JSON file shaped
like ``pulumi stack export``, so a stack can be taken through preview -> up -> edit -> up ->
refresh -> destroy against the embedded sandbox or a vendor emulator
(:class:`~pulumi_phonenumbers.testing.backends.Backend`). :class:`ProviderProcess` drives
the provider server directly. To manage numbers you keep, use the Pulumi CLI.
"""

from __future__ import annotations

from ._grpc import CheckOutcome, DiffOutcome, ProviderError, ProviderProcess
from ._plan import RunError
from ._state import PendingOperation, ResourceState
from .engine import OPERATIONS, EngineError, LocalEngine, Program, RunResult

__all__ = [
    "OPERATIONS",
    "CheckOutcome",
    "DiffOutcome",
    "EngineError",
    "LocalEngine",
    "PendingOperation",
    "Program",
    "ProviderError",
    "ProviderProcess",
    "ResourceState",
    "RunError",
    "RunResult",
]
