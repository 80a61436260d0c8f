"""The package a stack installs: a lean runtime; emulators and test tools are extras.

``pip install pulumi-phonenumbers`` must require exactly pulumi, httpx, pydantic and
phonenumbers, and no runtime module may import the emulators (a web server), the test
tools, or ``werkzeug``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import venv
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RUNTIME_REQUIREMENTS = {"pulumi", "httpx", "pydantic", "phonenumbers"}
SERVER_LIBS = ("werkzeug", "flask", "uvicorn", "starlette", "fastapi", "gunicorn", "aiohttp")

# Imports every runtime module (everything but emulators/ and testing/) and takes a sandbox
# number through buy -> route -> release, with the optional parts made unimportable.
RUNTIME_SCRIPT = textwrap.dedent(
    """
    import importlib, importlib.abc, pathlib, sys, tempfile

    BLOCKED = ("werkzeug", "pulumi_phonenumbers.emulators", "pulumi_phonenumbers.testing")

    class Blocker(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if any(name == b or name.startswith(b + ".") for b in BLOCKED):
                raise ImportError(f"runtime imported {name}")
            return None

    sys.meta_path.insert(0, Blocker())
    import pulumi_phonenumbers

    root = pathlib.Path(pulumi_phonenumbers.__file__).parent
    names = []
    for file in sorted(root.rglob("*.py")):
        parts = file.relative_to(root.parent).with_suffix("").parts
        if parts[1] in ("emulators", "testing"):
            continue
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    for name in names:
        importlib.import_module(name)
    for name in ("PhoneNumber", "PhoneNumberFleet", "PhoneNumberProvider"):
        getattr(pulumi_phonenumbers, name)

    from pulumi_phonenumbers.config import Settings
    from pulumi_phonenumbers.models import NumberQuery, Routing
    from pulumi_phonenumbers.vendors import get_vendor

    db = pathlib.Path(tempfile.mkdtemp()) / "s.db"
    vendor = get_vendor("sandbox", Settings(raw={"sandboxPath": str(db)}, environ={}))
    offer = vendor.search(NumberQuery(country="US", area_code="415")).numbers[0]
    owned = vendor.buy(offer, Routing(label="a"), {})
    vendor.update_routing(owned, owned.routing, Routing(label="b"))
    vendor.release(owned.number, owned.vendor_id)
    assert vendor.get(owned.number) is None
    print("runtime ok", len(names))
    """
)


WHEELHOUSE = ROOT / ".tools" / "wheels"


def _offline_pip() -> dict[str, str]:
    """pip's environment for these tests: the wheelhouse `make wheelhouse` filled (the runtime
    requirements and the build backend), never an index: no test reaches the network."""
    if not any(WHEELHOUSE.glob("pulumi-*.whl")):
        reason = "no wheelhouse in .tools/wheels: run `make wheelhouse`"
        if os.environ.get("PHONENUMBERS_REQUIRE_CLI") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return {**os.environ, "PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(WHEELHOUSE)}


def _run(
    python: str | Path, *args: str, cwd: Path, timeout: float = 240, pip: bool = False
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(python), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=_offline_pip() if pip else None,
    )


def _requirement_names(requires: list[str]) -> set[str]:
    """Distribution names of the unconditional requirements (no ``extra == ...`` marker)."""
    names = set()
    for req in requires:
        if "extra ==" in req:
            continue
        match = re.match(r"[A-Za-z0-9_.\-]+", req)
        assert match, req
        names.add(match.group(0).lower().replace("_", "-"))
    return names


def test_runtime_imports_nothing_optional(tmp_path: Path) -> None:
    result = _run(sys.executable, "-c", RUNTIME_SCRIPT, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.startswith("runtime ok")
    assert int(result.stdout.split()[-1]) >= 20  # it did walk the package


def test_metadata_requires_exactly_the_four_and_extras_carry_the_rest() -> None:
    requires = metadata.requires("pulumi-phonenumbers") or []
    assert _requirement_names(requires) == RUNTIME_REQUIREMENTS
    extras = set(metadata.metadata("pulumi-phonenumbers").get_all("Provides-Extra") or [])
    assert {"emulators", "testing", "dev"} <= extras
    for extra in ("emulators", "testing", "dev"):
        assert any(r.startswith("werkzeug") and f'extra == "{extra}"' in r for r in requires)


def test_emulators_without_the_extra_name_the_fix(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import importlib.abc, sys

        class Blocker(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name == "werkzeug" or name.startswith("werkzeug."):
                    raise ModuleNotFoundError(f"No module named {name!r}", name=name)
                return None

        sys.meta_path.insert(0, Blocker())
        try:
            import pulumi_phonenumbers.testing.backends
        except ModuleNotFoundError as exc:
            print(exc)
        """
    )
    result = _run(sys.executable, "-c", script, cwd=tmp_path)
    assert "pip install 'pulumi-phonenumbers[emulators]'" in result.stdout, result.stderr


