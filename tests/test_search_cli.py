"""``pulumi-phonenumbers search``: candidates with prices, never a purchase, never a secret."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from pulumi_phonenumbers.__main__ import main
from pulumi_phonenumbers.testing.backends import Backend
from tests.adversary import Adversary


@pytest.fixture(scope="module")
def plivo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    backend = Backend.start("plivo", tmp_path_factory.mktemp("search"))
    yield backend
    backend.stop()


def _config_args(config: dict[str, str]) -> list[str]:
    return [f"--config={k}={v}" for k, v in config.items()]


def _run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def _search(config: dict[str, str], *argv: str) -> tuple[int, str, str]:
    return _run("search", "--vendor", "plivo", *argv, *_config_args(config))


def _bought(backend: Backend) -> list[Any]:
    return [e for e in backend.ledger() if e["op"] == "buy"]


def test_table_as_a_subprocess(plivo: Backend) -> None:
    """The installed entry point, as a user types it: table, exit 0, nothing bought."""
    argv = ["--vendor", "plivo", "--area-code", "415", "--capabilities", "voice,sms"]
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pulumi_phonenumbers",
            "search",
            *argv,
            "--limit",
            "5",
            *_config_args(plivo.config),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("5 number(s) offered for country=US")
    assert lines[1].split() == ["NUMBER", "LOCALITY", "TYPE", "CAPABILITIES", "MONTHLY", "SETUP"]
    rows = lines[2:]
    assert len(rows) == 5
    for row in rows:
        assert row.startswith("+1415")
        assert "voice" in row and "sms" in row and " USD" in row
    assert _bought(plivo) == []
    for secret in plivo.secret_values():
        assert secret not in proc.stdout + proc.stderr


def test_json_and_price_cap(plivo: Backend) -> None:
    code, out, _ = _search(plivo.config, "--area-code", "212", "--json")
    assert code == 0
    every = json.loads(out)
    assert every and all(r["number"].startswith("+1212") for r in every)
    assert set(every[0]) == {
        "number",
        "monthly_cost",
        "setup_cost",
        "currency",
        "locality",
        "capabilities",
        "number_type",
    }
    cheapest = min(r["monthly_cost"] for r in every)
    code, out, _ = _search(
        plivo.config, "--area-code", "212", "--json", "--max-monthly-cost", str(cheapest)
    )
    assert code == 0 and all(r["monthly_cost"] <= cheapest for r in json.loads(out))


def test_bad_criteria_name_the_flag_and_nothing_found_exits_1(plivo: Backend) -> None:
    code, out, err = _search(plivo.config, "--area-code", "41x")
    assert code == 2 and out == ""
    assert err.startswith("error: --area-code: ") and "41x" in err
    code, out, err = _search(plivo.config, "--capabilities", "voice,fax")
    assert code == 2 and "--capabilities" in err
    code, out, _ = _search(plivo.config, "--area-code", "999")
    assert code == 1 and out.startswith("no number offered for")
    code, _, err = _search(plivo.config, "--limit", "0")
    assert code == 2 and "--limit" in err


def test_bad_credentials_and_hostile_vendor_text(plivo: Backend) -> None:
    bad = {**plivo.config, **plivo.bad_credentials()}
    code, out, err = _search(bad)
    assert code == 2 and "error:" in err
    for secret in [*plivo.secret_values(), *plivo.bad_credentials().values()]:
        assert secret not in out + err

    def poison(body: Any) -> Any:
        for obj in body.get("objects", []):
            obj["region"] = "Evil\x1b[2J\n" + "x" * 200
        body.get("objects", [{}])[0]["number"] = "1212/../../Number/14155550100"
        return body

    with Adversary(plivo.url) as adversary:
        adversary.tamper(method="GET", path="/PhoneNumber/", edit=poison)
        code, out, _ = _search(adversary.config(plivo.config), "--area-code", "212")
    assert code == 0
    assert "\x1b" not in out and "../" not in out
    assert all(len(line) < 160 for line in out.splitlines())
    assert _bought(plivo) == []
