"""Run a Pulumi program in-process against a mock monitor that forwards to a deployment.

The program runs exactly as the Python language host runs it (``run_in_stack`` on a new
event loop), in a fresh thread: Pulumi's settings, root stack and config live in context
variables, and a new thread starts with an empty context, so runs never see each other.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import runpy
import sys
import threading
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from inspect import isawaitable
from pathlib import Path
from typing import Any

import yaml
from google.protobuf import empty_pb2
from pulumi import get_project, get_stack
from pulumi.runtime import (
    MockCallArgs,
    MockResourceArgs,
    Mocks,
    configure,
    rpc,
    run_in_stack,
    set_all_config,
)
from pulumi.runtime.proto import resource_pb2

from .._pulumi_compat import (
    MockEngine,
    MockMonitor,
    MockSettings,
    runs_async_program,
    tracked_outputs,
)
from ._loops import LoopPool
from ._plan import Deployment, Registration
from ._state import STACK_TYPE, to_plain

__all__ = ["LoadedProgram", "load_program", "run_program"]

_log = logging.getLogger("pulumi_phonenumbers.testing")


class _PlainMocks(Mocks):
    """Invokes return nothing; reads echo their inputs."""

    def call(self, args: MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, None

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        return args.resource_id or f"{args.name}_id", dict(args.inputs)


class _Monitor(MockMonitor):
    """``MockMonitor`` that sends every registration, with its options, to a deployment.

    The SDK calls it from its executor threads; each call borrows an event loop of
    :attr:`loops` (all closed when the run ends) instead of leaving one on the thread.
    """

    def __init__(self, deployment: Deployment) -> None:
        super().__init__(_PlainMocks())
        self.deployment = deployment
        self.loops = LoopPool()

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        # As the engine does: the parent's full type chain, but never the root stack's.
        qualified = type_
        if parent:
            parent_type = parent.split("::")[2]
            if parent_type != STACK_TYPE:
                qualified = f"{parent_type}${type_}"
        return f"urn:pulumi:{get_stack()}::{get_project()}::{qualified}::{name}"

    def RegisterResource(self, request: Any) -> Any:
        urn = self.make_urn(request.parent, request.type, request.name)
        if request.type == STACK_TYPE:
            self.deployment.register_stack(urn)
            return resource_pb2.RegisterResourceResponse(urn=urn)
        with self.loops.current():  # deserializing a resource reference needs a loop
            inputs = to_plain(rpc.deserialize_properties(request.object, True))
        reg = Registration(
            urn=urn,
            type=request.type,
            name=request.name,
            custom=bool(request.custom),
            inputs=inputs,
            parent=request.parent,
            protect=bool(request.protect) if request.HasField("protect") else False,
            retain_on_delete=bool(request.retainOnDelete)
            if request.HasField("retainOnDelete")
            else False,
            delete_before_replace=bool(request.deleteBeforeReplace),
            dependencies=list(request.dependencies),
            property_dependencies={
                k: list(v.urns) for k, v in request.propertyDependencies.items()
            },
            ignore_changes=list(request.ignoreChanges),
            replace_on_changes=list(request.replaceOnChanges),
            import_id=request.importId,
        )
        done = self.deployment.register(reg)
        if done is None:  # the SDK resolves its outputs as unknown; the run reports the error
            return resource_pb2.RegisterResourceResponse(urn=urn, result=resource_pb2.Result.FAIL)
        id_, outputs = done
        props = self.loops.run(rpc.serialize_properties(outputs, {}))
        return resource_pb2.RegisterResourceResponse(urn=urn, id=id_, object=props)

    def RegisterResourceOutputs(self, request: Any) -> Any:
        with self.loops.current():
            outputs = rpc.deserialize_properties(request.outputs, True)
        self.deployment.register_outputs(request.urn, dict(outputs or {}))
        return empty_pb2.Empty()

    def Invoke(self, request: Any) -> Any:
        with self.loops.current():  # the SDK's handler then finds this loop, not a new one
            return super().Invoke(request)  # type: ignore[no-untyped-call]

    def ReadResource(self, request: Any) -> Any:
        with self.loops.current():
            return super().ReadResource(request)  # type: ignore[no-untyped-call]


@dataclass(frozen=True)
class LoadedProgram:
    """A program ready to run: the callable, its project name and directory (if any)."""

    func: Callable[[], Any]
    project: str
    directory: Path | None = None
    config: Mapping[str, Any] | None = None


def _file_config(doc: Mapping[str, Any], stack_file: Path, project: str) -> dict[str, Any]:
    """Defaults under ``config:`` in ``Pulumi.yaml``, then plain values of the stack file
    (``secure:`` values cannot be decrypted here: pass them in the engine's config)."""
    out: dict[str, Any] = {}
    for key, value in (doc.get("config") or {}).items():
        full = key if ":" in key else f"{project}:{key}"
        if isinstance(value, Mapping):
            if "default" in value:
                out[full] = value["default"]
            elif "value" in value:
                out[full] = value["value"]
        else:
            out[full] = value
    if stack_file.is_file():
        stack_doc = yaml.safe_load(stack_file.read_text(encoding="utf-8")) or {}
        for key, value in (stack_doc.get("config") or {}).items():
            if not (isinstance(value, Mapping) and "secure" in value):
                out[key if ":" in key else f"{project}:{key}"] = value
    return out


def load_program(
    program: Callable[[], Any] | str | Path, project: str | None, stack: str
) -> LoadedProgram:
    """A function as is, or a project directory (``Pulumi.yaml`` + ``__main__.py``, with
    the config of ``Pulumi.yaml`` and ``Pulumi.<stack>.yaml``)."""
    if callable(program):
        return LoadedProgram(program, project or "project")
    directory = Path(program)
    manifest = directory / "Pulumi.yaml"
    if not manifest.is_file():
        raise FileNotFoundError(f"{directory}: no Pulumi.yaml (not a Pulumi project directory)")
    doc = yaml.safe_load(manifest.read_text(encoding="utf-8")) or {}
    name = str(project or doc.get("name") or directory.name)
    main = directory / str(doc.get("main") or ".")
    if main.is_dir():
        main = main / "__main__.py"
    if not main.is_file():
        raise FileNotFoundError(f"{directory}: no {main.name} to run")
    path = str(main)
    root = str(main.parent)

    def run() -> None:
        sys.path.insert(0, root)
        before = set(sys.modules)
        try:
            runpy.run_path(path, run_name="__main__")
        finally:
            with contextlib.suppress(ValueError):
                sys.path.remove(root)
            for mod in set(sys.modules) - before:
                if _imported_from(sys.modules[mod], mod, root):
                    del sys.modules[mod]  # the project's own helper modules: fresh next run

    config = _file_config(doc, directory / f"Pulumi.{stack}.yaml", name)
    return LoadedProgram(run, name, directory, config)


def _imported_from(module: Any, name: str, root: str) -> bool:
    """True when ``module`` was found on the ``root`` entry of ``sys.path`` (the program's
    own ``helper.py`` or ``pkg/sub.py``), not merely stored below it: a virtualenv inside
    the project folder (Pulumi's default layout) holds installed packages too, and those must
    stay imported, or the SDK and this package would be loaded twice."""
    file = getattr(module, "__file__", None) or ""
    if not file.startswith(root + os.sep):
        return False
    first = Path(file[len(root) + 1 :]).parts[0]
    top = name.split(".", 1)[0]
    return first in (top, f"{top}.py") or first.startswith(f"{top}.")


def run_program(
    program: LoadedProgram,
    deployment: Deployment,
    *,
    stack: str,
    config: Mapping[str, str],
    secret_keys: list[str],
    preview: bool,
) -> BaseException | None:
    """Run the program to completion in a fresh thread; its exception, if any."""
    outcome: list[BaseException | None] = [None]

    def main() -> None:
        monitor = _Monitor(deployment)
        info = monitor.GetDeploymentInfo(empty_pb2.Empty())  # type: ignore[no-untyped-call]
        features = set(info.supportedFeatures)
        configure(
            MockSettings(  # type: ignore[no-untyped-call]
                monitor=monitor,
                monitor_features=features,
                engine=MockEngine(_log),
                project=program.project,
                stack=stack,
                dry_run=preview,
                organization="organization",
                callbacks=None,
            )
        )
        set_all_config(dict(config), secret_keys)
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(run_in_stack(_settled(program.func)))
        except BaseException as exc:  # reported by the engine
            outcome[0] = exc
        finally:
            deployment.wait_idle()
            _close(loop)
            monitor.loops.close()

    thread = threading.Thread(target=main, name=f"pulumi-program-{program.project}")
    with _GC.fewer_full_collections():
        thread.start()
        thread.join()
    return outcome[0]


class _GcPause:
    """Holds off the garbage collector's full (oldest-generation) passes while programs run.

    The SDK keeps every resource's outputs, tasks and closures alive until the program
    ends (~750 objects per resource), so each full pass walks a heap that keeps growing
    and an 800-number program spent 1.3 s in nine of them for next to nothing collected. The
    young generations still run, and they are what reclaims the cycles a run creates. The
    previous thresholds come back when the last concurrent run ends.
    """

    #: gen-1 passes before a full one (CPython's default is 10).
    RARE = 1_000_000

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._users = 0
        self._saved: tuple[int, ...] = ()

    @contextlib.contextmanager
    def fewer_full_collections(self) -> Iterator[None]:
        """Raise the oldest generation's threshold for the duration of the block."""
        with self._lock:
            if self._users == 0:
                self._saved = tuple(gc.get_threshold())
                if len(self._saved) == 3:
                    gc.set_threshold(self._saved[0], self._saved[1], self.RARE)
            self._users += 1
        try:
            yield
        finally:
            with self._lock:
                self._users -= 1
                if self._users == 0 and len(self._saved) == 3:
                    gc.set_threshold(*self._saved)


_GC = _GcPause()


def _settled(func: Callable[[], Any]) -> Callable[[], Awaitable[None]]:
    """``func``, then wait until every output it created has resolved.

    Once the program returns, the SDK's ``wait_for_rpcs`` waits on all its pending outputs
    with ``asyncio.wait(..., FIRST_COMPLETED)`` and starts over after every completion: a
    callback added to each pending output (~22 per number) per registration answered, so a
    fleet cost millions of ``add_done_callback`` calls (CPU quadratic in its size). Waiting
    here for *all* of them at once (``ALL_COMPLETED``, once per round of new outputs) is
    linear, and leaves the SDK's loop nothing to wait for. Reads the SDK's own set of
    tracked outputs (``_pulumi_compat.tracked_outputs``) and changes nothing in it; when
    that set does not exist, or the program registered a ``pulumi.run`` coroutine (whose
    outputs may only resolve once it runs, after this), the SDK waits on its own as before.
    """

    def run() -> Awaitable[None]:
        return _settle(func())

    return run


async def _settle(result: Any) -> None:
    if isawaitable(result):
        await result
    tracked = tracked_outputs()
    if tracked is None or runs_async_program() is not False:
        return
    tasks, lock = tracked
    while True:
        with lock:
            pending = [task for task in tasks if not task.done()]
        if not pending:
            return
        await asyncio.wait(pending)


def _close(loop: asyncio.AbstractEventLoop) -> None:
    tasks = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for task in tasks:
        task.cancel()
    with contextlib.suppress(BaseException):
        loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
    with contextlib.suppress(BaseException):
        loop.run_until_complete(loop.shutdown_default_executor())
    asyncio.set_event_loop(None)
    loop.close()
