"""Drive the real dynamic-provider server (``python -m pulumi.dynamic``) over gRPC.

This is what the Pulumi engine does: start the plugin process, read its port, then send
Configure / Check / Diff / Create / Update / Read / Delete with serialized properties.
:func:`checked`, :func:`update_in_place` and :func:`create_at_once` are the steps the tests
take over either provider (the dynamic one or the native plugin), with the engine's
expectations of each step checked.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import grpc
from google.protobuf import struct_pb2
from pulumi.runtime import proto, rpc
from pulumi.runtime.proto import provider_pb2_grpc

from ._loops import LoopPool

__all__ = [
    "CheckOutcome",
    "DiffOutcome",
    "ProviderError",
    "ProviderProcess",
    "checked",
    "create_at_once",
    "update_in_place",
]

PROVIDER_KEY = "__provider"


class ProviderError(Exception):
    """The provider answered a call with an error; ``detail`` is its message (a traceback)."""

    def __init__(self, method: str, code: str, detail: str) -> None:
        super().__init__(f"{method}: {detail}")
        self.method = method
        self.code = code
        self.detail = detail

    @property
    def last_line(self) -> str:
        """The final line of the detail (the exception type and message)."""
        lines = [line for line in self.detail.strip().splitlines() if line.strip()]
        return lines[-1] if lines else ""


@dataclass
class CheckOutcome:
    """Check's answer."""

    inputs: dict[str, Any]
    failures: list[tuple[str, str]]


@dataclass
class DiffOutcome:
    """Diff's answer."""

    changes: bool | None
    replaces: list[str] = field(default_factory=list)
    delete_before_replace: bool = False


def _deserialize(struct: struct_pb2.Struct, keep_unknowns: bool = False) -> dict[str, Any]:
    value = rpc.deserialize_properties(struct, keep_unknowns)
    return dict(value) if value else {}


#: ``python -m pulumi.dynamic`` (the server Pulumi starts), behind a watch on stdin. Only the
#: process that started the provider holds the other end of that pipe; however that process
#: ends (even SIGKILL, where no cleanup runs), the pipe reaches EOF and the provider exits at
#: once, in the middle of a call if need be, so no ``pulumi.dynamic`` process outlives it.
_LAUNCHER = """\
import os, runpy, threading
def watch_parent():
    while os.read(0, 4096):
        pass
    os._exit(0)
threading.Thread(target=watch_parent, name="parent-watch", daemon=True).start()
runpy.run_module("pulumi.dynamic", run_name="__main__", alter_sys=True)
"""


