"""examples/quickstart through the real Pulumi CLI, state in a local file backend.

Skipped when no ``pulumi`` binary is on PATH (these machines have none; the same program
is covered offline by tests/test_examples.py through the local engine).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pulumi_phonenumbers.store import Store
from pulumi_phonenumbers.testing._cli import PulumiCLI, pulumi_binary

QUICKSTART = Path(__file__).resolve().parent.parent / "examples" / "quickstart"

pytestmark = pytest.mark.skipif(
    pulumi_binary() is None,
    reason="the pulumi CLI is not on PATH; the quickstart runs through the local engine in "
    "test_examples.py instead (install it from https://www.pulumi.com/docs/install/)",
)


def _ops(store: Store, op: str) -> list[str]:
    return [e["number"] for e in store.ledger() if e["op"] == op]


def test_quickstart_through_the_real_cli(tmp_path: Path) -> None:
    sandbox = tmp_path / "sandbox.db"
    store = Store(sandbox)
    cli = PulumiCLI(QUICKSTART, tmp_path / "work", stack="ci")
    cli.init({"phonenumbers:sandboxPath": str(sandbox), "voiceTarget": "app-support-v1"})

    outputs = cli.up()
    numbers = {outputs["support"], outputs["sales"]}
    assert sorted(_ops(store, "buy")) == sorted(numbers)

    cli.set_config("voiceTarget", "app-support-v2")
    assert "app-support-v2" in cli.preview()
    assert sorted(_ops(store, "buy")) == sorted(numbers)  # preview buys nothing
    outputs = cli.up()
    assert {outputs["support"], outputs["sales"]} == numbers  # an update, not a replacement
    assert len(_ops(store, "buy")) == 2
    for number in numbers:
        record = store.get(number)
        assert record is not None and record.routing["voice_target"] == "app-support-v2"

    exported = cli.export()
    types = {r["type"] for r in exported["deployment"]["resources"]}
    assert "pulumi-python:dynamic/phonenumbers:PhoneNumber" in types

    cli.destroy()
    assert sorted(_ops(store, "release")) == sorted(numbers)
    assert store.owned() == []
    cli.remove()
