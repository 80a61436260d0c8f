"""The audit command: find numbers the account owns that the stack does not hold, fix them.

Includes the crash case: a provider process killed right after the vendor committed a
purchase leaves an orphan that only the audit can find.
"""

from __future__ import annotations

import io
import json
import os
import re
import shlex
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pulumi_phonenumbers.__main__ import main
from pulumi_phonenumbers.audit import (
    MAX_PRICE_LOOKUPS,
    PHONE_NUMBER_TYPE,
    load_config_file,
    load_state,
)
from pulumi_phonenumbers.config import CONFIG_KEYS, NAMESPACE
from pulumi_phonenumbers.errors import ConfigError
from pulumi_phonenumbers.inputs import query_of
from pulumi_phonenumbers.models import Routing
from pulumi_phonenumbers.testing import ProviderError, ProviderProcess
from pulumi_phonenumbers.testing.backends import Backend, emulated_vendors
from pulumi_phonenumbers.vendors.base import Vendor

URN = "urn:pulumi:dev::shop::pulumi-python:dynamic/phonenumbers:PhoneNumber::{}"
ROOT = Path(__file__).resolve().parents[1]


def export(
    path: Path, held: dict[str, str], vendor: str, pending: dict[str, dict[str, Any]] | None = None
) -> Path:
    """A ``pulumi stack export`` file holding ``{name: number}`` (+ pending creates)."""
    resources: list[dict[str, Any]] = [
        {
            "urn": "urn:pulumi:dev::shop::pulumi:pulumi:Stack::shop-dev",
            "custom": False,
            "type": "pulumi:pulumi:Stack",
        },
    ]
    for name, number in held.items():
        resources.append(
            {
                "urn": URN.format(name),
                "custom": True,
                "id": number,
                "type": PHONE_NUMBER_TYPE,
                "inputs": {"vendor": vendor, "country": "US"},
                "outputs": {"number": number, "vendor": vendor, "vendor_id": "x"},
            }
        )
    deployment: dict[str, Any] = {
        "manifest": {"time": "2026-01-01T00:00:00Z"},
        "resources": resources,
    }
    if pending:
        deployment["pending_operations"] = [
            {
                "resource": {
                    "urn": URN.format(name),
                    "custom": True,
                    "type": PHONE_NUMBER_TYPE,
                    "inputs": inputs,
                },
                "type": "creating",
            }
            for name, inputs in pending.items()
        ]
    path.write_text(json.dumps({"version": 3, "deployment": deployment}))
    return path


def run(*argv: str, stdin: str = "") -> tuple[int, str, str]:
    """``main(argv)`` with captured output and ``stdin`` as the answer to the prompt."""
    out, err = io.StringIO(), io.StringIO()
    old = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        code = main(list(argv), out, err)
    finally:
        sys.stdin = old
    return code, out.getvalue(), err.getvalue()


def audit_of(backend: Backend, *argv: str, stdin: str = "") -> tuple[int, str, str]:
    """``audit --vendor <backend's> *argv`` with the backend's credentials."""
    return run("audit", "--vendor", backend.vendor, *argv, *config_args(backend), stdin=stdin)


def config_args(backend: Backend) -> list[str]:
    return [f"--config={k}={v}" for k, v in backend.config.items()]


def buy(vendor: Vendor, count: int, area_code: str = "415") -> list[str]:
    page = vendor.search(query_of({"country": "US", "area_code": area_code}))
    return [vendor.buy(c, Routing(), {}).number for c in page.numbers[:count]]


@pytest.fixture(scope="module", params=["sandbox", *emulated_vendors()])
def shared_backend(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Backend]:
    b = Backend.start(request.param, tmp_path_factory.mktemp(f"audit-{request.param}"))
    yield b
    b.stop()


@pytest.fixture
def backend(shared_backend: Backend) -> Backend:
    """A backend with nothing owned (one emulator per vendor for the whole module)."""
    if shared_backend.emulator is not None:
        shared_backend.control("POST", "reset")
    else:
        shared_backend.store.reset()
    return shared_backend


