"""The baseline for provider start-up: a dynamic provider whose create returns at once.

It lives in an importable module so that it pickles by reference, like ours.
"""

from __future__ import annotations

from typing import Any

from pulumi.dynamic import CreateResult, ResourceProvider

__all__ = ["TrivialProvider"]


class TrivialProvider(ResourceProvider):
    """Creates nothing, instantly."""

    serialize_as_secret_always = False

    def create(self, props: dict[str, Any]) -> CreateResult:
        """Answer at once."""
        return CreateResult("trivial", {})
