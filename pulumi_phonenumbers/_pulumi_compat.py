"""Everything this package takes from the Pulumi SDK that is not its public API, in one place.

The runtime (provider, resources) uses public API only. The test tools (``testing/``) need:

* the wire signatures that mark secrets and resource references in serialized properties;
* the mock monitor, engine and settings classes behind ``pulumi.runtime.set_mocks`` (not
  exported by ``pulumi.runtime``; the local engine needs each request with its options,
  which ``Mocks`` does not see);
* the SDK's set of outputs still resolving (``SETTINGS.outputs`` and its lock), to wait for
  all of them at once instead of the SDK's one-completion-at-a-time loop;
* whether the program registered a ``pulumi.run`` coroutine (``Stack._async_program``).

Each is checked against the installed SDK by tests/test_pulumi_compat.py, so an SDK release
that moves or changes one fails there, loudly, instead of deep in a test run. At run time a
missing piece falls back to the SDK's own behaviour (slower, never wrong).
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from pulumi.runtime.mocks import MockEngine, MockMonitor, MockSettings
from pulumi.runtime.settings import SETTINGS, get_root_resource

__all__ = [
    "RESOURCE_SIG",
    "SECRET_SIG",
    "SIG_KEY",
    "MockEngine",
    "MockMonitor",
    "MockSettings",
    "runs_async_program",
    "tracked_outputs",
]

#: Key that marks a special value inside a serialized property map (``rpc._special_sig_key``).
SIG_KEY = "4dabf18193072939515e22adb298388d"
#: ``SIG_KEY`` value of a secret (``rpc._special_secret_sig``).
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
#: ``SIG_KEY`` value of a resource reference (``rpc._special_resource_sig``).
RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e"


def tracked_outputs() -> tuple[set[asyncio.Task[Any]], threading.Lock] | None:
    """The SDK's set of outputs of the running program and the lock that guards it (None
    when this SDK does not keep them there)."""
    tasks = getattr(SETTINGS, "outputs", None)
    lock = getattr(SETTINGS, "lock", None)
    if not isinstance(tasks, set) or lock is None:
        return None
    return tasks, lock


def runs_async_program() -> bool | None:
    """True when the running program registered a ``pulumi.run`` coroutine, whose outputs
    may only resolve once it runs (None when this SDK does not say)."""
    root = get_root_resource()
    if root is None or not hasattr(root, "_async_program"):
        return None
    return root._async_program is not None
