"""Backends for tests: a vendor plus the store behind it (emulator or sandbox file).

``Backend.start("plivo")`` serves the Plivo emulator on 127.0.0.1 in a thread;
``Backend.start("sandbox", tmp_path)`` uses a fresh sandbox file. Either way the test gets
the stack config that points the provider at it, the store (to read the ledger) and a
configured :class:`~pulumi_phonenumbers.vendors.base.Vendor`.
"""

from __future__ import annotations

import itertools
import tempfile
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from ..config import NAMESPACE, Settings
from ..emulators.server import EMULATORS, RunningEmulator, start
from ..store import Store
from ..vendors import Vendor, vendor_class

__all__ = ["Backend", "emulated_vendors"]

_FOREIGN = itertools.count()


def emulated_vendors() -> list[str]:
    """Vendors whose client module and emulator face both import (sorted)."""
    names = []
    for name in sorted(EMULATORS):
        try:
            vendor_class(name)
            from ..emulators.server import face_class

            face_class(name)
        except (ImportError, AttributeError):
            continue
        names.append(name)
    return names


@dataclass
class Backend:
    """A vendor name, its store, and the stack config that reaches it."""

    vendor: str
    store: Store
    config: dict[str, str]
    emulator: RunningEmulator | None = None
    _clients: list[Vendor] = field(default_factory=list, repr=False)

    @classmethod
    def start(cls, vendor: str, directory: str | Path | None = None) -> Backend:
        """A fresh backend for ``vendor`` (``sandbox`` or an emulated vendor)."""
        directory = Path(directory or tempfile.mkdtemp(prefix="phonenumbers-"))
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{vendor}.db"
        if vendor == "sandbox":
            return cls(
                vendor,
                Store(path),
                {f"{NAMESPACE}:sandboxPath": str(path), f"{NAMESPACE}:vendor": "sandbox"},
            )
        emulator = start(vendor, 0, path)
        return cls(
            vendor, emulator.store, {**emulator.config, f"{NAMESPACE}:vendor": vendor}, emulator
        )

    @property
    def url(self) -> str:
        """Emulator URL ("" for the sandbox)."""
        return self.emulator.url if self.emulator else ""

    def settings(self, overrides: Mapping[str, str] | None = None) -> Settings:
        """Settings for a vendor client (environment ignored)."""
        config = {**self.config, **(overrides or {})}
        return Settings(raw={k.split(":", 1)[1]: v for k, v in config.items()}, environ={})

    def client(self, overrides: Mapping[str, str] | None = None) -> Vendor:
        """A fresh vendor client pointed at this backend."""
        client = vendor_class(self.vendor)(self.settings(overrides))
        self._clients.append(client)
        return client

    def secret_values(self) -> list[str]:
        """The credential values in the config (for leak checks)."""
        from ..config import secret_config_keys

        secret_names = {f"{NAMESPACE}:{k}" for k in secret_config_keys()}
        return [v for k, v in self.config.items() if k in secret_names and v]

    def bad_credentials(self) -> dict[str, str]:
        """Config overrides with every secret replaced by a wrong value of similar shape."""
        from ..config import CONFIG_KEYS

        bad = {}
        for key in CONFIG_KEYS:
            name = f"{NAMESPACE}:{key.name}"
            if key.secret and name in self.config and key.name != "plivoAuthId":
                value = self.config[name]
                bad[name] = ("X" if not value.startswith("X") else "Y") + value[1:]
        return bad

    def ledger(self) -> list[dict[str, Any]]:
        """Events, oldest first."""
        return self.store.ledger()

    def owned_numbers(self) -> set[str]:
        """Numbers the account owns now."""
        return {r.number for r in self.store.owned()}

    def control(self, method: str, action: str, body: Any = None) -> Any:
        """Call the emulator control API (``/_emulator/<action>``)."""
        if self.emulator is None:
            raise RuntimeError("the sandbox has no control API")
        response = httpx.request(method, f"{self.url}/_emulator/{action}", json=body, timeout=10)
        response.raise_for_status()
        return response.json()

    def requests(self) -> list[tuple[str, str, str]]:
        """``(method, path, query)`` of every vendor request the emulator received, oldest first."""
        rows = self.control("GET", "requests")["requests"]
        return [(r["method"], r["path"], r["query"]) for r in rows]

    def faults(self, **body: Any) -> None:
        """``POST /_emulator/faults``."""
        self.control("POST", "faults", body)

    def clear_faults(self) -> None:
        """``DELETE /_emulator/faults``."""
        if self.emulator is not None:
            self.control("DELETE", "faults")

    def foreign_id(self) -> str:
        """A fresh id in this vendor's own shape (Sondos: an integer, Bolna: a UUID) for a
        number bought out-of-band: the emulators list every owned number."""
        if self.vendor == "sondos":
            return str(900_000_000 + next(_FOREIGN))
        if self.vendor == "bolna":
            return str(uuid.uuid4())
        return f"console-{uuid.uuid4().hex[:12]}"

    def buy_out_of_band(self, number: str) -> None:
        """Buy as if someone else on the account did it (the ledger says ``console``)."""
        self.store.buy(number, vendor="console", vendor_id=self.foreign_id())

    def release_out_of_band(self, number: str) -> None:
        """Release as if someone did it in the vendor's console."""
        self.store.release(number, vendor="console")

    def stop(self) -> None:
        """Stop the emulator and close clients."""
        for client in self._clients:
            client.close()
        if self.emulator is not None:
            self.emulator.stop()
