"""The vendor registry: one declarative :class:`VendorEntry` per vendor.

An entry says, without importing the vendor's module, everything the rest of the package
needs to know about a vendor besides its behaviour: its stack-config keys (secret or not,
environment fallback, default, meaning), which of them are credentials, where its client
class and its emulator face live (``"module:Class"``, imported lazily), and the phrases its
documentation row contributes to ``schema.json``. ``config.py`` (:data:`CONFIG_KEYS`), the
vendor and emulator registries, ``schema.py``, the failure advice and the README test read
it; the vendor's behavioural facts (countries, routing fields...) stay in its
:class:`~pulumi_phonenumbers.vendors.base.VendorInfo`.

Adding a vendor = one entry in :data:`BUILTIN`. A program or a test can add one at run time
with :func:`register` (and take it away with :func:`unregister`).

This module imports nothing from the package: it is on the provider's start-up path.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = [
    "BUILTIN",
    "DOC_FIELDS",
    "ConfigKey",
    "VendorEntry",
    "entries",
    "entry",
    "generation",
    "register",
    "unregister",
]


@dataclass(frozen=True)
class ConfigKey:
    """One stack-config key: its environment fallback, whether it is secret, and its meaning."""

    name: str
    description: str
    env: str | None = None
    secret: bool = False
    default: str | None = None


#: What a vendor's ``docs`` phrases describe: its routing fields' vendor-side meaning and its
#: ``vendor_options`` (``schema.json`` joins every vendor's phrase into one description).
DOC_FIELDS = ("voice_target", "sms_target", "label", "inbound", "outbound", "vendor_options")


@dataclass(frozen=True, eq=False)
class VendorEntry:
    """Everything but the behaviour of one vendor (its ``VendorInfo`` has that)."""

    #: The ``vendor`` input value.
    name: str
    #: Display name in prose (``Sondos AI``).
    title: str
    #: ``"module:Class"`` of its :class:`~pulumi_phonenumbers.vendors.base.Vendor`.
    client: str
    #: ``"module:Class"`` of its emulator face (``None``: not emulated, like the sandbox).
    face: str | None = None
    #: Its stack-config keys, in documentation order.
    config: tuple[ConfigKey, ...] = ()
    #: The config keys to check when the vendor rejects the credentials.
    credentials: tuple[str, ...] = ()
    #: Docs row: ``{field of DOC_FIELDS: phrase}`` (``"Plivo alias"`` for ``label``).
    docs: Mapping[str, str] = field(default_factory=dict)
    #: The config key of the vendor's API root (default ``<name>BaseUrl``).
    base_url: str = ""

    def __post_init__(self) -> None:
        names = {key.name for key in self.config}
        if len(names) != len(self.config):
            raise ValueError(f"{self.name}: a config key is declared twice")
        unknown = set(self.credentials) - names
        if unknown:
            raise ValueError(f"{self.name}: credentials {sorted(unknown)} are not its config keys")
        if set(self.docs) - set(DOC_FIELDS):
            raise ValueError(f"{self.name}: docs fields must be among {DOC_FIELDS}")
        for path in (self.client, self.face):
            if path is not None and path.count(":") != 1:
                raise ValueError(f"{self.name}: {path!r} is not 'module:Class'")

    @property
    def base_url_key(self) -> str:
        """The config key of the vendor's API root."""
        return self.base_url or f"{self.name}BaseUrl"


def _env(name: str) -> str:
    """``plivoAuthId`` -> ``PLIVO_AUTH_ID``: a vendor key's environment fallback."""
    return "".join(f"_{c}" if c.isupper() else c.upper() for c in name)


def _key(
    name: str, description: str, *, secret: bool = False, default: str | None = None
) -> ConfigKey:
    """A vendor's key, its environment fallback its name in upper snake case."""
    return ConfigKey(name, description, _env(name), secret=secret, default=default)


def _secret(name: str, description: str) -> ConfigKey:
    """A secret vendor key (a credential)."""
    return _key(name, description, secret=True)


def _api_key(vendor: str, title: str) -> ConfigKey:
    """``<vendor>ApiKey``: the vendor's secret API key."""
    return _secret(f"{vendor}ApiKey", f"{title} API key.")


def _base_url(vendor: str, description: str, default: str) -> ConfigKey:
    """``<vendor>BaseUrl``: the vendor's API root (the emulator's URL in tests)."""
    return _key(f"{vendor}BaseUrl", description, default=default)


def rate_key(vendor: str, default: int, why: str) -> ConfigKey:
    """``<vendor>RequestsPerSecond``: the pace of one provider process (``_pace``)."""
    return _key(
        f"{vendor}RequestsPerSecond",
        f"Requests per second one provider process sends to this vendor, shared by all its "
        f"resources (`0`: no pacing). {why}.",
        default=str(default),
    )


_V = "pulumi_phonenumbers.vendors."
_E = "pulumi_phonenumbers.emulators."

