"""The native plugin through the real CLI: the engine finds ``pulumi-resource-phonenumbers``
on ``PATH`` (automatic plugin acquisition off), and a number moves from the dynamic face to
the native one without being bought or released.

Python programs declare the native resource as a plain ``pulumi.CustomResource`` of type
``phonenumbers:index:PhoneNumber`` (no generated Python SDK: it would shadow this package).
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from cli_helpers import events, program_stack

from pulumi_phonenumbers.models import NumberQuery, Routing
from pulumi_phonenumbers.testing._cli import PulumiCLI
from pulumi_phonenumbers.testing._language_plugin import install as install_language_plugin
from pulumi_phonenumbers.testing.backends import Backend
from pulumi_phonenumbers.vendors import vendor_class

pytestmark = pytest.mark.cli

NATIVE_TYPE = "phonenumbers:index:PhoneNumber"
DYNAMIC_TYPE = "pulumi-python:dynamic/phonenumbers:PhoneNumber"

DYNAMIC = """
import pulumi
from pulumi_phonenumbers import PhoneNumber, RoutingArgs

n = PhoneNumber("support", vendor="plivo", country="US", area_code="415",
                routing=RoutingArgs(voice_target="{target}"))
pulumi.export("number", n.number)
"""

NATIVE = """
import pulumi

n = pulumi.CustomResource(
    "phonenumbers:index:PhoneNumber",
    "support",
    {{"vendor": "plivo", "country": "US", "area_code": "415",
      "routing": {{"voice_target": "{target}"}}, "number": None}},
    opts=pulumi.ResourceOptions(
        aliases=[pulumi.Alias(type_="pulumi-python:dynamic/phonenumbers:PhoneNumber")]{extra}
    ),
)
pulumi.export("number", n.number)
"""


def _stack(tmp_path: Path, program: str, backend: Backend) -> PulumiCLI:
    return program_stack(tmp_path, "migrate", program, backend.config)


def _types(cli: PulumiCLI) -> dict[str, str]:
    return {
        r["type"]: r.get("id", "")
        for r in cli.export()["deployment"]["resources"]
        if r["type"] in (NATIVE_TYPE, DYNAMIC_TYPE)
    }


def test_alias_moves_a_number_from_the_dynamic_to_the_native_face(
    plivo: Backend, tmp_path: Path
) -> None:
    first, second = vendor_class("plivo").info.target_examples
    cli = _stack(tmp_path, DYNAMIC.format(target=first), plivo)
    number = cli.up()["number"]
    assert _types(cli) == {DYNAMIC_TYPE: number}

    # the alias: same URN name, new type and provider; nothing to create, delete or replace
    (cli.project / "__main__.py").write_text(NATIVE.format(target=first, extra=""))
    plan = json.loads(cli.run("preview", "--json", "--stack", "dev").stdout)
    assert set(plan["changeSummary"]) == {"same"}, plan["changeSummary"]
    assert cli.up()["number"] == number
    assert _types(cli) == {NATIVE_TYPE: number}
    assert events([plivo], "buy") == [number] and events([plivo], "release") == []

    # the native face now owns it: a routing edit is an in-place update
    (cli.project / "__main__.py").write_text(NATIVE.format(target=second, extra=""))
    plan = json.loads(cli.run("preview", "--json", "--stack", "dev").stdout)
    assert plan["changeSummary"].get("update") == 1 and "replace" not in plan["changeSummary"]
    cli.up()
    assert plivo.client().get(number).routing.voice_target == second  # type: ignore[union-attr]
    assert events([plivo], "buy") == [number] and events([plivo], "release") == []

    cli.destroy()  # bought by this stack: released on destroy, exactly once
    assert events([plivo], "release") == [number]


def test_pulumi_import_of_an_owned_number_and_destroy_keeps_it(
    plivo: Backend, tmp_path: Path
) -> None:
    client = plivo.client()
    offered = client.search(NumberQuery(country="US", area_code="415")).numbers[0]
    number = client.buy(offered, Routing(), {}).number
    cli = _stack(tmp_path, "import pulumi\n", plivo)
    if cli.inline:  # no Go language host: `pulumi import` takes no --client
        shims = tmp_path / "language-host"
        install_language_plugin(shims)
        cli.env["PATH"] = f"{shims}:{cli.env['PATH']}"

    cli.run(
        "import",
        NATIVE_TYPE,
        "support",
        number,
        "--yes",
        "--protect=false",
        "--generate-code=false",
        "--stack",
        "dev",
    )
    [imported] = [r for r in cli.export()["deployment"]["resources"] if r["type"] == NATIVE_TYPE]
    assert imported["id"] == number and "__provider" not in imported["outputs"]
    assert imported["inputs"] == {
        "vendor": "plivo",
        "number": number,
        "adopt": True,
        "country": "US",
        "number_type": "local",
    }
    assert imported["outputs"]["vendor_id"] and imported["outputs"]["monthly_cost"] > 0
    # credentials set with --secret: encrypted in the provider's state, never in plain text
    export = json.dumps(cli.export())
    assert all(secret not in export for secret in plivo.secret_values())

    cli.destroy()  # imported = adopted: destroy forgets it, the account keeps it
    assert number in plivo.owned_numbers()
    assert events([plivo], "buy") == [number] and events([plivo], "release") == []


FLEET = """
import pulumi