@pytest.mark.program
@pytest.mark.timeout(900)
def test_fresh_venv_pip_install_pulls_no_server_library(tmp_path: Path) -> None:
    """A real ``pip install .`` into a new venv, from the wheelhouse only (no index)."""
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(
        ROOT / "pulumi_phonenumbers",
        src / "pulumi_phonenumbers",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    install = _run(
        python, "-m", "pip", "install", "-q", str(src), cwd=tmp_path, timeout=840, pip=True
    )
    assert install.returncode == 0, install.stderr[-3000:]

    show = _run(python, "-m", "pip", "show", "pulumi-phonenumbers", cwd=tmp_path)
    requires = re.search(r"^Requires: (.*)$", show.stdout, re.M)
    assert requires, show.stdout
    assert {r.strip().lower() for r in requires.group(1).split(",")} == RUNTIME_REQUIREMENTS

    listed = _run(python, "-m", "pip", "list", "--format=freeze", cwd=tmp_path)
    installed = {line.split("==")[0].lower() for line in listed.stdout.splitlines()}
    assert not installed & set(SERVER_LIBS), installed

    runtime = _run(python, "-c", RUNTIME_SCRIPT, cwd=tmp_path)
    assert runtime.returncode == 0, runtime.stderr[-3000:]
    emulators = _run(python, "-c", "import pulumi_phonenumbers.emulators", cwd=tmp_path)
    assert "pip install 'pulumi-phonenumbers[emulators]'" in emulators.stderr


def _requirements(example: str) -> list[str]:
    text = (ROOT / "examples" / example / "requirements.txt").read_text()
    return [line.strip() for line in text.splitlines() if line.strip() and line[0] != "#"]


def _dry_run(requirements: Path, cwd: Path, report: Path) -> list[tuple[str, str]]:
    """What ``pip install -r`` would install, run from ``cwd`` as pulumi runs it."""
    done = _run(
        sys.executable,
        "-m",
        "pip",
        "install",
        "--dry-run",
        "--no-deps",
        "-q",
        "--report",
        str(report),
        "-r",
        str(requirements),
        cwd=cwd,
        pip=True,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    data = json.loads(report.read_text())
    return [(i["metadata"]["name"], i["download_info"]["url"]) for i in data["install"]]


@pytest.mark.program
def test_example_requirements_install_this_checkout(tmp_path: Path) -> None:
    examples = sorted(p.name for p in (ROOT / "examples").iterdir() if p.is_dir())
    plain = [e for e in examples if e not in ("gitops", "typescript")]  # typescript: npm
    assert plain and all(_requirements(e) == ["../.."] for e in plain)
    folder = ROOT / "examples" / plain[0]
    installs = _dry_run(folder / "requirements.txt", folder, tmp_path / "report.json")
    assert installs == [("pulumi-phonenumbers", ROOT.as_uri())]


@pytest.mark.program
def test_gitops_requirements_install_the_committed_wheel(tmp_path: Path) -> None:
    version = metadata.version("pulumi-phonenumbers")
    wheel = f"pulumi_phonenumbers-{version}-py3-none-any.whl"
    assert _requirements("gitops") == [f"./wheels/{wheel}"]
    repo = tmp_path / "stack-repo"  # the user's repository: the example at its root
    shutil.copytree(ROOT / "examples" / "gitops", repo)
    built = _run(
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--no-deps",
        "-q",
        "-w",
        "wheels",
        str(ROOT),
        cwd=repo,
        pip=True,
    )  # the command its README gives
    assert built.returncode == 0, built.stderr[-3000:]
    assert (repo / "wheels" / wheel).is_file()
    installs = _dry_run(repo / "requirements.txt", repo, tmp_path / "report.json")
    assert installs == [("pulumi-phonenumbers", (repo / "wheels" / wheel).as_uri())]
    workflow = (repo / ".github" / "workflows" / "phonenumbers.yml").read_text()
    assert workflow.count("pip install -r requirements.txt") == 2


def test_first_setup_shows_pip_progress(tmp_path: Path) -> None:
    """``make demo`` / ``make test`` set up .venv first: pip must not run silently (-q)."""
    venv_dir = tmp_path / "venv"
    dry = subprocess.run(
        ["make", "-n", f"VENV={venv_dir}", f"{venv_dir}/.installed"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert dry.returncode == 0, dry.stderr
    install = [line for line in dry.stdout.splitlines() if "install" in line and "[dev]" in line]
    assert len(install) == 1 and " -q" not in install[0], dry.stdout
    assert any("about a minute" in line for line in dry.stdout.splitlines()), dry.stdout
