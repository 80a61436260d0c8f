"""Keeping credentials out of the command line's output, whatever the user types.

Two layers:

* usage errors (argparse's and the ``--config`` checks) never repeat what the user typed:
  :func:`mask_typed` replaces every typed word that is not part of the command's own
  vocabulary (option names, vendor names, config keys), so ``--config sinchKeySecret SECRET``
  or ``--conf=plivoAuthToken=SECRET`` cannot echo the secret;
* everything the command writes goes through a :class:`Redacting` writer that replaces
  the credential values in force (stack config, config file, environment) and the values
  the user typed in a credential's place (:func:`typed_credentials`), also in their
  ``repr`` and JSON-escaped forms.
"""

from __future__ import annotations

import argparse
import json
import re
import urllib.parse
from collections.abc import Iterable, Sequence
from typing import NoReturn, Protocol

from .config import CONFIG_KEYS, NAMESPACE

__all__ = [
    "MASK",
    "Redacting",
    "SafeParser",
    "UsageError",
    "Writer",
    "mask_typed",
    "secret_key_names",
    "typed_credentials",
]

MASK = "***"
#: Characters that separate a key from its value in the forms users type.
_SEPARATORS = "=: \t"


class Writer(Protocol):
    """What the command writes to (a text stream)."""

    def write(self, text: str, /) -> int: ...

    def flush(self) -> None: ...


class UsageError(Exception):
    """A command-line usage error; ``message`` may still hold typed text (mask it)."""

    def __init__(self, usage: str, message: str) -> None:
        super().__init__(message)
        self.usage = usage
        self.message = message


class SafeParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` that raises :class:`UsageError` instead of printing and exiting.

    argparse's messages quote the offending argument (``unrecognized arguments: X``,
    ``invalid choice: 'X'``, ``ambiguous option: --conf=X``); the caller masks them.
    """

    def error(self, message: str) -> NoReturn:
        """Raise instead of printing (argparse calls this for every usage error)."""
        raise UsageError(self.format_usage(), message)

    def vocabulary(self) -> set[str]:
        """Every word of the command's own: option strings, choices, sub-command names."""
        words: set[str] = set()
        for action in self._actions:  # argparse has no public walk of its actions
            words.update(action.option_strings)
            if action.dest:
                words.add(action.dest)
            if action.metavar and isinstance(action.metavar, str):
                words.add(action.metavar)
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    words.add(name)
                    if isinstance(sub, SafeParser):
                        words |= sub.vocabulary()
            elif action.choices:
                words.update(str(c) for c in action.choices)
        return words


def secret_key_names() -> set[str]:
    """Names a credential goes by: secret config keys (with and without the namespace)
    and their environment variables, lower-cased."""
    names: set[str] = set()
    for key in CONFIG_KEYS:
        if key.secret:
            names |= {key.name.lower(), f"{NAMESPACE}:{key.name}".lower()}
            if key.env:
                names.add(key.env.lower())
    return names


def config_vocabulary() -> set[str]:
    """Config key names, with and without the namespace (safe to repeat in messages)."""
    return {key.name for key in CONFIG_KEYS} | {f"{NAMESPACE}:{k.name}" for k in CONFIG_KEYS}


def typed_credentials(argv: Sequence[str], vocabulary: Iterable[str] = ()) -> set[str]:
    """Values the user typed in a credential's place, in any form.

    ``plivoAuthToken=V``, ``plivoAuthToken:V``, ``--plivoAuthToken=V``,
    ``PLIVO_AUTH_TOKEN=V`` anywhere in a word give ``V``; a word that ends with a credential
    key (``--config sinchKeySecret SECRET``, ``plivoAuthToken= V``) makes the next word one.
    """
    names = secret_key_names()
    safe = set(vocabulary)
    found: set[str] = set()
    for i, word in enumerate(argv):
        lowered = word.lower()
        for name in names:
            start = lowered.find(name)
            while start >= 0:
                rest = word[start + len(name) :].lstrip(_SEPARATORS)
                if rest:
                    found.add(rest)
                elif i + 1 < len(argv):
                    found.add(argv[i + 1])
                start = lowered.find(name, start + 1)
    return {v for v in found if v and v not in safe}


def _forms(value: str) -> set[str]:
    """``value`` as it may be printed: raw, in a ``repr``, in a JSON string, in a URL."""
    return {
        value,
        repr(value)[1:-1],
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
        urllib.parse.quote(value),
        urllib.parse.quote(value, safe=""),
    }


def mask_typed(message: str, argv: Sequence[str], vocabulary: Iterable[str]) -> str:
    """``message`` with every word of ``argv`` that is not in ``vocabulary`` masked.

    Whole arguments first, then their parts around ``=``/``:``/``,``; a part is replaced
    only where it stands as a word of its own (not inside ``--config-file``), so the
    message's own words survive.
    """
    safe = set(vocabulary)
    safe |= {w.lstrip("-") for w in safe}
    typed: set[str] = set()
    for word in argv:
        typed.add(word)
        typed.update(p for p in re.split(r"[=:,\s]+", word) if p)
        typed.update(p.lstrip("-") for p in re.split(r"[=:,\s]+", word) if p.lstrip("-"))
    pieces = {form for t in typed if t not in safe for form in _forms(t) if form}
    for piece in sorted(pieces, key=len, reverse=True):
        message = re.sub(rf"(?<![\w-]){re.escape(piece)}(?![\w-])", MASK, message)
    return message


class Redacting:
    """A writer that masks every registered secret value (in its printed forms) on write."""

    def __init__(self, target: Writer, secrets: Iterable[str] = ()) -> None:
        self._target = target
        self._secrets: list[str] = []
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        """Register more values (values under 4 characters are not masked: they would
        mangle the text and no credential is that short)."""
        forms = set(self._secrets)
        for secret in secrets:
            if secret and len(secret) >= 4:
                forms |= {f for f in _forms(secret) if len(f) >= 4}
        self._secrets = sorted(forms, key=len, reverse=True)

    def redact(self, text: str) -> str:
        """``text`` with every registered value replaced by ``***``."""
        for secret in self._secrets:
            text = text.replace(secret, MASK)
        return text

    def write(self, text: str, /) -> int:
        """Write ``text`` redacted."""
        self._target.write(self.redact(text))
        return len(text)

    def flush(self) -> None:
        """Flush the target."""
        self._target.flush()
