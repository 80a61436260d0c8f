"""Pacing: one token bucket per vendor per provider process, at the vendor's documented rate.

A fleet bought as fast as 4 worker threads allow meets the vendor's rate limit and then
spends its time in 429 back-offs. Every request (each attempt, retries included) first
takes a token from its vendor's bucket, shared by all clients and threads of this
process, so the process stays at or under the rate the vendor documents:

=========  ========================  ==============================================
vendor     default requests/second   source
=========  ========================  ==============================================
plivo      60                        300 requests per 5 s per account
bolna      16                        1,000 requests per minute (phone numbers)
krosai     10                        Free plan 10/s (Pro 50/s, Business 200/s)
sinch      10                        none documented for Numbers: conservative
sondos     10                        none documented: conservative
=========  ========================  ==============================================

The defaults are those of the ``<vendor>RequestsPerSecond`` keys in :mod:`.config`;
``phonenumbers:<vendor>RequestsPerSecond`` overrides the rate (``0`` turns pacing off,
e.g. for an emulator). The bucket holds one token: requests are spaced evenly, never sent
as a burst, at :data:`HEADROOM` of the rate, so that a vendor counting arrivals over any
window of its own never sees more than its limit although network delays vary.
"""

from __future__ import annotations

import threading
import time

__all__ = ["HEADROOM", "TokenBucket", "bucket_for"]

#: Share of the configured rate actually used: room for jitter between send and arrival.
HEADROOM = 0.95


class TokenBucket:
    """Thread-safe pacing at ``rate`` requests per second (``0``: no pacing)."""

    def __init__(self, rate: float) -> None:
        self._lock = threading.Lock()
        self.rate = rate
        #: ``time.monotonic()`` at which the next request may be sent.
        self._next = 0.0
        #: Requests that had to wait for a token, and the seconds waited (benchmarks).
        self.waits = 0
        self.waited = 0.0

    def take(self) -> None:
        """Wait until a request may be sent at this rate, then account for it."""
        with self._lock:
            if self.rate <= 0:
                return
            now = time.monotonic()
            at = max(now, self._next)
            self._next = at + 1.0 / (self.rate * HEADROOM)
            pause = at - now
            if pause > 0:
                self.waits += 1
                self.waited += pause
        if pause > 0:
            time.sleep(pause)


_lock = threading.Lock()
_buckets: dict[str, TokenBucket] = {}


def bucket_for(vendor: str, rate: float) -> TokenBucket:
    """The process-wide bucket of ``vendor``, now at ``rate`` requests per second."""
    with _lock:
        bucket = _buckets.get(vendor)
        if bucket is None:
            bucket = _buckets[vendor] = TokenBucket(rate)
        else:
            with bucket._lock:
                bucket.rate = rate
        return bucket
