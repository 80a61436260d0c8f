"""Buying a number without leaking one, buying one twice, or taking over someone else's.

The provider's create path delegates here, and this is the only code that composes vendor
verbs: a vendor's ``buy`` is one purchase request carrying the routing fields its
:attr:`~pulumi_phonenumbers.vendors.base.VendorInfo.purchase_routing` declares; routing
that cannot ride on the purchase is applied here right after it, and a number whose
create fails after the purchase is released here. The rules (DESIGN.md §4 and §6):

* **Exact numbers are checked first.** Before buying a declared ``number`` the account is
  asked whether it owns it already; if it does, the create fails ("adopt it with
  ``adopt=True``") and nothing is bought.
* **Candidates are checked against the criteria** (:func:`._criteria.off_criteria`)
  before they are bought, whatever the vendor's search claimed.
* **Every failed purchase attempt is verified** (one ownership GET, failure paths only),
  whatever the error: timeout, reset, 5xx, 429, 401/403, 400/422, "not available". Not
  owned: the attempt bought nothing. Owned:

  - the vendor's purchase time, where its answer carries one, places the purchase before
    our request was sent or after our attempt had ended (:mod:`._ownership`): another
    stack's (or the console's), left alone;
  - otherwise, after an ambiguous failure (timeout, reset, 5xx, an unparsable answer):
    ours (the search or the exact-number check saw it unowned just before), kept;
  - after a definitive refusal (401/403, 400/422, payment, compliance): ours, released
    again, then the refusal is raised;
  - after "not available" or a 429: our own committed request answered otherwise, or
    another stack that won the race for it; no purchase time separates the two at that
    scale, so it is left alone and reported with the ``audit`` hint.
* A timeout, a dropped connection or a gateway 502/504 may mean the vendor is still
  working on the request, so ownership is polled for a grace period (twice the request
  timeout, at most 10 s). Candidates given up on that way are checked once more at the
  end of the create; one that turned up late is reported with the ``audit`` hint, never
  released (another stack on the same account may have bought it meanwhile).
* Three ambiguous failures in a row end the create with the vendor's error (a failing
  vendor is not a sold-out inventory), and one create makes at most
  :data:`MAX_ATTEMPTS` purchase attempts (a vendor refusing every purchase its search
  offers must not be asked hundreds of times).

Whatever stays uncertain ends in an error or a warning that names the number and the
``audit`` command that finds it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any, ClassVar, NoReturn

from ._claims import Claims
from ._criteria import criteria_text, off_criteria
from ._pages import page_key
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

__all__ = ["MAX_ATTEMPTS", "Purchase", "criteria_text"]

_MAX_PAGES = 100
_EXACT_TRIES = 3
_FAILURES_IN_A_ROW = 3
_ROUNDS = 5
#: Purchase requests one create may make, over all its candidates.
MAX_ATTEMPTS = 25
_log = logging.getLogger("pulumi_phonenumbers.purchase")


@dataclass
class _Tally:
    """Candidates met by a search, by what became of them (numbers, across passes)."""

    seen: set[str] = field(default_factory=set)
    taken: set[str] = field(default_factory=set)
    held: set[str] = field(default_factory=set)
    pricey: set[str] = field(default_factory=set)
    off: dict[str, str] = field(default_factory=dict)
    #: Candidates of a shared page skipped because a sibling bought or tried them.
    shared_skips: int = 0


def _audit_hint(vendor: str) -> str:
    return (
        f"run `python -m pulumi_phonenumbers audit --vendor {vendor} --state <stack export "
        "file>` to find it, then release it or adopt it"
    )


def _ambiguous(exc: Exception) -> bool:
    """The vendor may have committed and its answer says nothing either way."""
    return isinstance(exc, TransportError | ServerError) or not isinstance(exc, PhoneNumbersError)


@dataclass
class Purchase:
    """One create's purchase: candidates tried, doubtful ones, the number kept."""

    vendor: Vendor
    routing: Routing
    options: Mapping[str, Any]
    #: Seconds to poll ownership after a failure that may still commit.
    grace: float = 10.0
    doubtful: list[AvailableNumber] = field(default_factory=list)
    kept: str | None = None
    #: The ambiguous failure of the last candidate (None when it was plainly taken).
    last_error: PhoneNumbersError | None = None
    failures_in_a_row: int = 0
    #: Purchase attempts made so far (at most :data:`MAX_ATTEMPTS`).
    attempts: int = 0
    #: Numbers found owned after our attempt that are not ours: number -> why.
    theirs: dict[str, str] = field(default_factory=dict)
    #: Numbers found owned after a "not available" / 429 answer, left alone: number -> answer.
    unplaced: dict[str, str] = field(default_factory=dict)
    #: The claim set of this provider process (class level: DESIGN.md §4).
    claims: ClassVar[Claims] = Claims()

    # -- the two ways to create --------------------------------------------------------
    def exact(self, candidate: AvailableNumber) -> OwnedNumber:
        """Buy exactly ``candidate``; :class:`NotAvailable` when it cannot be had."""
        name, number = self.vendor.name, candidate.number
        with self.claims.claim(name, number) as claimed:
            if not claimed:
                raise NotAvailable(
                    f"{name}: {number} is being bought by another resource of "
                    "this stack; declare it once",
                    vendor=name,
                )
            if self.vendor.get(number) is not None:
                raise NotAvailable(self._already_owned(number, ""), vendor=name)
            started = time.time()
            try:
                for _ in range(_EXACT_TRIES):
                    owned = self.one(candidate, started)
                    if owned is not None:
                        self.claims.mark_bought(name, owned.number)
                        return owned
                    if self.last_error is None:
                        break  # plainly taken; an ambiguous miss may still be for sale: retry
                else:
                    self.failures_in_a_row = _EXACT_TRIES
                    raise self._gave_up()
            finally:
                self.sweep()
        if number in self.theirs:
            raise NotAvailable(self._already_owned(number, self.theirs[number]), vendor=name)
        if number in self.unplaced:
            raise NotAvailable(
                f"{self.unplaced[number]}; {number} is owned by this account now: by this "
                "create's own purchase answered that way, or by another stack that bought it "
                f"at the same moment; it was left alone: {_audit_hint(name)}",
                vendor=name,
            )
        raise NotAvailable(
            f"{name}: {number} is not available for purchase; choose another "
            "number or drop `number` to search by criteria",
            vendor=name,
        )

    def _already_owned(self, number: str, why: str) -> str:
        since = f" ({why})" if why else ""
        return (
            f"{self.vendor.name}: {number} is already owned by this account{since}: adopt it "
            "with adopt=True (or check the number); nothing was bought"
        )

    def matching(self, query: NumberQuery) -> OwnedNumber:
        """Search and buy the first candidate no sibling holds; InventoryExhausted if none.

        Vendors page search results by offset over a list that shrinks while others buy,
        so one pass can skip free numbers: a pass that met numbers taken meanwhile is
        followed by a fresh search (at most ``_ROUNDS`` passes), skipping those tried; so is
        a pass that skipped candidates of a shared page that siblings bought or tried.
        The first page of a search is shared with sibling creates of the same criteria
        (:mod:`._pages`): a fleet spends about one search per page, not one per number.
        """
        tally = _Tally()
        # Claims on doubtful candidates stay held until the sweep, so that no sibling
        # create of this process buys one we may still turn out to own.
        with ExitStack() as doubtful_claims:
            try:
                fresh_after = 0.0
                for _ in range(_ROUNDS):
                    before = (len(tally.taken), tally.shared_skips)
                    began = time.monotonic()
                    owned = self._one_pass(query, tally, doubtful_claims, fresh_after)
                    fresh_after = began  # the next pass searches afresh
                    if owned is not None:
                        return owned
                    if (len(tally.taken), tally.shared_skips) == before:
                        break  # nothing changed under us: the answer is final
            finally:
                self.sweep()
        raise InventoryExhausted(self._exhausted(query, tally))

    def _one_pass(
        self, query: NumberQuery, tally: _Tally, doubtful_claims: ExitStack, fresh_after: float
    ) -> OwnedNumber | None:
        name = self.vendor.name
        key = page_key(name, query, self.options)
        cursor: str | None = None
        for _ in range(_MAX_PAGES):
            if cursor is None:  # the first page is shared with sibling creates (._pages)
                page, asked = self.claims.pages.first_page(
                    key,
                    lambda: self.vendor.search_with_options(query, self.options, None),
                    lambda number: (
                        self.claims.held(name, number)
                        or self.claims.bought_at(name, number) is not None
                    ),
                    newer_than=fresh_after,
                )
            else:
                asked = time.monotonic()
                page = self.vendor.search_with_options(query, self.options, cursor)
            for candidate in page.numbers:
                number = candidate.number
                tally.seen.add(number)
                if number in tally.taken:
                    continue
                if cursor is None and self.claims.pages.spent(key, asked, number):
                    tally.held.add(number)  # a sibling bought or tried it from this page
                    tally.shared_skips += 1
                    continue
                off = off_criteria(candidate, query)
                if off is not None:
                    self.claims.pages.spend(key, number)
                    if off[0] == "max_monthly_cost":
                        tally.pricey.add(number)
                    else:
                        tally.off[number] = off[1]
                    continue
                with ExitStack() as claim:
                    if not claim.enter_context(self.claims.claim(name, number)):
                        tally.held.add(number)
                        continue
                    bought = self.claims.bought_at(name, number)
                    if bought is not None and bought >= asked:
                        tally.held.add(number)  # a sibling create bought it after we asked
                        continue
                    if self.attempts >= MAX_ATTEMPTS:
                        raise self._too_many(query, tally)
                    self.claims.pages.spend(key, number)
                    owned = self.one(candidate, time.time())
                    if owned is not None:
                        self.claims.mark_bought(name, owned.number)
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

    def _too_many(self, query: NumberQuery, tally: _Tally) -> PhoneNumbersError:
        return PhoneNumbersError(
            f"{self.vendor.name}: gave up after {self.attempts} purchase attempts (the limit "
            f"for one create): the vendor refused every candidate its search offered for "
            f"{criteria_text(query)} ({len(tally.taken)} not available), so nothing was "
            "bought. Run `pulumi up` again later, or relax the criteria"
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
                    (set(tally.off), "off the criteria although the vendor's search offered them"),
                )
                if numbers
            ]
            found = f"all {len(tally.seen)} candidates are gone ({', '.join(counts)})"
        if tally.off:
            number, why = next(iter(tally.off.items()))
            found += f"; e.g. {number}: {why}"
        return (
            f"{name}: inventory exhausted: no available number matches {crit}: {found}. "
            "Relax the criteria (drop area_code or contains, raise max_monthly_cost) or "
            "choose another vendor"
        )

    # -- one candidate -----------------------------------------------------------------
    def one(self, candidate: AvailableNumber, since: float) -> OwnedNumber | None:
        """Buy ``candidate``: the number, or ``None`` to move on to the next candidate.

        ``since`` (``time.time()``) is when this attempt began: just before its first
        purchase request (for an exact number, before the first of its tries).
        """
        riding = self.vendor.info.purchase_routing
        carried = Routing(**{k: v for k, v in self.routing.declared().items() if k in riding})
        self.attempts += 1
        self.last_error = None
        try:
            owned = self.vendor.buy(candidate, carried, self.options)
        except Exception as exc:
            return self._after_failure(candidate, exc, since)
        return self.complete(owned, verify=False)

    def _after_failure(
        self, candidate: AvailableNumber, exc: Exception, since: float
    ) -> OwnedNumber | None:
        """Verify a failed attempt (one GET); keep, release, report or move on."""
        ambiguous = _ambiguous(exc)
        wait = ambiguous and self._may_still_commit(exc)
        found = self.confirm(candidate, exc, wait=wait)
        if found is None:  # the attempt bought nothing
            if isinstance(exc, NotAvailable):
                return None
            if not ambiguous:
                raise exc
            if isinstance(exc, TransportError) and not exc.sent:
                raise exc  # the vendor cannot be reached: the next candidate would fail too
            if wait:  # the request may still be in progress: check again at the end
                self.doubtful.append(candidate)
            self.last_error = (
                exc
                if isinstance(exc, PhoneNumbersError)
                else ServerError(f"{self.vendor.name}: unexpected answer ({exc})")
            )
            return None
        from ._ownership import Attempt, verdict  # lazily: only a failed attempt needs it

        said_taken = isinstance(exc, NotAvailable | RateLimited)
        whose, why = verdict(found, Attempt(started=since, ended=time.time()))
        if whose == "theirs":
            self.theirs[found.number] = why
            _log.warning(
                "%s: %s is owned by this account but was not bought by this create (%s); "
                "left alone. If no stack holds it, %s",
                self.vendor.name,
                found.number,
                why,
                _audit_hint(self.vendor.name),
            )
            if isinstance(exc, NotAvailable) or ambiguous:
                return None
            raise exc
        if not said_taken:
            if ambiguous:
                return self.complete(found, verify=True)
            self.release_after_failure(found, exc)
        # "Not available" (or 429) although the account owns it: another stack bought it
        # just before our request, or an earlier request of ours committed (a 429 after
        # commit, retried) and the vendor said otherwise. No purchase time tells these apart
        # at this scale (a race is decided within milliseconds), so it is left alone.
        self.unplaced[found.number] = str(exc)
        _log.warning(
            "%s: %s is owned by this account after a purchase attempt of this create was "
            "answered %r, and the vendor's answer cannot tell whether that attempt or "
            "another stack bought it; left alone. If no stack holds it, %s",
            self.vendor.name,
            found.number,
            str(exc),
            _audit_hint(self.vendor.name),
        )
        if isinstance(exc, NotAvailable):
            return None
        raise _with_message(
            exc,
            f"{exc}; {found.number} is owned by this account now and may be this create's "
            f"purchase: {_audit_hint(self.vendor.name)}",
        )

    @staticmethod
    def _may_still_commit(exc: Exception) -> bool:
        if isinstance(exc, TransportError):
            return exc.sent
        return isinstance(exc, ServerError) and exc.status in (502, 504)

    def confirm(
        self, candidate: AvailableNumber, exc: Exception | None, *, wait: bool
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
        for refused in (AuthError, ConfigError):
            if isinstance(exc, refused) and isinstance(problem, refused):
                raise exc  # refused (credentials, base URL) for reading too: nothing was bought
        cause = f"{exc}; " if exc is not None else ""
        raise PhoneNumbersError(
            f"{cause}could not confirm whether {candidate.number} was bought ({problem}). "
            f"{_audit_hint(self.vendor.name)}"
        ) from None

    def complete(self, owned: OwnedNumber, *, verify: bool) -> OwnedNumber:
        """Apply declared routing the purchase did not carry; release on failure.

        ``verify``: ``owned`` was read back after a failed answer, so every declared field
        is compared with what the vendor holds; otherwise the fields in the vendor's
        ``purchase_routing`` rode on the purchase and only the others are applied.
        """
        self.kept = owned.number
        riding = self.vendor.info.purchase_routing
        pending = {
            key: wanted
            for key, wanted in self.routing.declared().items()
            if (getattr(owned.routing, key) != wanted if verify else key not in riding)
        }
        if not pending:
            return owned
        old = owned.routing
        try:
            return self.vendor.update_routing(owned, old, old.replace(**pending))
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
        self.claims.forget(self.vendor.name, owned.number)
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
