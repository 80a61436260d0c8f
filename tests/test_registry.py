"""One registry entry per vendor: a sixth vendor registered in-process is picked up everywhere.

``Acme`` below is the whole of a new vendor as the README's "Adding a vendor" lists it: a
client class, an emulator face, and one :class:`VendorEntry`. Registering the entry (no
other edit) gives it config keys with environment fallbacks, ``schema.json`` config and
docs, credential advice and redaction in failures, and an emulator the test talks to over
real HTTP.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest
from werkzeug.wrappers import Request, Response

from pulumi_phonenumbers import registry
from pulumi_phonenumbers.__main__ import main
from pulumi_phonenumbers._failures import clean_error
from pulumi_phonenumbers.config import (
    CONFIG_KEYS,
    NAMESPACE,
    ConfigKey,
    Settings,
    config_key,
    secret_config_keys,
)
from pulumi_phonenumbers.emulators.base import Face, Handler, json_response
from pulumi_phonenumbers.emulators.server import EMULATORS, face_class, start
from pulumi_phonenumbers.errors import AuthError, ConfigError, UnparsableAnswer
from pulumi_phonenumbers.models import (
    AvailableNumber,
    NumberQuery,
    OwnedNumber,
    Routing,
    SearchPage,
)
from pulumi_phonenumbers.registry import VendorEntry
from pulumi_phonenumbers.schema import build_schema, render_schema
from pulumi_phonenumbers.testing.backends import Backend, emulated_vendors
from pulumi_phonenumbers.vendors import REGISTRY, Vendor, VendorInfo, get_vendor, vendor_infos

pytestmark = pytest.mark.contract

ROOT = Path(__file__).resolve().parent.parent
API_KEY = "acme-key-7f3a9c"


class AcmeFace(Face):
    """The emulator face: one search endpoint behind a bearer key."""

    vendor = "acme"
    purchase_path = r"/v1/numbers/buy$"
    search_path = r"/v1/numbers\?"

    def routes(self) -> list[tuple[str, str, Handler]]:
        return [("GET", r"/v1/numbers", self.search)]

    def authenticate(self, request: Request, groups: Mapping[str, str]) -> Response | None:
        if request.headers.get("Authorization") != f"Bearer {API_KEY}":
            return self.error(401, "bad key")
        return None

    def error(self, status: int, message: str, code: str = "") -> Response:
        return json_response({"error": message}, status)

    def config(self, url: str) -> dict[str, str]:
        return {f"{NAMESPACE}:acmeBaseUrl": url, f"{NAMESPACE}:acmeApiKey": API_KEY}

    def search(self, request: Request) -> Response:
        items, _ = self.store.search(country=request.args.get("country", "US"), limit=3)
        return json_response({"numbers": [item.number for item in items]})


class AcmeVendor(Vendor):
    """The client: search only (enough to prove the wiring; a real one has all six verbs)."""

    name = "acme"
    info = VendorInfo(
        countries=frozenset({"US"}),
        number_types=frozenset({"local"}),
        routing_fields=frozenset({"voice_target"}),
    )

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self._base = settings.require("acmeBaseUrl", "acme")
        self._key = settings.require("acmeApiKey", "acme")

    def search(self, query: NumberQuery, cursor: str | None = None) -> SearchPage:
        answer = httpx.get(
            f"{self._base}/v1/numbers",
            params={"country": query.country},
            headers={"Authorization": f"Bearer {self._key}"},
            timeout=10,
        )
        if answer.status_code == 401:
            raise AuthError(f"acme: key {self._key} rejected", vendor="acme", status=401)
        numbers = answer.json()["numbers"]
        return SearchPage(
            numbers=tuple(
                AvailableNumber(number=n, country=query.country, number_type="local")
                for n in numbers
            )
        )

    def buy(
        self, candidate: AvailableNumber, routing: Routing, options: Mapping[str, Any]
    ) -> OwnedNumber:
        raise NotImplementedError

    def get(self, number: str, vendor_id: str | None = None) -> OwnedNumber | None:
        raise NotImplementedError

    def list_owned(self) -> Iterator[OwnedNumber]:
        raise NotImplementedError

    def update_routing(self, owned: OwnedNumber, old: Routing, new: Routing) -> OwnedNumber:
        raise NotImplementedError

    def release(self, number: str, vendor_id: str) -> None:
        raise NotImplementedError


ACME = VendorEntry(
    "acme",
    "Acme Tel",
    f"{__name__}:AcmeVendor",
    f"{__name__}:AcmeFace",
    config=(
        ConfigKey("acmeApiKey", "Acme API key.", "ACME_API_KEY", secret=True),
        ConfigKey("acmeBaseUrl", "Acme API root.", "ACME_BASE_URL", default="https://acme.test"),
    ),
    credentials=("acmeApiKey",),
    docs={"voice_target": "Acme trunk id", "vendor_options": "Acme region"},
)


@pytest.fixture
def acme() -> Iterator[VendorEntry]:
    registry.register(ACME)
    try:
        yield ACME
    finally:
        registry.unregister("acme")


def test_config_keys_come_from_the_entry(acme: VendorEntry) -> None:
    assert [k for k in CONFIG_KEYS if k.name.startswith("acme")] == list(acme.config)
    assert config_key("acmeApiKey").secret
    assert secret_config_keys()[-1] == "acmeApiKey"
    from_env = Settings(raw={}, environ={"ACME_API_KEY": API_KEY})
    assert from_env.get("acmeApiKey") == API_KEY
    assert from_env.get("acmeBaseUrl") == "https://acme.test"
    assert API_KEY in from_env.secrets()
    with pytest.raises(ConfigError, match=r"--secret phonenumbers:acmeApiKey .*ACME_API_KEY"):
        Settings(raw={}, environ={}).require("acmeApiKey", "acme")


def test_schema_config_and_docs_come_from_the_entry(acme: VendorEntry) -> None:
    schema = build_schema()
    assert schema["config"]["variables"]["acmeApiKey"] == {
        "type": "string",
        "description": "Acme API key. Environment fallback: `ACME_API_KEY`.",
        "secret": True,
    }
    assert schema["config"]["variables"]["acmeBaseUrl"]["default"] == "https://acme.test"
    assert "and Acme Tel." in schema["description"]
    inputs = schema["resources"]["phonenumbers:index:PhoneNumber"]["inputProperties"]
    assert "acme, bolna" in inputs["vendor"]["description"]
    assert inputs["vendor_options"]["description"].endswith("; Acme region).")
    routing = schema["types"]["phonenumbers:index:Routing"]["properties"]
    assert routing["voice_target"]["description"].endswith(
        "Sondos assistant id (integer) or Acme trunk id."
    )


def test_the_command_line_knows_its_config_keys(acme: VendorEntry) -> None:
    """``--config`` names the key of a vendor registered after the CLI module was imported."""
    out, err = io.StringIO(), io.StringIO()
    assert main(["search", "--vendor", "acme", "--config", "acmeApiKey"], out=out, err=err) == 2
    assert "expected acmeApiKey=VALUE" in err.getvalue()


def test_failures_name_its_credentials_and_redact_them(acme: VendorEntry) -> None:
    settings = Settings(raw={"acmeApiKey": API_KEY}, environ={})
    exc = AuthError(f"acme: key {API_KEY} rejected", vendor="acme", status=401)
    message = str(clean_error("read", ["+14155550100"], exc, settings))
    assert "check phonenumbers:acmeApiKey " in message
    assert API_KEY not in message
    unparsable = UnparsableAnswer("acme: not JSON", vendor="acme")
    assert "check phonenumbers:acmeBaseUrl and" in str(
        clean_error("read", ["+14155550100"], unparsable, settings)
    )


def test_emulator_and_client_are_found_by_name(acme: VendorEntry, tmp_path: Path) -> None:
    assert "acme" in REGISTRY and "acme" in EMULATORS and "acme" in emulated_vendors()
    assert face_class("acme") is AcmeFace
    assert vendor_infos()["acme"] is AcmeVendor.info
    backend = Backend.start("acme", tmp_path)
    try:
        assert backend.secret_values() == [API_KEY]
        client = get_vendor("acme", backend.settings())
        page = client.search(NumberQuery(country="US"))
        assert len(page.numbers) == 3
        assert backend.requests() == [("GET", "/v1/numbers", "country=US")]
        with pytest.raises(AuthError):
            get_vendor("acme", backend.settings(backend.bad_credentials())).search(
                NumberQuery(country="US")
            )
    finally:
        backend.stop()


def test_unregistering_restores_everything(tmp_path: Path) -> None:
    before = render_schema()
    registry.register(ACME)
    try:
        assert render_schema() != before
    finally:
        registry.unregister("acme")
    assert render_schema() == before == (ROOT / "schema.json").read_text()
    assert "acme" not in EMULATORS and "acme" not in REGISTRY
    assert not any(k.name.startswith("acme") for k in CONFIG_KEYS)
    assert "acmeApiKey" not in secret_config_keys()
    with pytest.raises(KeyError):
        start("acme", 0, tmp_path / "acme.db")


@pytest.mark.parametrize("vendor", [e.name for e in registry.entries() if e.face])
def test_every_face_says_what_the_shared_suites_tamper_with(vendor: str) -> None:
    """The purchase and search requests the adversarial suites find by path regex."""
    face = face_class(vendor)
    assert face.vendor == vendor
    assert face.purchase_path and face.search_path
    assert face.purchase_time in ("second", "day", "")


def test_the_registry_refuses_clashes() -> None:
    with pytest.raises(ValueError, match="already registered"):
        registry.register(registry.entry("plivo"))
    clash = VendorEntry("acme", "Acme", "m:C", config=(ConfigKey("plivoAuthId", "x"),))
    with pytest.raises(ValueError, match="plivoAuthId"):
        registry.register(clash)
    general = VendorEntry("acme", "Acme", "m:C", config=(ConfigKey("timeoutSeconds", "x"),))
    with pytest.raises(ValueError, match="timeoutSeconds"):
        registry.register(general)
    with pytest.raises(KeyError):
        registry.unregister("acme")
    with pytest.raises(ValueError, match="built in"):
        registry.unregister("plivo")
    with pytest.raises(ValueError, match="not its config keys"):
        VendorEntry("acme", "Acme", "m:C", credentials=("acmeToken",))


def test_reading_the_registry_imports_no_vendor_module() -> None:
    """Provider start-up stays cheap: config keys, names and schema need no vendor module."""
    code = (
        "import json, sys\n"
        "from pulumi_phonenumbers.config import CONFIG_KEYS, Settings\n"
        "from pulumi_phonenumbers.vendors import REGISTRY\n"
        "from pulumi_phonenumbers.schema import render_schema\n"
        "Settings(raw={}, environ={}).secrets(); sorted(REGISTRY); render_schema()\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith("
        "('pulumi_phonenumbers.vendors.', 'pulumi_phonenumbers.emulators')))))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert json.loads(out.stdout) == ["pulumi_phonenumbers.vendors.base"]
