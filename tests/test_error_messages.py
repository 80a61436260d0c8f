"""A failed create says what to do once (issue 12.12): the vendor's own instruction
(KrosAI KYC, KrosAI balance, Sondos billing) is not followed by the generic advice again.

Through the real gRPC provider, with the KrosAI and Sondos emulators switched into the
failing account state.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pulumi.dynamic.dynamic import serialize_provider

from pulumi_phonenumbers.provider import PhoneNumberProvider
from pulumi_phonenumbers.testing import ProviderError, ProviderProcess
from pulumi_phonenumbers.testing.backends import Backend, emulated_vendors

URN = "urn:pulumi:dev::phonenumbers-test::pulumi-python:dynamic/phonenumbers:PhoneNumber::{}"
#: What an instruction to the user looks like, in the vendor's words or ours.
INSTRUCTION = re.compile(
    r"then run|and run again|run `pulumi up`|contact \S+ support|Add funds|Complete the vendor",
    re.I,
)
STATES: list[tuple[str, dict[str, Any]]] = [
    ("krosai", {"kyc": "none"}),
    ("krosai", {"kyc": "submitted"}),
    ("krosai", {"kyc": "declined"}),
    ("krosai", {"kyc": "approved", "balance": "insufficient"}),
    ("sondos", {"sondos_payment_method": "none"}),
    ("sondos", {"sondos_payment_method": "failing"}),
]


def _sentences(text: str) -> list[str]:
    parts = re.split(r"(?<=[.;:])\s+|\s+\(|\)\s*", text)
    return [p.strip(" .;:()").lower() for p in parts if len(p.split()) >= 3]


@pytest.fixture(scope="module", params=sorted({v for v, _ in STATES}))
def account(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Backend, ProviderProcess]]:
    vendor = request.param
    if vendor not in emulated_vendors():
        pytest.skip(f"the {vendor} emulator is not available")
    backend = Backend.start(vendor, Path(tmp_path_factory.mktemp(vendor)))
    try:
        with ProviderProcess() as process:
            process.configure(backend.config)
            yield backend, process
    finally:
        backend.stop()


def test_a_failed_create_gives_one_instruction(
    account: tuple[Backend, ProviderProcess],
) -> None:
    backend, process = account
    serialized = str(serialize_provider(PhoneNumberProvider()))
    for settings in [s for v, s in STATES if v == backend.vendor]:
        backend.control("POST", "settings", settings)
        checked = process.check(
            URN.format("x"),
            {},
            {"__provider": serialized, "vendor": backend.vendor, "area_code": "415"},
        )
        assert checked.failures == []
        with pytest.raises(ProviderError) as failed:
            process.create(URN.format("x"), checked.inputs)
        message = failed.value.last_line
        assert len(INSTRUCTION.findall(message)) == 1, (settings, message)
        sentences = _sentences(message)
        assert len(sentences) == len(set(sentences)), (settings, message)
    assert backend.owned_numbers() == set()
