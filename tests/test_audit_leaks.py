"""No credential value in any output of the command line, whatever the user types.

The forms a user slips into (``KEY:VALUE``, ``KEY VALUE``, the value alone, the right
pair behind the wrong option, an ambiguous abbreviation) are tried one by one, then fuzzed
with hypothesis through the console command in a subprocess, against every vendor's
emulator (so the runs that get past the parser reach a vendor, succeed or fail there).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from pulumi_phonenumbers.__main__ import main
from pulumi_phonenumbers.config import CONFIG_KEYS, NAMESPACE
from pulumi_phonenumbers.testing.backends import Backend, emulated_vendors

SECRET_KEYS = sorted(k.name for k in CONFIG_KEYS if k.secret)
ENV_OF = {k.name: k.env for k in CONFIG_KEYS if k.env}
VENDORS = ["sandbox", *emulated_vendors()]
#: Vendor environment variables the test sets itself (never inherited from the machine).
VENDOR_ENV_PREFIXES = ("PLIVO", "SINCH", "KROSAI", "BOLNA", "SONDOS", "PHONENUMBERS")

Form = Callable[[str, str], list[str]]
#: Ways of typing KEY and VALUE, right and wrong.
FORMS: dict[str, Form] = {
    "KEY=VALUE": lambda k, v: ["--config", f"{k}={v}"],
    "--config=KEY=VALUE": lambda k, v: [f"--config={k}={v}"],
    "ns:KEY=VALUE": lambda k, v: ["--config", f"{NAMESPACE}:{k}={v}"],
    "KEY:VALUE": lambda k, v: ["--config", f"{k}:{v}"],
    "ns:KEY:VALUE": lambda k, v: ["--config", f"{NAMESPACE}:{k}:{v}"],
    "KEY VALUE": lambda k, v: ["--config", k, v],
    "KEY= VALUE": lambda k, v: ["--config", f"{k}=", v],
    "key=VALUE (case)": lambda k, v: ["--config", f"{k.lower()}={v}"],
    "VALUE alone": lambda k, v: ["--config", v],
    "--config=VALUE": lambda k, v: [f"--config={v}"],
    "--config-file KEY=VALUE": lambda k, v: ["--config-file", f"{k}={v}"],
    "--state KEY=VALUE": lambda k, v: ["--state", f"{k}={v}"],
    "--state VALUE": lambda k, v: ["--state", v],
    "--KEY VALUE": lambda k, v: [f"--{k}", v],
    "--KEY=VALUE": lambda k, v: [f"--{k}={v}"],
    "positional KEY=VALUE": lambda k, v: [f"{k}={v}"],
    "positional VALUE": lambda k, v: [v],
    "ENV=VALUE": lambda k, v: [f"{ENV_OF[k]}={v}"],
    "--conf=KEY=VALUE (ambiguous)": lambda k, v: [f"--conf={k}={v}"],
    "--conf KEY=VALUE (ambiguous)": lambda k, v: ["--conf", f"{k}={v}"],
    "--vendor VALUE": lambda k, v: ["--vendor", v],
    "--vendor=VALUE": lambda k, v: [f"--vendor={v}"],
    "--json=VALUE": lambda k, v: [f"--json={v}"],
    "--release=VALUE": lambda k, v: [f"--release={v}"],
    "sub-command VALUE": lambda k, v: [v, "audit"],
}


def printed_forms(secret: str) -> set[str]:
    """How a secret could show: raw, repr-escaped, JSON-escaped, URL-encoded."""
    return {
        secret,
        repr(secret)[1:-1],
        json.dumps(secret)[1:-1],
        urllib.parse.quote(secret),
        urllib.parse.quote(secret, safe=""),
    }


def assert_no_secret(text: str, secrets: list[str]) -> None:
    for secret in secrets:
        for form in printed_forms(secret):
            assert form not in text, f"{secret!r} printed (as {form!r}):\n{text}"


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    old = sys.stdin
    sys.stdin = io.StringIO("")
    try:
        code = main(argv, out, err)
    finally:
        sys.stdin = old
    return code, out.getvalue(), err.getvalue()


# -- the forms of the issue, one by one (no vendor reached) -------------------------------
SECRET = "MAZ9Q8W7E6R5T4Y3U2I1"


@pytest.mark.parametrize("form", sorted(FORMS))
@pytest.mark.parametrize("key", ["plivoAuthId", "sinchKeySecret"])
def test_no_typed_form_echoes_the_value(form: str, key: str, tmp_path: Path) -> None:
    vendor = key.removesuffix("AuthId").removesuffix("KeySecret")
    argv = ["audit", "--vendor", vendor, *FORMS[form](key, SECRET)]
    # the forms that parse reach the vendor: keep that on a closed local port
    base = {"plivo": "plivoBaseUrl", "sinch": "sinchBaseUrl"}[vendor]
    argv += ["--config", f"{base}=http://127.0.0.1:9", "--config", "timeoutSeconds=2"]
    argv += ["--config", "sinchAuthBaseUrl=http://127.0.0.1:9"]
    code, out, err = run(argv)
    assert code == 2, (out, err)
    assert_no_secret(out + err, [SECRET])
    assert err.strip() and "Traceback" not in err


def test_the_two_reported_slips_get_a_useful_message() -> None:
    code, _, err = run(["audit", "--vendor", "plivo", "--config", f"plivoAuthId:{SECRET}"])
    assert code == 2 and SECRET not in err
    assert "--config plivoAuthId...: expected plivoAuthId=VALUE" in err

    code, _, err = run(["audit", "--vendor", "sinch", "--config", "sinchKeySecret", SECRET])
    assert code == 2 and SECRET not in err
    assert "unrecognized arguments: ***" in err
    assert "--config KEY=VALUE as one argument" in err

    code, _, err = run(["audit", "--vendor", "sinch", "--config", "sinchKeyScret=x"])
    assert code == 2 and "did you mean sinchKeySecret?" in err


def test_a_config_file_that_does_not_parse_is_not_quoted(tmp_path: Path) -> None:
    path = tmp_path / "Pulumi.dev.yaml"
    path.write_text(
        f"config:\n  {NAMESPACE}:plivoAuthId: MA1\n {SECRET} {NAMESPACE}:plivoAuthToken: [\n"
    )
    code, out, err = run(["audit", "--vendor", "plivo", f"--config-file={path}"])
    assert code == 2 and "neither JSON nor YAML" in err and "line 3" in err
    assert_no_secret(out + err, [SECRET])


def test_a_credential_no_request_can_carry_is_one_clear_error() -> None:
    secret = "kros_live_Zé81Qa"
    argv = ["audit", "--vendor", "krosai", "--config", f"krosaiApiKey={secret}"]
    code, out, err = run([*argv, "--config", "krosaiBaseUrl=http://127.0.0.1:9"])
    assert code == 2 and "Traceback" not in err
    assert "phonenumbers:krosaiApiKey holds a character no credential can hold" in err
    assert_no_secret(out + err, [secret])


# -- fuzzed, through the console command -------------------------------------------------
@pytest.fixture(scope="module")
def backends(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Backend]]:
    started = {v: Backend.start(v, tmp_path_factory.mktemp(f"leak-{v}")) for v in VENDORS}
    yield started
    for backend in started.values():
        backend.stop()


def subprocess_env(backends: dict[str, Backend]) -> dict[str, str]:
    """The machine's environment without vendor variables, pointed at the emulators."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(VENDOR_ENV_PREFIXES)}
    for backend in backends.values():
        for key, value in backend.config.items():
            name = key.removeprefix(f"{NAMESPACE}:")
            if name != "vendor" and ENV_OF.get(name):
                env[ENV_OF[name]] = value
    env["PHONENUMBERS_TIMEOUT_SECONDS"] = "5"
    return env


