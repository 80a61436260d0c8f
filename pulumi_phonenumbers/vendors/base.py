"""The vendor interface: six verbs over vendor-neutral models.

A vendor module subclasses :class:`Vendor`, declares what it supports in
:class:`VendorInfo` (the provider's ``check`` validates inputs against it, at preview,
with no network), and keeps its wire models private.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ..config import Settings
from ..models import AvailableNumber, NumberQuery, OwnedNumber, Routing, SearchPage

__all__ = ["Vendor", "VendorInfo"]


@dataclass(frozen=True)
class VendorInfo:
    """Static facts about a vendor, used by ``check`` and the README matrix."""

    #: ISO countries the vendor sells numbers in (empty = no restriction known).
    countries: frozenset[str]
    #: Accepted ``number_type`` values (neutral ones plus vendor extras).
    number_types: frozenset[str]
    #: Routing fields the vendor can honour (names of :class:`Routing` fields).
    routing_fields: frozenset[str]
    #: Accepted ``vendor_options`` keys with a one-line description each.
    options: Mapping[str, str] = field(default_factory=dict)
    #: Capabilities that can be asked for.
    capabilities: frozenset[str] = frozenset({"voice", "sms"})
    #: Routing fields the purchase request itself carries; ``Purchase`` applies the other
    #: declared fields with one routing call right after the buy (vendors never do).
    purchase_routing: frozenset[str] = frozenset()
    #: What a routing target id looks like (README matrix, error messages) and an example.
    target_format: str = "any id"
    #: Two well-formed example targets (tests route to the first, then re-route to the second).
    target_examples: tuple[str, str] = ("target-1", "target-2")
    #: Regex a well-formed ``voice_target`` matches (checked at preview).
    target_pattern: str = r"^[A-Za-z0-9._:@/+-]{1,128}$"
    #: Honest limits for the README matrix.
    notes: tuple[str, ...] = ()

    @property
    def buy_carries_routing(self) -> bool:
        """True when a number's voice routing rides on its purchase (no extra call)."""
        return "voice_target" in self.purchase_routing


class Vendor(abc.ABC):
    """Search, buy, get, list, update routing and release numbers at one vendor.

    Instances are built once per provider process (in ``configure()`` or lazily) and shared
    by the provider's worker threads: implementations must be thread-safe.
    """

    name: ClassVar[str]
    info: ClassVar[VendorInfo]

    def __init__(self, settings: Settings) -> None:  # noqa: B027 - the constructor contract
        """Build the vendor's clients from ``settings`` (the instance does not keep them)."""

    # -- check-time validation (no network) ---------------------------------------------
    @classmethod
    def check_query(cls, query: NumberQuery, options: Mapping[str, Any]) -> list[tuple[str, str]]:
        """Vendor-specific problems with a query, as ``(field, reason)``; default none."""
        return []

    @classmethod
    def check_credentials(cls, settings: Settings) -> list[tuple[str, str]]:
        """Problems with the configured credentials for *buying* (no network), as
        ``(field, reason)``; default none. Checked at preview for resources that buy."""
        return []

    # -- the six verbs --------------------------------------------------------------------
    @abc.abstractmethod
    def search(self, query: NumberQuery, cursor: str | None = None) -> SearchPage:
        """One page of available numbers matching ``query``; 0 API calls are never needed."""

    def search_with_options(
        self, query: NumberQuery, options: Mapping[str, Any], cursor: str | None = None
    ) -> SearchPage:
        """:meth:`search` for a resource with ``vendor_options``. Vendors where an option
        narrows the search (Bolna ``provider`` / ``region``) override this; default ignores them."""
        return self.search(query, cursor)

    @abc.abstractmethod
    def buy(
        self, candidate: AvailableNumber, routing: Routing, options: Mapping[str, Any]
    ) -> OwnedNumber:
        """One purchase request for ``candidate``, carrying ``routing`` in that request.

        ``routing`` holds only fields of :attr:`VendorInfo.purchase_routing`. Raises
        :class:`~pulumi_phonenumbers.errors.NotAvailable` when the number was taken. A
        vendor never composes verbs here (no routing call, no release after a failure):
        :class:`~pulumi_phonenumbers._purchase.Purchase` does.
        """

    @abc.abstractmethod
    def get(self, number: str, vendor_id: str | None = None) -> OwnedNumber | None:
        """The owned number, or ``None`` when the account does not own it.

        ``None`` needs two witnesses: the vendor's own not-found answer for the number (its
        wire module's ``not_found`` shape) and a working listing without it
        (``_shared.listed_after_not_found``), or, for list-only vendors, a listing that
        parses as the vendor's and lacks it. Anything less raises.
        """

    @abc.abstractmethod
    def list_owned(self) -> Iterator[OwnedNumber]:
        """Every number the account owns, following the vendor's paging."""

    @abc.abstractmethod
    def update_routing(self, owned: OwnedNumber, old: Routing, new: Routing) -> OwnedNumber:
        """Send only the routing fields that differ between ``old`` and ``new``.

        Returns the number as it stands afterwards (routing = ``new`` as applied).
        """

    @abc.abstractmethod
    def release(self, number: str, vendor_id: str) -> None:
        """Give the number back. "Already gone" is success only on the same two witnesses
        as :meth:`get`; a 404 the vendor's error shape does not explain is a ``ConfigError``."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release network resources."""
