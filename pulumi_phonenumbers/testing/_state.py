"""The local engine's state file, in the shape of ``pulumi stack export``.

``{"version": 3, "deployment": {"manifest": {...}, "resources": [...]}}``, resources in
dependency order (the stack first, every resource after its parent and dependencies),
each with Pulumi's own field names (``urn``, ``type``, ``id``, ``custom``, ``inputs``,
``outputs``, ``parent``, ``protect``, ``retainOnDelete``, ``dependencies``, ...). One
parser therefore reads both a real export and this engine's state.

A create that was started but not seen to end (the engine was killed, or the provider died
during the call) is kept, as Pulumi keeps it, under ``deployment.pending_operations``::

    {"type": "creating", "resource": {"urn": ..., "type": ..., "custom": true,
                                       "inputs": {...}, "outputs": {}, "parent": ..., ...}}

The resource there has its checked inputs but no ``id`` and no outputs: the number it may
have bought is unknown to the state, and ``pulumi-phonenumbers audit`` is how to find it.
"""

from __future__ import annotations

import json
import os
import tempfile
import textwrap
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pulumi.runtime import rpc

from .._pulumi_compat import RESOURCE_SIG, SECRET_SIG, SIG_KEY
from ..inputs import PHONE_NUMBER_TYPE

__all__ = [
    "DEFAULT_PROVIDER_TYPE",
    "PHONE_NUMBER_TYPE",
    "STACK_TYPE",
    "PendingOperation",
    "ResourceState",
    "Snapshot",
    "StateWriter",
    "load_snapshot",
    "load_state",
    "ordered",
    "save_state",
    "to_plain",
]

STACK_TYPE = "pulumi:pulumi:Stack"
DEFAULT_PROVIDER_TYPE = "pulumi:providers:pulumi-python"


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def to_plain(value: Any) -> Any:
    """Deserialized property values as JSON data: unknowns become ``rpc.UNKNOWN``, secrets
    are unwrapped, resource references become their URN."""
    if type(value).__name__ == "Unknown":
        return rpc.UNKNOWN
    if isinstance(value, Mapping):
        if value.get(SIG_KEY) == SECRET_SIG:
            return to_plain(value.get("value"))
        if value.get(SIG_KEY) == RESOURCE_SIG:
            return str(value.get("urn", ""))
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_plain(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


@dataclass
class ResourceState:
    """One resource of the state file (the fields of a ``pulumi stack export`` resource)."""

    urn: str
    type: str
    custom: bool
    id: str = ""
    inputs: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    parent: str = ""
    provider: str = ""
    protect: bool = False
    #: An old instance awaiting deletion (a create-before-delete replacement whose delete
    #: failed); it shares its URN with the live instance.
    delete: bool = False
    retain_on_delete: bool = False
    dependencies: list[str] = field(default_factory=list)
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)
    created: str = field(default_factory=_now)
    modified: str = field(default_factory=_now)

    @property
    def name(self) -> str:
        """The resource's logical name (last URN segment)."""
        return self.urn.rsplit("::", 1)[-1]

    @property
    def is_phone_number(self) -> bool:
        """True for a :class:`~pulumi_phonenumbers.PhoneNumber`."""
        return self.type == PHONE_NUMBER_TYPE

    def depends_on(self) -> list[str]:
        """URNs this resource needs to exist: parent, provider and dependencies."""
        needs = [self.parent] if self.parent else []
        if self.provider:
            needs.append(self.provider.rsplit("::", 1)[0])
        needs.extend(self.dependencies)
        for deps in self.property_dependencies.values():
            needs.extend(deps)
        return list(dict.fromkeys(u for u in needs if u and u != self.urn))

    def to_json(self) -> dict[str, Any]:
        """The export form (empty optional fields left out, as Pulumi does)."""
        out: dict[str, Any] = {"urn": self.urn, "custom": self.custom, "type": self.type}
        if self.id:
            out["id"] = self.id
        if self.inputs or self.custom:
            out["inputs"] = self.inputs
        if self.outputs or self.custom or self.type == STACK_TYPE:
            out["outputs"] = self.outputs
        if self.parent:
            out["parent"] = self.parent
        if self.delete:
            out["delete"] = True
        if self.protect:
            out["protect"] = True
        if self.retain_on_delete:
            out["retainOnDelete"] = True
        if self.dependencies:
            out["dependencies"] = list(self.dependencies)
        if self.provider:
            out["provider"] = self.provider
        if self.property_dependencies:
            out["propertyDependencies"] = {
                k: list(v) for k, v in self.property_dependencies.items()
            }
        out["created"] = self.created
        out["modified"] = self.modified
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ResourceState:
        """Parse one export resource (unknown fields ignored)."""
        return cls(
            urn=str(data["urn"]),
            type=str(data["type"]),
            custom=bool(data.get("custom", False)),
            id=str(data.get("id") or ""),
            inputs=dict(data.get("inputs") or {}),
            outputs=dict(data.get("outputs") or {}),
            parent=str(data.get("parent") or ""),
            provider=str(data.get("provider") or ""),
            protect=bool(data.get("protect", False)),
            delete=bool(data.get("delete", False)),
            retain_on_delete=bool(data.get("retainOnDelete", False)),
            dependencies=[str(u) for u in data.get("dependencies") or []],
            property_dependencies={
                str(k): [str(u) for u in v]
                for k, v in (data.get("propertyDependencies") or {}).items()
            },
            created=str(data.get("created") or _now()),
            modified=str(data.get("modified") or _now()),
        )