class Fleet(pulumi.ComponentResource):
    numbers: pulumi.Output[dict]
    monthly_cost: pulumi.Output[float]

    def __init__(self, name, props):
        outs = {"numbers": None, "monthly_cost": None}
        super().__init__("phonenumbers:index:PhoneNumberFleet", name, {**props, **outs},
                         None, remote=True)

fleet = Fleet("pool", {"keys": ["a", "b"], "vendor": "plivo", "country": "US",
                       "area_code": "415", "routing": {"voice_target": "%s"}})
found = pulumi.runtime.invoke("phonenumbers:index:getAvailableNumbers",
                              {"vendor": "plivo", "area_code": "415", "limit": 3}).value
pulumi.export("numbers", fleet.numbers)
pulumi.export("cost", fleet.monthly_cost)
pulumi.export("found", [n["number"] for n in found["numbers"]])
"""


def test_fleet_over_construct_and_invoke_lifecycle(plivo: Backend, tmp_path: Path) -> None:
    first, second = vendor_class("plivo").info.target_examples
    cli = _stack(tmp_path, FLEET % first, plivo)
    out = cli.up()
    numbers = set(out["numbers"].values())
    assert set(out["numbers"]) == {"a", "b"} and len(numbers) == 2 and out["cost"] > 0
    assert len(out["found"]) == 3 and all(n.startswith("+1415") for n in out["found"])
    assert sorted(events([plivo], "buy")) == sorted(numbers)  # the look-up bought nothing

    (cli.project / "__main__.py").write_text(textwrap.dedent(FLEET % second))
    plan = json.loads(cli.run("preview", "--json", "--stack", "dev").stdout)
    assert plan["changeSummary"].get("update") == 2 and "replace" not in plan["changeSummary"]
    cli.up()
    for number in numbers:
        assert plivo.client().get(number).routing.voice_target == second  # type: ignore[union-attr]
    cli.refresh()
    assert sorted(events([plivo], "buy")) == sorted(numbers) and events([plivo], "release") == []

    # a provider config change updates the provider, never replaces its numbers
    cli.set_config("phonenumbers:timeoutSeconds", "20")
    plan = json.loads(cli.run("preview", "--json", "--stack", "dev").stdout)
    assert not {"create", "delete", "replace"} & set(plan["changeSummary"]), plan["changeSummary"]

    cli.destroy()
    assert sorted(events([plivo], "release")) == sorted(numbers)