@st.composite
def secrets(draw: st.DrawFn) -> str:
    """Credential-looking values: mixed case and digits, some with quotes and escapes."""
    prefix = draw(st.sampled_from(["", "MA", "SA", "kros_live_", "sk-", "Bearer "]))
    body = draw(
        st.text(
            alphabet="ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz0123456789"
            "-_+/=.:@!%&*'\"\\é",
            min_size=10,
            max_size=40,
        )
    )
    value = prefix + body
    assume(any(c.isupper() for c in body) and any(c.islower() for c in body))
    assume(sum(c.isdigit() for c in body) >= 2)
    assume(not value.startswith("-"))
    return value


#: Forms the parser accepts: the command goes on to the vendor with the typed value.
PARSED = ["KEY=VALUE", "--config=KEY=VALUE", "ns:KEY=VALUE"]


@st.composite
def commands(draw: st.DrawFn, state: str) -> tuple[list[str], list[str]]:
    """``(argv, typed secret values)``: ``audit`` or ``search``, a vendor, 1-3 credential
    slips, some flags.

    Half the cases use only forms that parse, so that they reach the vendor (and its
    answer, an error or a report, is printed); ``state`` is a valid export to name.
    """
    vendor = draw(st.sampled_from(VENDORS))
    values = draw(st.lists(secrets(), min_size=1, max_size=3))
    forms = PARSED if draw(st.booleans()) else sorted(FORMS)
    groups: list[list[str]] = [["--vendor", vendor]]
    for value in values:
        key = draw(st.sampled_from(SECRET_KEYS))
        groups.append(FORMS[draw(st.sampled_from(forms))](key, value))
    flags = draw(st.lists(st.sampled_from(["--json", "--adopt-program", "--release", "--yes"])))
    groups += [[flag] for flag in flags]
    if draw(st.booleans()):
        groups.append(["--state", state])
    groups = draw(st.permutations(groups))
    argv = [word for group in groups for word in group]
    if draw(st.integers(0, 9)) != 9:  # mostly with a sub-command in front
        # `search` shares the credential handling (and never buys)
        argv.insert(0, draw(st.sampled_from(["audit", "search"])))
    return argv, values