@pytest.fixture
def three(backend: Backend, tmp_path: Path) -> Iterator[tuple[list[str], Path]]:
    """Three owned numbers; the state holds the first two."""
    numbers = buy(backend.client(), 3)
    yield (
        numbers,
        export(tmp_path / "state.json", {"a": numbers[0], "b": numbers[1]}, backend.vendor),
    )


def test_audit_marks_the_number_state_does_not_hold(
    backend: Backend, three: tuple[list[str], Path]
) -> None:
    numbers, state = three
    code, out, err = run(
        "audit", "--vendor", backend.vendor, "--state", str(state), *config_args(backend)
    )
    assert code == 1, err
    lines = {line.split()[0]: line for line in out.splitlines()[1:]}
    assert "managed by a" in lines[numbers[0]] and "managed by b" in lines[numbers[1]]
    assert "NOT IN STATE" in lines[numbers[2]]
    assert f"the account owns 3 number(s); {state} holds 2" in out
    for secret in backend.secret_values():
        assert secret not in out + err


def test_audit_json_and_missing_numbers(
    backend: Backend, three: tuple[list[str], Path], tmp_path: Path
) -> None:
    numbers, _ = three
    backend.release_out_of_band(numbers[1])
    state = export(tmp_path / "s2.json", {"a": numbers[0], "b": numbers[1]}, backend.vendor)
    code, out, _ = run(
        "audit", "--vendor", backend.vendor, "--state", str(state), "--json", *config_args(backend)
    )
    report = json.loads(out)
    assert code == 1
    assert report["unmanaged"] == [numbers[2]]
    assert report["missing"] == [{"number": numbers[1], "urn": URN.format("b")}]
    assert {o["number"] for o in report["owned"]} == {numbers[0], numbers[2]}


def test_release_asks_first_and_releases_only_the_unmanaged(
    backend: Backend, three: tuple[list[str], Path]
) -> None:
    numbers, state = three
    args = [
        "audit",
        "--vendor",
        backend.vendor,
        "--state",
        str(state),
        "--release",
        *config_args(backend),
    ]
    code, out, _ = run(*args, stdin="no\n")
    assert code == 1 and "Type 'yes'" in out and "Nothing released" in out
    assert backend.owned_numbers() == set(numbers)

    code, out, _ = run(*args, stdin="yes\n")
    assert code == 0 and f"released {numbers[2]}" in out
    assert backend.owned_numbers() == set(numbers[:2])
    releases = [e["number"] for e in backend.ledger() if e["op"] == "release"]
    assert releases == [numbers[2]]

    code, out, _ = run(*args, "--yes")  # nothing left to do
    assert code == 0 and "released" not in out


def test_release_without_state_is_refused(backend: Backend) -> None:
    numbers = buy(backend.client(), 1)
    code, _, err = run(
        "audit", "--vendor", backend.vendor, "--release", "--yes", *config_args(backend)
    )
    assert code == 2 and "--release needs --state" in err
    assert backend.owned_numbers() == set(numbers)


