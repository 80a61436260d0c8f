"""Settings: stack config ``phonenumbers:<key>`` first, then environment variables.

The provider builds one :class:`Settings` in ``configure()``; nothing here is pickled.
:data:`CONFIG_KEYS` is every key: :data:`GENERAL_KEYS` and each vendor's own, declared in
its entry of :mod:`~pulumi_phonenumbers.registry` (README and ``schema.json`` are generated
from, or checked against, it).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import overload

from . import registry
from .errors import ConfigError
from .registry import ConfigKey

__all__ = [
    "CONFIG_KEYS",
    "DEFAULT_REQUESTS_PER_SECOND",
    "GENERAL_KEYS",
    "NAMESPACE",
    "ConfigKey",
    "Settings",
    "config_key",
    "default_sandbox_path",
    "secret_config_keys",
]

NAMESPACE = "phonenumbers"
#: Requests per second to a vendor that documents no limit and declares no rate key.
DEFAULT_REQUESTS_PER_SECOND = 10.0


#: The keys that belong to no vendor; each vendor's own keys are in its registry entry.
GENERAL_KEYS: tuple[ConfigKey, ...] = (
    ConfigKey(
        "vendor", "Vendor used when a resource sets none.", "PHONENUMBERS_VENDOR", default="sandbox"
    ),
    ConfigKey(
        "timeoutSeconds",
        "Per-request timeout in seconds (HTTP; the sandbox's wait for its file lock).",
        "PHONENUMBERS_TIMEOUT_SECONDS",
        default="15",
    ),
    ConfigKey(
        "previewInventory",
        "`true`: `pulumi preview` searches the vendor for numbers about to be created and fails "
        "when none can be had (searches only; off by default).",
        "PHONENUMBERS_PREVIEW_INVENTORY",
        default="false",
    ),
    ConfigKey(
        "searchPageSeconds",
        "Seconds a search page is shared by creates with the same criteria before it is "
        "searched again (`0`: every create searches).",
        "PHONENUMBERS_SEARCH_PAGE_SECONDS",
        default="30",
    ),
)


_cache: tuple[int, tuple[ConfigKey, ...], dict[str, ConfigKey]] = (-1, (), {})


def _current() -> tuple[tuple[ConfigKey, ...], dict[str, ConfigKey]]:
    """Every key and the keys by name, rebuilt only when the registry has changed."""
    global _cache
    generation, keys, by_name = _cache
    if generation != registry.generation():
        generation = registry.generation()
        keys = GENERAL_KEYS + tuple(k for e in registry.entries() for k in e.config)
        by_name = {key.name: key for key in keys}
        if len(by_name) != len(keys):
            raise ValueError("a vendor's config key repeats a general key")
        _cache = (generation, keys, by_name)
    return keys, by_name


class _ConfigKeys(Sequence[ConfigKey]):
    """:data:`GENERAL_KEYS`, then every registered vendor's keys: a live view of the registry."""

    @overload
    def __getitem__(self, index: int) -> ConfigKey: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[ConfigKey]: ...
    def __getitem__(self, index: int | slice) -> ConfigKey | Sequence[ConfigKey]:
        return _current()[0][index]

    def __len__(self) -> int:
        return len(_current()[0])

    def __iter__(self) -> Iterator[ConfigKey]:
        return iter(_current()[0])

    def __repr__(self) -> str:
        return f"CONFIG_KEYS{_current()[0]!r}"


#: Every key, read at use: a vendor added with ``registry.register`` is in it.
CONFIG_KEYS: Sequence[ConfigKey] = _ConfigKeys()


def secret_config_keys() -> tuple[str, ...]:
    """The names of the secret keys (credentials) of :data:`CONFIG_KEYS`, in its order."""
    return tuple(key.name for key in CONFIG_KEYS if key.secret)


def config_key(name: str) -> ConfigKey:
    """The key called ``name`` (KeyError when no general key or vendor declares it)."""
    return _current()[1][name]


