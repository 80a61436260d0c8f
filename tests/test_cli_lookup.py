"""``get_available_numbers`` inside a program at ``pulumi preview``, through the real CLI.

The Plivo credentials are set with ``pulumi config set --secret``; the program reads them
from stack config. The preview shows the candidates as stack outputs; nothing is bought.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from cli_helpers import events, program_stack

from pulumi_phonenumbers.testing.backends import Backend

pytestmark = pytest.mark.cli

PROGRAM = """
import pulumi
from pulumi_phonenumbers import get_available_numbers

found = get_available_numbers(vendor="plivo", country="US", area_code="415", limit=5)
pulumi.export("candidates", [[r.number, r.monthly_cost, r.locality] for r in found])
"""


def test_lookup_runs_at_preview_with_secret_stack_config(plivo: Backend, tmp_path: Path) -> None:
    cli = program_stack(tmp_path, "lookup", PROGRAM, plivo.config)  # credentials as secrets
    text = cli.preview()  # the stack outputs are printed under --outputs:--
    numbers = re.findall(r'\[0\]: "(\+\d+)"', text)
    prices = re.findall(r"\[1\]: ([0-9.]+)", text)
    localities = re.findall(r'\[2\]: "([^"]+)"', text)
    assert len(numbers) == len(prices) == len(localities) == 5, text
    assert all(n.startswith("+1415") for n in numbers) and all(float(p) > 0 for p in prices)
    assert events([plivo], "buy") == []
    text += (cli.project / "Pulumi.dev.yaml").read_text()
    for secret in plivo.secret_values():
        assert secret not in text