class ProviderProcess:
    """A running ``python -m pulumi.dynamic`` and a stub to talk to it.

    The process ends with :meth:`close`, and on its own when the process that started it
    ends in any way (see ``_LAUNCHER``).
    """

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        python: str = sys.executable,
        command: Sequence[str] | None = None,
    ) -> None:
        """Start ``python -m pulumi.dynamic``, or ``command`` (another plugin executable,
        such as ``pulumi-resource-phonenumbers``) when given."""
        full_env = {**os.environ, **(env or {})}
        full_env.setdefault("PULUMI_PROJECT", "phonenumbers-test")
        self.proc = subprocess.Popen(
            list(command) if command is not None else [python, "-u", "-c", _LAUNCHER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=full_env,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().strip()
        if not line.isdigit():
            self.proc.kill()
            _, err = self.proc.communicate(timeout=10)
            raise RuntimeError(f"provider did not start: {line!r} {err}")
        self.port = int(line)
        self.stderr_lines: list[str] = []
        #: What the process wrote to stdout after its port line (filled in by close()).
        self.stdout_rest = ""
        self._loops = LoopPool()  # the serializer is a coroutine; loops closed in close()
        self._pump = threading.Thread(target=self._drain, daemon=True)
        self._pump.start()
        self.channel = grpc.insecure_channel(f"127.0.0.1:{self.port}")
        self.stub = provider_pb2_grpc.ResourceProviderStub(self.channel)

    def _drain(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.stderr_lines.append(line)

    @property
    def stderr(self) -> str:
        """Everything the provider wrote to stderr so far."""
        return "".join(self.stderr_lines)

    def close(self) -> None:
        """Stop the provider process; close its pipes and event loops."""
        self.channel.close()
        self.proc.kill()
        self.proc.wait(timeout=10)
        self._pump.join(timeout=10)
        if self.proc.stdout is not None and not self.proc.stdout.closed:
            self.stdout_rest = self.proc.stdout.read()
        for pipe in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if pipe is not None:
                pipe.close()
        self._loops.close()

    def __enter__(self) -> ProviderProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, method: str, request: Any, timeout: float = 120.0) -> Any:
        try:
            return getattr(self.stub, method)(request, timeout=timeout)
        except grpc.RpcError as exc:
            raise ProviderError(method, str(exc.code()), exc.details() or "") from None

    # -- the engine's calls -------------------------------------------------------------
    def _serialize(self, props: Mapping[str, Any]) -> struct_pb2.Struct:
        return self._loops.run(rpc.serialize_properties(dict(props), {}))

    def configure(self, config: Mapping[str, str]) -> None:
        """Send stack config (``{"phonenumbers:key": "value"}``)."""
        self._call(
            "Configure", proto.ConfigureRequest(args=self._serialize(config), acceptSecrets=False)
        )

    def check(self, urn: str, olds: Mapping[str, Any], news: Mapping[str, Any]) -> CheckOutcome:
        """Check; ``news`` must include ``__provider``."""
        resp = self._call(
            "Check",
            proto.CheckRequest(urn=urn, olds=self._serialize(olds), news=self._serialize(news)),
        )
        return CheckOutcome(
            _deserialize(resp.inputs, True), [(f.property, f.reason) for f in resp.failures]
        )

    def diff(
        self, urn: str, id_: str, olds: Mapping[str, Any], news: Mapping[str, Any]
    ) -> DiffOutcome:
        """Diff old outputs against new checked inputs."""
        resp = self._call(
            "Diff",
            proto.DiffRequest(
                urn=urn, id=id_, olds=self._serialize(olds), news=self._serialize(news)
            ),
        )
        changes = {proto.DiffResponse.DIFF_SOME: True, proto.DiffResponse.DIFF_NONE: False}.get(
            resp.changes
        )
        return DiffOutcome(changes, list(resp.replaces), bool(resp.deleteBeforeReplace))

    def create(self, urn: str, props: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        """Create; returns ``(id, outputs)``."""
        resp = self._call("Create", proto.CreateRequest(urn=urn, properties=self._serialize(props)))
        return resp.id, _deserialize(resp.properties)

    def update(
        self, urn: str, id_: str, olds: Mapping[str, Any], news: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Update; returns the new outputs."""
        resp = self._call(
            "Update",
            proto.UpdateRequest(
                urn=urn, id=id_, olds=self._serialize(olds), news=self._serialize(news)
            ),
        )
        return _deserialize(resp.properties)

    def read(
        self, urn: str, id_: str, props: Mapping[str, Any], inputs: Mapping[str, Any] | None = None
    ) -> tuple[str, dict[str, Any], dict[str, Any] | None]:
        """Read; returns ``(id, outputs, inputs or None)``; an empty id means gone."""
        req = proto.ReadRequest(
            urn=urn, id=id_, properties=self._serialize(props), inputs=self._serialize(inputs or {})
        )
        resp = self._call("Read", req)
        new_inputs = _deserialize(resp.inputs) if resp.HasField("inputs") else None
        return resp.id, _deserialize(resp.properties), new_inputs

    def delete(self, urn: str, id_: str, props: Mapping[str, Any]) -> None:
        """Delete."""
        self._call(
            "Delete", proto.DeleteRequest(urn=urn, id=id_, properties=self._serialize(props))
        )


# -- steps over either provider, each with what the engine expects of it checked ----------
def checked(process: ProviderProcess, urn: str, news: Mapping[str, Any]) -> dict[str, Any]:
    """Check ``news`` (no olds), which must pass; returns the checked inputs.

    :raises AssertionError: naming the failures, when Check reports any.
    """
    outcome = process.check(urn, {}, news)
    if outcome.failures:
        raise AssertionError(f"Check {urn}: {outcome.failures}")
    return outcome.inputs


def update_in_place(
    process: ProviderProcess, urn: str, id_: str, olds: Mapping[str, Any], news: Mapping[str, Any]
) -> dict[str, Any]:
    """Diff, which must answer "changes, no replacement", then Update; the new outputs.

    :raises AssertionError: when Diff answers otherwise.
    """
    diff = process.diff(urn, id_, olds, news)
    if not (diff.changes is True and diff.replaces == []):
        raise AssertionError(f"Diff {urn}: {diff}, not an in-place update")
    return process.update(urn, id_, olds, news)


def create_at_once(
    process: ProviderProcess, urns: Sequence[str], inputs: Mapping[str, Any]
) -> list[str]:
    """Create one resource per URN from the same ``inputs``, all at once (a thread each);
    their ids, in URN order."""
    with ThreadPoolExecutor(len(urns)) as pool:
        return list(pool.map(lambda urn: process.create(urn, inputs)[0], urns))