def test_adopt_program_brings_the_orphan_under_management(
    backend: Backend, three: tuple[list[str], Path], serialized_provider: str
) -> None:
    numbers, state = three
    code, out, _ = run(
        "audit",
        "--vendor",
        backend.vendor,
        "--state",
        str(state),
        "--adopt-program",
        *config_args(backend),
    )
    program = out[out.index("# Numbers the") :]
    compile(program, "adopt.py", "exec")  # valid Python
    assert f"number={numbers[2]!r}" in program and "adopt=True" in program
    assert numbers[0] not in program and numbers[1] not in program

    # what `pulumi up` of those lines does: an adopt-create, no purchase
    name = program.split("PhoneNumber(")[-1].split(",")[0].strip("'\"")
    with ProviderProcess() as provider:
        provider.configure(backend.config)
        checked = provider.check(
            URN.format(name),
            {},
            {
                "__provider": serialized_provider,
                "vendor": backend.vendor,
                "number": numbers[2],
                "adopt": True,
            },
        )
        assert checked.failures == []
        id_, outs = provider.create(URN.format(name), checked.inputs)
    assert id_ == numbers[2] and outs["release_on_delete"] is False
    assert [e["op"] for e in backend.ledger()].count("buy") == 3
    adopted = export(state, {"a": numbers[0], "b": numbers[1], name: numbers[2]}, backend.vendor)
    code, out, _ = run(
        "audit", "--vendor", backend.vendor, "--state", str(adopted), *config_args(backend)
    )
    assert code == 0 and "NOT IN STATE" not in out


