"""The README stays true: every config key, every vendor's routing fields and commands."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pulumi_phonenumbers import registry
from pulumi_phonenumbers.config import CONFIG_KEYS
from pulumi_phonenumbers.vendors import vendor_class

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()
ROOT = Path(__file__).resolve().parent.parent


def _row(first_cell: str) -> list[str]:
    for line in README.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and cells and cells[0] == first_cell:
            return cells
    raise AssertionError(f"README has no table row for {first_cell}")


@pytest.mark.parametrize("key", CONFIG_KEYS, ids=lambda k: k.name)
def test_every_config_key_is_documented(key: object) -> None:
    from pulumi_phonenumbers.config import ConfigKey

    assert isinstance(key, ConfigKey)
    cells = _row(f"`phonenumbers:{key.name}`")
    assert cells[1] == (f"`{key.env}`" if key.env else "")
    assert (cells[2] == "yes") == key.secret
    if key.default:
        assert key.default in cells[3]


def _matrix_vendors() -> list[str]:
    section = README.split("## Vendor matrix", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")][2:]
    return [row.strip("|").split("|")[0].strip() for row in rows]


def test_the_matrix_has_one_row_per_registry_entry() -> None:
    """Rows in the registry's order; the ``vendor`` input lists every name too."""
    names = [entry.name for entry in registry.entries()]
    assert _matrix_vendors() == names
    vendor_input = _row("`vendor`")[1]
    assert re.findall(r"`(\w+)`", vendor_input.split(";")[0]) == names


@pytest.mark.parametrize("vendor", [entry.name for entry in registry.entries()])
def test_vendor_matrix_row_matches_the_code(vendor: str) -> None:
    info = vendor_class(vendor).info
    cells = _row(vendor)
    for country in info.countries:
        assert country in cells[1]
    for field in info.routing_fields:
        assert field in cells[3]
    for field in {
        "voice_target",
        "sms_target",
        "label",
        "inbound",
        "outbound",
    } - info.routing_fields:
        assert not re.search(rf"\b{field}\b", cells[3])
    for option in info.options:
        assert option in cells[5]
    assert cells[6].startswith("yes") == info.buy_carries_routing


def test_commands_named_in_the_readme_exist() -> None:
    makefile = (ROOT / "Makefile").read_text()
    for target in ("demo", "test", "bench", "schema"):
        assert f"make {target}" in README
        assert re.search(rf"^{target}:", makefile, re.M)
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_the_readme_example_program_runs(tmp_path: Path) -> None:
    """The first code block of the README, as a program, against the Plivo emulator."""
    from pulumi_phonenumbers.testing import LocalEngine
    from pulumi_phonenumbers.testing.backends import Backend

    code = README.split("```python\n", 1)[1].split("```", 1)[0]
    plivo = Backend.start("plivo", tmp_path / "plivo")
    sandbox_path = tmp_path / "sandbox.db"
    try:
        engine = LocalEngine(
            lambda: exec(code, {}),
            config={**plivo.config, "phonenumbers:sandboxPath": str(sandbox_path)},
            state=tmp_path / "state.json",
        )
        outputs = engine.up().outputs
        assert outputs["support"].startswith("+1415")
        assert len(outputs["pool"]) == 3
        assert all(n.startswith("+1212") for n in outputs["pool"].values())
        engine.destroy()
        assert plivo.owned_numbers() == set()
    finally:
        plivo.stop()
