"""A tampering HTTP proxy for tests: a hostile vendor in front of an honest emulator.

The provider (any process) talks to the proxy; the proxy forwards to the emulator and
rewrites the answers of the requests a :class:`Tamper` rule matches. What an emulator will
not do by itself, the proxy does: a 2xx with an unparsable body, a 404 for everything, an
answer trickled one byte at a time, a body of hundreds of megabytes (generated, never
buffered), search results edited on the way back.

    adversary = Adversary(backend.url)
    provider.configure(adversary.config(backend.config))   # base URLs now point here
    adversary.tamper(method="POST", path=":rent$", body="<html>oops</html>")  # after commit
    adversary.tamper(path="/Number/", forward=False, status=404, body="<h1>Not Found</h1>")

A rule with ``forward=True`` (the default) lets the emulator act first, then replaces the
answer (the vendor committed, the client sees something else); ``forward=False`` answers
without the emulator ever seeing the request. Rules match in order; the first whose
``method`` and ``path`` (a regex searched in the raw request path, query included) match
is used, ``times`` times (``None``: forever). Every request is recorded in
:attr:`Adversary.requests` as ``(method, raw path)``, and every one forwarded in
:attr:`Adversary.forwarded`, so a test can assert what never reached the emulator.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
from werkzeug.serving import make_server

from pulumi_phonenumbers.emulators.server import _QuietHandler

__all__ = ["Adversary", "Tamper"]

_HOP = {"host", "content-length", "connection", "transfer-encoding", "accept-encoding"}
_DROP_BACK = _HOP | {"content-encoding", "date", "server"}
_REASONS = {200: "OK", 201: "Created", 202: "Accepted", 204: "No Content", 404: "Not Found"}


@dataclass
class Tamper:
    """One rewrite rule (see the module docstring)."""

    method: str | None = None
    path: str = ""
    times: int | None = None
    #: Send the request to the emulator first (it acts), then rewrite its answer.
    forward: bool = True
    #: Replace the status (default: the emulator's, or 200 when not forwarded).
    status: int | None = None
    #: Replace the body (text is sent as UTF-8).
    body: bytes | str | None = None
    content_type: str | None = None
    #: Rewrite the emulator's JSON answer: ``edit(decoded) -> new JSON value``.
    edit: Callable[[Any], Any] | None = None
    #: Answer with ``echo(request headers) -> JSON value`` (a vendor quoting the request).
    echo: Callable[[Mapping[str, str]], Any] | None = None
    #: Send the body one byte every ``trickle`` seconds (with a true Content-Length).
    trickle: float | None = None
    #: Send ``huge`` bytes of filler instead of the body, generated on the fly.
    huge: int | None = None
    #: With ``huge``: announce the size in Content-Length (else: chunked, no size).
    declare_size: bool = False
    headers: Mapping[str, str] = field(default_factory=dict)
    #: How many requests this rule rewrote.
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        if self.times is not None and self.hits >= self.times:
            return False
        if self.method is not None and self.method.upper() != method:
            return False
        return re.search(self.path, path) is not None


class Adversary:
    """The proxy: a threaded WSGI server on 127.0.0.1 in front of ``upstream``."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.rules: list[Tamper] = []
        self.requests: list[tuple[str, str]] = []
        self.forwarded: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        self._client = httpx.Client(timeout=60.0, follow_redirects=False)
        self._server = make_server(
            "127.0.0.1", 0, self._app, threaded=True, request_handler=_QuietHandler
        )
        self._server.daemon_threads = True  # type: ignore[attr-defined]
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    # -- test-facing API -------------------------------------------------------------------
    def config(self, config: Mapping[str, str]) -> dict[str, str]:
        """``config`` with every value that points at the upstream pointed here instead."""
        return {
            k: v.replace(self.upstream, self.url) if isinstance(v, str) else v
            for k, v in config.items()
        }

    def tamper(self, **rule: Any) -> Tamper:
        """Add a :class:`Tamper` rule (after the existing ones) and return it."""
        added = Tamper(**rule)
        with self._lock:
            self.rules.append(added)
        return added

    def clear(self) -> None:
        """Drop every rule (recorded requests are kept)."""
        with self._lock:
            self.rules.clear()

    def close(self) -> None:
        """Stop serving."""
        self._server.shutdown()
        self._server.server_close()
        self._client.close()

    def __enter__(self) -> Adversary:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the proxy -------------------------------------------------------------------------
    def _take(self, method: str, path: str) -> Tamper | None:
        with self._lock:
            self.requests.append((method, path))
            for rule in self.rules:
                if rule.matches(method, path):
                    rule.hits += 1
                    return rule
        return None

    def _app(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        method = environ["REQUEST_METHOD"].upper()
        raw = environ.get("RAW_URI") or environ.get("REQUEST_URI") or environ["PATH_INFO"]
        rule = self._take(method, raw)
        status, headers, body = 200, [("Content-Type", "application/json")], b""
        if rule is None or rule.forward:
            status, headers, body = self._forward(environ, method, raw)
        if rule is None:
            return self._send(start_response, status, headers, [body], len(body))
        if rule.status is not None:
            status = rule.status
        if rule.edit is not None:
            body = json.dumps(rule.edit(json.loads(body or b"null"))).encode()
        if rule.echo is not None:
            asked = {
                key[5:].replace("_", "-").title(): value
                for key, value in environ.items()
                if key.startswith("HTTP_")
            }
            body = json.dumps(rule.echo(asked)).encode()
        if rule.body is not None:
            body = rule.body.encode() if isinstance(rule.body, str) else rule.body
        if rule.content_type is not None:
            headers = [(k, v) for k, v in headers if k.lower() != "content-type"]
            headers.append(("Content-Type", rule.content_type))
        headers += list(rule.headers.items())
        if rule.huge is not None:
            size = rule.huge
            return self._send(
                start_response, status, headers, _filler(size), size if rule.declare_size else None
            )
        if rule.trickle is not None:
            return self._send(
                start_response, status, headers, _trickled(body, rule.trickle), len(body)
            )
        return self._send(start_response, status, headers, [body], len(body))

    def _forward(
        self, environ: dict[str, Any], method: str, raw: str
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        content = environ["wsgi.input"].read(length) if length else b""
        headers = {
            key[5:].replace("_", "-").title(): value
            for key, value in environ.items()
            if key.startswith("HTTP_") and key[5:].replace("_", "-").lower() not in _HOP
        }
        if environ.get("CONTENT_TYPE"):
            headers["Content-Type"] = environ["CONTENT_TYPE"]
        with self._lock:
            self.forwarded.append((method, raw))
        answer = self._client.request(method, self.upstream + raw, content=content, headers=headers)
        back = [(k, v) for k, v in answer.headers.items() if k.lower() not in _DROP_BACK]
        return answer.status_code, back, answer.content

    @staticmethod
    def _send(
        start_response: Any,
        status: int,
        headers: list[tuple[str, str]],
        chunks: Iterable[bytes],
        length: int | None,
    ) -> Iterable[bytes]:
        if length is not None:
            headers = [*headers, ("Content-Length", str(length))]
        start_response(f"{status} {_REASONS.get(status, 'Tampered')}", headers)
        return chunks


def _trickled(body: bytes, pause: float) -> Iterator[bytes]:
    for index in range(len(body)):
        yield body[index : index + 1]
        time.sleep(pause)


def _filler(size: int, chunk: int = 1 << 16) -> Iterator[bytes]:
    """``size`` bytes: an unterminated JSON object padded with spaces."""
    head = b'{"objects": ['
    yield head
    left = size - len(head)
    block = b" " * chunk
    while left > 0:
        yield block[: min(chunk, left)]
        left -= chunk
