"""The local test engine: whole programs through the real provider, on the sandbox.

Every assertion about vendor effects reads the sandbox store's ledger (what was bought,
re-routed and released), never the engine's own bookkeeping alone.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pulumi
import pytest

from pulumi_phonenumbers import PhoneNumber, RoutingArgs
from pulumi_phonenumbers.testing import EngineError, LocalEngine
from pulumi_phonenumbers.testing._checkpoint import Checkpointer, CheckpointError
from pulumi_phonenumbers.testing.backends import Backend, emulated_vendors

PHONE = "pulumi-python:dynamic/phonenumbers:PhoneNumber"


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Backend]:
    backend = Backend.start("sandbox", tmp_path / "sandbox")
    yield backend
    backend.stop()


def _engine(
    program: Callable[[], Any], backend: Backend, tmp_path: Path, **config: Any
) -> LocalEngine:
    return LocalEngine(program, config={**backend.config, **config}, state=tmp_path / "state.json")


def _project(directory: Path, files: dict[str, str]) -> Path:
    """A project directory holding ``files`` (relative path -> text)."""
    for name, text in files.items():
        (directory / name).parent.mkdir(parents=True, exist_ok=True)
        (directory / name).write_text(text)
    return directory


def _events(backend: Backend, op: str | None = None) -> list[tuple[str, str]]:
    return [(e["op"], e["number"]) for e in backend.ledger() if op is None or e["op"] == op]


def _numbers_program() -> None:
    """``names`` numbers in area ``area``, routed to ``target``; options from config."""
    config = pulumi.Config()
    names = config.get_object("names") or ["a", "b"]
    protected = set(config.get_object("protect") or [])
    retained = set(config.get_object("retain") or [])
    made: dict[str, PhoneNumber] = {}
    for name in names:
        made[name] = PhoneNumber(
            name,
            country="US",
            area_code=config.get("area") or "415",
            routing=RoutingArgs(voice_target=config.get("target") or "t-1"),
            opts=pulumi.ResourceOptions(
                protect=name in protected,
                retain_on_delete=name in retained,
                delete_before_replace=config.get_bool("dbr") or False,
                ignore_changes=config.get_object("ignore") or None,
                depends_on=[made[d] for d in (config.get_object("chain") or {}).get(name, [])],
            ),
        )
    pulumi.export("numbers", {n: r.number for n, r in made.items()})


def test_preview_plans_without_vendor_calls(sandbox: Backend, tmp_path: Path) -> None:
    engine = _engine(_numbers_program, sandbox, tmp_path)
    plan = engine.preview()
    assert plan.counts == {"create": 2}
    assert _events(sandbox) == []
    assert set(plan.calls) <= {"Configure", "Check", "Diff"}
    assert not (tmp_path / "state.json").exists()

    up = engine.up()
    assert up.counts == {"create": 2} and len(_events(sandbox, "buy")) == 2
    ledger_after_up = _events(sandbox)

    engine.config.update(target="t-2", names=["a"])
    plan = engine.preview()
    assert plan.op("a") == "update" and plan.op("b") == "delete"
    assert set(plan.calls) <= {"Configure", "Check", "Diff"}
    assert _events(sandbox) == ledger_after_up
    assert engine.outputs()["numbers"] == up.outputs["numbers"]


def test_protect_survives_destroy_with_a_clear_error(sandbox: Backend, tmp_path: Path) -> None:
    engine = _engine(_numbers_program, sandbox, tmp_path, names=["vip", "plain"], protect=["vip"])
    numbers = engine.up().numbers()

    with pytest.raises(EngineError) as info:
        engine.destroy()
    result = info.value.result
    message = str(info.value)
    assert "vip" in message and "protect" in message and numbers["vip"] in message
    assert result.op("plain") == "delete" and result.op("vip") is None
    assert sandbox.owned_numbers() == {numbers["vip"]}
    assert [r.name for r in engine.resources() if r.type == PHONE] == ["vip"]

    # a replacement is refused too, before anything is bought
    engine.config.update(area="212", names=["vip"])
    with pytest.raises(EngineError, match="refusing to replace protected"):
        engine.up()
    assert sandbox.owned_numbers() == {numbers["vip"]}

    # unprotect, then destroy releases it
    engine.config.update(area="415", protect=[], names=["vip"])
    engine.up()
    assert engine.destroy().op("vip") == "delete"
    assert sandbox.owned_numbers() == set()


def test_retain_on_delete_forgets_without_releasing(sandbox: Backend, tmp_path: Path) -> None:
    engine = _engine(_numbers_program, sandbox, tmp_path, names=["kept"], retain=["kept"])
    number = engine.up().numbers()["kept"]
    result = engine.destroy()
    assert result.op("kept") == "retain"
    assert _events(sandbox, "release") == []
    assert sandbox.owned_numbers() == {number}
    assert [r for r in engine.resources() if r.type == PHONE] == []


@pytest.mark.parametrize("delete_first", [False, True])
def test_replacement_order(sandbox: Backend, tmp_path: Path, delete_first: bool) -> None:
    engine = _engine(_numbers_program, sandbox, tmp_path, names=["line"], dbr=delete_first)
    old = engine.up().numbers()["line"]
    engine.config["area"] = "212"  # the held 415 number no longer satisfies the criteria
    result = engine.up()
    new = result.numbers()["line"]
    assert result.op("line") == "replace" and new.startswith("+1212") and new != old
    events = _events(sandbox)
    bought_new, released_old = events.index(("buy", new)), events.index(("release", old))
    if delete_first:
        assert released_old < bought_new
    else:
        assert bought_new < released_old
    assert sandbox.owned_numbers() == {new}


def test_removed_resources_are_deleted_dependents_first(sandbox: Backend, tmp_path: Path) -> None:
    engine = _engine(
        _numbers_program,
        sandbox,
        tmp_path,
        names=["base", "mid", "top", "keep"],
        chain={"mid": ["base"], "top": ["mid"]},
    )
    numbers = engine.up().numbers()
    engine.config["names"] = ["keep"]
    result = engine.up()
    assert result.counts == {"delete": 3, "same": 1}
    releases = [n for _, n in _events(sandbox, "release")]
    assert releases == [numbers["top"], numbers["mid"], numbers["base"]]
    assert sandbox.owned_numbers() == {numbers["keep"]}


def test_refresh_drops_vanished_numbers_and_up_restores_routing(
    sandbox: Backend, tmp_path: Path
) -> None:
    engine = _engine(_numbers_program, sandbox, tmp_path)
    numbers = engine.up().numbers()
    sandbox.release_out_of_band(numbers["a"])
    sandbox.store.update(numbers["b"], vendor="console", routing={"voice_target": "hijacked"})

    result = engine.refresh()
    assert result.op("a") == "delete" and result.op("b") == "update"
    assert set(result.calls) <= {"Configure", "Read"}
    assert "a" not in result.numbers()

    again = engine.up()  # the program still declares "a": a new number; "b" is re-routed back
    assert again.op("a") == "create" and again.op("b") == "update"
    record = sandbox.store.get(numbers["b"])
    assert record is not None and record.routing["voice_target"] == "t-1"


def test_ignore_changes_keeps_the_old_value(sandbox: Backend, tmp_path: Path) -> None:
    engine = _engine(_numbers_program, sandbox, tmp_path, names=["a"], ignore=["routing"])
    engine.up()
    engine.config["target"] = "t-2"
    assert engine.up().counts == {"same": 1}
    assert _events(sandbox, "update") == []


def test_other_resource_types_get_plain_mock_behaviour(sandbox: Backend, tmp_path: Path) -> None:
    class Team(pulumi.ComponentResource):
        def __init__(self, name: str, size: str) -> None:
            super().__init__("acme:index:Team", name, None, None)
            self.bucket = pulumi.CustomResource(
                "aws:s3/bucket:Bucket",
                f"{name}-recordings",
                {"acl": "private", "size": size},
                pulumi.ResourceOptions(parent=self),
            )
            self.line = PhoneNumber(
                f"{name}-line", country="US", opts=pulumi.ResourceOptions(parent=self)
            )
            self.register_outputs({"line": self.line.number})

    def program() -> None:
        team = Team("support", pulumi.Config().get("size") or "s")
        pulumi.export("bucket_acl", team.bucket.urn.apply(lambda _: "private"))
        pulumi.export("bucket_id", team.bucket.id)

    engine = _engine(program, sandbox, tmp_path)
    first = engine.up()
    assert first.counts == {"create": 3}
    assert first.outputs["bucket_id"] == "support-recordings_id"
    by_name = {r.name: r for r in engine.resources()}
    assert by_name["support-recordings"].outputs == {"acl": "private", "size": "s"}
    assert by_name["support-line"].urn.endswith(
        "::acme:index:Team$pulumi-python:dynamic/phonenumbers:PhoneNumber::support-line"
    )
    assert by_name["support"].outputs == {"line": by_name["support-line"].id}

    engine.config["size"] = "m"
    second = engine.up()
    assert second.op("support-recordings") == "update" and second.op("support-line") == "same"
    engine.destroy()
    assert sandbox.owned_numbers() == set()


def test_state_file_has_the_shape_of_a_stack_export(sandbox: Backend, tmp_path: Path) -> None:
    engine = _engine(_numbers_program, sandbox, tmp_path, names=["a"], protect=["a"])
    engine.up()
    doc = json.loads((tmp_path / "state.json").read_text())
    assert doc["version"] == 3 and "manifest" in doc["deployment"]
    resources = doc["deployment"]["resources"]
    assert resources[0]["type"] == "pulumi:pulumi:Stack"
    assert resources[0]["outputs"]["numbers"]["a"].startswith("+1415")
    provider = next(r for r in resources if r["type"] == "pulumi:providers:pulumi-python")
    number = next(r for r in resources if r["type"] == PHONE)
    assert number["id"] == number["outputs"]["number"]
    assert number["parent"] == resources[0]["urn"]
    assert number["provider"] == f"{provider['urn']}::{provider['id']}"
    assert number["protect"] is True and number["custom"] is True
    assert "__provider" in number["inputs"] and "__provider" in number["outputs"]
    assert resources.index(provider) < resources.index(number)


def test_step_and_program_failures_are_reported_and_state_kept(
    sandbox: Backend, tmp_path: Path
) -> None:
    engine = _engine(_numbers_program, sandbox, tmp_path)
    numbers = engine.up().numbers()

    engine.config["area"] = "41x"
    with pytest.raises(EngineError, match="area_code") as info:
        engine.up()
    assert info.value.result.op("a") is None
    assert sandbox.owned_numbers() == set(numbers.values())

    def broken() -> None:
        PhoneNumber("a", country="US", area_code="415", routing={"voice_target": "t-1"})
        raise ValueError("typo in the program")

    engine.config["area"] = "415"
    engine.program = broken
    result = engine.up(check=False)
    assert [str(e) for e in result.errors] == [
        "program failed: ValueError: typo in the program (at test_engine.py:"
        f"{broken.__code__.co_firstlineno + 2})"
    ]
    # nothing the failed program left out ("b") is deleted
    assert {r.name for r in engine.resources() if r.type == PHONE} == {"a", "b"}
    assert sandbox.owned_numbers() == set(numbers.values())


def test_project_directory_with_config_defaults(sandbox: Backend, tmp_path: Path) -> None:
    project = _project(
        tmp_path / "proj",
        {
            "Pulumi.yaml": "name: demo-proj\nruntime: python\n"
            "config:\n  target:\n    default: from-project\n",
            "Pulumi.dev.yaml": "config:\n  demo-proj:area: '212'\n",
            "helper.py": "LABEL = 'helper'\n",
            "__main__.py": "import pulumi\nfrom helper import LABEL\n"
            "from pulumi_phonenumbers import PhoneNumber\nc = pulumi.Config()\n"
            "n = PhoneNumber('n', country='US', area_code=c.get('area'),"
            " routing={'voice_target': c.get('target'), 'label': LABEL})\n"
            "pulumi.export('n', n.number)\npulumi.export('stack', pulumi.get_stack())\n",
        },
    )
    engine = LocalEngine(project, config=sandbox.config, state=tmp_path / "s.json")
    result = engine.up()
    assert result.outputs["n"].startswith("+1212") and result.outputs["stack"] == "dev"
    assert (
        engine.resources()[0].urn == "urn:pulumi:dev::demo-proj::pulumi:pulumi:Stack::demo-proj-dev"
    )
    record = sandbox.store.get(result.outputs["n"])
    assert record is not None and record.routing["voice_target"] == "from-project"
    engine.destroy()


def test_parallel_creates_get_distinct_numbers(sandbox: Backend, tmp_path: Path) -> None:
    names = [f"n{i}" for i in range(8)]
    engine = _engine(_numbers_program, sandbox, tmp_path, names=names)
    result = engine.up()
    assert result.calls["Create"] == 8 and len(set(result.numbers().values())) == 8
    assert sorted(n for _, n in _events(sandbox, "buy")) == sorted(result.numbers().values())
    engine.destroy()
    assert sandbox.owned_numbers() == set()


@pytest.mark.skipif("plivo" not in emulated_vendors(), reason="Plivo emulator not available")
def test_a_failed_release_after_replacement_is_retried_by_the_next_up(tmp_path: Path) -> None:
    plivo = Backend.start("plivo", tmp_path / "plivo")
    try:
        engine = _engine(_numbers_program, plivo, tmp_path, names=["line"], target="1234")
        old = engine.up().numbers()["line"]
        plivo.faults(rules=[{"method": "DELETE", "status": 400}])
        engine.config["area"] = "212"
        failed = engine.up(check=False)
        assert failed.op("line") == "replace"
        assert [e.name for e in failed.errors] == ["line"]
        assert "delete failed" in failed.errors[0].message
        new = failed.numbers()["line"]
        pending = [r for r in engine.resources() if r.delete]
        assert [r.id for r in pending] == [old]  # remembered, not leaked
        assert plivo.owned_numbers() == {old, new}

        plivo.clear_faults()
        assert engine.up().ok
        assert plivo.owned_numbers() == {new} and not [r for r in engine.resources() if r.delete]
        engine.destroy()
        assert plivo.owned_numbers() == set()
        bought = sorted(n for _, n in _events(plivo, "buy"))
        assert bought == sorted(n for _, n in _events(plivo, "release")) == sorted({old, new})
    finally:
        plivo.stop()


def test_a_failed_preview_plans_no_deletion(sandbox: Backend, tmp_path: Path) -> None:
    engine = _engine(_numbers_program, sandbox, tmp_path, names=["a"])
    engine.up()
    engine.config["area"] = "41x"
    with pytest.raises(EngineError, match="area_code") as info:
        engine.preview()
    result = info.value.result
    assert result.op("a") is None and "delete" not in result.summary()
    assert [r.name for r in result.resources if r.type == PHONE] == ["a"]


def test_a_virtualenv_inside_the_project_stays_imported(
    sandbox: Backend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pulumi's default layout puts the stack's ``venv/`` in the project folder: what is
    installed there is not the program's own code and must not be unloaded after a run."""
    site = "venv/lib/python3/site-packages"
    project = _project(
        tmp_path / "proj",
        {
            f"{site}/vendored_lib.py": "PREFIX = 'lib'\n",
            "Pulumi.yaml": "name: venv-proj\nruntime: python\n",
            "helper.py": "LABEL = 'one'\n",
            "__main__.py": "import pulumi\nimport vendored_lib\nfrom helper import LABEL\n"
            "from pulumi_phonenumbers import PhoneNumber\n"
            "n = PhoneNumber('n', country='US', routing={'voice_target': 't', 'label': LABEL})\n"
            "pulumi.export('label', vendored_lib.PREFIX + '-' + LABEL)\n",
        },
    )
    monkeypatch.syspath_prepend(str(project / site))
    monkeypatch.delitem(sys.modules, "vendored_lib", raising=False)
    engine = LocalEngine(project, config=sandbox.config, state=tmp_path / "s.json")
    assert engine.up().outputs["label"] == "lib-one"
    installed = sys.modules.get("vendored_lib")
    assert installed is not None and "helper" not in sys.modules

    (project / "helper.py").write_text("LABEL = 'two'\n")  # the program's own module reloads
    assert engine.up().outputs["label"] == "lib-two"
    assert sys.modules.get("vendored_lib") is installed
    engine.destroy()


