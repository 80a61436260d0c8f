"""Test tools: run the real dynamic-provider server and (later) whole programs offline.

This is a test tool, not a deployment engine.
"""

from __future__ import annotations

from ._grpc import CheckOutcome, DiffOutcome, ProviderError, ProviderProcess

__all__ = ["CheckOutcome", "DiffOutcome", "ProviderError", "ProviderProcess"]
