"""The Pulumi SDK surface we depend on: public where it exists, checked where it is not.

``pulumi_phonenumbers._pulumi_compat`` holds every SDK internal the package uses; these
tests fail, naming the SDK attribute, when an SDK release moves or changes one.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pytest
from pulumi.dynamic import Config, ConfigureRequest
from pulumi.runtime import rpc

from pulumi_phonenumbers import _pulumi_compat as compat
from pulumi_phonenumbers.provider import PhoneNumberProvider
from pulumi_phonenumbers.testing import LocalEngine

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("ours", "sdk_name"),
    [
        ("SIG_KEY", "_special_sig_key"),
        ("SECRET_SIG", "_special_secret_sig"),
        ("RESOURCE_SIG", "_special_resource_sig"),
    ],
)
def test_wire_signatures_match_the_sdk(ours: str, sdk_name: str) -> None:
    sdk_value = getattr(rpc, sdk_name, None)
    assert sdk_value == getattr(compat, ours), (
        f"pulumi.runtime.rpc.{sdk_name} changed ({sdk_value!r}): update _pulumi_compat.{ours}"
    )


def test_mock_classes_take_what_the_local_engine_passes() -> None:
    settings = compat.MockSettings(project="p", stack="s", dry_run=True, monitor_features=set())
    assert (settings.project, settings.stack, settings.dry_run) == ("p", "s", True)
    for method in ("RegisterResource", "RegisterResourceOutputs", "Invoke", "ReadResource"):
        assert callable(getattr(compat.MockMonitor, method, None)), f"MockMonitor.{method} moved"
    assert callable(getattr(compat.MockEngine, "Log", None)), "MockEngine.Log moved"


def test_output_tracking_and_async_program_are_where_the_engine_reads_them() -> None:
    """Inside a real program run: the SDK's set of outputs and the ``pulumi.run`` marker."""
    seen: dict[str, Any] = {}

    def program() -> None:
        pulumi.export("x", pulumi.Output.from_input("x").apply(str.upper))
        tracked = compat.tracked_outputs()
        seen["tracked"] = (type(tracked[0]), len(tracked[0])) if tracked else None
        seen["async"] = compat.runs_async_program()

    LocalEngine(program).preview()
    tracked = seen["tracked"]
    assert tracked is not None, "SETTINGS.outputs / SETTINGS.lock moved: update _pulumi_compat"
    assert tracked[0] is set and tracked[1] > 0, "SETTINGS.outputs holds no task"
    assert seen["async"] is False, "Stack._async_program moved: update _pulumi_compat"


class _PublicConfigOnly:
    """Only the documented surface of ``pulumi.dynamic.Config``: ``get`` and ``require``."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__values = values

    def get(self, key: str) -> Any:
        return self.__values.get(key)

    def require(self, key: str) -> Any:
        return self.__values[key]


@pytest.mark.parametrize(
    "config",
    [
        _PublicConfigOnly({"phonenumbers:vendor": "plivo"}),
        Config({"phonenumbers:vendor": "plivo"}, "some-project"),
    ],
    ids=["public-surface-only", "sdk-config"],
)
def test_configure_reads_stack_config_through_public_api(config: Any) -> None:
    provider = PhoneNumberProvider()
    try:
        provider.configure(ConfigureRequest(config))
        result = provider.check({}, {"country": "US"})
        assert result.inputs["vendor"] == "plivo", result.failures
    finally:
        provider.configure(ConfigureRequest(Config({}, "some-project")))
        assert provider.check({}, {"country": "US"}).inputs["vendor"] == "sandbox"
