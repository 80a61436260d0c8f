"""The GitOps example's workflow, its commands run as written, against a local backend.

The two ``run:`` lines of ``examples/gitops/.github/workflows/phonenumbers.yml``
(``pulumi preview --diff ...`` on pull requests, ``pulumi up --yes ...`` on main) run in a
shell with the workflow's environment: ``STACK=prod``, Plivo credentials as environment
variables (here: the Plivo emulator's), the committed ``Pulumi.prod.yaml``. Then
``protectMainLine`` shows the engine's own refusal to destroy a protected number.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from cli_helpers import EXAMPLES, assert_no_double_spend, events, marks, owned, state_numbers

from pulumi_phonenumbers.testing._cli import PulumiCLI
from pulumi_phonenumbers.testing.backends import Backend
from pulumi_phonenumbers.vendors import vendor_class

pytestmark = pytest.mark.cli

WORKFLOW = EXAMPLES / "gitops" / ".github" / "workflows" / "phonenumbers.yml"


def _step(job: str, starts: str) -> tuple[str, dict[str, str]]:
    """The step's ``run:`` line and its own ``env:`` block."""
    doc = yaml.safe_load(WORKFLOW.read_text())
    steps = [s for s in doc["jobs"][job]["steps"] if s.get("run", "").startswith(starts)]
    return steps[0]["run"], {k: str(v) for k, v in (steps[0].get("env") or {}).items()}


def test_gitops_workflow_commands_run_as_written(plivo: Backend, tmp_path: Path) -> None:
    preview_line, preview_env = _step("preview", "pulumi preview --diff")
    up_line, up_env = _step("up", "pulumi up --yes")
    assert preview_env == {"PHONENUMBERS_PREVIEW_INVENTORY": "true"} and up_env == {}
    targets = vendor_class("plivo").info.target_examples
    cli = PulumiCLI(EXAMPLES / "gitops", tmp_path / "work", stack="prod", stack_files=True)
    cli.run("stack", "init", "prod")
    cli.set_config("voiceTarget", targets[0])
    ci_env = {  # the workflow's env: block, with the emulator standing in for Plivo
        "STACK": "prod",
        "PLIVO_AUTH_ID": plivo.config["phonenumbers:plivoAuthId"],
        "PLIVO_AUTH_TOKEN": plivo.config["phonenumbers:plivoAuthToken"],
        "PLIVO_BASE_URL": plivo.config["phonenumbers:plivoBaseUrl"],
    }
    prod = yaml.safe_load((cli.project / "Pulumi.prod.yaml").read_text())["config"]
    assert prod["phonenumbers:vendor"] == "plivo" and "plivoAuthToken" not in str(prod)

    # pull request: the plan (previewInventory searches), nothing bought
    before = marks([plivo])
    pr = cli.shell(preview_line, {**ci_env, **preview_env})
    assert pr.returncode == 0, pr.output
    assert "main-line" in pr.stdout and "+ 5 to create" in pr.stdout  # stack, fleet, 3 numbers
    assert marks([plivo]) == before

    # a pull request asking for numbers that cannot be had fails at preview, naming why
    cli.set_config("areaCode", "999")
    pr = cli.shell(preview_line, {**ci_env, **preview_env})
    assert pr.returncode != 0
    assert "area_code" in pr.output, pr.output
    assert "no US local number in 999 with voice at plivo" in pr.output
    assert marks([plivo]) == before
    cli.set_config("areaCode", "415")

    # merge to main: applied
    main = cli.shell(up_line, ci_env)
    assert main.returncode == 0, main.output
    numbers = state_numbers(cli.export())
    assert len(numbers) == 3 and set(events([plivo], "buy")) == set(numbers.values())

    # a routing change goes through the same two steps: updates only
    cli.set_config("voiceTarget", targets[1])
    pr = cli.shell(preview_line, {**ci_env, **preview_env})
    assert pr.returncode == 0 and "3 to update" in pr.stdout, pr.output
    assert targets[1] in pr.stdout  # --diff shows the new routing
    routed = marks([plivo])
    main = cli.shell(up_line, ci_env)
    assert main.returncode == 0, main.output
    assert set(events([plivo], "update", routed)) == set(numbers.values())
    assert state_numbers(cli.export()) == numbers

    # protectMainLine: the engine refuses to destroy, and releases nothing it protects
    cli.set_config("protectMainLine", "true")
    assert cli.shell(up_line, ci_env).returncode == 0
    destroyed = cli.shell('pulumi destroy --yes --stack "$STACK" --non-interactive', ci_env)
    assert destroyed.returncode != 0
    assert "protected" in destroyed.output, destroyed.output
    main_line = numbers["main-line"]
    assert main_line in owned([plivo]) and main_line not in events([plivo], "release")
    assert state_numbers(cli.export()).get("main-line") == main_line

    cli.set_config("protectMainLine", "false")
    assert cli.shell(up_line, ci_env).returncode == 0
    assert cli.shell('pulumi destroy --yes --stack "$STACK"', ci_env).returncode == 0
    assert owned([plivo]) == set() and state_numbers(cli.export()) == {}
    assert set(events([plivo], "release")) == set(numbers.values())
    assert_no_double_spend([plivo])
