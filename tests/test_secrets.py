"""No credential value ever leaves the provider process except towards the vendor.

Checked places: the serialized provider, check's inputs, create/update/read outputs,
every error message (auth failures, exhausted retries, lost connections), and
everything the provider process writes to stdout and stderr, with DEBUG logging
switched on for every library (httpx logs request URLs, which carry Plivo's auth id).
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pulumi.dynamic import Config, ConfigureRequest
from pulumi.dynamic.dynamic import serialize_provider

from pulumi_phonenumbers.config import CONFIG_KEYS, NAMESPACE
from pulumi_phonenumbers.inputs import query_of
from pulumi_phonenumbers.provider import PhoneNumberProvider
from pulumi_phonenumbers.testing import ProviderError, ProviderProcess
from pulumi_phonenumbers.testing.backends import Backend, emulated_vendors
from pulumi_phonenumbers.vendors import vendor_class

URN = "urn:pulumi:dev::phonenumbers-test::pulumi-python:dynamic/phonenumbers:PhoneNumber::{}"
VENDORS = emulated_vendors()


@pytest.fixture(scope="module")
def debug_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment that turns on DEBUG logging of every library in the provider process."""
    site = tmp_path_factory.mktemp("site")
    (site / "sitecustomize.py").write_text(
        "import logging, sys\nlogging.basicConfig(level=logging.DEBUG, stream=sys.stderr)\n"
    )
    return {"PYTHONPATH": str(site)}


@pytest.fixture(scope="module", params=VENDORS)
def shared_backend(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Backend]:
    b = Backend.start(request.param, tmp_path_factory.mktemp(f"secrets-{request.param}"))
    yield b
    b.stop()


@pytest.fixture
def backend(shared_backend: Backend) -> Backend:
    shared_backend.control("POST", "reset")
    return shared_backend


def _everything(process: ProviderProcess) -> str:
    """Close the process and return all it wrote (stderr, and stdout after the port line)."""
    process.close()
    return process.stderr + process.stdout_rest


def _assert_clean(secrets: list[str], *texts: Any) -> None:
    assert secrets, "the backend has no credentials to look for"
    for text in texts:
        for secret in secrets:
            assert secret not in str(text), f"a credential leaked into: {str(text)[:200]}"


def test_serialized_provider_holds_no_credential(backend: Backend) -> None:
    provider = PhoneNumberProvider()
    provider.configure(ConfigureRequest(Config(dict(backend.config), "phonenumbers-test")))
    try:
        text = serialize_provider(PhoneNumberProvider())
        raw = base64.b64decode(text)
        assert len(raw) < 200
        _assert_clean(backend.secret_values(), raw.decode("latin-1"), text)
    finally:
        PhoneNumberProvider._settings = None
        PhoneNumberProvider._vendors = {}


def test_inputs_outputs_and_logs_of_a_lifecycle_hold_no_credential(
    backend: Backend, debug_env: dict[str, str], serialized_provider: str
) -> None:
    info = vendor_class(backend.vendor).info
    process = ProviderProcess(env=debug_env)
    seen: list[Any] = []
    try:
        process.configure(backend.config)
        checked = process.check(
            URN.format("s"),
            {},
            {
                "__provider": serialized_provider,
                "vendor": backend.vendor,
                "country": "US",
                "area_code": "415",
                "routing": {"voice_target": info.target_examples[0]},
            },
        )
        id_, outs = process.create(URN.format("s"), checked.inputs)
        news = {**checked.inputs, "routing": {"voice_target": info.target_examples[1]}}
        new_outs = process.update(URN.format("s"), id_, outs, news)
        seen += [checked.inputs, outs, new_outs, process.read(URN.format("s"), id_, new_outs)]
        process.delete(URN.format("s"), id_, new_outs)
    finally:
        logs = _everything(process)
    assert "HTTP Request:" in logs  # DEBUG logging really was on
    _assert_clean(backend.secret_values(), logs, *seen)


