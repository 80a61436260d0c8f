"""The embedded ``sandbox`` vendor: no account, no network, state in a SQLite file.

It reads and writes the same :class:`~pulumi_phonenumbers.store.Store` the
emulators serve, so ownership survives across provider processes and is safe for the
provider's worker threads. Routing is kept verbatim (every field is supported).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator, Mapping
from typing import Any

from ..config import Settings
from ..errors import NotAvailable, NotFound
from ..models import (
    CAPABILITIES,
    AvailableNumber,
    Money,
    NumberQuery,
    OwnedNumber,
    Routing,
    SearchPage,
)
from ..store import InventoryItem, OwnedRecord, Store, Unavailable
from .base import Vendor, VendorInfo

__all__ = ["SandboxVendor"]

_PAGE = 50
_stores: dict[str, Store] = {}
_lock = threading.Lock()


def _store(settings: Settings) -> Store:
    path = str(settings.sandbox_path())
    with _lock:
        store = _stores.get(path)
        if store is None:
            store = _stores[path] = Store(path)
    return store


def _available(item: InventoryItem) -> AvailableNumber:
    return AvailableNumber(
        number=item.number,
        country=item.country,
        number_type=item.number_type,
        capabilities=item.capabilities,
        monthly_cost=Money(amount=item.monthly, currency=item.currency),
        setup_cost=Money(amount=item.setup, currency=item.currency),
        locality=item.locality,
    )


def _owned(record: OwnedRecord) -> OwnedNumber:
    offer = _available(record.item).to_dict(exclude_none=True)
    offer.pop("vendor_ref", None)
    return OwnedNumber(
        **offer,
        vendor_id=record.vendor_id,
        status=record.status,
        routing=Routing.from_dict(record.routing),
    )


class SandboxVendor(Vendor):
    """In-process vendor over the shared SQLite store."""

    name = "sandbox"
    info = VendorInfo(
        countries=frozenset({"US", "CA", "GB", "DE", "FR", "IN", "NG", "KE", "AU", "BR"}),
        number_types=frozenset({"local", "mobile", "toll_free"}),
        routing_fields=frozenset({"voice_target", "sms_target", "label", "inbound", "outbound"}),
        capabilities=frozenset(CAPABILITIES),
    )

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.store = _store(settings)

    def search(self, query: NumberQuery, cursor: str | None = None) -> SearchPage:
        offset = int(cursor or 0)
        items, total = self.store.search(
            country=query.country,
            number_type=query.number_type,
            area_code=query.area_code,
            contains=query.contains,
            capabilities=query.capabilities,
            max_monthly=query.max_monthly_cost,
            limit=_PAGE,
            offset=offset,
        )
        nxt = offset + len(items)
        return SearchPage(
            numbers=tuple(_available(i) for i in items),
            next_cursor=str(nxt) if items and nxt < total else None,
        )

    def buy(
        self, candidate: AvailableNumber, routing: Routing, options: Mapping[str, Any]
    ) -> OwnedNumber:
        try:
            record = self.store.buy(
                candidate.number,
                vendor=self.name,
                vendor_id=f"sbx_{uuid.uuid4().hex[:16]}",
                routing=routing.to_dict(exclude_none=True),
            )
        except Unavailable:
            raise NotAvailable(
                f"sandbox: {candidate.number} is not available", vendor=self.name, status=404
            ) from None
        return _owned(record)

    def get(self, number: str, vendor_id: str | None = None) -> OwnedNumber | None:
        record = self.store.get(number)
        return _owned(record) if record else None

    def list_owned(self) -> Iterator[OwnedNumber]:
        for record in self.store.owned():
            yield _owned(record)

    def update_routing(self, owned: OwnedNumber, old: Routing, new: Routing) -> OwnedNumber:
        changed = {name: getattr(new, name) for name in old.changed_fields(new)}
        record = self.store.update(owned.number, vendor=self.name, routing=changed)
        if record is None:
            raise NotFound(
                f"sandbox: {owned.number} is not owned by this account",
                vendor=self.name,
                status=404,
            )
        return _owned(record)

    def release(self, number: str, vendor_id: str) -> None:
        self.store.release(number, vendor=self.name)
