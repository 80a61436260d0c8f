"""Fault injection for every emulator, driven by ``POST /_emulator/faults``.

Body: ``{"latency_ms": N, "rules": [rule, ...]}``. A rule matches on ``method`` and a
``path`` regex (``re.search`` on the request path) and fires ``times`` times (forever when
absent). What it does:

* ``status`` (429 / 500 / 503 ...): answer with that status in the vendor's error shape,
  with ``Retry-After`` when ``retry_after`` is given; the operation is not performed.
* ``reset: true``: close the connection without answering; not performed.
* ``after_commit: true``: perform the operation, then fail with ``status`` or, without a
  status, drop the connection (the "lost response").
* ``slow_ms``: wait that long, then perform the operation and answer (trips client timeouts).

``DELETE /_emulator/faults`` clears everything.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Any

__all__ = ["FaultRule", "Faults"]


@dataclass
class FaultRule:
    """One rule; ``times`` None = unlimited."""

    method: str | None = None
    path: str | None = None
    status: int | None = None
    retry_after: float | None = None
    times: int | None = None
    reset: bool = False
    after_commit: bool = False
    slow_ms: int = 0

    @classmethod
    def parse(cls, raw: Any) -> FaultRule:
        """Validate one rule from JSON (ValueError on junk)."""
        if not isinstance(raw, dict):
            raise ValueError("a rule must be an object")
        unknown = set(raw) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown rule keys: {sorted(unknown)}")
        rule = cls(**raw)
        if rule.path is not None:
            re.compile(rule.path)
        if rule.status is not None and not (isinstance(rule.status, int) and 400 <= rule.status <= 599):
            raise ValueError("status must be an HTTP error status")
        if rule.times is not None and (not isinstance(rule.times, int) or rule.times < 0):
            raise ValueError("times must be a non-negative integer")
        if not isinstance(rule.slow_ms, int) or rule.slow_ms < 0:
            raise ValueError("slow_ms must be a non-negative integer")
        return rule

    def matches(self, method: str, path: str) -> bool:
        """True when the rule applies to this request."""
        if self.method and self.method.upper() != method.upper():
            return False
        return not (self.path and not re.search(self.path, path))


class Faults:
    """Thread-safe fault state of one emulator."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.latency_ms = 0
        self.rules: list[FaultRule] = []

    def configure(self, body: Any) -> None:
        """Apply a ``POST /_emulator/faults`` body (ValueError on junk). Rules are appended."""
        if not isinstance(body, dict):
            raise ValueError("faults body must be an object")
        unknown = set(body) - {"latency_ms", "rules"}
        if unknown:
            raise ValueError(f"unknown keys: {sorted(unknown)}")
        rules = [FaultRule.parse(r) for r in body.get("rules", [])]
        latency = body.get("latency_ms", self.latency_ms)
        if not isinstance(latency, int | float) or latency < 0:
            raise ValueError("latency_ms must be a non-negative number")
        with self._lock:
            self.latency_ms = int(latency)
            self.rules.extend(rules)

    def clear(self) -> None:
        """Remove latency and every rule."""
        with self._lock:
            self.latency_ms = 0
            self.rules = []

    def take(self, method: str, path: str) -> FaultRule | None:
        """The first live rule matching the request, consuming one of its ``times``."""
        with self._lock:
            for rule in self.rules:
                if rule.times == 0 or not rule.matches(method, path):
                    continue
                if rule.times is not None:
                    rule.times -= 1
                return rule
        return None

    def snapshot(self) -> dict[str, Any]:
        """The current state, for ``GET /_emulator/faults``."""
        with self._lock:
            return {"latency_ms": self.latency_ms, "rules": [vars(r).copy() for r in self.rules]}
