"""Settings: stack config ``phonenumbers:<key>`` first, then environment variables.

The provider builds one :class:`Settings` in ``configure()``; nothing here is pickled.
:data:`CONFIG_KEYS` is the single table of every key (README and ``schema.json`` are
generated from, or checked against, it).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ConfigError

__all__ = ["CONFIG_KEYS", "NAMESPACE", "ConfigKey", "Settings", "default_sandbox_path"]

NAMESPACE = "phonenumbers"


@dataclass(frozen=True)
class ConfigKey:
    """One stack-config key: its environment fallback, whether it is secret, and its meaning."""

    name: str
    description: str
    env: str | None = None
    secret: bool = False
    default: str | None = None


CONFIG_KEYS: tuple[ConfigKey, ...] = (
    ConfigKey(
        "vendor", "Vendor used when a resource sets none.", "PHONENUMBERS_VENDOR", default="sandbox"
    ),
    ConfigKey(
        "sandboxPath",
        "SQLite file of the embedded sandbox vendor.",
        "PHONENUMBERS_SANDBOX_PATH",
        default="~/.local/share/pulumi-phonenumbers/sandbox.db",
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
    ConfigKey("plivoAuthId", "Plivo auth id (MA... / SA...).", "PLIVO_AUTH_ID", secret=True),
    ConfigKey("plivoAuthToken", "Plivo auth token.", "PLIVO_AUTH_TOKEN", secret=True),
    ConfigKey(
        "plivoBaseUrl",
        "Plivo API root (emulator URL in tests).",
        "PLIVO_BASE_URL",
        default="https://api.plivo.com",
    ),
    ConfigKey("sinchProjectId", "Sinch project id.", "SINCH_PROJECT_ID"),
    ConfigKey("sinchKeyId", "Sinch access key id.", "SINCH_KEY_ID", secret=True),
    ConfigKey("sinchKeySecret", "Sinch access key secret.", "SINCH_KEY_SECRET", secret=True),
    ConfigKey(
        "sinchAuthMode",
        "Sinch auth: `oauth` (client credentials) or `basic`.",
        "SINCH_AUTH_MODE",
        default="oauth",
    ),
    ConfigKey(
        "sinchBaseUrl",
        "Sinch Numbers API root.",
        "SINCH_BASE_URL",
        default="https://numbers.api.sinch.com",
    ),
    ConfigKey(
        "sinchAuthBaseUrl",
        "Sinch OAuth2 root (token at /oauth2/token).",
        "SINCH_AUTH_BASE_URL",
        default="https://auth.sinch.com",
    ),
    ConfigKey("krosaiApiKey", "KrosAI API key.", "KROSAI_API_KEY", secret=True),
    ConfigKey(
        "krosaiBaseUrl",
        "KrosAI API root (the bridge dialect's default is https://api.krosai.com/api/v1).",
        "KROSAI_BASE_URL",
        default="https://api.krosai.com/v1",
    ),
    ConfigKey(
        "krosaiDialect",
        "Which of KrosAI's documented dialects to speak: guide, openapi or bridge.",
        "KROSAI_DIALECT",
        default="guide",
    ),
    ConfigKey(
        "krosaiOrganizationId",
        "KrosAI organization id (sent as organization_id; required by the bridge dialect).",
        "KROSAI_ORGANIZATION_ID",
    ),
    ConfigKey("bolnaApiKey", "Bolna API key.", "BOLNA_API_KEY", secret=True),
    ConfigKey("bolnaBaseUrl", "Bolna API root.", "BOLNA_BASE_URL", default="https://api.bolna.ai"),
    ConfigKey("sondosApiKey", "Sondos AI API key.", "SONDOS_API_KEY", secret=True),
    ConfigKey(
        "sondosBaseUrl",
        "Sondos AI API root.",
        "SONDOS_BASE_URL",
        default="https://app.sondos-ai.com/api",
    ),
)

_BY_NAME = {key.name: key for key in CONFIG_KEYS}


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
        key = _BY_NAME[name]
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
            key = _BY_NAME[name]
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
        values = {self.get(k.name) for k in CONFIG_KEYS if k.secret}
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