def default_sandbox_path() -> Path:
    """Per-user default of ``phonenumbers:sandboxPath``."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(
        os.path.expanduser("~"), ".local", "share"
    )
    return Path(base) / "pulumi-phonenumbers" / "sandbox.db"


@dataclass(frozen=True)
class Settings:
    """Resolved configuration. ``raw`` holds stack config with or without the namespace."""

    raw: Mapping[str, str] = field(default_factory=dict)
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))

    @classmethod
    def from_stack_config(cls, config: Mapping[str, object]) -> Settings:
        """Build from the ``configure()`` request: keys like ``phonenumbers:plivoAuthId``."""
        raw: dict[str, str] = {}
        prefix = NAMESPACE + ":"
        for key, value in config.items():
            if isinstance(key, str) and key.startswith(prefix) and value is not None:
                raw[key[len(prefix) :]] = value if isinstance(value, str) else str(value)
        return cls(raw=raw)

    def get(self, name: str) -> str | None:
        """Stack config, else the environment variable, else the key's default."""
        key = config_key(name)
        value = self.raw.get(name)
        if value in (None, "") and key.env:
            value = self.environ.get(key.env)
        if value in (None, ""):
            value = key.default
        return value

    def require(self, name: str, vendor: str) -> str:
        """Like :meth:`get`, but a missing value is a :class:`ConfigError` saying how to set it."""
        value = self.get(name)
        if not value:
            key = config_key(name)
            how = f"pulumi config set {'--secret ' if key.secret else ''}{NAMESPACE}:{name} ..."
            env = f" or export {key.env}" if key.env else ""
            raise ConfigError(f"{vendor}: missing setting {NAMESPACE}:{name}; run `{how}`{env}")
        # Credentials and ids travel in HTTP headers and URL paths: printable ASCII only. The
        # value is never shown (it may be a credential pasted with a stray character).
        if not (value.isascii() and value.isprintable()):
            raise ConfigError(
                f"{vendor}: {NAMESPACE}:{name} holds a character it cannot hold (not printable "
                "ASCII; the value is not shown): check how it was copied"
            )
        return value

    def secrets(self) -> tuple[str, ...]:
        """Every secret value in force, for redaction (longest first)."""
        values = {self.get(name) for name in secret_config_keys()}
        return tuple(sorted((v for v in values if v), key=len, reverse=True))

    @property
    def timeout(self) -> float:
        """``timeoutSeconds`` as a float (ConfigError when not a positive number)."""
        text = self.get("timeoutSeconds") or "15"
        try:
            value = float(text)
        except ValueError:
            raise ConfigError(
                f"{NAMESPACE}:timeoutSeconds must be a number, got {text!r}"
            ) from None
        if not 0 < value <= 600:
            raise ConfigError(f"{NAMESPACE}:timeoutSeconds must be in (0, 600], got {text!r}")
        return value

    def _number(self, name: str, low: float, high: float, what: str) -> float:
        """Key ``name`` as a float in [low, high] (ConfigError naming the key otherwise)."""
        text = self.get(name) or ""
        try:
            value = float(text)
        except ValueError:
            value = low - 1
        if not low <= value <= high:
            raise ConfigError(f"{NAMESPACE}:{name} must be {what}, got {text!r}")
        return value

    @property
    def search_page_seconds(self) -> float:
        """``searchPageSeconds`` as a float (ConfigError unless a number in [0, 3600])."""
        return self._number("searchPageSeconds", 0, 3600, "a number of seconds in [0, 3600]")

    def requests_per_second(self, vendor: str) -> float:
        """``<vendor>RequestsPerSecond`` as a float (ConfigError unless a number >= 0);
        :data:`DEFAULT_REQUESTS_PER_SECOND` for a vendor that declares no such key."""
        name = f"{vendor}RequestsPerSecond"
        try:
            config_key(name)
        except KeyError:
            return DEFAULT_REQUESTS_PER_SECOND
        return self._number(name, 0, 100_000, "a number of requests per second (0 for no pacing)")

    @property
    def preview_inventory(self) -> bool:
        """``previewInventory`` as a bool (ConfigError unless true/false)."""
        text = (self.get("previewInventory") or "false").strip().lower()
        if text not in ("true", "false"):
            raise ConfigError(f"{NAMESPACE}:previewInventory must be true or false, got {text!r}")
        return text == "true"

    def sandbox_path(self) -> Path:
        """Resolved SQLite path of the sandbox vendor."""
        text = self.raw.get("sandboxPath") or self.environ.get("PHONENUMBERS_SANDBOX_PATH")
        if not text:
            return default_sandbox_path()
        try:
            return Path(text).expanduser()
        except RuntimeError:  # ``~nosuchuser/...``, or ``~`` with no home directory
            user = text[1:].split("/", 1)[0]
            who = f"there is no user {user!r}" if user else "this user has no home directory"
            raise ConfigError(
                f"sandbox: cannot resolve {NAMESPACE}:sandboxPath {text!r}: {who}; "
                f"set {NAMESPACE}:sandboxPath (or PHONENUMBERS_SANDBOX_PATH) to a usable path"
            ) from None
