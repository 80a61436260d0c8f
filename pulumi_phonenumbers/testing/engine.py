"""A local engine for TESTS: whole Pulumi programs, offline, without the Pulumi CLI.

This is a test tool, not a deployment engine. It runs a program under
``pulumi.runtime.set_mocks``-style mocks and sends every ``PhoneNumber`` to the real
dynamic-provider server (the ``pulumi.dynamic`` module Pulumi starts) over gRPC, as ``pulumi up``
would: Configure with the stack config, then Check, Diff, Create, Update, Read, Delete.
State is kept between runs in a JSON file shaped like ``pulumi stack export``. Other
resource types get plain mock behaviour (outputs = inputs). Use the real CLI with a real
backend to manage numbers you care about; use this to test a stack against the sandbox
or the vendor emulators::

    from pulumi_phonenumbers.testing import LocalEngine
    from pulumi_phonenumbers.testing.backends import Backend

    backend = Backend.start("plivo")              # emulator on 127.0.0.1 (or "sandbox")
    engine = LocalEngine("examples/plivo", config=backend.config)
    engine.preview()                              # Check + Diff only: no vendor call
    result = engine.up()                          # buys the numbers
    print(result.outputs, result.counts)
    engine.config["plivo:voiceTarget"] = "..."    # edit, then up again: an update
    engine.up(); engine.refresh(); engine.destroy()

Semantics honoured: create-before-delete replacement (``delete_before_replace`` flips
it), ``protect`` (deletion and replacement refused with an error naming the resource;
everything else is still deleted), ``retain_on_delete`` (dropped from the state, not
released), deletion of resources the program no longer declares (dependents first, at
most four provider calls at once), ``ignore_changes`` / ``replace_on_changes`` on
top-level inputs, and no deletion after a failed step, as ``pulumi up`` does.

As the Pulumi engine checkpoints its snapshot, ``up`` and ``destroy`` write the state file
after every step that changed what a vendor holds, and every create is in it as a pending
operation (``deployment.pending_operations``, type ``creating``) before the provider is
asked to buy. An engine killed mid-run therefore leaves a state that holds every number
whose create returned, and a pending operation for each create still in flight, whose
number (if it was bought) ``pulumi-phonenumbers audit`` finds. The next run warns about
them (:attr:`RunResult.warnings`) and keeps them until :meth:`LocalEngine.clear_pending`.
The provider process never outlives the engine, however the engine ends.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sysconfig
import tempfile
import time
import traceback
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import NAMESPACE, secret_config_keys
from ._checkpoint import Checkpointer
from ._mocks import LoadedProgram, load_program, run_program
from ._plan import (
    CREATE,
    CREATING,
    DELETE,
    REPLACE,
    RETAIN,
    SAME,
    UPDATE,
    Deployment,
    RunError,
)
from ._provider import ProviderHandle
from ._state import (
    DEFAULT_PROVIDER_TYPE,
    PHONE_NUMBER_TYPE,
    STACK_TYPE,
    PendingOperation,
    ResourceState,
    StateWriter,
    load_snapshot,
    load_state,
    save_state,
)

__all__ = ["OPERATIONS", "EngineError", "LocalEngine", "Program", "RunResult"]

#: A program: a function that declares resources, or a project directory.
Program = Callable[[], Any] | str | Path
#: Every operation a result can report, per resource URN.
OPERATIONS = (CREATE, UPDATE, REPLACE, DELETE, SAME, RETAIN)


@dataclass
class RunResult:
    """What one ``preview`` / ``up`` / ``refresh`` / ``destroy`` did.

    ``operations`` maps each URN to ``create``, ``update``, ``replace``, ``delete``,
    ``same`` or ``retain`` (dropped from the state, not released). ``outputs`` are the
    stack outputs (in a preview, unknown values are ``pulumi.runtime.rpc.UNKNOWN``).
    ``calls`` counts the gRPC calls made to the provider (``Check``, ``Create``, ...).
    ``resources`` is the state after the run (a preview saves nothing: the state before).
    ``pending`` are the creates the state holds as interrupted after the run (see
    :meth:`LocalEngine.clear_pending`); ``warnings`` name those left by earlier runs.
    """

    kind: str
    operations: dict[str, str]
    outputs: dict[str, Any]
    errors: list[RunError]
    resources: list[ResourceState]
    calls: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    provider_stderr: str = ""
    pending: list[PendingOperation] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing failed."""
        return not self.errors

    @property
    def counts(self) -> dict[str, int]:
        """How many resources got each operation (the stack itself not counted)."""
        return dict(
            Counter(
                op for urn, op in self.operations.items() if "::pulumi:pulumi:Stack::" not in urn
            )
        )

    def urns(self, *ops: str) -> list[str]:
        """URNs whose operation is one of ``ops`` (all when none given)."""
        return [u for u, op in self.operations.items() if not ops or op in ops]

    def op(self, name: str) -> str | None:
        """The operation of the resource with this logical name (None if untouched)."""
        found = {op for urn, op in self.operations.items() if urn.rsplit("::", 1)[-1] == name}
        if len(found) > 1:
            raise KeyError(f"several resources are named {name!r}; look up by URN")
        return found.pop() if found else None

    def numbers(self) -> dict[str, str]:
        """Logical name -> E.164 of every ``PhoneNumber`` in the state after the run."""
        return {r.name: r.id for r in self.resources if r.is_phone_number and r.id and not r.delete}

    def summary(self) -> str:
        """``"2 created, 1 updated, 3 unchanged"``-style line."""
        words = {
            CREATE: "created",
            UPDATE: "updated",
            REPLACE: "replaced",
            DELETE: "deleted",
            SAME: "unchanged",
            RETAIN: "retained",
        }
        if self.kind == "preview":
            words = {
                CREATE: "to create",
                UPDATE: "to update",
                REPLACE: "to replace",
                DELETE: "to delete",
                SAME: "unchanged",
                RETAIN: "to forget",
            }
        counts = self.counts
        text = ", ".join(f"{counts[op]} {words[op]}" for op in OPERATIONS if counts.get(op))
        return text or "no resources"


