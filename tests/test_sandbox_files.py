"""A sandbox file that cannot be used is a clear ConfigError naming the file and the setting.

Corrupt, locked, read-only, a directory, an unknown ``~user`` or a file where its folder
should be: each used to end in "unexpected ... This is a bug".
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from pulumi_phonenumbers.store import Store
from pulumi_phonenumbers.testing import ProviderError, ProviderProcess

pytestmark = pytest.mark.grpc

URN = "urn:pulumi:dev::phonenumbers-test::pulumi-python:dynamic/phonenumbers:PhoneNumber::n"
KEY = "phonenumbers:sandboxPath"


def _corrupt(tmp: Path) -> str:
    (tmp / "corrupt.db").write_bytes(b"this is not SQLite\n" * 400)
    return str(tmp / "corrupt.db")


def _directory(tmp: Path) -> str:
    (tmp / "dir.db").mkdir()
    return str(tmp / "dir.db")


def _file_as_folder(tmp: Path) -> str:
    (tmp / "afile").write_text("x")
    return str(tmp / "afile" / "sandbox.db")


CASES: dict[str, tuple[Callable[[Path], str], str]] = {
    "corrupt": (_corrupt, "not a SQLite database"),
    "directory": (_directory, "is a directory"),
    "no-such-user": (lambda _tmp: "~nosuchuser/sandbox.db", "no user 'nosuchuser'"),
    "file-in-the-way": (_file_as_folder, "a file is in the way"),
}


def _create_error(
    serialized_provider: str, config: dict[str, str], env: dict[str, str] | None = None
) -> str:
    """Create a sandbox number through the real provider server; the error it answers."""
    with ProviderProcess(env=env) as provider:
        provider.configure(config)
        outcome = provider.check(
            URN, {}, {"__provider": serialized_provider, "vendor": "sandbox", "country": "US"}
        )
        assert outcome.failures == []
        with pytest.raises(ProviderError) as info:
            provider.create(URN, outcome.inputs)
    return info.value.last_line


def _assert_clear(message: str, path: str, problem: str) -> None:
    assert problem in message, message
    assert path in message and KEY in message, message
    assert "This is a bug" not in message and "Traceback" not in message, message
    assert "ConfigError" in message, message


@pytest.mark.parametrize("case", sorted(CASES))
def test_unusable_sandbox_file_is_a_config_error(
    case: str, tmp_path: Path, serialized_provider: str
) -> None:
    make, problem = CASES[case]
    path = make(tmp_path)
    message = _create_error(serialized_provider, {KEY: path})
    _assert_clear(message, path, problem)


def test_locked_sandbox_file_waits_timeout_seconds_then_says_so(
    tmp_path: Path, serialized_provider: str
) -> None:
    path = tmp_path / "locked.db"
    Store(path)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another writer holds the file for the whole call
    try:
        config = {KEY: str(path), "phonenumbers:timeoutSeconds": "1"}
        message = _create_error(serialized_provider, config)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    _assert_clear(message, str(path), "held it locked for 1 s")
    assert Store(path).owned() == []  # nothing was bought


READ_ONLY_SCRIPT = textwrap.dedent(
    """
    import sys
    from pulumi_phonenumbers.config import Settings
    from pulumi_phonenumbers.errors import ConfigError
    from pulumi_phonenumbers.models import NumberQuery, Routing
    from pulumi_phonenumbers.vendors.sandbox import SandboxVendor

    settings = Settings(raw={"sandboxPath": sys.argv[1]}, environ={})
    try:
        vendor = SandboxVendor(settings)
        offer = vendor.search(NumberQuery(country="US")).numbers[0]
        vendor.buy(offer, Routing(), {})
    except ConfigError as exc:
        print("ConfigError:", exc)
    else:
        print("bought")
    """
)


def test_read_only_sandbox_file_is_a_config_error(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    path = folder / "sandbox.db"
    Store(path)  # a valid store, then made read-only for the user that runs the provider
    for p in folder.iterdir():
        p.chmod(0o444)
    folder.chmod(0o555)
    command = [sys.executable, "-c", READ_ONLY_SCRIPT, str(path)]
    if os.geteuid() == 0:  # root writes anything: drop the capabilities that allow it
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv: a read-only file is writable")
        command = [setpriv, "--bounding-set=-dac_override,-dac_read_search,-fowner", *command]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    finally:
        folder.chmod(0o755)
    assert result.stdout.startswith("ConfigError:"), result.stdout + result.stderr[-2000:]
    _assert_clear(result.stdout, str(path), "may not write to it")
