"""Whose purchase is it? Telling our failed attempt's commit from another stack's purchase.

After a purchase attempt fails, the account may own the candidate: because the vendor
committed our request and then answered with an error, or because someone else on the
same account (another stack, the console) bought it meanwhile. Ownership alone cannot
tell the two apart. Where the vendor's owned-number object says when the number was
acquired (:attr:`~pulumi_phonenumbers.models.OwnedNumber.acquired`), it is compared with
our attempt:

* acquired before our first purchase request was sent, or after our attempt had ended:
  **theirs** (never kept, never released);
* acquired within our attempt, to the second: **ours**;
* the vendor gives no time, or only a day that overlaps the attempt: **unknown**.

Clocks differ between this machine and the vendor: :data:`SKEW` seconds are allowed
either way. A vendor clock off by more than that makes our own commit look like someone
else's, which leaves it on the account, reported with the ``audit`` hint (a paid leak
that the audit finds), never a takeover of someone else's number.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from .models import OwnedNumber

__all__ = ["SKEW", "Attempt", "Verdict", "verdict"]

#: Seconds of clock difference tolerated between this machine and the vendor.
SKEW = 2.0
Verdict = Literal["ours", "theirs", "unknown"]


@dataclass
class Attempt:
    """One purchase attempt, in wall-clock seconds (``time.time()``)."""

    #: Just before the first purchase request of the attempt was sent.
    started: float
    #: When the attempt's failure was in hand (after any ownership polling).
    ended: float


def _when(stamp: float) -> str:
    return dt.datetime.fromtimestamp(stamp, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def verdict(owned: OwnedNumber, attempt: Attempt) -> tuple[Verdict, str]:
    """Whether the account's ``owned`` number came from ``attempt``, and why."""
    window = owned.acquired
    if window is None:
        return "unknown", "the vendor does not say when the account acquired it"
    earliest, latest = window
    if latest < attempt.started - SKEW:
        return "theirs", (
            f"the vendor says it was acquired by {_when(latest)}, before this create's "
            f"purchase request at {_when(attempt.started)}"
        )
    if earliest > attempt.ended + SKEW:
        return "theirs", (
            f"the vendor says it was acquired at {_when(earliest)}, after this create's "
            f"purchase attempt had failed at {_when(attempt.ended)}"
        )
    if earliest >= attempt.started - SKEW and latest <= attempt.ended + SKEW:
        return "ours", f"the vendor says it was acquired at {_when(earliest)}, during our attempt"
    return "unknown", (
        f"the vendor's acquisition time ({_when(earliest)} to {_when(latest)}) overlaps "
        "this create's purchase attempt"
    )
