"""Writing the state file while a run goes on, as the Pulumi engine checkpoints its snapshot.

A run calls :meth:`Checkpointer.changed` after each step that changed what the vendor holds
(a create, update or delete ended) and :meth:`Checkpointer.durable` before a create starts:
``durable`` returns once a write that includes every change made before the call has
replaced the file. So a create is on disk as a pending operation before it can buy anything,
and stays there until a later write holds its result. Writes happen on one thread and
coalesce: changes made while a write is in progress go into the next, and a change nobody
waits for is written within ``interval`` seconds, with whatever else changed meanwhile.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

__all__ = ["CheckpointError", "Checkpointer"]


class CheckpointError(RuntimeError):
    """The state file could not be written: nothing more may be bought this run."""


class Checkpointer:
    """Calls ``write`` (which saves the current state) on its own thread when asked."""

    def __init__(self, write: Callable[[], None], interval: float = 0.1) -> None:
        self._write = write
        self.interval = interval
        self._waiting = 0  # durable() callers
        self._cond = threading.Condition()
        self._asked = 0  # generation of the latest change
        self._written = 0  # generation the file holds
        self._error: BaseException | None = None
        self._stopping = False
        self._stopped = False
        self._thread = threading.Thread(target=self._loop, name="state-checkpoint", daemon=True)
        self._thread.start()

    def changed(self) -> int:
        """Ask for a write that includes the changes made so far; returns at once."""
        with self._cond:
            self._asked += 1
            self._cond.notify_all()
            return self._asked

    def durable(self) -> None:
        """Block until the file holds every change made before this call.

        Raises :class:`CheckpointError` when the state cannot be written.
        """
        with self._cond:
            self._asked += 1
            wanted = self._asked
            self._waiting += 1
            self._cond.notify_all()
            try:
                self._cond.wait_for(
                    lambda: self._written >= wanted or self._error is not None or self._stopped
                )
            finally:
                self._waiting -= 1
            if self._written < wanted:
                why = self._error or "the run is ending"
                raise CheckpointError(f"cannot write the state file: {why}")

    def _loop(self) -> None:
        try:
            self._write_until_stopped()
        finally:
            with self._cond:
                self._stopped = True
                self._cond.notify_all()

    def _write_until_stopped(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._asked > self._written or self._stopping)
                if self._asked == self._written:  # stopping, nothing left to write
                    return
                # nobody waits: let more changes gather (a durable() or close() cuts it short)
                self._cond.wait_for(lambda: self._waiting or self._stopping, self.interval)
                generation = self._asked
            try:
                self._write()
            except Exception as exc:  # reported to every durable() caller from now on
                with self._cond:
                    self._error = exc
                    self._cond.notify_all()
                return
            with self._cond:
                self._written = generation
                self._cond.notify_all()

    def close(self) -> None:
        """Write what is still unwritten, then stop the thread."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        self._thread.join()
