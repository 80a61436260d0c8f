"""Shared fixtures: backends (sandbox file or emulator on 127.0.0.1) and the provider process."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator

import pytest

from pulumi_phonenumbers.testing._cli import pulumi_binary
from pulumi_phonenumbers.testing.backends import Backend, emulated_vendors

#: Every vendor the contract and provider suites run against.
VENDORS: list[str] = ["sandbox", *emulated_vendors()]


@pytest.fixture(params=VENDORS)
def backend(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Backend]:
    """A fresh backend per vendor."""
    b = Backend.start(request.param, tmp_path_factory.mktemp(request.param))
    yield b
    b.stop()


@pytest.fixture(scope="session")
def serialized_provider() -> str:
    """The pickled provider, exactly as a PhoneNumber resource stores it."""
    from pulumi.dynamic.dynamic import serialize_provider

    from pulumi_phonenumbers.provider import PhoneNumberProvider

    text = serialize_provider(PhoneNumberProvider())
    assert len(base64.b64decode(text)) < 200  # pickled by reference
    return str(text)


def pytest_runtest_setup(item: pytest.Item) -> None:
    """``cli`` tests need the real CLI: skipped without one, failed when CI requires it."""
    if item.get_closest_marker("cli") is None or pulumi_binary() is not None:
        return
    reason = "no pulumi CLI (.tools/bin/pulumi or on PATH): run `make pulumi-cli`"
    if os.environ.get("PHONENUMBERS_REQUIRE_CLI") == "1":
        pytest.fail(f"PHONENUMBERS_REQUIRE_CLI=1 but {reason}", pytrace=False)
    pytest.skip(reason)