def test_credentials_from_the_environment_and_the_console_script(
    backend: Backend, three: tuple[list[str], Path]
) -> None:
    numbers, state = three
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PLIVO", "SINCH", "KROSAI", "BOLNA", "SONDOS"))
    }
    for key in CONFIG_KEYS:
        value = backend.config.get(f"{NAMESPACE}:{key.name}")
        if value and key.env:
            env[key.env] = value
    script = Path(sys.executable).with_name("pulumi-phonenumbers")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "pulumi_phonenumbers"]
    done = subprocess.run(
        [*command, "audit", "--vendor", backend.vendor, "--state", str(state), "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 1, done.stderr
    assert json.loads(done.stdout)["unmanaged"] == [numbers[2]]
    for secret in backend.secret_values():
        assert secret not in done.stdout + done.stderr


def test_credentials_from_a_stack_config_file(
    backend: Backend, three: tuple[list[str], Path], tmp_path: Path
) -> None:
    numbers, state = three
    secret_names = {f"{NAMESPACE}:{k.name}" for k in CONFIG_KEYS if k.secret}
    yaml_lines = ["config:"]
    for key, value in backend.config.items():
        yaml_lines.append(f"  {key}: {json.dumps(value)}")
    yaml_lines.append("  aws:region: us-east-1")
    config_file = tmp_path / "Pulumi.dev.yaml"
    config_file.write_text("\n".join(yaml_lines) + "\n")
    code, out, err = run(
        "audit",
        "--vendor",
        backend.vendor,
        "--state",
        str(state),
        "--json",
        f"--config-file={config_file}",
    )
    assert code == 1, err
    assert json.loads(out)["unmanaged"] == [numbers[2]]

    # `pulumi config --json --show-secrets` output works too
    as_json = {k: {"value": v, "secret": k in secret_names} for k, v in backend.config.items()}
    config_file.write_text(json.dumps(as_json))
    code, out, _ = run(
        "audit",
        "--vendor",
        backend.vendor,
        "--state",
        str(state),
        "--json",
        f"--config-file={config_file}",
    )
    assert json.loads(out)["unmanaged"] == [numbers[2]]


def test_bad_credentials_are_one_clear_error_without_the_secret(
    backend: Backend, tmp_path: Path
) -> None:
    if backend.vendor == "sandbox":
        pytest.skip("the sandbox needs no credentials")
    bad = {**backend.config, **backend.bad_credentials()}
    code, out, err = run(
        "audit", "--vendor", backend.vendor, *[f"--config={k}={v}" for k, v in bad.items()]
    )
    assert code == 2 and err.startswith("error: ") and len(err.strip().splitlines()) == 1
    for value in [*backend.secret_values(), *backend.bad_credentials().values()]:
        assert value not in out + err


# -- several stacks, partial views (issue 9.9) ----------------------------------------------
def test_several_states_are_one_union_and_release_spares_every_stack(
    backend: Backend, tmp_path: Path
) -> None:
    numbers = buy(backend.client(), 3)
    first = export(tmp_path / "a.json", {"a": numbers[0]}, backend.vendor)
    second = export(tmp_path / "b.json", {"b": numbers[1]}, backend.vendor)
    code, out, err = run(
        "audit",
        "--vendor",
        backend.vendor,
        *("--state", str(first), "--state", str(second)),
        *("--release", "--yes"),
        *config_args(backend),
    )
    assert code == 0, err
    assert f"{first}, {second} hold 2" in out and f"released {numbers[2]}" in out
    assert backend.owned_numbers() == set(numbers[:2])
    assert [e["number"] for e in backend.ledger() if e["op"] == "release"] == [numbers[2]]


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Backend]:
    b = Backend.start("sandbox", tmp_path / "sandbox")
    yield b
    b.stop()


def _resource(name: str, number: str, **extra: Any) -> dict[str, Any]:
    return {
        "urn": URN.format(name),
        "custom": True,
        "type": PHONE_NUMBER_TYPE,
        "id": number,
        "inputs": {"vendor": "sandbox"},
        "outputs": {"number": number, "vendor": "sandbox"},
        **extra,
    }


SECRET_NUMBER = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270"}


def _partial_states(numbers: list[str]) -> dict[str, Any]:
    """State files on which a release would take a held number: each must refuse."""
    hidden = _resource("hidden", "", outputs={"number": {**SECRET_NUMBER, "ciphertext": "x"}})
    return {
        # a number exported as a secret without --show-secrets, and no id
        "secret number": {"deployment": {"manifest": {}, "resources": [hidden]}},
        # outputs that are not an object
        "junk outputs": {
            "deployment": {
                "manifest": {},
                "resources": [_resource("x", numbers[0], outputs=["junk"])],
            }
        },
    }


@pytest.mark.parametrize("case", ["secret number", "junk outputs"])
def test_nothing_is_released_when_a_held_number_cannot_be_read(
    sandbox: Backend, tmp_path: Path, case: str
) -> None:
    numbers = buy(sandbox.client(), 2)
    path = tmp_path / "state.json"
    path.write_text(json.dumps(_partial_states(numbers)[case]))
    args = ["audit", "--vendor", "sandbox", "--state", str(path), *config_args(sandbox)]
    code, out, err = run(*args, "--release", "--yes")
    assert code == 2 and "not releasing anything" in err and "--show-secrets" in err
    assert "unreadable: " in out
    assert sandbox.owned_numbers() == set(numbers)
    code, out, _ = run(*args, "--json")
    assert json.loads(out)["unreadable"] == [URN.format("hidden" if "secret" in case else "x")]


def test_nothing_is_released_when_one_state_file_does_not_read(
    sandbox: Backend, tmp_path: Path
) -> None:
    numbers = buy(sandbox.client(), 2)
    good = export(tmp_path / "a.json", {"a": numbers[0]}, "sandbox")
    junk = tmp_path / "b.json"
    junk.write_text('{"version": 3}')
    code, _, err = run(
        "audit",
        "--vendor",
        "sandbox",
        *("--state", str(good), "--state", str(junk), "--release", "--yes"),
        *config_args(sandbox),
    )
    assert code == 2 and "is not a stack export" in err
    assert sandbox.owned_numbers() == set(numbers)


def test_nothing_is_released_when_the_vendor_listing_fails(tmp_path: Path) -> None:
    plivo = Backend.start("plivo", tmp_path)
    try:
        numbers = buy(plivo.client(), 2)
        state = export(tmp_path / "s.json", {"a": numbers[0]}, "plivo")
        plivo.faults(rules=[{"method": "GET", "path": "/Number/$", "status": 500}])
        code, out, err = run(
            "audit",
            "--vendor",
            "plivo",
            *("--state", str(state), "--release", "--yes"),
            *config_args(plivo),
        )
        assert code == 2 and err.startswith("error: ") and "released" not in out
        plivo.clear_faults()
        assert plivo.owned_numbers() == set(numbers)
        assert not [e for e in plivo.ledger() if e["op"] == "release"]
    finally:
        plivo.stop()


def test_other_state_shapes_hold_their_numbers(sandbox: Backend, tmp_path: Path) -> None:
    """The file backend's checkpoint and the native provider's type token are read too."""
    numbers = buy(sandbox.client(), 3)
    native = _resource("native", numbers[1], type="phonenumbers:index:PhoneNumber")
    checkpoint = {
        "version": 3,
        "checkpoint": {
            "stack": "organization/shop/dev",
            "latest": {"manifest": {}, "resources": [_resource("a", numbers[0]), native]},
        },
    }
    path = tmp_path / "dev.json"
    path.write_text(json.dumps(checkpoint))
    code, out, _ = run(
        "audit",
        "--vendor",
        "sandbox",
        *("--state", str(path), "--release", "--yes"),
        *config_args(sandbox),
    )
    assert code == 0 and f"released {numbers[2]}" in out
    assert sandbox.owned_numbers() == set(numbers[:2])


# -- pending operations of a `pulumi stack export` (issue 10.5) ---------------------------------
def test_pending_operations_are_reported_and_named_numbers_count_as_held(
    sandbox: Backend, tmp_path: Path
) -> None:
    """The export a `pulumi up` killed mid-way leaves: an interrupted create (no number), an
    interrupted update of a number the resources list also holds, and one of a number
    they no longer list (counts as held: nothing of a pending operation is released)."""
    numbers = buy(sandbox.client(), 5)
    provider = "urn:pulumi:dev::shop::pulumi:providers:pulumi-python::default::4b1b"
    stack = {"urn": "urn:pulumi:dev::shop::pulumi:pulumi:Stack::shop-dev", "custom": False}
    export_file = {
        "version": 3,
        "deployment": {
            "manifest": {"time": "2026-12-02T06:00:00Z", "magic": "x", "version": "v3.274.1"},
            "secrets_providers": {"type": "passphrase", "state": {"salt": "v1:x"}},
            "resources": [
                {**stack, "type": "pulumi:pulumi:Stack", "outputs": {}},
                _resource("kept", numbers[0], provider=provider, parent=stack["urn"]),
                _resource("sms", numbers[1], provider=provider, parent=stack["urn"]),
            ],
            "pending_operations": [
                {
                    "resource": {
                        "urn": URN.format("web"),
                        "custom": True,
                        "type": PHONE_NUMBER_TYPE,
                        "inputs": {"vendor": "sandbox", "country": "US"},
                        "parent": stack["urn"],
                        "provider": provider,
                    },
                    "type": "creating",
                },
                {
                    "resource": {
                        "urn": URN.format("exact"),
                        "custom": True,
                        "type": PHONE_NUMBER_TYPE,
                        "inputs": {"vendor": "sandbox", "number": numbers[4]},
                    },
                    "type": "creating",
                },
                {"resource": _resource("sms", numbers[1]), "type": "updating"},
                {"resource": _resource("old", numbers[2]), "type": "deleting"},
            ],
        },
    }
    path = tmp_path / "exported.json"
    path.write_text(json.dumps(export_file))
    args = ["audit", "--vendor", "sandbox", "--state", str(path), *config_args(sandbox)]
    code, out, _ = run(*args)
    assert code == 1
    lines = {line.split()[0]: line for line in out.splitlines()[1:] if line.startswith("  +")}
    assert "NOT IN STATE" in lines[numbers[3]]
    assert "managed by old (pending deleting)" in lines[numbers[2]]
    assert "pending creating: web - the create was interrupted" in out
    assert "managed by exact (pending creating)" in lines[numbers[4]]
    assert f"pending creating: exact ({numbers[4]}) - interrupted" in out
    assert f"pending deleting: old ({numbers[2]}) - interrupted; its number counts as held" in out

    report = json.loads(run(*args, "--json")[1])
    assert report["unmanaged"] == [numbers[3]]
    assert report["pending_creates"] == [URN.format("web"), URN.format("exact")]
    assert [(p["type"], p["number"]) for p in report["pending_operations"]] == [
        ("creating", None),
        ("creating", numbers[4]),
        ("updating", numbers[1]),
        ("deleting", numbers[2]),
    ]
    code, out, _ = run(*args, "--release", "--yes")
    assert code == 0 and sandbox.owned_numbers() == {*numbers[:3], numbers[4]}


# -- what the report prints (issue 12.11) and import commands (issue 15.2) ------------------
MONEY = re.compile(r"^\d+\.\d\d [A-Z]{3}/month$")


def test_money_is_printed_one_way_for_every_vendor(backend: Backend, tmp_path: Path) -> None:
    """Two decimals and the currency, the vendor's real price (KrosAI's list rows carry none:
    the audit asks for the number, and prefers the state's recorded cost)."""
    client = backend.client()
    page = client.search(query_of({"country": "US", "area_code": "415"}))
    bought = [client.buy(c, Routing(), {}) for c in page.numbers[:2]]
    expected = [f"{b.monthly_cost.amount:.2f} {b.monthly_cost.currency}/month" for b in bought]
    detail = client.get(bought[1].number, bought[1].vendor_id)
    if detail is not None and detail.monthly_cost.amount == 0:  # Sondos: no price anywhere
        expected[1] = "cost unknown"
    state = export(tmp_path / "s.json", {"a": bought[0].number}, backend.vendor)
    data = json.loads(state.read_text())
    data["deployment"]["resources"][1]["outputs"].update(
        monthly_cost=float(bought[0].monthly_cost.amount), currency="USD"
    )
    state.write_text(json.dumps(data))
    args = ["audit", "--vendor", backend.vendor, "--state", str(state), *config_args(backend)]
    _, out, _ = run(*args)
    for b, cost in zip(bought, expected, strict=True):
        (line,) = [line for line in out.splitlines() if line.strip().startswith(b.number)]
        cells = re.split(r"\s{2,}", line.strip())
        assert cells[2] == cost and (MONEY.match(cost) or cost == "cost unknown"), line
    owned = json.loads(run(*args, "--json")[1])["owned"]
    assert [o["monthly_cost"] for o in owned] == [
        c.split()[0] if MONEY.match(c) else None for c in expected
    ]


def test_price_lookups_are_capped(tmp_path: Path) -> None:
    """KrosAI's list rows carry no price: each unmanaged number costs one lookup, at most
    MAX_PRICE_LOOKUPS a run; the rest print as unknown rather than as a made-up 0.00."""
    krosai = Backend.start("krosai", tmp_path)
    try:
        numbers = buy(krosai.client(), MAX_PRICE_LOOKUPS + 2)
        before = len(krosai.requests())
        _, out, _ = audit_of(krosai)
        rows = [line for line in out.splitlines() if line.startswith("  +")]
        assert len(rows) == len(numbers)
        assert sum("0.80 USD/month" in r for r in rows) == MAX_PRICE_LOOKUPS
        assert sum("cost unknown" in r for r in rows) == 2
        lookups = [p for m, p, _ in krosai.requests()[before:] if re.search(r"numbers/.", p)]
        assert len(lookups) == MAX_PRICE_LOOKUPS  # one GET of the number each
    finally:
        krosai.stop()


def test_a_long_or_hostile_status_keeps_the_columns(sandbox: Backend) -> None:
    numbers = buy(sandbox.client(), 3)
    sandbox.store.update(numbers[0], vendor="sandbox", status="pending-verification-" * 5)
    sandbox.store.update(numbers[1], vendor="sandbox", status="held\x1b[2J\nby\rcarrier")
    _, out, _ = run("audit", "--vendor", "sandbox", *config_args(sandbox))
    rows = out.splitlines()[1:]
    assert len(rows) == 3 and "\x1b" not in out and "\r" not in out
    costs = {row.index("0.80 USD/month") for row in rows}
    assert len(costs) == 1, out  # one column, whatever the status
    assert "pending-verificat..." in out and "held [2J by carrier" in out


def test_the_release_question_takes_only_yes(
    backend: Backend, three: tuple[list[str], Path]
) -> None:
    numbers, state = three
    args = ["audit", "--vendor", backend.vendor, "--state", str(state), "--release"]
    for answer in ("y\n", "Y\n", "ye\n", "yes please\n", ""):
        code, out, _ = run(*args, *config_args(backend), stdin=answer)
        assert code == 1 and "Nothing released" in out
    assert backend.owned_numbers() == set(numbers)
    assert re.search(r"Release 1 number\(s\) \((\d+\.\d\d USD/month|cost unknown)\)", out)
    code, out, _ = run(*args, *config_args(backend), stdin=" YES \n")
    assert code == 0 and backend.owned_numbers() == set(numbers[:2])


def test_import_commands_for_the_unmanaged_numbers(
    backend: Backend, three: tuple[list[str], Path]
) -> None:
    numbers, state = three
    code, out, _ = audit_of(backend, "--state", str(state), "--import-commands", "--adopt-program")
    assert code == 1
    commands = [shlex.split(line) for line in out.splitlines() if line.startswith("pulumi ")]
    name = f"{backend.vendor}-{numbers[2].lstrip('+')}"
    assert commands == [["pulumi", "import", "phonenumbers:index:PhoneNumber", name, numbers[2]]]
    assert f"PhoneNumber({name!r}, vendor={backend.vendor!r}" in out  # the same name
    assert f"pulumi config set phonenumbers:vendor {backend.vendor}" in out


# -- files ------------------------------------------------------------------------------------
def test_load_state_reads_exports_secrets_and_pending_creates(tmp_path: Path) -> None:
    path = export(
        tmp_path / "s.json",
        {"a": "+14155550100"},
        "plivo",
        pending={"b": {"vendor": "plivo", "country": "US"}},
    )
    data = json.loads(path.read_text())
    data["deployment"]["resources"].append(
        {
            "urn": URN.format("c"),
            "type": PHONE_NUMBER_TYPE,
            "id": "+14155550101",
            "outputs": {
                "vendor": "plivo",
                "number": {
                    "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
                    "plaintext": '"+14155550101"',
                },
            },
        }
    )
    data["deployment"]["resources"].append(
        {"urn": "urn:x", "type": "aws:s3/bucket:Bucket", "id": "+14155550199", "outputs": {}}
    )
    path.write_text(json.dumps(data))
    state = load_state(path)
    assert set(state.held_by("plivo")) == {"+14155550100", "+14155550101"}
    assert state.held_by("sinch") == {}
    assert [h.name for h in state.pending("plivo")] == ["b"]
    bare = tmp_path / "bare.json"
    bare.write_text(json.dumps(data["deployment"]))
    assert set(load_state(bare).held_by("plivo")) == {"+14155550100", "+14155550101"}


@pytest.mark.parametrize("content", ["not json", "[1, 2]", '{"deployment": {"resources": 5}}'])
def test_load_state_refuses_junk_by_name(tmp_path: Path, content: str) -> None:
    path = tmp_path / "junk.json"
    path.write_text(content)
    with pytest.raises(ConfigError, match="stack export"):
        load_state(path)
    with pytest.raises(ConfigError, match="cannot read"):
        load_state(tmp_path / "absent.json")


def test_encrypted_config_values_are_reported_not_used(tmp_path: Path) -> None:
    path = tmp_path / "Pulumi.dev.yaml"
    path.write_text(
        "config:\n  phonenumbers:plivoAuthId: MA123\n"
        "  phonenumbers:plivoAuthToken:\n    secure: v1:abc==\n"
    )
    config, encrypted = load_config_file(path)
    assert config == {"plivoAuthId": "MA123"} and encrypted == ["phonenumbers:plivoAuthToken"]
    code, _, err = run("audit", "--vendor", "plivo", f"--config-file={path}", "--config=nonsense=1")
    assert code == 2 and "encrypted" in err and "--config #1: expected KEY=VALUE" in err
    assert "nonsense" not in err  # typed text is never repeated (it may be a credential)


# -- crash recovery -----------------------------------------------------------------------------
def _purchase_rule(
    backend: Backend, provider: ProviderProcess, inputs: dict[str, Any]
) -> dict[str, Any]:
    """The fault rule matching this vendor's purchase request (found by watching a create)."""
    assert backend.emulator is not None
    server, seen = backend.emulator.server, []
    app = server.app

    def recording(environ: dict[str, Any], start_response: Any) -> Any:
        before = len(backend.store.ledger())
        result = app(environ, start_response)
        if any(e["op"] == "buy" for e in backend.store.ledger()[before:]):
            seen.append((environ["REQUEST_METHOD"], environ["PATH_INFO"]))
        return result

    server.app = recording
    try:
        id_, outs = provider.create(URN.format("probe"), inputs)
        provider.delete(URN.format("probe"), id_, outs)
    finally:
        server.app = app
    backend.control("POST", "reset")
    method, path = seen[0]
    return {
        "method": method,
        "path": "^"
        + "/".join("[^/]+" if any(c.isdigit() for c in s) else s for s in path.split("/"))
        + "$",
    }


@pytest.mark.parametrize("vendor", emulated_vendors())
def test_provider_killed_after_the_purchase_leaves_an_orphan_audit_fixes(
    vendor: str, tmp_path: Path, serialized_provider: str
) -> None:
    backend = Backend.start(vendor, tmp_path)
    try:
        provider = ProviderProcess()
        provider.configure({**backend.config, f"{NAMESPACE}:timeoutSeconds": "60"})
        inputs = provider.check(
            URN.format("main"),
            {},
            {
                "__provider": serialized_provider,
                "vendor": vendor,
                "country": "US",
                "area_code": "415",
            },
        ).inputs
        rule = _purchase_rule(backend, provider, inputs)
        kept = buy(backend.client(), 1, area_code="212")  # a number the stack does hold
        backend.faults(rules=[{**rule, "after_commit": True, "slow_ms": 8000, "times": 1}])

        failure: list[BaseException] = []

        def create() -> None:
            try:
                provider.create(URN.format("main"), inputs)
            except ProviderError as exc:
                failure.append(exc)

        worker = threading.Thread(target=create)
        worker.start()
        deadline = time.monotonic() + 20
        while len(backend.owned_numbers()) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)  # until the vendor has committed the purchase
        provider.proc.kill()  # the engine dies with the purchase committed, unanswered
        worker.join(timeout=20)
        provider.close()
        assert failure, "the create should have died with its provider"
        (orphan,) = backend.owned_numbers() - set(kept)

        # the state Pulumi leaves: the held number, and the create it had started
        state = export(
            tmp_path / "crashed.json",
            {"other": kept[0]},
            vendor,
            pending={"main": {"vendor": vendor, "country": "US", "area_code": "415"}},
        )
        code, out, _ = run(
            "audit",
            "--vendor",
            vendor,
            "--state",
            str(state),
            "--adopt-program",
            *config_args(backend),
        )
        assert code == 1 and f"{orphan}" in out and "NOT IN STATE" in out
        assert "pending creating: main - the create was interrupted" in out and "'main'" in out

        code, out, _ = run(
            "audit",
            "--vendor",
            vendor,
            "--state",
            str(state),
            "--release",
            "--yes",
            *config_args(backend),
        )
        assert code == 0 and f"released {orphan}" in out
        assert backend.owned_numbers() == set(kept)
        buys = [e["number"] for e in backend.ledger() if e["op"] == "buy"]
        assert sorted(buys) == sorted([*kept, orphan])
    finally:
        backend.stop()
