"""Buying a number without leaking one or buying one twice.

The provider's create path (``PhoneNumberProvider._buy_exact`` / ``_buy_matching``)
delegates here. The rules (DESIGN.md §4, issue 5):

* The HTTP layer retries a purchase only when it provably never reached the vendor
  (connect error, 429). Any other failure of ``Vendor.buy`` is *ambiguous*: the vendor may
  have committed it. Before doing anything else we ask the vendor whether the account now
  owns the candidate. Owned: it is ours, keep it (and apply routing the purchase may not
  have carried). Not owned: move on to the next candidate.
* A timeout, a dropped connection or a gateway 502/504 may mean the vendor is still
  working on the request, so ownership is polled for a grace period (twice the
  configured request timeout, at most 10 s) before we move on. Every candidate given up
  on that way is checked once more at the end of the create; one that turned up late is
  reported with the ``audit`` hint, never released (another stack on the same account
  may have bought it meanwhile, and a released number is gone for good).
* A definitive refusal (validation, payment, compliance) is checked too: a vendor whose
  purchase takes several calls may have bought the number before failing, and a failed
  create must leave nothing behind, so such a number is released again.
* Anything that fails after the purchase (routing) releases the number, then raises.
* Three ambiguous failures in a row end the search with the vendor's error (a failing
  vendor is not a sold-out inventory).

Whatever remains uncertain (the vendor cannot be asked) ends in an error that names the
number and the ``audit`` command that finds and fixes it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass, field
from typing import Any, NoReturn

from .errors import (
    AuthError,
    ConfigError,
    InventoryExhausted,
    NotAvailable,
    PhoneNumbersError,
    RateLimited,
    ServerError,
    TransportError,
)
from .models import AvailableNumber, NumberQuery, OwnedNumber, Routing
from .vendors.base import Vendor

__all__ = ["Claim", "Purchase", "criteria_text"]

#: ``claim(vendor, number)``: a context manager yielding False when a sibling holds it.
Claim = Callable[[str, str], AbstractContextManager[bool]]
_MAX_PAGES = 100
_EXACT_TRIES = 3
_FAILURES_IN_A_ROW = 3
_ROUNDS = 5
_log = logging.getLogger("pulumi_phonenumbers.purchase")


def criteria_text(query: NumberQuery) -> str:
    """``country=US, number_type=local, area_code=415`` (unset criteria left out)."""
    parts = []
    for key, value in query.to_dict(exclude_none=True).items():
        if value in ((), [], ""):
            continue
        if isinstance(value, list | tuple):
            value = "+".join(str(v) for v in value)
        parts.append(f"{key}={value}")
    return ", ".join(parts)


@dataclass
class _Tally:
    """Candidates met by a search, by what became of them (numbers, across passes)."""

    seen: set[str] = field(default_factory=set)
    taken: set[str] = field(default_factory=set)
    held: set[str] = field(default_factory=set)
    pricey: set[str] = field(default_factory=set)


def _audit_hint(vendor: str) -> str:
    return (
        f"run `python -m pulumi_phonenumbers audit --vendor {vendor} --state <stack export "
        "file>` to find it, then release it or adopt it"
    )


@dataclass
class Purchase:
    """One create's purchase: candidates tried, doubtful ones, the number kept."""

    vendor: Vendor
    routing: Routing
    options: Mapping[str, Any]
    claim: Claim
    #: Seconds to poll ownership after a failure that may still commit.
    grace: float = 10.0
    doubtful: list[AvailableNumber] = field(default_factory=list)
    kept: str | None = None
    #: The ambiguous failure of the last candidate (None when it was plainly taken).
    last_error: PhoneNumbersError | None = None
    failures_in_a_row: int = 0
    #: Called, while the claim is still held, with ``(vendor, number)`` of each purchase:
    #: the provider keeps such numbers claimed, so that sibling creates working from an
    #: older search page skip them without a wasted purchase request.
    on_bought: Callable[[str, str], None] = field(default=lambda vendor, number: None)
    #: When (``time.monotonic()``) this process bought a number, or None. A search page
    #: asked for before that moment is stale about it: the candidate is skipped.
    bought_at: Callable[[str, str], float | None] = field(default=lambda vendor, number: None)

    # -- the two ways to create --------------------------------------------------------
    def exact(self, candidate: AvailableNumber) -> OwnedNumber:
        """Buy exactly ``candidate``; :class:`NotAvailable` when it cannot be had."""
        name, number = self.vendor.name, candidate.number
        with self.claim(name, number) as claimed:
            if not claimed:
                raise NotAvailable(
                    f"{name}: {number} is being bought by another resource of "
                    "this stack; declare it once",
                    vendor=name,
                )
            try:
                for _ in range(_EXACT_TRIES):
                    owned = self.one(candidate)
                    if owned is not None:
                        self.on_bought(name, owned.number)
                        return owned
                    if self.last_error is None:
                        break  # plainly taken; an ambiguous miss may still be for sale: retry
                else:
                    self.failures_in_a_row = _EXACT_TRIES
                    raise self._gave_up()
            finally:
                self.sweep()
        raise NotAvailable(
            f"{name}: {number} is not available for purchase; choose another "
            "number or drop `number` to search by criteria",
            vendor=name,
        )

    def matching(self, query: NumberQuery) -> OwnedNumber:
        """Search and buy the first candidate no sibling holds; InventoryExhausted if none.

        Vendors page search results by offset over a list that shrinks while others buy,
        so one pass can skip free numbers: a pass that met numbers taken meanwhile is
        followed by a fresh search (at most ``_ROUNDS`` passes), skipping those tried.
        """
        tally = _Tally()
        # Claims on doubtful candidates stay held until the sweep, so that no sibling
        # create of this process buys one we may still turn out to own.
        with ExitStack() as doubtful_claims:
            try:
                for _ in range(_ROUNDS):
                    tried_before = len(tally.taken)
                    owned = self._one_pass(query, tally, doubtful_claims)
                    if owned is not None:
                        return owned
                    if len(tally.taken) == tried_before:
                        break  # nothing changed under us: the answer is final
            finally:
                self.sweep()
        raise InventoryExhausted(self._exhausted(query, tally))

    def _one_pass(
        self, query: NumberQuery, tally: _Tally, doubtful_claims: ExitStack
    ) -> OwnedNumber | None:
        name = self.vendor.name
        cursor: str | None = None
        for _ in range(_MAX_PAGES):
            asked = time.monotonic()
            page = self.vendor.search_with_options(query, self.options, cursor)
            for candidate in page.numbers:
                number = candidate.number
                tally.seen.add(number)
                if number in tally.taken:
                    continue
                limit = query.max_monthly_cost
                if limit is not None and candidate.monthly_cost.amount > limit:
                    tally.pricey.add(number)
                    continue
                with ExitStack() as claim:
                    if not claim.enter_context(self.claim(name, number)):
                        tally.held.add(number)
                        continue
                    bought = self.bought_at(name, number)
                    if bought is not None and bought >= asked:
                        tally.held.add(number)  # a sibling create bought it after we asked
                        continue
                    owned = self.one(candidate)
                    if owned is not None:
                        self.on_bought(name, owned.number)
                    if candidate in self.doubtful:
                        doubtful_claims.enter_context(claim.pop_all())
                if owned is not None:
                    return owned
                tally.taken.add(number)
                tally.held.discard(number)
                self._give_up_after_failures()
            cursor = page.next_cursor
            if not cursor or not page.numbers:
                break
        return None

    def _give_up_after_failures(self) -> None:
        """Stop after ``_FAILURES_IN_A_ROW`` ambiguous failures: the vendor is failing."""
        if self.last_error is None:
            self.failures_in_a_row = 0
            return
        self.failures_in_a_row += 1
        if self.failures_in_a_row >= _FAILURES_IN_A_ROW:
            raise self._gave_up()

    def _gave_up(self) -> Exception:
        error = self.last_error or PhoneNumbersError(f"{self.vendor.name}: purchase failed")
        return _with_message(
            error,
            f"{error}; {self.failures_in_a_row} purchases in a row failed and the vendor "
            "confirmed none of them, so nothing was bought",
        )

    def _exhausted(self, query: NumberQuery, tally: _Tally) -> str:
        name, crit = self.vendor.name, criteria_text(query)
        if not tally.seen:
            found = "the vendor offers no number matching them"
        else:
            counts = [
                f"{len(numbers)} {what}"
                for numbers, what in (
                    (tally.taken, "taken meanwhile"),
                    (tally.held - tally.taken, "being bought by other resources of this stack"),
                    (tally.pricey, "above max_monthly_cost"),
                )
                if numbers
            ]
            found = f"all {len(tally.seen)} candidates are gone ({', '.join(counts)})"
        return (
            f"{name}: inventory exhausted: no available number matches {crit}: {found}. "
            "Relax the criteria (drop area_code or contains, raise max_monthly_cost) or "
            "choose another vendor"
        )

    # -- one candidate -----------------------------------------------------------------
    def one(self, candidate: AvailableNumber) -> OwnedNumber | None:
        """Buy ``candidate``: the number, or ``None`` to move on to the next candidate."""
        carries = self.vendor.info.buy_carries_routing
        self.last_error = None
        try:
            owned = self.vendor.buy(candidate, self.routing if carries else Routing(), self.options)
        except NotAvailable:
            if candidate not in self.doubtful:
                return None
            found = self.confirm(candidate, None, wait=False)  # our own late commit?
            return self.complete(found, verify=True) if found else None
        except (AuthError, ConfigError, RateLimited):
            raise  # refused before anything happened
        except (TransportError, ServerError) as exc:
            found = self.confirm(candidate, exc, wait=self._may_still_commit(exc))
            if found is not None:
                return self.complete(found, verify=True)
            if isinstance(exc, TransportError) and not exc.sent:
                raise  # the vendor cannot be reached: the next candidate would fail too
            self.doubtful.append(candidate)
            self.last_error = exc
            return None
        except PhoneNumbersError as exc:
            found = self.confirm(candidate, exc, wait=False)
            if found is not None:
                self.release_after_failure(found, exc)
            raise
        return self.complete(owned, verify=False)

    @staticmethod
    def _may_still_commit(exc: PhoneNumbersError) -> bool:
        if isinstance(exc, TransportError):
            return exc.sent
        return isinstance(exc, ServerError) and exc.status in (502, 504)

    def confirm(
        self, candidate: AvailableNumber, exc: PhoneNumbersError | None, *, wait: bool
    ) -> OwnedNumber | None:
        """Ask whether the account owns ``candidate`` now (polling for ``grace`` if ``wait``)."""
        deadline = time.monotonic() + (self.grace if wait else 0.0)
        pause = 0.1
        problem: PhoneNumbersError | None = None
        while True:
            try:
                owned = self.vendor.get(candidate.number)
            except PhoneNumbersError as err:
                problem = err
            else:
                problem = None
                if owned is not None:
                    return owned
            left = deadline - time.monotonic()
            if left <= 0:
                break
            time.sleep(min(pause, left))
            pause *= 2
        if problem is None:
            return None
        unreachable = isinstance(problem, TransportError) and not problem.sent
        if isinstance(exc, TransportError) and not exc.sent and unreachable:
            raise exc  # neither call reached the vendor: nothing was bought
        cause = f"{exc}; " if exc is not None else ""
        raise PhoneNumbersError(
            f"{cause}could not confirm whether {candidate.number} was bought ({problem}). "
            f"{_audit_hint(self.vendor.name)}"
        ) from None

    def complete(self, owned: OwnedNumber, *, verify: bool) -> OwnedNumber:
        """Apply declared routing the purchase did not carry; release on failure."""
        declared = self.routing.declared()
        self.kept = owned.number
        old = Routing()
        if not declared:
            return owned
        if self.vendor.info.buy_carries_routing:
            if not verify:
                return owned
            old = owned.routing
            declared = {k: v for k, v in declared.items() if getattr(old, k) != v}
            if not declared:
                return owned
        try:
            return self.vendor.update_routing(owned, old, old.replace(**declared))
        except Exception as exc:
            self.release_after_failure(owned, exc)

    def release_after_failure(self, owned: OwnedNumber, exc: Exception) -> NoReturn:
        """Give back a number bought by a create that is failing, then raise ``exc``."""
        self.kept = None
        try:
            self.vendor.release(owned.number, owned.vendor_id)
        except Exception as rel:
            raise PhoneNumbersError(
                f"{exc}; {owned.number} was bought but releasing it again failed too ({rel}): "
                f"release it in the vendor's console or {_audit_hint(self.vendor.name)}"
            ) from None
        clean = _with_message(
            exc, f"{exc}; the just-bought {owned.number} was released again, nothing is left behind"
        )
        raise clean from None

    def sweep(self) -> None:
        """Report candidates that turned up owned after we gave up on them.

        They are not released: by now another stack on the same account may have bought
        the same candidate, and a released number is gone for good. A leaked number costs
        a month's rent until the ``audit`` command finds it; releasing someone else's
        number cannot be undone.
        """
        for candidate in self.doubtful:
            if candidate.number == self.kept:
                continue
            try:
                late = self.vendor.get(candidate.number)
            except PhoneNumbersError as exc:
                late, problem = None, f"could not be checked ({exc})"
            else:
                problem = "turned up owned after its purchase had failed"
            if late is not None or problem.startswith("could not"):
                _log.warning(
                    "%s: %s %s; %s",
                    self.vendor.name,
                    candidate.number,
                    problem,
                    _audit_hint(self.vendor.name),
                )
        self.doubtful = [c for c in self.doubtful if c.number == self.kept]


def _with_message(exc: Exception, message: str) -> Exception:
    if isinstance(exc, PhoneNumbersError):
        try:
            clean = type(exc).__new__(type(exc))
            clean.__dict__.update(exc.__dict__)
            clean.args = (message,)
            return clean
        except TypeError:
            pass
    return PhoneNumbersError(message)
