"""Fault injection for every emulator, driven by ``POST /_emulator/faults``.

Body: ``{"latency_ms": N, "rules": [rule, ...]}``. ``latency_ms`` delays every vendor
request (not the control API). A rule matches on ``method`` and a ``path`` regex
(``re.search`` on the request path) and fires ``times`` times (forever when absent);
the first live matching rule wins. What it does:

* ``status`` (429 / 500 / 503 ...): answer with that status in the vendor's error shape
  (the face's ``error()``), with ``Retry-After`` when ``retry_after`` is given; the
  operation is not performed.
* ``reset: true``: close the connection without answering; not performed.
* ``after_commit: true``: perform the operation, then fail with ``status`` or, without a
  status, drop the connection (the "lost response").
* ``slow_ms``: wait that long first. Alone: then perform and answer (trips client
  timeouts while the vendor still commits); with ``status`` / ``reset``: then fail; with
  ``after_commit``: perform at once, wait, then fail or drop.

Junk (unknown keys, wrong types, a rule that does nothing) is refused with a 400 that
names the problem. ``DELETE /_emulator/faults`` clears everything.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Any

__all__ = ["FaultRule", "Faults"]

_TYPES: dict[str, tuple[type, ...]] = {
    "method": (str,),
    "path": (str,),
    "status": (int,),
    "retry_after": (int, float),
    "times": (int,),
    "reset": (bool,),
    "after_commit": (bool,),
    "slow_ms": (int,),
}
_TYPE_NAMES = {
    "method": "a string",
    "path": "a regex string",
    "status": "an integer",
    "retry_after": "a number of seconds",
    "times": "an integer",
    "reset": "true/false",
    "after_commit": "true/false",
    "slow_ms": "an integer",
}


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
        """Validate one rule from JSON (ValueError naming the problem on junk)."""
        if not isinstance(raw, dict):
            raise ValueError("a rule must be an object")
        unknown = set(raw) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(
                f"unknown rule keys: {sorted(unknown)}; known: {sorted(cls.__dataclass_fields__)}"
            )
        for key, types in _TYPES.items():
            value = raw.get(key)
            if value is not None and (
                isinstance(value, bool) != (types == (bool,)) or not isinstance(value, types)
            ):
                raise ValueError(f"{key} must be {_TYPE_NAMES[key]}, got {value!r}")
        rule = cls(**raw)
        if rule.path is not None:
            try:
                re.compile(rule.path)
            except re.error as exc:
                raise ValueError(f"path is not a valid regex: {exc}") from None
        if rule.status is not None and not 400 <= rule.status <= 599:
            raise ValueError("status must be an HTTP error status (400-599)")
        if rule.retry_after is not None and not 0 <= rule.retry_after <= 3600:
            raise ValueError("retry_after must be between 0 and 3600 seconds")
        if rule.times is not None and rule.times < 0:
            raise ValueError("times must be a non-negative integer")
        if not 0 <= rule.slow_ms <= 600_000:
            raise ValueError("slow_ms must be between 0 and 600000")
        if rule.reset and (rule.status is not None or rule.after_commit):
            raise ValueError("reset closes the connection: it takes no status or after_commit")
        if not (rule.status or rule.reset or rule.after_commit or rule.slow_ms):
            raise ValueError("a rule needs status, reset, after_commit or slow_ms")
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
        raw_rules = body.get("rules", [])
        if not isinstance(raw_rules, list):
            raise ValueError("rules must be a list")
        latency = body.get("latency_ms", self.latency_ms)
        if (
            isinstance(latency, bool)
            or not isinstance(latency, int | float)
            or not 0 <= latency <= 600_000
        ):
            raise ValueError("latency_ms must be a number of milliseconds (0-600000)")
        rules = [FaultRule.parse(r) for r in raw_rules]
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
