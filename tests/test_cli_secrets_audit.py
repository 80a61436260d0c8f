"""Credentials set with ``pulumi config set --secret`` and the audit fed by ``pulumi stack export``.

The Plivo example against the Plivo emulator: the auth id and token never appear in plain
text in ``pulumi stack export``, ``Pulumi.<stack>.yaml`` or anything the CLI prints; the
export is what ``python -m pulumi_phonenumbers audit --state`` reads, with the credentials
from ``pulumi config --json --show-secrets``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_helpers import new_stack, owned, run_audit, state_numbers

from pulumi_phonenumbers.models import NumberQuery, Routing
from pulumi_phonenumbers.testing.backends import Backend
from pulumi_phonenumbers.vendors import vendor_class

pytestmark = pytest.mark.cli


def test_secrets_stay_secret_and_the_export_feeds_the_audit(tmp_path: Path) -> None:
    plivo = Backend.start("plivo", tmp_path / "plivo")
    try:
        secrets = plivo.secret_values()
        assert len(secrets) == 2 and all(len(s) >= 10 for s in secrets)
        config = {**plivo.config, "voiceTarget": vendor_class("plivo").info.target_examples[0]}
        cli = new_stack("plivo", tmp_path, config)
        printed = [
            cli.run("preview", "--diff", "--stack", cli.stack).output,
            cli.run("up", "--yes", "--stack", cli.stack).output,
            cli.run("stack", "output", "--json", "--stack", cli.stack).output,
            cli.run("config", "--stack", cli.stack).output,
        ]
        export = cli.run("stack", "export", "--stack", cli.stack).stdout
        stack_file = (cli.project / f"Pulumi.{cli.stack}.yaml").read_text()
        assert "secure:" in stack_file
        for secret in secrets:
            assert secret not in export, "a credential is in the state in plain text"
            assert secret not in stack_file, "a credential is in Pulumi.<stack>.yaml"
            assert not [out for out in printed if secret in out], "the CLI printed a credential"

        numbers = state_numbers(json.loads(export))
        config_json = cli.run("config", "--json", "--show-secrets", "--stack", cli.stack).stdout
        (tmp_path / "config.json").write_text(config_json)
        audit = ("--vendor", "plivo", "--config-file", str(tmp_path / "config.json"))
        code, report, _ = run_audit(tmp_path, export, *audit)
        assert code == 0
        assert {o["number"] for o in report["owned"]} == set(numbers.values())
        assert report["unmanaged"] == [] and report["missing"] == []

        # a number bought behind the stack's back is what the audit is for
        client = plivo.client()
        query = NumberQuery(country="US", area_code="415", capabilities=("voice",))
        stray = client.buy(client.search(query).numbers[-1], Routing(), {}).number
        code, report, _ = run_audit(tmp_path, export, *audit)
        assert code == 1 and report["unmanaged"] == [stray]

        destroyed = cli.destroy()
        assert not [s for s in secrets if s in destroyed.output]
        assert owned([plivo]) == {stray}
    finally:
        plivo.stop()
