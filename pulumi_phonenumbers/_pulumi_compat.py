"""Everything this package takes from the Pulumi SDK that is not its public API, in one place.

The runtime (provider, resources) uses public API only. The test tools need the SDK's
way of running a coroutine to completion on the current thread's loop, and the wire
signatures that mark secrets and resource references in serialized properties. Each is
checked against the installed SDK by tests/test_pulumi_compat.py, so an SDK release that
moves or changes one fails there, loudly, instead of deep in a test run.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar, cast

from pulumi.runtime import sync_await as _sdk_sync_await

__all__ = [
    "RESOURCE_SIG",
    "SECRET_SIG",
    "SIG_KEY",
    "ensure_event_loop",
    "sync_await",
]

T = TypeVar("T")

#: Key that marks a special value inside a serialized property map (``rpc._special_sig_key``).
SIG_KEY = "4dabf18193072939515e22adb298388d"
#: ``SIG_KEY`` value of a secret (``rpc._special_secret_sig``).
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
#: ``SIG_KEY`` value of a resource reference (``rpc._special_resource_sig``).
RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e"


def ensure_event_loop() -> asyncio.AbstractEventLoop:
    """The current thread's event loop, created if missing, as the SDK's mocks expect."""
    return cast(asyncio.AbstractEventLoop, _sdk_sync_await._ensure_event_loop())  # type: ignore[no-untyped-call]


def sync_await(awaitable: Awaitable[T]) -> T:
    """Run ``awaitable`` to completion from synchronous code, the way the SDK's mocks do
    (it pumps the loop even when the loop is already running)."""
    return _sdk_sync_await._sync_await(awaitable)
