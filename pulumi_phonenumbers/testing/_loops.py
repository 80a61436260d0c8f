"""Event loops for synchronous code on worker threads, every one of them closed in the end.

The SDK's serializers are coroutines, and deserializing can need ``asyncio.get_event_loop()``
on the calling thread. A loop created for that and never closed is finalized during
interpreter shutdown, when its self-pipe is already gone: "Exception ignored in
BaseEventLoop.__del__ ... Invalid file descriptor: -1". A :class:`LoopPool` lends loops to
threads and closes them all in :meth:`LoopPool.close`.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Coroutine, Iterator
from typing import Any, TypeVar

__all__ = ["LoopPool"]

T = TypeVar("T")


class LoopPool:
    """Event loops lent to one thread at a time and reused; :meth:`close` closes them all."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: list[asyncio.AbstractEventLoop] = []
        self._closed = False

    def _take(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        return asyncio.new_event_loop()

    def _give(self, loop: asyncio.AbstractEventLoop) -> None:
        with self._lock:
            if not self._closed:
                self._idle.append(loop)
                return
        loop.close()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` to completion on a lent loop (from a thread with no running loop)."""
        loop = self._take()
        try:
            return loop.run_until_complete(coro)
        finally:
            self._give(loop)

    @contextlib.contextmanager
    def current(self) -> Iterator[asyncio.AbstractEventLoop]:
        """A lent loop, set as this thread's event loop for the block: for SDK code that
        calls ``asyncio.get_event_loop()`` on a worker thread that has no loop of its own
        (the thread is left with none afterwards)."""
        loop = self._take()
        asyncio.set_event_loop(loop)
        try:
            yield loop
        finally:
            asyncio.set_event_loop(None)
            self._give(loop)

    def close(self) -> None:
        """Close every idle loop now and every lent one when it comes back."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for loop in idle:
            loop.close()
