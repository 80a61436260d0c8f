"""The embedded ``sandbox`` vendor: no account, no network, state in a SQLite file.

It reads and writes the same :class:`~pulumi_phonenumbers.store.Store` the
emulators serve, so ownership survives across provider processes and is safe for the
provider's worker threads. Routing is kept verbatim (every field is supported).
"""

from __future__ import annotations

import sqlite3
import threading
import uuid
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from ..config import NAMESPACE, Settings
from ..errors import ConfigError, NotAvailable, NotFound
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


def _problem(path: Path, exc: BaseException, waited: float) -> str:
    """What is wrong with the sandbox file, in the user's terms."""
    text = str(exc).lower()
    if isinstance(exc, sqlite3.DatabaseError) and ("not a database" in text or "malformed" in text):
        return "it is not a SQLite database (corrupt, or some other kind of file)"
    if "locked" in text or "busy" in text:
        return f"another process held it locked for {waited:g} s (phonenumbers:timeoutSeconds)"
    if "readonly" in text or "read-only" in text or isinstance(exc, PermissionError):
        return "this user may not write to it (read-only file, folder or file system)"
    if path.is_dir():
        return "it is a directory"
    if isinstance(exc, FileExistsError | NotADirectoryError):
        return f"its folder {str(path.parent)!r} cannot be made: a file is in the way"
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    if "unable to open" in text:
        return "it cannot be opened (a missing folder, or no permission)"
    return str(exc)


@contextmanager
def _file_errors(path: Path, waited: float) -> Iterator[None]:
    """Turn a problem with the sandbox file into a ConfigError naming it and the setting.

    SQLite commits a transaction whole or not at all, so a failed call bought nothing.
    """
    try:
        yield
    except (sqlite3.Error, OSError) as exc:
        raise ConfigError(
            f"sandbox: cannot use the sandbox file {str(path)!r} "
            f"({NAMESPACE}:sandboxPath): {_problem(path, exc, waited)}; fix the file or set "
            f"{NAMESPACE}:sandboxPath (or PHONENUMBERS_SANDBOX_PATH) to another path"
        ) from None


def _store(settings: Settings) -> Store:
    path = settings.sandbox_path()
    with _lock:
        store = _stores.get(str(path))
        if store is None:
            with _file_errors(path, settings.timeout):
                store = Store(path, busy_timeout=settings.timeout)
            _stores[str(path)] = store
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
        purchase_routing=frozenset({"voice_target", "sms_target", "label", "inbound", "outbound"}),
    )

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.store = _store(settings)

    def _file(self) -> AbstractContextManager[None]:
        return _file_errors(self.store.path, self.store.busy_timeout)

    def search(self, query: NumberQuery, cursor: str | None = None) -> SearchPage:
        offset = int(cursor or 0)
        with self._file():
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
            with self._file():
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
        with self._file():
            record = self.store.get(number)
        return _owned(record) if record else None

    def list_owned(self) -> Iterator[OwnedNumber]:
        with self._file():
            records = self.store.owned()
        for record in records:
            yield _owned(record)

    def update_routing(self, owned: OwnedNumber, old: Routing, new: Routing) -> OwnedNumber:
        changed = {name: getattr(new, name) for name in old.changed_fields(new)}
        with self._file():
            record = self.store.update(owned.number, vendor=self.name, routing=changed)
        if record is None:
            raise NotFound(
                f"sandbox: {owned.number} is not owned by this account",
                vendor=self.name,
                status=404,
            )
        return _owned(record)

    def release(self, number: str, vendor_id: str) -> None:
        with self._file():
            self.store.release(number, vendor=self.name)