class EngineError(Exception):
    """A run reported errors; ``result`` holds everything it did and why it failed."""

    def __init__(self, result: RunResult) -> None:
        lines = "\n".join(f"  - {e}" for e in result.errors)
        super().__init__(f"{result.kind} failed with {len(result.errors)} error(s):\n{lines}")
        self.result = result


def _config_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value)


class LocalEngine:
    """Runs one program against one state file. A TEST tool, not a deployment engine.

    ``program`` is a function that declares resources, or a project directory holding
    ``Pulumi.yaml`` and ``__main__.py``. ``config`` is the stack config
    (``{"phonenumbers:vendor": "plivo", "voiceTarget": "..."}``; keys without a namespace
    get the project's, non-string values are stored as JSON, as ``pulumi config set``
    does); it is what the program reads through ``pulumi.Config`` and what the provider
    receives in ``Configure``. Defaults under ``config:`` in ``Pulumi.yaml`` and plain
    values of ``Pulumi.<stack>.yaml`` apply beneath it. Edit ``config`` or ``program``
    between runs. ``state`` is the JSON state file (a temporary one when omitted).
    """

    def __init__(
        self,
        program: Program,
        *,
        config: Mapping[str, Any] | None = None,
        state: str | Path | None = None,
        stack: str = "dev",
        project: str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.program = program
        self.config: dict[str, Any] = dict(config or {})
        self.stack = stack
        self.project = project
        self.env = dict(env or {})
        if state is None:
            state = Path(tempfile.mkdtemp(prefix="phonenumbers-engine-")) / "state.json"
        self.state_path = Path(state)

    # -- public runs ----------------------------------------------------------------------
    def preview(self, *, check: bool = True) -> RunResult:
        """Plan only (Check and Diff, no Create/Update/Delete: no vendor call)."""
        return self._run("preview", check)

    def up(self, *, check: bool = True) -> RunResult:
        """Run the program and apply its plan; save the new state."""
        return self._run("up", check)

    def refresh(self, *, check: bool = True) -> RunResult:
        """Read every number from its vendor; numbers that vanished leave the state."""
        return self._run("refresh", check)

    def destroy(self, *, check: bool = True) -> RunResult:
        """Delete everything in the state, dependents first (protected resources stay)."""
        return self._run("destroy", check)

    # -- state ----------------------------------------------------------------------------
    def resources(self) -> list[ResourceState]:
        """The resources in the state file now."""
        return [r for r in load_state(self.state_path) if r.type != DEFAULT_PROVIDER_TYPE]

    def outputs(self) -> dict[str, Any]:
        """The stack outputs in the state file now."""
        stack = next((r for r in self.resources() if r.type == STACK_TYPE), None)
        return dict(stack.outputs) if stack else {}

    def pending(self) -> list[PendingOperation]:
        """The interrupted creates the state file holds now."""
        return load_snapshot(self.state_path).pending

    def clear_pending(self) -> list[PendingOperation]:
        """Drop the interrupted creates from the state file; returns them.

        Do this once ``pulumi-phonenumbers audit`` showed what they bought and the numbers
        are adopted (``number=..., adopt=True``) or released.
        """
        snapshot = load_snapshot(self.state_path)
        if snapshot.pending:
            save_state(self.state_path, snapshot.resources)
        return snapshot.pending

    def export(self) -> dict[str, Any]:
        """The state file as a ``pulumi stack export`` document."""
        if not self.state_path.exists():
            return {"version": 3, "deployment": {"manifest": {}, "resources": []}}
        doc: dict[str, Any] = json.loads(self.state_path.read_text(encoding="utf-8"))
        return doc

    # -- internals ------------------------------------------------------------------------
    def _stack_config(self, loaded: LoadedProgram) -> dict[str, str]:
        merged: dict[str, Any] = {**(loaded.config or {}), **self.config}
        return {
            (k if ":" in k else f"{loaded.project}:{k}"): _config_text(v) for k, v in merged.items()
        }

    def _run(self, kind: str, check: bool) -> RunResult:
        started = time.monotonic()
        loaded = load_program(self.program, self.project, self.stack)
        config = self._stack_config(loaded)
        before = load_snapshot(self.state_path)
        old_provider = next(
            (r for r in before.resources if r.type == DEFAULT_PROVIDER_TYPE), None
        ) or _default_provider(loaded.project, self.stack)
        olds = [r for r in before.resources if r.type != DEFAULT_PROVIDER_TYPE]
        carried = [op for op in before.pending if op.type == CREATING]
        env = {"PULUMI_PROJECT": loaded.project, "PULUMI_STACK": self.stack, **self.env}
        handle = ProviderHandle(config, env)
        deployment = Deployment(
            olds,
            handle,
            kind == "preview",
            PHONE_NUMBER_TYPE,
            provider_ref=f"{old_provider.urn}::{old_provider.id}",
        )
        writer = StateWriter(self.state_path)

        def checkpoint() -> None:
            snapshot = deployment.snapshot()
            resources, pending = _with_provider(
                snapshot.resources, [*carried, *snapshot.pending], old_provider
            )
            writer.save(resources, pending, order=False)

        if kind in ("up", "destroy"):
            deployment.checkpoint = Checkpointer(checkpoint)
        try:
            if kind in ("preview", "up"):
                secrets = [f"{NAMESPACE}:{k}" for k in secret_config_keys()]
                exc = run_program(
                    loaded,
                    deployment,
                    stack=self.stack,
                    config=config,
                    secret_keys=[k for k in secrets if k in config],
                    preview=kind == "preview",
                )
                if exc is not None:
                    deployment.fail("", _program_error(exc))
                new_state = deployment.finish()
            elif kind == "refresh":
                new_state = deployment.refresh()
            else:
                new_state = deployment.destroy()
        finally:
            handle.close()  # first: a create still in flight breaks off and stays pending
            if deployment.checkpoint is not None:
                deployment.checkpoint.close()
        unfinished = deployment.unfinished()
        if kind == "preview":
            new_state = olds
        else:
            save_state(
                self.state_path, *_with_provider(new_state, [*carried, *unfinished], old_provider)
            )
        outputs = deployment.outputs
        if kind in ("refresh", "destroy"):
            stack = next((r for r in new_state if r.type == STACK_TYPE), None)
            outputs = dict(stack.outputs) if stack else {}
        result = RunResult(
            kind,
            dict(deployment.ops),
            outputs,
            list(deployment.errors),
            list(new_state),
            dict(handle.calls),
            time.monotonic() - started,
            handle.stderr,
            [*carried, *unfinished],
            [_interrupted(op, self.state_path) for op in carried],
        )
        if check and result.errors:
            raise EngineError(result)
        return result


def _program_error(exc: BaseException) -> str:
    """The exception and the innermost line of the user's program that led to it."""
    skip = (
        str(Path(__file__).resolve().parents[1]) + os.sep,
        sysconfig.get_paths()["stdlib"] + os.sep,
        sysconfig.get_paths()["purelib"] + os.sep,
        "<",
    )
    where = ""
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if not frame.filename.startswith(skip):
            where = f" (at {Path(frame.filename).name}:{frame.lineno})"
            break
    return f"program failed: {type(exc).__name__}: {exc}{where}"


def _interrupted(op: PendingOperation, state: Path) -> str:
    vendor = op.resource.inputs.get("vendor") or "<vendor>"
    return (
        f"{op.resource.name}: a create was interrupted by an earlier run; a number may have "
        "been bought for it that the state does not hold. Find it with `pulumi-phonenumbers "
        f"audit --vendor {vendor} --state {state}`, adopt or release it, then call "
        "LocalEngine.clear_pending()"
    )


def _default_provider(project: str, stack: str) -> ResourceState:
    return ResourceState(
        urn=f"urn:pulumi:{stack}::{project}::{DEFAULT_PROVIDER_TYPE}::default",
        type=DEFAULT_PROVIDER_TYPE,
        custom=True,
        id=str(uuid.uuid4()),
    )


def _with_provider(
    resources: Iterable[ResourceState],
    pending: Iterable[PendingOperation],
    provider: ResourceState,
) -> tuple[list[ResourceState], list[PendingOperation]]:
    """Add the default ``pulumi-python`` provider that every PhoneNumber references."""
    items = list(resources)
    operations = list(pending)
    if not any(r.is_phone_number for r in [*items, *(op.resource for op in operations)]):
        return items, operations
    ref = f"{provider.urn}::{provider.id}"

    def with_ref(r: ResourceState) -> ResourceState:
        return (
            dataclasses.replace(r, provider=ref) if r.is_phone_number and r.provider != ref else r
        )

    items = [with_ref(r) for r in items]
    operations = [dataclasses.replace(op, resource=with_ref(op.resource)) for op in operations]
    at = next((i + 1 for i, r in enumerate(items) if r.type == STACK_TYPE), 0)
    return [*items[:at], provider, *items[at:]], operations
