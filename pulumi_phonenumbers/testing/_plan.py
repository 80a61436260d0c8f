"""The steps of one engine run: what the Pulumi engine decides for each registration.

A registered resource is compared with its old state: no old state -> create; Check then
Diff -> same, update, or replace (create-before-delete unless ``delete_before_replace``);
resources the program no longer declares are deleted at the end, dependents first.
``protect`` refuses deletion and replacement; ``retain_on_delete`` drops the resource from
the state without releasing it. Only ``PhoneNumber`` goes to the provider; every other
type gets plain mock behaviour (outputs = inputs).

With a :class:`~._checkpoint.Checkpointer`, the state is on disk after every step that
changed what the vendor holds (:meth:`Deployment.snapshot` is what it writes), and every
create is on disk as a pending operation before it starts. A create whose call broke off
(the provider process died, the call timed out) may have bought a number: its pending
operation stays in the state. Every other failed create bought nothing (the provider
releases what it bought before it reports a failure) and leaves nothing behind.
"""

from __future__ import annotations

import dataclasses
import itertools
import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from ._checkpoint import Checkpointer, CheckpointError
from ._grpc import ProviderError
from ._provider import MAX_CONCURRENCY, ProviderHandle
from ._state import STACK_TYPE, PendingOperation, ResourceState, Snapshot, to_plain

__all__ = [
    "CREATE",
    "DELETE",
    "REPLACE",
    "RETAIN",
    "SAME",
    "UPDATE",
    "Deployment",
    "Registration",
    "RunError",
]

CREATE, UPDATE, REPLACE, DELETE = "create", "update", "replace", "delete"
SAME, RETAIN = "same", "retain"
#: Pulumi's name for a pending create operation.
CREATING = "creating"


@dataclass(frozen=True)
class RunError:
    """One failure of a run: the resource (``urn``, "" for the program itself) and why."""

    urn: str
    message: str

    @property
    def name(self) -> str:
        """The resource's logical name ("" for a program error)."""
        return self.urn.rsplit("::", 1)[-1] if self.urn else ""

    def __str__(self) -> str:
        return f"{self.name}: {self.message}" if self.urn else self.message


class _Failed(Exception):
    """A resource step failed; already recorded in :attr:`Deployment.errors`."""


@dataclass
class Registration:
    """A ``RegisterResource`` request, with the options the engine honours."""

    urn: str
    type: str
    name: str
    custom: bool
    inputs: dict[str, Any]
    parent: str = ""
    protect: bool = False
    retain_on_delete: bool = False
    delete_before_replace: bool = False
    dependencies: list[str] = field(default_factory=list)
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)
    ignore_changes: list[str] = field(default_factory=list)
    replace_on_changes: list[str] = field(default_factory=list)
    import_id: str = ""


def _provider_message(exc: ProviderError) -> str:
    line = exc.last_line
    kind, sep, rest = line.partition(": ")
    if sep and "." in kind and " " not in kind:
        return f"{kind.rsplit('.', 1)[-1]}: {rest}"
    return line or exc.detail


def _answered(exc: ProviderError) -> bool:
    """True when the provider itself answered with an error (the dynamic-provider server
    sends every exception as UNKNOWN with its traceback); False when the call broke off
    (process gone, deadline passed), so whatever it was doing may have happened."""
    return exc.code == "StatusCode.UNKNOWN" and exc.detail.startswith("Traceback")


