"""Shared fixtures: backends (sandbox file or emulator on 127.0.0.1) and the provider process."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from pulumi_phonenumbers.testing._cli import pulumi_binary
from pulumi_phonenumbers.testing.backends import Backend, emulated_vendors

#: Every vendor the contract and provider suites run against.
VENDORS: list[str] = ["sandbox", *emulated_vendors()]

#: Test tiers, the layers of DESIGN.md section 5 (registered in pyproject.toml):
#: ``pytest -m unit`` runs in seconds; ``make test-fast`` runs unit and contract.
TIERS = ("unit", "contract", "grpc", "program", "cli", "bench")
#: Each module's tier: the heaviest layer it uses. A module (or a test) may declare its own
#: with ``pytestmark`` / a mark; a module missing here counts as ``program``.
MODULE_TIERS: dict[str, str] = {
    "test_answers": "unit",
    "test_e164_inputs": "unit",
    "test_http": "unit",
    "test_resource_shape": "unit",
    "test_sandbox": "unit",
    "test_schema": "unit",
    "test_packaging": "unit",
    "test_contract": "contract",
    "test_faults": "contract",
    "test_fuzz_emulators": "contract",
    "test_sinch": "contract",
    "test_adversarial": "grpc",
    "test_bolna": "grpc",
    "test_error_messages": "grpc",
    "test_fault_matrix": "grpc",
    "test_fuzz_check": "grpc",
    "test_krosai": "grpc",
    "test_plivo": "grpc",
    "test_preview_inventory": "grpc",
    "test_provider_grpc": "grpc",
    "test_purchase_path": "grpc",
    "test_races": "grpc",
    "test_pacing": "grpc",
    "test_secrets": "grpc",
    "test_sondos": "grpc",
    "test_audit": "program",
    "test_audit_leaks": "program",
    "test_bench_smoke": "program",
    "test_engine": "program",
    "test_examples": "program",
    "test_fleet": "program",
    "test_lookup": "program",
    "test_search_cli": "contract",
    "test_readme": "program",
    "test_pulumi_cli_build": "program",
    "test_cli_quickstart": "cli",
    "test_cli_demo": "cli",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Give every test exactly one tier: its own mark, else its module's."""
    for item in items:
        if not any(item.get_closest_marker(tier) for tier in TIERS):
            tier = MODULE_TIERS.get(item.path.stem, "program")
            item.add_marker(getattr(pytest.mark, tier))


@pytest.fixture(params=VENDORS)
def backend(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Backend]:
    """A fresh backend per vendor."""
    b = Backend.start(request.param, tmp_path_factory.mktemp(request.param))
    yield b
    b.stop()


@pytest.fixture
def plivo(tmp_path: Path) -> Iterator[Backend]:
    """A Plivo emulator for one test (modules that share one across tests define their own)."""
    backend = Backend.start("plivo", tmp_path / "plivo")
    yield backend
    backend.stop()


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
