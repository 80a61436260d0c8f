"""One dynamic-provider process per engine run, started on first use, calls counted.

At most four gRPC calls are in flight at once: the provider serves them with four worker
threads, exactly as under ``pulumi up``.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Mapping
from typing import Any

from ._grpc import CheckOutcome, DiffOutcome, ProviderProcess

__all__ = ["MAX_CONCURRENCY", "ProviderHandle"]

#: The dynamic-provider server's worker threads.
MAX_CONCURRENCY = 4


class ProviderHandle:
    """Lazily started :class:`ProviderProcess`, configured with the stack config."""

    def __init__(self, config: Mapping[str, str], env: Mapping[str, str]) -> None:
        self._config = dict(config)
        self._env = dict(env)
        self._process: ProviderProcess | None = None
        self._closed = False
        self._start_lock = threading.Lock()
        self._gate = threading.BoundedSemaphore(MAX_CONCURRENCY)
        self._count_lock = threading.Lock()
        self.calls: Counter[str] = Counter()

    def _proc(self) -> ProviderProcess:
        with self._start_lock:
            if self._closed:  # a program thread still running after the run was stopped
                raise RuntimeError("the run is over: its provider process was stopped")
            if self._process is None:
                process = ProviderProcess(env=self._env)
                try:
                    process.configure(self._config)
                except BaseException:
                    process.close()
                    raise
                self._count("Configure")
                self._process = process
            return self._process

    def start(self) -> None:
        """Start and configure the provider process now, if it is not running yet."""
        self._proc()

    def _count(self, method: str) -> None:
        with self._count_lock:
            self.calls[method] += 1

    def _call(self, method: str, *args: Any) -> Any:
        process = self._proc()
        with self._gate:
            self._count(method)
            return getattr(process, method.lower())(*args)

    @property
    def stderr(self) -> str:
        """What the provider process wrote to stderr ("" when it never started)."""
        return self._process.stderr if self._process is not None else ""

    def check(self, urn: str, olds: Mapping[str, Any], news: Mapping[str, Any]) -> CheckOutcome:
        """``Check`` (no vendor call)."""
        outcome: CheckOutcome = self._call("Check", urn, olds, news)
        return outcome

    def diff(
        self, urn: str, id_: str, olds: Mapping[str, Any], news: Mapping[str, Any]
    ) -> DiffOutcome:
        """``Diff`` (no vendor call)."""
        outcome: DiffOutcome = self._call("Diff", urn, id_, olds, news)
        return outcome

    def create(self, urn: str, props: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        """``Create``: returns ``(id, outputs)``."""
        result: tuple[str, dict[str, Any]] = self._call("Create", urn, props)
        return result

    def update(
        self, urn: str, id_: str, olds: Mapping[str, Any], news: Mapping[str, Any]
    ) -> dict[str, Any]:
        """``Update``: returns the new outputs."""
        outs: dict[str, Any] = self._call("Update", urn, id_, olds, news)
        return outs

    def read(
        self, urn: str, id_: str, props: Mapping[str, Any], inputs: Mapping[str, Any]
    ) -> tuple[str, dict[str, Any], dict[str, Any] | None]:
        """``Read``: ``(id, outputs, inputs or None)``; an empty id means the number is gone."""
        result: tuple[str, dict[str, Any], dict[str, Any] | None] = self._call(
            "Read", urn, id_, props, inputs
        )
        return result

    def delete(self, urn: str, id_: str, props: Mapping[str, Any]) -> None:
        """``Delete``."""
        self._call("Delete", urn, id_, props)

    def close(self) -> None:
        """Stop the process if it was started; it is not started again."""
        with self._start_lock:
            self._closed = True
            if self._process is not None:
                self._process.close()
                self._process = None
