"""The shared store: inventory, ownership and a ledger in one SQLite file.

One store, several faces: the embedded ``sandbox`` vendor uses it in-process, and every
emulator serves its vendor's HTTP API over one. SQLite in WAL mode with ``BEGIN
IMMEDIATE`` makes a purchase atomic across the provider's threads and across processes
(each ``pulumi up`` starts a new provider process).

Available numbers are the generated inventory minus the owned ones; a released number
goes back on sale. The ledger records every ``buy``, ``release`` and ``update``.
"""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from .inventory import InventoryItem, generate

__all__ = ["OwnedRecord", "Store", "Unavailable"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS inventory(
    number TEXT PRIMARY KEY, country TEXT NOT NULL, number_type TEXT NOT NULL,
    area_code TEXT NOT NULL, capabilities TEXT NOT NULL, monthly TEXT NOT NULL,
    setup TEXT NOT NULL, currency TEXT NOT NULL, locality TEXT NOT NULL,
    needs_verification INTEGER NOT NULL, ref TEXT NOT NULL UNIQUE);
CREATE INDEX IF NOT EXISTS inventory_query ON inventory(country, number_type, area_code);
CREATE TABLE IF NOT EXISTS owned(
    number TEXT PRIMARY KEY REFERENCES inventory(number), vendor_id TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL, routing TEXT NOT NULL, data TEXT NOT NULL, bought_at REAL NOT NULL,
    seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS ledger(
    seq INTEGER PRIMARY KEY AUTOINCREMENT, ts REAL NOT NULL, op TEXT NOT NULL,
    number TEXT NOT NULL, detail TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS settings(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
_INVENTORY_VERSION = "1"


class Unavailable(Exception):
    """The number is not in the inventory, or is already owned."""


@dataclass(frozen=True)
class OwnedRecord:
    """An owned number: its inventory facts plus ownership state."""

    item: InventoryItem
    vendor_id: str
    status: str
    routing: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    bought_at: float = 0.0

    @property
    def number(self) -> str:
        """E.164."""
        return self.item.number


def _item(row: Sequence[Any]) -> InventoryItem:
    return InventoryItem(
        number=row[0],
        country=row[1],
        number_type=row[2],
        area_code=row[3],
        capabilities=tuple(c for c in row[4].split(",") if c),
        monthly=Decimal(row[5]),
        setup=Decimal(row[6]),
        currency=row[7],
        locality=row[8],
        needs_verification=bool(row[9]),
    )


_ITEM_COLS = (
    "i.number, i.country, i.number_type, i.area_code, i.capabilities, i.monthly, "
    "i.setup, i.currency, i.locality, i.needs_verification"
)


class Store:
    """Thread- and process-safe store over one SQLite file (a temp file when ``path`` is None)."""

    def __init__(self, path: str | Path | None = None, busy_timeout: float = 30.0) -> None:
        """``busy_timeout``: seconds a write waits for another writer's lock."""
        self.busy_timeout = busy_timeout
        if path is None:
            fd, name = tempfile.mkstemp(prefix="phonenumbers-", suffix=".db")
            os.close(fd)
            path = name
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._init()

    # -- plumbing ---------------------------------------------------------------------
    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(
                self.path,
                timeout=self.busy_timeout,
                isolation_level=None,
                check_same_thread=False,
            )
            conn.execute(f"PRAGMA busy_timeout={int(self.busy_timeout * 1000)}")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
        return conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def _init(self) -> None:
        conn = self._conn()
        conn.execute("PRAGMA journal_mode=WAL")
        conn.executescript(_SCHEMA)
        with self._write() as conn:
            row = conn.execute("SELECT value FROM meta WHERE key='inventory'").fetchone()
            if row and row[0] == _INVENTORY_VERSION:
                return
            conn.execute("DELETE FROM inventory WHERE number NOT IN (SELECT number FROM owned)")
            conn.executemany(
                "INSERT OR IGNORE INTO inventory VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                [
                    (
                        i.number,
                        i.country,
                        i.number_type,
                        i.area_code,
                        ",".join(i.capabilities),
                        str(i.monthly),
                        str(i.setup),
                        i.currency,
                        i.locality,
                        int(i.needs_verification),
                        i.ref,
                    )
                    for i in generate()
                ],
            )
            conn.execute(
                "INSERT OR REPLACE INTO meta VALUES ('inventory', ?)", (_INVENTORY_VERSION,)
            )

    def _ledger(
        self, conn: sqlite3.Connection, op: str, number: str, detail: Mapping[str, Any]
    ) -> None:
        conn.execute(
            "INSERT INTO ledger(ts, op, number, detail) VALUES (?,?,?,?)",
            (time.time(), op, number, json.dumps(dict(detail), sort_keys=True)),
        )

    # -- inventory ---------------------------------------------------------------------
    def search(
        self,
        *,
        country: str,
        number_type: str | None = None,
        area_code: str | None = None,
        contains: str | None = None,
        starts_with: str | None = None,
        ends_with: str | None = None,
        capabilities: Sequence[str] = (),
        max_monthly: Decimal | None = None,
        limit: int = 20,
        offset: int = 0,
    ) -> tuple[list[InventoryItem], int]:
        """Available numbers matching every given filter, and the total count."""
        where = ["i.country = ?", "o.number IS NULL"]
        args: list[Any] = [country.upper()]
        if number_type:
            where.append("i.number_type = ?")
            args.append(number_type)
        if area_code:
            where.append("i.area_code = ?")
            args.append(area_code)
        if contains:
            where.append("instr(i.number, ?) > 0")
            args.append(contains)
        if starts_with:
            where.append("substr(i.number, 1, ?) = ?")
            args += [len(starts_with), starts_with]
        if ends_with:
            where.append("substr(i.number, -?) = ?")
            args += [len(ends_with), ends_with]
        for cap in capabilities:
            where.append("(',' || i.capabilities || ',') LIKE ?")
            args.append(f"%,{cap},%")
        if max_monthly is not None:
            where.append("CAST(i.monthly AS REAL) <= ?")
            args.append(float(max_monthly))
        sql_where = " AND ".join(where)
        base = f"FROM inventory i LEFT JOIN owned o ON o.number = i.number WHERE {sql_where}"
        conn = self._conn()
        total = conn.execute(f"SELECT count(*) {base}", args).fetchone()[0]
        rows = conn.execute(
            f"SELECT {_ITEM_COLS} {base} ORDER BY i.number LIMIT ? OFFSET ?", [*args, limit, offset]
        ).fetchall()
        return [_item(r) for r in rows], int(total)

    def item(self, number: str) -> InventoryItem | None:
        """The inventory facts of ``number``, owned or not."""
        row = (
            self._conn()
            .execute(f"SELECT {_ITEM_COLS} FROM inventory i WHERE i.number = ?", (number,))
            .fetchone()
        )
        return _item(row) if row else None

    def item_by_ref(self, ref: str) -> InventoryItem | None:
        """The inventory facts for a stable inventory id."""
        row = (
            self._conn()
            .execute(f"SELECT {_ITEM_COLS} FROM inventory i WHERE i.ref = ?", (ref,))
            .fetchone()
        )
        return _item(row) if row else None

    def available(self, number: str) -> InventoryItem | None:
        """The item when it is for sale now, else ``None``."""
        row = (
            self._conn()
            .execute(
                f"SELECT {_ITEM_COLS} FROM inventory i LEFT JOIN owned o ON o.number = i.number "
                "WHERE i.number = ? AND o.number IS NULL",
                (number,),
            )
            .fetchone()
        )
        return _item(row) if row else None

    # -- ownership ---------------------------------------------------------------------
    def buy(
        self,
        number: str,
        *,
        vendor: str,
        vendor_id: str,
        status: str = "active",
        routing: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
    ) -> OwnedRecord:
        """Atomically take ``number`` off sale; :class:`Unavailable` when it cannot be."""
        routing = dict(routing or {})
        data = dict(data or {})
        with self._write() as conn:
            row = conn.execute(
                f"SELECT {_ITEM_COLS}, o.number FROM inventory i LEFT JOIN owned o "
                "ON o.number = i.number WHERE i.number = ?",
                (number,),
            ).fetchone()
            if row is None or row[10] is not None:
                raise Unavailable(number)
            seq = conn.execute("SELECT coalesce(max(seq), 0) + 1 FROM owned").fetchone()[0]
            now = time.time()
            conn.execute(
                "INSERT INTO owned VALUES (?,?,?,?,?,?,?)",
                (number, vendor_id, status, json.dumps(routing), json.dumps(data), now, seq),
            )
            self._ledger(
                conn, "buy", number, {"vendor": vendor, "vendor_id": vendor_id, "routing": routing}
            )
        return OwnedRecord(_item(row[:10]), vendor_id, status, routing, data, now)

    def _owned(self, where: str, value: str) -> OwnedRecord | None:
        row = (
            self._conn()
            .execute(
                f"SELECT {_ITEM_COLS}, o.vendor_id, o.status, o.routing, o.data, o.bought_at "
                f"FROM owned o JOIN inventory i ON i.number = o.number WHERE {where} = ?",
                (value,),
            )
            .fetchone()
        )
        if row is None:
            return None
        return OwnedRecord(
            _item(row[:10]), row[10], row[11], json.loads(row[12]), json.loads(row[13]), row[14]
        )

    def get(self, number: str) -> OwnedRecord | None:
        """The owned record of ``number``, or ``None``."""
        return self._owned("o.number", number)

    def get_by_id(self, vendor_id: str) -> OwnedRecord | None:
        """The owned record with this vendor id, or ``None``."""
        return self._owned("o.vendor_id", vendor_id)

    def owned(self) -> list[OwnedRecord]:
        """Every owned number, in purchase order."""
        rows = self._conn().execute("SELECT number FROM owned ORDER BY seq").fetchall()
        records = (self.get(r[0]) for r in rows)
        return [r for r in records if r is not None]

    def update(
        self,
        number: str,
        *,
        vendor: str,
        routing: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
        status: str | None = None,
        log: bool = True,
    ) -> OwnedRecord | None:
        """Merge ``routing`` / ``data`` into the record, set ``status``; ``None`` if not owned."""
        with self._write() as conn:
            row = conn.execute(
                "SELECT routing, data, status FROM owned WHERE number = ?", (number,)
            ).fetchone()
            if row is None:
                return None
            new_routing = {**json.loads(row[0]), **(routing or {})}
            new_data = {**json.loads(row[1]), **(data or {})}
            conn.execute(
                "UPDATE owned SET routing = ?, data = ?, status = ? WHERE number = ?",
                (json.dumps(new_routing), json.dumps(new_data), status or row[2], number),
            )
            if log:
                self._ledger(
                    conn,
                    "update",
                    number,
                    {
                        "vendor": vendor,
                        "routing": dict(routing or {}),
                        **({"status": status} if status else {}),
                    },
                )
        return self.get(number)

    def release(self, number: str, *, vendor: str) -> bool:
        """Give ``number`` back to the inventory; False when it was not owned."""
        with self._write() as conn:
            cur = conn.execute("DELETE FROM owned WHERE number = ?", (number,))
            if cur.rowcount == 0:
                return False
            self._ledger(conn, "release", number, {"vendor": vendor})
        return True

    # -- ledger, settings, reset ------------------------------------------------------------
    def record(self, op: str, number: str, **detail: Any) -> None:
        """Append a ledger event outside buy/update/release."""
        with self._write() as conn:
            self._ledger(conn, op, number, detail)

    def ledger(self) -> list[dict[str, Any]]:
        """All events, oldest first: ``{"op", "number", "ts", ...detail}``."""
        rows = (
            self._conn()
            .execute("SELECT op, number, ts, detail FROM ledger ORDER BY seq")
            .fetchall()
        )
        return [{"op": r[0], "number": r[1], "ts": r[2], **json.loads(r[3])} for r in rows]

    def setting(self, key: str, default: Any = None) -> Any:
        """A JSON setting (emulator switches such as KYC state)."""
        row = self._conn().execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else default

    def set_setting(self, key: str, value: Any) -> None:
        """Store a JSON setting."""
        with self._write() as conn:
            conn.execute("INSERT OR REPLACE INTO settings VALUES (?, ?)", (key, json.dumps(value)))

    def reset(self) -> None:
        """Forget ownership, ledger and settings; the inventory is all for sale again."""
        with self._write() as conn:
            conn.execute("DELETE FROM owned")
            conn.execute("DELETE FROM ledger")
            conn.execute("DELETE FROM settings")