def ordered(resources: Iterable[ResourceState]) -> list[ResourceState]:
    """Resources in dependency order, keeping the given order where it is free (stable).

    An instance pending deletion (``delete``) shares its URN with the live one; both stay.
    """
    items = list(resources)
    live = {r.urn: i for i, r in reversed(list(enumerate(items))) if not r.delete}
    done: set[int] = set()
    result: list[ResourceState] = []

    def visit(index: int, path: frozenset[int]) -> None:
        if index in done or index in path:
            return
        for need in items[index].depends_on():
            if need in live:
                visit(live[need], path | {index})
        done.add(index)
        result.append(items[index])

    for index in range(len(items)):
        visit(index, frozenset())
    return result


@dataclass(frozen=True)
class PendingOperation:
    """An operation a run started and did not see end (Pulumi's ``pending_operations``).

    The engine records ``"creating"`` ones: a create buys a number the run only learns when
    the call returns. ``resource`` holds the inputs of that create, without id or outputs.
    """

    type: str
    resource: ResourceState

    def to_json(self) -> dict[str, Any]:
        """The export form."""
        return {"resource": self.resource.to_json(), "type": self.type}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PendingOperation:
        """Parse one entry of ``pending_operations``."""
        return cls(str(data.get("type") or ""), ResourceState.from_json(data["resource"]))


@dataclass
class Snapshot:
    """A whole state file: its resources and its pending operations."""

    resources: list[ResourceState] = field(default_factory=list)
    pending: list[PendingOperation] = field(default_factory=list)


def load_snapshot(path: Path) -> Snapshot:
    """A state file or a ``pulumi stack export`` (empty when absent)."""
    if not path.exists() or path.stat().st_size == 0:
        return Snapshot()
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or "deployment" not in data:
        raise ValueError(f"{path}: not a stack export (no 'deployment')")
    version = data.get("version")
    if version != 3:
        raise ValueError(f"{path}: unsupported state version {version!r} (expected 3)")
    deployment = data["deployment"]
    return Snapshot(
        [ResourceState.from_json(r) for r in deployment.get("resources") or []],
        [PendingOperation.from_json(op) for op in deployment.get("pending_operations") or []],
    )


def load_state(path: Path) -> list[ResourceState]:
    """Resources of a state file or of a ``pulumi stack export`` (empty when absent)."""
    return load_snapshot(path).resources


def save_state(
    path: Path, resources: Iterable[ResourceState], pending: Iterable[PendingOperation] = ()
) -> None:
    """Write the state atomically: a temporary file renamed over the old one, so a reader,
    or a process killed at any instant, finds the old state or the new, never half a file."""
    StateWriter(path).save(resources, pending)


class StateWriter:
    """Writes one state file again and again (checkpoints), each time whole and atomically,
    serializing only the resources it has not written before.

    A resource's text is reused for the same :class:`ResourceState` object, so the objects
    given must not be edited once written (the engine replaces a state, never edits it).
    """

    _PLACEHOLDER = "\x00resources\x00"

    def __init__(self, path: Path) -> None:
        self.path = path
        #: id() -> (the state, kept so that the id is not reused; its JSON text)
        self._texts: dict[int, tuple[ResourceState, str]] = {}
        self._dir_ready = False

    def _text(self, r: ResourceState, previous: dict[int, tuple[ResourceState, str]]) -> str:
        hit = previous.get(id(r))
        text = hit[1] if hit else textwrap.indent(json.dumps(r.to_json(), indent=2), " " * 6)
        self._texts[id(r)] = (r, text)
        return text

    def save(
        self,
        resources: Iterable[ResourceState],
        pending: Iterable[PendingOperation] = (),
        *,
        order: bool = True,
    ) -> None:
        """Write ``resources`` and ``pending`` as the whole state; ``order=False`` keeps the
        given order (already one where every resource follows what it depends on)."""
        from .. import __name__ as package

        previous, self._texts = self._texts, {}
        texts = [self._text(r, previous) for r in (ordered(resources) if order else resources)]
        deployment: dict[str, Any] = {
            "manifest": {
                "time": _now(),
                "magic": "",
                "version": f"{package}.testing (local engine)",
            },
            "resources": self._PLACEHOLDER,
        }
        operations = [op.to_json() for op in pending]
        if operations:
            deployment["pending_operations"] = operations
        array = "[\n" + ",\n".join(texts) + "\n    ]" if texts else "[]"
        doc = json.dumps({"version": 3, "deployment": deployment}, indent=2)
        doc = doc.replace(json.dumps(self._PLACEHOLDER), array, 1)
        if not self._dir_ready:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._dir_ready = True
        fd, tmp = tempfile.mkstemp(prefix=self.path.name, suffix=".tmp", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(doc + "\n")
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