def fuzz(examples: int) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )


@pytest.fixture
def empty_state(tmp_path: Path) -> str:
    """A valid export holding nothing (so that ``--state`` cases get past the file)."""
    state = tmp_path / "state.json"
    state.write_text(json.dumps({"version": 3, "deployment": {"manifest": {}, "resources": []}}))
    return str(state)


def test_fuzzed_arguments_never_print_a_credential(
    backends: dict[str, Backend], empty_state: str
) -> None:
    """The console command in a subprocess (the real argv, stdout and stderr)."""
    env = subprocess_env(backends)
    configured = [s for b in backends.values() for s in b.secret_values()]
    script = Path(sys.executable).with_name("pulumi-phonenumbers")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "pulumi_phonenumbers"]

    @fuzz(25)
    @given(commands(empty_state))
    def probe(case: tuple[list[str], list[str]]) -> None:
        argv, typed = case
        done = subprocess.run(
            [*command, *argv],
            capture_output=True,
            text=True,
            env=env,
            stdin=subprocess.DEVNULL,
            timeout=60,
        )
        assert done.returncode in (0, 1, 2), done.stderr
        assert "Traceback" not in done.stderr, done.stderr
        assert_no_secret(done.stdout + done.stderr, [*typed, *configured])

    probe()
    assert_nothing_bought_or_released(backends)


def test_fuzzed_arguments_in_process(backends: dict[str, Backend], empty_state: str) -> None:
    """Many more cases through ``main()`` (same environment, no interpreter start-up)."""
    configured = [s for b in backends.values() for s in b.secret_values()]

    @fuzz(250)
    @given(commands(empty_state))
    def probe(case: tuple[list[str], list[str]]) -> None:
        argv, typed = case
        code, out, err = run(argv)
        assert code in (0, 1, 2) and "Traceback" not in err, err
        assert_no_secret(out + err, [*typed, *configured])

    with pytest.MonkeyPatch.context() as patch:
        for name in [k for k in os.environ if k.startswith(VENDOR_ENV_PREFIXES)]:
            patch.delenv(name)
        for name, value in subprocess_env(backends).items():
            patch.setenv(name, value)
        probe()
    assert_nothing_bought_or_released(backends)


def assert_nothing_bought_or_released(backends: dict[str, Backend]) -> None:
    for backend in backends.values():
        assert not [e for e in backend.ledger() if e["op"] in ("buy", "release")]
