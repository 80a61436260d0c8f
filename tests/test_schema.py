"""schema.json is generated from the models; a stale committed file fails here."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

from pulumi_phonenumbers.inputs import INPUT_KEYS
from pulumi_phonenumbers.schema import build_schema

ROOT = Path(__file__).resolve().parent.parent


def test_committed_schema_is_fresh() -> None:
    generated = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; sys.path.insert(0, 'scripts'); "
            "from gen_schema import render; sys.stdout.write(render())",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    committed = (ROOT / "schema.json").read_text()
    assert committed == generated, "schema.json is stale: run `make schema`"


def test_schema_covers_every_input_and_args_field() -> None:
    from pulumi_phonenumbers.resource import PhoneNumberArgs

    schema = build_schema()
    resource = schema["resources"]["phonenumbers:index:PhoneNumber"]
    assert set(resource["inputProperties"]) == set(INPUT_KEYS)
    args_fields = {
        f.name for f in dataclasses.fields(PhoneNumberArgs) if not f.name.startswith("_")
    }
    assert args_fields == set(INPUT_KEYS)
    assert schema["name"] == "phonenumbers"
    assert json.loads(json.dumps(schema)) == schema
    secrets = {k for k, v in schema["config"]["variables"].items() if v.get("secret")}
    assert {"plivoAuthToken", "sinchKeySecret", "krosaiApiKey", "bolnaApiKey"} <= secrets