class Deployment:
    """The state of one run: old resources in, new resources, operations and errors out."""

    def __init__(
        self,
        olds: Iterable[ResourceState],
        provider: ProviderHandle,
        preview: bool,
        dynamic_type: str,
        checkpoint: Checkpointer | None = None,
        provider_ref: str = "",
    ) -> None:
        olds = list(olds)
        self.olds = {r.urn: r for r in olds if not r.delete}
        self.provider = provider
        self.preview = preview
        self.dynamic_type = dynamic_type
        self.news: dict[str, ResourceState] = {}
        self.ops: dict[str, str] = {}
        self.errors: list[RunError] = []
        self.outputs: dict[str, Any] = {}
        self.stack_urn = ""
        #: old instances awaiting deletion: replaced this run, or left pending by a failed run
        self._replaced: list[ResourceState] = [r for r in olds if r.delete]
        self.checkpoint = checkpoint
        #: ``provider`` of every dynamic resource (``<urn>::<id>`` of the default provider)
        self.provider_ref = provider_ref
        #: creates started and not seen to end, by token
        self._pending: dict[int, PendingOperation] = {}
        self._tokens = itertools.count()
        #: id() of the old instances deleted (or forgotten) this run
        self._gone: set[int] = set()
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._inflight = 0

    # -- bookkeeping ----------------------------------------------------------------------
    def fail(self, urn: str, message: str) -> None:
        """Record an error."""
        with self._lock:
            self.errors.append(RunError(urn, message))

    def _op(self, urn: str, op: str, *, keep: bool = False) -> None:
        with self._lock:
            if not (keep and urn in self.ops):
                self.ops[urn] = op

    def _changed(self) -> None:
        if self.checkpoint is not None and not self.preview:
            self.checkpoint.changed()

    def snapshot(self) -> Snapshot:
        """The state as it stands now: what this run registered, the old resources it has
        not replaced or deleted yet, old instances awaiting deletion, and the creates in
        flight (plus any the run could not see end)."""
        with self._lock:
            news = list(self.news.values())
            olds = [
                r
                for urn, r in self.olds.items()
                if urn not in self.news and id(r) not in self._gone
            ]
            doomed = [r for r in self._replaced if id(r) not in self._gone]
            pending = list(self._pending.values())
        return Snapshot(news + olds + doomed, pending)

    def wait_idle(self) -> None:
        """Block until no registration is being processed."""
        with self._idle:
            self._idle.wait_for(lambda: self._inflight == 0)

    # -- registration (called from the SDK's executor threads) -----------------------------
    def register_stack(self, urn: str) -> None:
        """The root stack resource."""
        self.stack_urn = urn
        old = self.olds.get(urn)
        state = ResourceState(urn=urn, type=STACK_TYPE, custom=False)
        if old is not None:
            state.created = old.created
        with self._lock:
            self.news[urn] = state
            self.ops[urn] = SAME if old is not None else CREATE

    def register_outputs(self, urn: str, outputs: dict[str, Any]) -> None:
        """``register_outputs`` of a component, or the stack's exports."""
        plain = to_plain(outputs)
        with self._lock:
            if urn == self.stack_urn:
                self.outputs = plain
            if urn in self.news:  # states are replaced, never edited (checkpoints cache them)
                self.news[urn] = dataclasses.replace(self.news[urn], outputs=plain)

    def register(self, reg: Registration) -> tuple[str, dict[str, Any]] | None:
        """Decide and run the step for one resource: ``(id, outputs)``, or None when it
        failed (the error is recorded) or was skipped because an earlier step failed."""
        with self._lock:
            if self.errors and not self.preview:
                return None
            if reg.urn in self.news:
                self.errors.append(
                    RunError(
                        reg.urn,
                        "duplicate resource URN; every resource "
                        "needs a unique name under its parent",
                    )
                )
                return None
            self._inflight += 1
        try:
            old = self.olds.get(reg.urn)
            if reg.type == self.dynamic_type:
                id_, state = self._dynamic(reg, old)
            else:
                id_, state = self._plain(reg, old)
            if old is not None:
                same = state.inputs == old.inputs and state.outputs == old.outputs
                state = dataclasses.replace(
                    state, created=old.created, modified=old.modified if same else state.modified
                )
            with self._lock:
                self.news[reg.urn] = state
                changed = reg.type == self.dynamic_type and self.ops.get(reg.urn) != SAME
            if changed:
                self._changed()
            return id_, state.outputs
        except ProviderError as exc:
            self.fail(reg.urn, _provider_message(exc))
            return None
        except _Failed:
            return None
        finally:
            with self._idle:
                self._inflight -= 1
                self._idle.notify_all()

    def _state(
        self, reg: Registration, id_: str, inputs: dict[str, Any], outputs: dict[str, Any]
    ) -> ResourceState:
        return ResourceState(
            urn=reg.urn,
            type=reg.type,
            custom=reg.custom,
            id=id_,
            inputs=to_plain(inputs),
            outputs=to_plain(outputs),
            parent=reg.parent,
            provider=self.provider_ref if reg.type == self.dynamic_type else "",
            protect=reg.protect,
            retain_on_delete=reg.retain_on_delete,
            dependencies=list(reg.dependencies),
            property_dependencies=dict(reg.property_dependencies),
        )

    def _plain(self, reg: Registration, old: ResourceState | None) -> tuple[str, ResourceState]:
        if old is None:
            self._op(reg.urn, CREATE)
            id_ = f"{reg.name}_id" if reg.custom else ""
        else:
            self._op(reg.urn, SAME if old.inputs == to_plain(reg.inputs) else UPDATE)
            id_ = old.id
        outputs = reg.inputs if reg.custom else (old.outputs if old else {})
        return id_, self._state(reg, id_, reg.inputs, outputs)

    def _dynamic(self, reg: Registration, old: ResourceState | None) -> tuple[str, ResourceState]:
        if reg.import_id:
            self.fail(
                reg.urn,
                "`import` does not work for dynamic resources (pulumi/pulumi#16175)"
                "; declare the number with adopt=True instead",
            )
            raise _Failed(reg.urn)
        news = dict(reg.inputs)
        if old is not None:
            for key in reg.ignore_changes:
                if key in old.inputs:
                    news[key] = old.inputs[key]
                else:
                    news.pop(key, None)
        checked = self.provider.check(reg.urn, old.inputs if old else {}, news)
        if checked.failures:
            reasons = "; ".join(f"{prop or 'inputs'}: {why}" for prop, why in checked.failures)
            self.fail(reg.urn, f"check failed: {reasons}")
            raise _Failed(reg.urn)
        inputs = to_plain(checked.inputs)
        if old is None:
            self._op(reg.urn, CREATE)
            return self._create(reg, inputs)
        diff = self.provider.diff(reg.urn, old.id, old.outputs, inputs)
        replaces = list(diff.replaces)
        replaces += [
            k
            for k in reg.replace_on_changes
            if inputs.get(k) != old.inputs.get(k) and k not in replaces
        ]
        if replaces:
            return self._replace(
                reg, old, inputs, replaces, reg.delete_before_replace or diff.delete_before_replace
            )
        changed = diff.changes if diff.changes is not None else inputs != old.inputs
        if not changed:
            self._op(reg.urn, SAME)
            return old.id, self._state(reg, old.id, inputs, old.outputs)
        self._op(reg.urn, UPDATE)
        if self.preview:
            return old.id, self._state(reg, old.id, inputs, {**old.outputs, **inputs})
        outs = self.provider.update(reg.urn, old.id, old.outputs, inputs)
        return old.id, self._state(reg, old.id, inputs, outs)

    def _create(
        self,
        reg: Registration,
        inputs: dict[str, Any],
        replacing: ResourceState | None = None,
    ) -> tuple[str, ResourceState]:
        if self.preview:
            return "", self._state(reg, "", inputs, inputs)
        token = self._begin_create(reg, inputs)
        try:
            id_, outs = self.provider.create(reg.urn, inputs)
        except ProviderError as exc:
            if _answered(exc):
                with self._lock:
                    del self._pending[token]
                raise
            self.fail(
                reg.urn,
                f"create broke off ({_provider_message(exc)}): a number may have been "
                "bought; the state keeps this create as a pending operation "
                "(find the number with `pulumi-phonenumbers audit`)",
            )
            raise _Failed(reg.urn) from None
        state = self._state(reg, id_, inputs, outs)
        with self._lock:  # one step: a checkpoint sees the pending create or its result
            del self._pending[token]
            self.news[reg.urn] = state
            if replacing is not None:
                self._replaced.append(dataclasses.replace(replacing, delete=True))
        self._changed()
        return id_, state

    def _begin_create(self, reg: Registration, inputs: dict[str, Any]) -> int:
        """Record the create as pending and wait until the state file holds it."""
        self.provider.start()  # a provider that does not start has bought nothing
        operation = PendingOperation(CREATING, self._state(reg, "", inputs, {}))
        with self._lock:
            token = next(self._tokens)
            self._pending[token] = operation
        if self.checkpoint is not None:
            try:
                self.checkpoint.durable()
            except CheckpointError as exc:
                with self._lock:
                    del self._pending[token]
                self.fail(reg.urn, f"{exc}; nothing was bought for this resource")
                raise _Failed(reg.urn) from None
        return token

    def unfinished(self) -> list[PendingOperation]:
        """Creates this run started and could not see end (the number may be bought)."""
        with self._lock:
            return list(self._pending.values())

    def _replace(
        self,
        reg: Registration,
        old: ResourceState,
        inputs: dict[str, Any],
        replaces: list[str],
        delete_first: bool,
    ) -> tuple[str, ResourceState]:
        why = ", ".join(replaces)
        if reg.protect or old.protect:
            self.fail(
                reg.urn,
                f"refusing to replace protected resource (changed: {why}); "
                f"replacing it would release {old.id or 'it'}. Remove protect=True "
                "from its ResourceOptions first if the replacement is intended",
            )
            raise _Failed(reg.urn)
        self._op(reg.urn, REPLACE)
        if self.preview:
            return "", self._state(reg, "", inputs, inputs)
        if delete_first:
            if not self._delete_one(old, record=False):
                raise _Failed(reg.urn)
            return self._create(reg, inputs)
        return self._create(reg, inputs, replacing=old)

    # -- deletion --------------------------------------------------------------------------
    def _delete_one(self, res: ResourceState, record: bool = True) -> bool:
        """Delete (or forget) one resource; False when it must stay in the state."""
        if res.protect:
            what = f" (the number {res.id} stays bought)" if res.type == self.dynamic_type else ""
            self.fail(
                res.urn,
                f"refusing to delete protected resource{what}: it has "
                "protect=True. Remove protect=True from its ResourceOptions and "
                "run up, then delete it",
            )
            return False
        if res.retain_on_delete:
            if record:
                self._op(res.urn, RETAIN, keep=True)
            self._forget(res)
            return True
        if res.type == self.dynamic_type and res.id and not self.preview:
            try:
                self.provider.delete(res.urn, res.id, res.outputs)
            except ProviderError as exc:
                self.fail(res.urn, f"delete failed: {_provider_message(exc)}")
                return False
        if record:
            self._op(res.urn, DELETE, keep=True)
        self._forget(res)
        return True

    def _forget(self, res: ResourceState) -> None:
        if self.preview:
            return
        with self._lock:
            self._gone.add(id(res))
        self._changed()

    def delete_all(
        self, doomed: Iterable[ResourceState], keepers: Iterable[ResourceState] = ()
    ) -> list[ResourceState]:
        """Delete ``doomed``, dependents first, up to four at once; return what must stay.

        A resource that fails to delete (protected, or a provider error) stays, and so does
        everything it depends on; so does anything a keeper depends on.
        """
        # keyed by position: a replaced instance awaiting deletion shares its URN
        pending = dict(enumerate(doomed))
        stays: list[ResourceState] = []

        def keep(urn: str) -> None:
            for index in [i for i, r in pending.items() if r.urn == urn]:
                res = pending.pop(index)
                stays.append(res)
                for need in res.depends_on():
                    keep(need)

        for res in keepers:
            for need in res.depends_on():
                keep(need)
        with ThreadPoolExecutor(MAX_CONCURRENCY) as pool:
            while pending:
                needed = {n for r in pending.values() for n in r.depends_on()}
                ready = [i for i, r in pending.items() if r.urn not in needed]
                if not ready:  # a dependency cycle: delete in reverse state order
                    ready = [max(pending)]
                results = list(pool.map(self._delete_one, [pending[i] for i in ready]))
                for index, ok in zip(ready, results, strict=True):
                    if ok:
                        del pending[index]
                    else:
                        keep(pending[index].urn)
        return stays

    def finish(self) -> list[ResourceState]:
        """After the program: delete replaced and undeclared resources; the new state."""
        with self._lock:
            replaced = list(self._replaced)
            failed = bool(self.errors)
        unregistered = [
            r for urn, r in self.olds.items() if urn not in self.news and id(r) not in self._gone
        ]
        kept = self.delete_all(replaced)  # instances awaiting deletion (delete=True)
        if failed:
            # as `pulumi up` does: after a failed step, nothing the program dropped is deleted
            # and the stack keeps its previous outputs. A preview plans the same: a resource
            # that failed its check is not "to delete" (its registration just did not finish)
            if not self.preview:
                old_stack = self.olds.get(self.stack_urn)
                self.register_outputs(self.stack_urn, old_stack.outputs if old_stack else {})
            return list(self.news.values()) + unregistered + kept
        news = list(self.news.values())
        return news + kept + self.delete_all(unregistered, keepers=news)

    def destroy(self) -> list[ResourceState]:
        """Delete everything; what stays (protected resources and what they need)."""
        with self._lock:
            replaced = list(self._replaced)
        kept = self.delete_all(replaced)
        return kept + self.delete_all(self.olds.values())

    # -- refresh ---------------------------------------------------------------------------
    def refresh(self) -> list[ResourceState]:
        """Read every number; drop those that vanished. Returns the new state."""
        resources = list(self.olds.values())

        def read(res: ResourceState) -> ResourceState | None:
            if res.type != self.dynamic_type or not res.id:
                self._op(res.urn, SAME)
                return res
            try:
                id_, outs, inputs = self.provider.read(res.urn, res.id, res.outputs, res.inputs)
            except ProviderError as exc:
                self.fail(res.urn, f"refresh failed: {_provider_message(exc)}")
                return res
            if not id_:
                self._op(res.urn, DELETE)
                return None
            new = dataclasses.replace(res, id=id_, outputs=to_plain(outs))
            if inputs is not None:
                new.inputs = to_plain(inputs)
            changed = new.outputs != res.outputs or new.inputs != res.inputs
            self._op(res.urn, UPDATE if changed else SAME)
            return new

        with ThreadPoolExecutor(MAX_CONCURRENCY) as pool:
            results = list(pool.map(read, resources))
        return [r for r in results if r is not None] + list(self._replaced)