def test_auth_failures_name_no_credential(
    backend: Backend, debug_env: dict[str, str], serialized_provider: str
) -> None:
    good = dict(backend.config)
    number = backend.client().search(query_of({"country": "US"})).numbers[0].number
    outs = {
        "__provider": serialized_provider,
        "vendor": backend.vendor,
        "number": number,
        "vendor_id": "x",
        "country": "US",
        "routing": {},
        "release_on_delete": True,
    }
    bad = backend.bad_credentials()
    process = ProviderProcess(env=debug_env)
    errors: list[str] = []
    try:
        process.configure({**good, **bad})
        checked = process.check(
            URN.format("a"),
            {},
            {"__provider": serialized_provider, "vendor": backend.vendor, "country": "US"},
        )
        calls: list[Callable[[], object]] = [
            lambda: process.create(URN.format("a"), checked.inputs),
            lambda: process.read(URN.format("a"), number, outs),
            lambda: process.delete(URN.format("a"), number, outs),
        ]
        for call in calls:
            with pytest.raises(ProviderError) as info:
                call()
            errors.append(info.value.detail)
            assert "AuthError" in info.value.last_line and "credentials" in info.value.last_line
    finally:
        logs = _everything(process)
    _assert_clean([*backend.secret_values(), *bad.values()], logs, *errors)


def test_exhausted_retries_and_lost_connections_name_no_credential(
    backend: Backend, debug_env: dict[str, str], serialized_provider: str
) -> None:
    process = ProviderProcess(env=debug_env)
    errors: list[str] = []
    try:
        process.configure({**backend.config, f"{NAMESPACE}:timeoutSeconds": "0.5"})
        checked = process.check(
            URN.format("r"),
            {},
            {"__provider": serialized_provider, "vendor": backend.vendor, "country": "US"},
        )
        for rule in ({"status": 503}, {"reset": True}, {"status": 429, "retry_after": 0}):
            backend.clear_faults()
            backend.faults(rules=[{"path": ".", **rule}])
            with pytest.raises(ProviderError) as info:
                process.create(URN.format("r"), checked.inputs)
            errors.append(info.value.detail)
        backend.clear_faults()
    finally:
        logs = _everything(process)
    assert "retrying in" in logs  # the retry log lines were written, and are clean
    _assert_clean(backend.secret_values(), logs, *errors)
    assert backend.owned_numbers() == set()


def test_every_secret_config_key_is_redacted_by_settings() -> None:
    from pulumi_phonenumbers.config import Settings

    raw = {k.name: f"value-of-{k.name}-123" for k in CONFIG_KEYS if k.secret}
    settings = Settings(raw=raw, environ={})
    assert set(settings.secrets()) == set(raw.values())


@pytest.mark.parametrize("bad", ["tökén-ü", "tab\there", "line\nbreak", "zero\u200bwidth"])
def test_a_credential_no_request_can_carry_is_a_config_error(
    backend: Backend, serialized_provider: str, bad: str
) -> None:  # the backend fixture above: every emulated vendor
    """A pasted credential with a non-ASCII or control character is a ConfigError naming the
    key (never a UnicodeEncodeError 'bug', never the value), and nothing is bought."""
    secrets = {f"{NAMESPACE}:{k.name}" for k in CONFIG_KEYS if k.secret}
    secret_key = next(k for k in backend.config if k in secrets)
    value = backend.config[secret_key][:6] + bad
    urn = URN.format("pasted")
    with ProviderProcess() as process:
        process.configure({**backend.config, secret_key: value})
        inputs = process.check(urn, {}, {"__provider": serialized_provider, "area_code": "415"})
        with pytest.raises(ProviderError) as caught:
            process.create(urn, inputs.inputs)
        text = str(caught.value) + process.stderr
    assert secret_key in text and "not printable ASCII" in text
    assert value not in text and bad not in text and "This is a bug" not in text
    assert not [e for e in backend.ledger() if e["op"] == "buy"]
