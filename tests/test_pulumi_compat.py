"""The Pulumi SDK surface we depend on: public where it exists, checked where it is not.

``pulumi_phonenumbers._pulumi_compat`` holds every SDK internal the package uses; these
tests fail, naming the SDK attribute, when an SDK release moves or changes one.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from pulumi.dynamic import Config, ConfigureRequest
from pulumi.runtime import rpc

from pulumi_phonenumbers import _pulumi_compat as compat
from pulumi_phonenumbers.provider import PhoneNumberProvider

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


def test_sync_await_and_event_loop_helpers_work_with_this_sdk() -> None:
    loop = compat.ensure_event_loop()
    assert isinstance(loop, asyncio.AbstractEventLoop)
    assert compat.ensure_event_loop() is loop

    async def answer() -> int:
        await asyncio.sleep(0)
        return 42

    assert compat.sync_await(answer()) == 42
    assert compat.sync_await(rpc.serialize_properties({"a": 1}, {})) is not None


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
