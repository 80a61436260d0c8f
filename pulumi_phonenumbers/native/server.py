"""``pulumi-resource-phonenumbers``: serve :class:`.provider.PhoneNumbersPlugin` over gRPC.

Like every Pulumi plugin it prints its port on stdout and serves until the engine kills it.
Errors reach the engine as the core's own one-line message (no Python traceback appended).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections.abc import Awaitable, Callable, Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import grpc
from google.protobuf import empty_pb2
from pulumi.provider.experimental import provider as p
from pulumi.provider.experimental.property_value import PropertyValue
from pulumi.provider.experimental.server import ProviderServicer
from pulumi.runtime import proto
from pulumi.runtime._grpc_settings import _GRPC_CHANNEL_OPTIONS
from pulumi.runtime.proto import provider_pb2_grpc

from .provider import PhoneNumbersPlugin

__all__ = ["main", "plugin_version"]

_Handler = Callable[[Any, Any, Any], Awaitable[Any]]
_METHODS = (
    "GetSchema",
    "CheckConfig",
    "DiffConfig",
    "Configure",
    "Check",
    "Diff",
    "Create",
    "Read",
    "Update",
    "Delete",
    "Invoke",
)


def plugin_version() -> str:
    """The installed package's version (the plugin reports it to the engine)."""
    try:
        return version("pulumi-phonenumbers")
    except PackageNotFoundError:  # pragma: no cover - a source checkout without install
        return "0.1.0"


def _message(exc: BaseException) -> str:
    # The SDK's servicer re-raises every failure with a traceback appended; its
    # __context__ is the core's own (already redacted) exception.
    original = exc.__context__ if exc.__context__ is not None else exc
    return str(original) or type(original).__name__


def _clean(handler: _Handler) -> _Handler:
    async def serve(self: Any, request: Any, context: Any) -> Any:
        try:
            answer = await handler(self, request, context)
        except Exception as exc:
            await context.abort(grpc.StatusCode.UNKNOWN, _message(exc))
        # The SDK's Delete answers None, which gRPC cannot serialize.
        return empty_pb2.Empty() if answer is None else answer

    return serve


class _Servicer(ProviderServicer):
    async def DiffConfig(self, request: Any, context: Any) -> Any:
        # The SDK's DiffConfig copies the bool into the enum: True became DIFF_NONE (1).
        resp = await self._provider.diff_config(
            p.DiffRequest(
                request.urn,
                request.id,
                PropertyValue.unmarshal_map(request.olds),
                PropertyValue.unmarshal_map(request.news),
                list(request.ignoreChanges),
            )
        )
        if resp.changes is None:
            changes = proto.DiffResponse.DIFF_UNKNOWN
        else:
            changes = proto.DiffResponse.DIFF_SOME if resp.changes else proto.DiffResponse.DIFF_NONE
        return proto.DiffResponse(
            changes=changes,
            replaces=resp.replaces,
            diffs=resp.diffs,
        )


for _name in _METHODS:
    setattr(_Servicer, _name, _clean(getattr(_Servicer, _name)))


async def _serve(engine: str) -> None:
    server = grpc.aio.server(options=_GRPC_CHANNEL_OPTIONS, maximum_concurrent_rpcs=None)
    servicer = _Servicer([], plugin_version(), PhoneNumbersPlugin(), engine_address=engine)
    provider_pb2_grpc.add_ResourceProviderServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    sys.stdout.write(f"{port}\n")
    sys.stdout.flush()
    await server.wait_for_termination()


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the console script: ``pulumi-resource-phonenumbers [ENGINE] [flags]``."""
    parser = argparse.ArgumentParser(description="Pulumi resource provider for phone numbers")
    parser.add_argument("engine", nargs="?", default="", help="the engine's gRPC address")
    known, _ = parser.parse_known_args(list(sys.argv[1:] if argv is None else argv))
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(known.engine))
