"""The emulators' rate limit: answer 429 with ``Retry-After`` above a configured rate.

``POST /_emulator/settings {"rate_limit": {"requests": 300, "per_seconds": 5}}`` turns it
on (``{"rate_limit": null}`` off; off by default). "N requests per W seconds" is a token
bucket, the common way vendors enforce such a limit: it holds at most N requests, refills
at N/W per second, and starts full. A request that finds it empty is refused with the
vendor's 429 and ``Retry-After`` (seconds until a request is allowed, rounded up) and is
not performed. A client sending at the rate is never refused, even when network delays
bunch its requests (up to N of them); a client sending faster is, as soon as the burst
allowance is spent. ``GET /_emulator/rate_limit`` reports the setting and how many
requests were refused.
"""

from __future__ import annotations

import math
import threading
import time
from typing import Any

__all__ = ["RateLimit"]


class RateLimit:
    """Thread-safe token bucket; :meth:`admit` returns None or the Retry-After seconds."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests = 0
        self.per_seconds = 0.0
        self._tokens = 0.0
        self._at = 0.0
        #: Requests answered 429 by the limiter since it was configured.
        self.refused = 0

    def configure(self, body: Any) -> None:
        """Apply ``{"requests": N, "per_seconds": W}`` or ``None`` (ValueError on junk)."""
        if body is None:
            requests, per = 0, 0.0
        else:
            if not isinstance(body, dict) or set(body) != {"requests", "per_seconds"}:
                raise ValueError('rate_limit must be {"requests": N, "per_seconds": W} or null')
            requests, per = body["requests"], body["per_seconds"]
            if not isinstance(requests, int) or isinstance(requests, bool) or requests < 1:
                raise ValueError("rate_limit.requests must be a positive integer")
            if not isinstance(per, int | float) or isinstance(per, bool) or not per > 0:
                raise ValueError("rate_limit.per_seconds must be a positive number")
        with self._lock:
            self.requests, self.per_seconds = requests, float(per)
            self._tokens, self._at = float(requests), time.monotonic()
            self.refused = 0

    def admit(self) -> float | None:
        """Count one request: ``None`` when admitted, else the Retry-After seconds."""
        with self._lock:
            if not self.requests:
                return None
            now = time.monotonic()
            rate = self.requests / self.per_seconds
            self._tokens = min(float(self.requests), self._tokens + (now - self._at) * rate)
            self._at = now
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return None
            self.refused += 1
            return (1.0 - self._tokens) / rate

    def snapshot(self) -> dict[str, Any]:
        """The setting and the count of refused requests."""
        with self._lock:
            limit = (
                {"requests": self.requests, "per_seconds": self.per_seconds}
                if self.requests
                else None
            )
            return {"rate_limit": limit, "refused": self.refused}


def retry_after_header(seconds: float) -> str:
    """Whole seconds, rounded up (``Retry-After`` takes an integer)."""
    return str(max(1, math.ceil(seconds)))
