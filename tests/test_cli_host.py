"""The stand-in language host runs a program the way the Go host ``pulumi-language-python`` does.

The Go host answers the engine's ``Run`` by starting the SDK's ``pulumi-language-python-exec``
in a process of its own. Through the real CLI: the stack trace the engine records for each
number is that process's (the exec script, the program, our component), not the stand-in's
gRPC threads; config reaches the program, secrets stay secret; and a program that raises fails
the run with the exec script's own message and the user's line, buying nothing.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_helpers import events, program_stack

from pulumi_phonenumbers.testing import _inline_host
from pulumi_phonenumbers.testing._cli import PulumiCLI
from pulumi_phonenumbers.testing.backends import Backend

pytestmark = pytest.mark.cli

PROGRAM = """
import pulumi
from pulumi_phonenumbers import PhoneNumberFleet

config = pulumi.Config()
fleet = PhoneNumberFleet("fleet", size=config.require_int("size"), vendor="plivo",
                         country="US", number_type="local")
pulumi.export("numbers", fleet.numbers)
if config.get_bool("fail"):
    raise RuntimeError("the program stops here on purpose")
"""


def _cli(tmp_path: Path, plivo: Backend, size: int) -> PulumiCLI:
    return program_stack(tmp_path, "hosted", PROGRAM, {**plivo.config, "hosted:size": size})


def test_each_number_records_the_exec_process_stack_not_the_hosts(
    plivo: Backend, tmp_path: Path
) -> None:
    cli = _cli(tmp_path, plivo, 2)
    numbers = cli.up()["numbers"]
    assert sorted(numbers.values()) == sorted(events([plivo], "buy")) and len(numbers) == 2
    state = cli.export()
    members = [r for r in state["deployment"]["resources"] if r.get("id") in numbers.values()]
    assert len(members) == 2
    for member in members:
        frames = [f.get("sourcePosition", "") for f in member["stackTrace"]]
        assert any("pulumi-language-python-exec" in f for f in frames), frames
        assert any(f.startswith("project:///__main__.py#") for f in frames), frames
        for host_frame in ("_inline_host", "grpc/", "automation/", "concurrent/futures"):
            assert not any(host_frame in f for f in frames), (host_frame, frames)
        # our own frames: the PhoneNumber constructor and one for the fleet's loop
        assert sum("pulumi_phonenumbers/" in f for f in frames) == 2, frames
    text = str(state) + (cli.project / "Pulumi.dev.yaml").read_text()
    for secret in plivo.secret_values():
        assert secret not in text
    cli.destroy()
    assert sorted(events([plivo], "release")) == sorted(numbers.values())


def test_a_program_that_raises_fails_the_run_with_its_line_and_buys_nothing(
    plivo: Backend, tmp_path: Path
) -> None:
    cli = _cli(tmp_path, plivo, 1)
    cli.set_config("hosted:fail", "true")
    # `up` with its preview: the preview runs the program and stops at the error
    result = cli.run("up", "--yes", "--stack", cli.stack, check=False)
    assert result.returncode != 0
    assert "Program failed with an unhandled exception" in result.output, result.output
    assert "the program stops here on purpose" in result.output
    assert "__main__.py" in result.output
    for secret in plivo.secret_values():
        assert secret not in result.output
    assert events([plivo], "buy") == []


def test_without_the_exec_script_the_host_says_which_target_builds_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # a PATH with no pulumi-language-python-exec
    with pytest.raises(SystemExit, match="make pulumi-cli"):
        _inline_host.executor()
