"""The native plugin ``pulumi-resource-phonenumbers`` over its own gRPC protocol.

The console script is started as the engine starts a plugin (it prints its port), then
driven with the engine's calls and the type URN ``phonenumbers:index:PhoneNumber``: no
pickled provider anywhere, the vendor behind its emulator on 127.0.0.1.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import empty_pb2
from pulumi.output import Unknown
from pulumi.runtime import proto, rpc

from pulumi_phonenumbers.inputs import UNKNOWN
from pulumi_phonenumbers.testing import ProviderError, ProviderProcess
from pulumi_phonenumbers.testing._counting import RequestCounter
from pulumi_phonenumbers.testing._grpc import checked, create_at_once, update_in_place
from pulumi_phonenumbers.testing.backends import Backend
from pulumi_phonenumbers.vendors import vendor_class

pytestmark = pytest.mark.grpc

ROOT = Path(__file__).resolve().parent.parent
URN = "urn:pulumi:dev::phonenumbers-test::phonenumbers:index:PhoneNumber::{}"


def plugin_command() -> list[str]:
    """The installed console script (next to this interpreter, else on PATH)."""
    beside = Path(sys.executable).parent / "pulumi-resource-phonenumbers"
    found = str(beside) if beside.exists() else shutil.which("pulumi-resource-phonenumbers")
    assert found, "pulumi-resource-phonenumbers is not installed (pip install -e .)"
    return [found]


@pytest.fixture
def plugin(backend: Backend) -> Iterator[ProviderProcess]:
    with ProviderProcess(command=plugin_command()) as process:
        # What the engine sends: bare config keys as provider inputs.
        process.configure({k.split(":", 1)[1]: v for k, v in backend.config.items()})
        yield process


def _checked(plugin: ProviderProcess, name: str, **inputs: Any) -> dict[str, Any]:
    checked_inputs = checked(plugin, URN.format(name), inputs)
    assert "__provider" not in checked_inputs
    return checked_inputs


def _ops(backend: Backend, op: str) -> list[str]:
    return [e["number"] for e in backend.ledger() if e["op"] == op]


def _invoke(plugin: ProviderProcess, **args: Any) -> Any:
    request = proto.InvokeRequest(
        tok="phonenumbers:index:getAvailableNumbers", args=plugin._serialize(args)
    )
    return plugin._call("Invoke", request)


@pytest.mark.parametrize("backend", ["sandbox"], indirect=True)
def test_get_schema_is_the_committed_schema(plugin: ProviderProcess) -> None:
    resp = plugin._call("GetSchema", proto.GetSchemaRequest(version=0))
    assert resp.schema == (ROOT / "schema.json").read_text()
    info = plugin._call("GetPluginInfo", empty_pb2.Empty())
    assert info.version == "0.1.0"


def test_lifecycle(backend: Backend, plugin: ProviderProcess) -> None:
    first, second = vendor_class(backend.vendor).info.target_examples
    urn = URN.format("main")

    def check_main(**inputs: Any) -> dict[str, Any]:
        return _checked(plugin, "main", vendor=backend.vendor, country="US", **inputs)

    inputs = check_main(area_code="415", routing={"voice_target": first})
    id_, outs = plugin.create(urn, inputs)
    assert id_ == outs["number"] and id_.startswith("+1415")
    assert outs["routing"]["voice_target"] == first and outs["vendor_id"]
    assert "__provider" not in outs
    assert _ops(backend, "buy") == [id_]

    news = check_main(area_code="415", routing={"voice_target": second})
    new_outs = update_in_place(plugin, urn, id_, outs, news)
    assert new_outs["routing"]["voice_target"] == second and new_outs["number"] == id_
    moved = check_main(area_code="212")
    assert plugin.diff(urn, id_, new_outs, moved).replaces == ["area_code"]
    assert plugin.diff(urn, id_, new_outs, news).changes is False

    read_id, read_outs, read_inputs = plugin.read(urn, id_, new_outs, news)
    assert read_id == id_ and read_outs["routing"]["voice_target"] == second
    assert read_inputs == news  # inputs stay as declared

    plugin.delete(urn, id_, new_outs)
    assert _ops(backend, "release") == [id_] and _ops(backend, "buy") == [id_]
    assert plugin.read(urn, id_, new_outs)[0] == ""
    for secret in backend.secret_values():
        assert secret not in repr(outs) + repr(new_outs) + plugin.stderr


def test_check_failures_name_the_field(backend: Backend, plugin: ProviderProcess) -> None:
    outcome = plugin.check(
        URN.format("bad"),
        {},
        {
            "vendor": backend.vendor,
            "number": "+1999",
            "max_monthly_cost": -3,
            "routing": {"bogus": "x"},
        },
    )
    assert {"number", "max_monthly_cost", "routing.bogus"} <= {p for p, _ in outcome.failures}


def test_import_by_id_alone_and_delete_keeps_the_number(
    backend: Backend, plugin: ProviderProcess
) -> None:
    first, _ = vendor_class(backend.vendor).info.target_examples
    bought_inputs = _checked(
        plugin,
        "b",
        vendor=backend.vendor,
        country="US",
        area_code="415",
        routing={"voice_target": first},
    )
    number, _ = plugin.create(URN.format("b"), bought_inputs)

    # what `pulumi import` sends: the id, no properties, no inputs
    id_, outs, inputs = plugin.read(URN.format("imported"), number, {}, {})
    assert id_ == number
    assert inputs is not None
    assert inputs["number"] == number and inputs["vendor"] == backend.vendor
    assert inputs["adopt"] is True and "release_on_delete" not in inputs
    assert inputs["routing"]["voice_target"] == first
    assert outs["vendor_id"] and outs["number"] == number and outs["status"]
    # the engine then checks the returned inputs: they pass as they are
    assert plugin.check(URN.format("imported"), {}, inputs).failures == []

    plugin.delete(URN.format("imported"), number, outs)
    assert number in backend.owned_numbers() and _ops(backend, "release") == []
    # only an explicit release_on_delete: true releases an imported number
    plugin.delete(URN.format("imported"), number, {**outs, "release_on_delete": True})
    assert _ops(backend, "release") == [number]

    # a number the account does not own imports as "not found"
    assert plugin.read(URN.format("x"), "+14155550199", {}, {})[0] == ""


@pytest.mark.parametrize("backend", ["plivo"], indirect=True)
def test_no_four_operation_cap(backend: Backend, plugin: ProviderProcess) -> None:
    """16 creates at once reach the vendor at once (a 4-thread pool would hold them to 4)."""
    inputs = _checked(plugin, "n", vendor=backend.vendor, country="US", area_code="415")
    assert backend.emulator is not None
    counter = RequestCounter.install(backend.emulator)
    # every vendor request waits 1 s, so concurrent creates overlap at the vendor
    backend.faults(latency_ms=1000)
    numbers = create_at_once(plugin, [URN.format(f"n{i}") for i in range(16)], inputs)
    assert len(set(numbers)) == 16
    assert len(_ops(backend, "buy")) == 16
    assert counter.peak > 4, counter.peak


@pytest.mark.parametrize("backend", ["plivo", "sandbox"], indirect=True)
def test_invoke_get_available_numbers_buys_nothing(
    backend: Backend, plugin: ProviderProcess
) -> None:
    resp = _invoke(plugin, vendor=backend.vendor, country="US", area_code="415", limit=5)
    assert list(resp.failures) == []
    found = rpc.deserialize_properties(getattr(resp, "return"))["numbers"]
    assert 1 <= len(found) <= 5
    assert all(n["number"].startswith("+1415") and n["monthly_cost"] > 0 for n in found)
    assert _ops(backend, "buy") == []

    bad = _invoke(plugin, vendor=backend.vendor, max_monthly_cost=-1)
    assert [f.property for f in bad.failures] == ["max_monthly_cost"]


@pytest.mark.parametrize("backend", ["sandbox"], indirect=True)
def test_errors_are_one_clean_line(backend: Backend, plugin: ProviderProcess) -> None:
    with pytest.raises(ProviderError) as info:
        plugin.create(
            URN.format("x"),
            {"vendor": backend.vendor, "number": "+14155550100", "adopt": True, "country": "US"},
        )
    assert "does not own" in info.value.detail
    assert "Traceback" not in info.value.detail and 'File "' not in info.value.detail


@pytest.mark.parametrize("backend", ["sandbox"], indirect=True)
def test_unknown_inputs_at_preview_stay_unknown(backend: Backend, plugin: ProviderProcess) -> None:
    inputs = checked(
        plugin,
        URN.format("u"),
        {"vendor": backend.vendor, "area_code": UNKNOWN, "routing": {"voice_target": UNKNOWN}},
    )
    # the engine's unknown marker comes back (deserialized as pulumi's Unknown)
    assert isinstance(inputs["area_code"], Unknown)
    assert isinstance(inputs["routing"]["voice_target"], Unknown)


@pytest.mark.parametrize("backend", ["sandbox"], indirect=True)
def test_diff_config_says_some_or_none_and_never_replaces(
    backend: Backend, plugin: ProviderProcess
) -> None:
    def diff_config(olds: dict[str, Any], news: dict[str, Any]) -> Any:
        request = proto.DiffRequest(
            urn="urn:pulumi:dev::phonenumbers-test::pulumi:providers:phonenumbers::default",
            olds=plugin._serialize(olds),
            news=plugin._serialize(news),
        )
        return plugin._call("DiffConfig", request)

    changed = diff_config({"timeoutSeconds": "15"}, {"timeoutSeconds": "20"})
    assert changed.changes == proto.DiffResponse.DIFF_SOME and list(changed.replaces) == []
    same = diff_config({"timeoutSeconds": "15"}, {"timeoutSeconds": "15"})
    assert same.changes == proto.DiffResponse.DIFF_NONE


@pytest.mark.parametrize("backend", ["sandbox"], indirect=True)
def test_check_config_marks_credentials_secret_and_refuses_unknown_keys(
    backend: Backend, plugin: ProviderProcess
) -> None:
    news = {"plivoAuthToken": "tok", "vendor": "plivo", "plivoAuthTokn": "typo"}
    request = proto.CheckRequest(
        urn="urn:pulumi:dev::phonenumbers-test::pulumi:providers:phonenumbers::default",
        olds=plugin._serialize({}),
        news=plugin._serialize(news),
    )
    resp = plugin._call("CheckConfig", request)
    checked = rpc.deserialize_properties(resp.inputs)
    assert rpc.is_rpc_secret(checked["plivoAuthToken"]) and checked["vendor"] == "plivo"
    assert [f.property for f in resp.failures] == ["plivoAuthTokn"]