#: The vendors that ship with the package, in documentation order.
BUILTIN: tuple[VendorEntry, ...] = (
    VendorEntry(
        "sandbox",
        "Sandbox",
        _V + "sandbox:SandboxVendor",
        config=(
            ConfigKey(
                "sandboxPath",
                "SQLite file of the embedded sandbox vendor.",
                "PHONENUMBERS_SANDBOX_PATH",
                default="~/.local/share/pulumi-phonenumbers/sandbox.db",
            ),
        ),
    ),
    VendorEntry(
        "plivo",
        "Plivo",
        _V + "plivo:PlivoVendor",
        _E + "plivo:PlivoFace",
        config=(
            _secret("plivoAuthId", "Plivo auth id (MA... / SA...)."),
            _secret("plivoAuthToken", "Plivo auth token."),
            _base_url("plivo", "Plivo API root (emulator URL in tests).", "https://api.plivo.com"),
            rate_key("plivo", 60, "Plivo documents 300 requests per 5 s per account"),
        ),
        credentials=("plivoAuthId", "plivoAuthToken"),
        docs={
            "voice_target": "Plivo app id",
            "label": "Plivo alias",
            "vendor_options": "Plivo cnam_lookup, subaccount, compliance_application_id",
        },
    ),
    VendorEntry(
        "sinch",
        "Sinch",
        _V + "sinch:SinchVendor",
        _E + "sinch:SinchFace",
        config=(
            _key("sinchProjectId", "Sinch project id."),
            _secret("sinchKeyId", "Sinch access key id."),
            _secret("sinchKeySecret", "Sinch access key secret."),
            _key(
                "sinchAuthMode",
                "Sinch auth: `oauth` (client credentials) or `basic`.",
                default="oauth",
            ),
            _base_url("sinch", "Sinch Numbers API root.", "https://numbers.api.sinch.com"),
            rate_key("sinch", 10, "Sinch documents no limit for Numbers: a conservative default"),
            _key(
                "sinchAuthBaseUrl",
                "Sinch OAuth2 root (token at /oauth2/token).",
                default="https://auth.sinch.com",
            ),
        ),
        credentials=("sinchKeyId", "sinchKeySecret"),
        docs={
            "voice_target": "Sinch Voice app id (UUID)",
            "sms_target": "Sinch SMS service plan id",
            "label": "Sinch displayName",
        },
    ),
    VendorEntry(
        "krosai",
        "KrosAI",
        _V + "krosai:KrosAIVendor",
        _E + "krosai:KrosAIFace",
        config=(
            _api_key("krosai", "KrosAI"),
            _base_url(
                "krosai",
                "KrosAI API root (the bridge dialect's default is https://api.krosai.com/api/v1).",
                "https://api.krosai.com/v1",
            ),
            rate_key("krosai", 10, "KrosAI's Free plan allows 10/s (Pro 50, Business 200)"),
            _key(
                "krosaiDialect",
                "Which of KrosAI's documented dialects to speak: guide, openapi or bridge.",
                default="guide",
            ),
            _key(
                "krosaiOrganizationId",
                "KrosAI organization id (sent as organization_id; required by the bridge dialect).",
            ),
        ),
        credentials=("krosaiApiKey",),
        docs={
            "voice_target": "KrosAI endpoint id",
            "inbound": "KrosAI allow_inbound",
            "outbound": "KrosAI allow_outbound",
        },
    ),
    VendorEntry(
        "bolna",
        "Bolna",
        _V + "bolna:BolnaVendor",
        _E + "bolna:BolnaFace",
        config=(
            _api_key("bolna", "Bolna"),
            _base_url("bolna", "Bolna API root.", "https://api.bolna.ai"),
            rate_key("bolna", 16, "Bolna documents 1,000 requests per minute"),
        ),
        credentials=("bolnaApiKey",),
        docs={"voice_target": "Bolna agent id (UUID)", "vendor_options": "Bolna provider, region"},
    ),
    VendorEntry(
        "sondos",
        "Sondos AI",
        _V + "sondos:SondosVendor",
        _E + "sondos:SondosFace",
        config=(
            _api_key("sondos", "Sondos AI"),
            _base_url("sondos", "Sondos AI API root.", "https://app.sondos-ai.com/api"),
            rate_key("sondos", 10, "Sondos AI documents no limit: a conservative default"),
        ),
        credentials=("sondosApiKey",),
        docs={"voice_target": "Sondos assistant id (integer)"},
    ),
)

_lock = threading.Lock()
_entries: dict[str, VendorEntry] = {e.name: e for e in BUILTIN}
_generation = 0


def entries() -> tuple[VendorEntry, ...]:
    """Every registered vendor, built-in ones first, in documentation order."""
    return tuple(_entries.values())


def entry(name: str) -> VendorEntry:
    """The entry registered under ``name`` (KeyError if none)."""
    return _entries[name]


def generation() -> int:
    """A number that changes whenever the registry does (for caches derived from it)."""
    return _generation


def register(new: VendorEntry) -> VendorEntry:
    """Add a vendor (ValueError when its name or one of its config keys is taken)."""
    from .config import GENERAL_KEYS  # config imports this module: not at the top

    global _entries, _generation
    with _lock:
        if new.name in _entries:
            raise ValueError(f"vendor {new.name!r} is already registered")
        taken = {key.name for e in _entries.values() for key in e.config}
        taken |= {key.name for key in GENERAL_KEYS}
        clash = taken & {key.name for key in new.config}
        if clash:
            raise ValueError(f"{new.name}: config keys {sorted(clash)} are taken")
        _entries = {**_entries, new.name: new}  # copy on write: readers take no lock
        _generation += 1
    return new


def unregister(name: str) -> None:
    """Remove a vendor added with :func:`register` (built-in vendors stay; KeyError if absent)."""
    global _entries, _generation
    with _lock:
        if any(e.name == name for e in BUILTIN):
            raise ValueError(f"vendor {name!r} is built in")
        if name not in _entries:
            raise KeyError(name)
        _entries = {k: v for k, v in _entries.items() if k != name}
        _generation += 1