_FAILED_PREVIEW = """
import sys
import threading
import pulumi
from pulumi_phonenumbers import PhoneNumber
from pulumi_phonenumbers.testing import LocalEngine
from pulumi_phonenumbers.testing.backends import Backend

def program():
    PhoneNumber("n", country="US", area_code=pulumi.Config().get("area") or "415")

backend = Backend.start("sandbox", sys.argv[1])
engine = LocalEngine(program, config=backend.config, state=sys.argv[1] + "/state.json")
engine.up()
engine.config["area"] = "41x"
engine.preview()
"""


def test_a_failed_preview_leaves_no_event_loop_or_pipe_unclosed(tmp_path: Path) -> None:
    """Run in a fresh interpreter in development mode, which reports every loop, socket and
    file left for the garbage collector (the "Exception ignored in BaseEventLoop.__del__ ...
    Invalid file descriptor: -1" of an event loop finalized at shutdown)."""
    done = subprocess.run(
        [sys.executable, "-X", "dev", "-c", _FAILED_PREVIEW, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1 and "EngineError: preview failed" in done.stderr, done.stderr
    for symptom in ("Exception ignored", "ResourceWarning", "unclosed", "Invalid file descriptor"):
        assert symptom not in done.stderr, done.stderr


_UP_IN_A_CHILD = (
    "import json, sys\n"
    "from pulumi_phonenumbers.testing import LocalEngine\n"
    "LocalEngine(sys.argv[1], config=json.loads(sys.argv[2]), state=sys.argv[3]).up()\n"
)


def _children(pid: int, marker: bytes) -> list[int]:
    """Processes whose parent is ``pid`` and whose command line holds ``marker``."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid and marker in cmdline:
            found.append(int(entry.name))
    return found


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has exited; only its parent's wait is missing


def _wait_until(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
@pytest.mark.skipif("plivo" not in emulated_vendors(), reason="Plivo emulator not available")
def test_an_engine_killed_mid_up_loses_no_number_and_leaves_no_provider(tmp_path: Path) -> None:
    """SIGKILL during the purchases of a fleet: the state holds every number the vendor
    sold (or a pending create for it), no provider process survives, and the next up
    completes the stack without buying again what the state holds."""
    size = 30
    plivo = Backend.start("plivo", tmp_path / "plivo")
    try:
        plivo.faults(latency_ms=40)  # every vendor call takes a while: the kill lands mid-run
        project = _project(
            tmp_path / "fleet",
            {
                "Pulumi.yaml": "name: fleet\nruntime: python\n",
                "__main__.py": "from pulumi_phonenumbers import PhoneNumber\n"
                f"for i in range({size}):\n"
                "    PhoneNumber(f'n{i}', country='US', routing={'voice_target': '1234'})\n",
            },
        )
        state = tmp_path / "state.json"
        runner = subprocess.Popen(
            [sys.executable, "-c", _UP_IN_A_CHILD, str(project), json.dumps(plivo.config), state],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            assert _wait_until(lambda: len(_events(plivo, "buy")) >= 6, 60), "no purchase"
            providers = _children(runner.pid, b"pulumi.dynamic")
            assert providers, "the engine's provider process was not found"
        finally:
            runner.kill()
            runner.wait(timeout=10)
        survived = not _wait_until(lambda: not any(_running(pid) for pid in providers), 10)
        for pid in filter(_running, providers if survived else []):
            os.kill(pid, signal.SIGKILL)  # do not leave it behind for the next tests
        assert not survived, f"provider process(es) {providers} outlived the killed engine"
        time.sleep(0.5)  # requests the emulator was still serving end (a sale may commit)

        killed = LocalEngine(project, config=plivo.config, state=state)
        recorded = {r.id for r in killed.resources() if r.type == PHONE}
        pending = killed.pending()
        owned = plivo.owned_numbers()
        assert recorded <= owned and len(recorded) + len(pending) >= 6
        assert all(op.type == "creating" and not op.resource.id for op in pending)
        assert {op.resource.name for op in pending}.isdisjoint(r.name for r in killed.resources())
        assert len(owned - recorded) <= len(pending), "a sold number is in neither list"
        bought_before = len(_events(plivo, "buy"))

        plivo.clear_faults()
        again = killed.up()
        assert again.counts == {"create": size - len(recorded), "same": len(recorded)}
        assert len(_events(plivo, "buy")) - bought_before == size - len(recorded)
        assert len(again.warnings) == len(pending) and again.pending == pending
        assert all("audit --vendor plivo" in w for w in again.warnings)
        numbers = set(again.numbers().values())
        assert len(numbers) == size and recorded <= numbers <= plivo.owned_numbers()
        assert len(plivo.owned_numbers() - numbers) <= len(pending)

        killed.destroy()
        assert killed.clear_pending() == pending and killed.pending() == []
    finally:
        plivo.stop()


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
@pytest.mark.skipif("plivo" not in emulated_vendors(), reason="Plivo emulator not available")
def test_a_create_that_broke_off_stays_pending(tmp_path: Path) -> None:
    """The provider process dies while a purchase it sent is committed: the run fails saying
    so and the state keeps the create as pending (the sold number is the audit's to find)."""
    plivo = Backend.start("plivo", tmp_path / "plivo")
    try:  # the sale commits at once, then the answer hangs while the provider is killed
        plivo.faults(
            rules=[
                {"method": "POST", "path": "/PhoneNumber/", "after_commit": True, "slow_ms": 5000}
            ]
        )
        engine = _engine(_numbers_program, plivo, tmp_path, names=["line"], target="1234")
        before = set(_children(os.getpid(), b"pulumi.dynamic"))

        def kill_the_provider_after_the_sale() -> None:
            assert _wait_until(lambda: bool(_events(plivo, "buy")), 30)
            for pid in set(_children(os.getpid(), b"pulumi.dynamic")) - before:
                os.kill(pid, signal.SIGKILL)

        killer = threading.Thread(target=kill_the_provider_after_the_sale)
        killer.start()
        failed = engine.up(check=False)
        killer.join()
        [error] = failed.errors
        assert error.name == "line" and "create broke off" in error.message
        assert (
            [op.resource.name for op in engine.pending()]
            == ["line"]
            == [op.resource.name for op in failed.pending]
        )
        [sold] = plivo.owned_numbers()
        assert sold not in json.dumps(engine.export()["deployment"]["resources"])

        plivo.clear_faults()
        again = engine.up()
        assert again.op("line") == "create" and len(again.warnings) == 1
        assert plivo.owned_numbers() == {sold, again.numbers()["line"]}
        engine.destroy()
    finally:
        plivo.stop()


def test_checkpoints_coalesce_and_a_state_that_cannot_be_written_stops_purchases() -> None:
    written: list[int] = []
    failing = threading.Event()

    def write() -> None:
        if failing.is_set():
            raise OSError(28, "No space left on device")
        time.sleep(0.01)
        written.append(len(written))

    checkpoint = Checkpointer(write, interval=0.05)
    for _ in range(50):
        checkpoint.changed()
    checkpoint.durable()  # returns at once with a write holding all 51 changes
    assert 1 <= len(written) <= 3
    failing.set()
    with pytest.raises(CheckpointError, match="No space left on device"):
        checkpoint.durable()
    with pytest.raises(CheckpointError):  # and every later create is refused too
        checkpoint.durable()
    checkpoint.close()
