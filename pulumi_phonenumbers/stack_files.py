"""Reading a stack's files: ``pulumi stack export`` state and ``Pulumi.<stack>.yaml`` config.

:func:`load_states` reads one or more exports into one :class:`StackState`, the union of
the phone numbers they hold. It is written for the audit, whose one dangerous act is to
release what it thinks no stack holds, so it never reads a file partly or guesses:

* a file that is not a stack export (nor the file backend's checkpoint, nor the local test
  engine's state) is a :class:`~pulumi_phonenumbers.errors.ConfigError`;
* a ``PhoneNumber`` resource whose number cannot be read (a secret exported without
  ``--show-secrets`` and no id, a malformed entry) is recorded in
  :attr:`StackState.unreadable`: the view is partial and nothing may be released on it;
* pending operations (a ``pulumi up`` killed mid-way) are kept with their type: one that
  names a number (``updating``, ``deleting``, ``importing``..., or a ``creating`` whose
  inputs declare the number) holds it like a resource; an interrupted ``creating`` of a
  number to be searched names none and is reported.

Plain Python: no Pulumi import.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from .config import NAMESPACE
from .errors import ConfigError
from .inputs import PHONE_NUMBER_TYPE
from .models import Money

__all__ = [
    "PHONE_NUMBER_TYPE",
    "PHONE_NUMBER_TYPES",
    "HeldNumber",
    "StackState",
    "load_config_file",
    "load_state",
    "load_states",
    "number_key",
]

#: Both faces' type tokens: the Python dynamic resource and the native provider plugin's
#: (a number held by either is in the state).
PHONE_NUMBER_TYPES = frozenset({PHONE_NUMBER_TYPE, "phonenumbers:index:PhoneNumber"})
#: Pulumi's marker of a secret value in a stack export.
_SECRET_SIG = "4dabf18193072939515e22adb298388d"
_HOW = "create it with `pulumi stack export --file state.json`"


def number_key(number: str) -> str:
    """A number's comparison key: ``+`` and its digits (``+1 415-555-0100`` = ``+14155550100``)."""
    return "+" + re.sub(r"\D", "", number)


@dataclass(frozen=True)
class HeldNumber:
    """A ``PhoneNumber`` of the state: a resource, or the resource of a pending operation."""

    urn: str
    #: The number; "" when the state does not say (an interrupted create).
    number: str
    #: "" when the state does not say: such a resource counts for every vendor.
    vendor: str
    #: The state file it was read from.
    source: str = ""
    #: The pending operation's type (``creating``, ``updating``...), "" for a resource.
    operation: str = ""
    inputs: Mapping[str, Any] = field(default_factory=dict)
    #: The monthly cost the state recorded, if any.
    monthly_cost: Money | None = None

    @property
    def name(self) -> str:
        """The resource name (last URN component)."""
        return self.urn.rsplit("::", 1)[-1]

    @property
    def pending_create(self) -> bool:
        """An interrupted create (``pending_operations`` of type ``creating``)."""
        return self.operation == "creating"

    def serves(self, vendor: str) -> bool:
        """Whether this entry may hold a number of ``vendor``."""
        return self.vendor in (vendor, "")


@dataclass(frozen=True)
class StackState:
    """The phone numbers one or more stack exports hold, and their pending operations."""

    paths: tuple[str, ...]
    numbers: tuple[HeldNumber, ...]
    #: URNs of ``PhoneNumber`` resources whose number could not be read.
    unreadable: tuple[str, ...] = ()

    @property
    def path(self) -> str:
        """The file names, for messages."""
        return ", ".join(self.paths)

    @property
    def partial(self) -> bool:
        """True when some ``PhoneNumber`` of the files could not be read."""
        return bool(self.unreadable)

    def holders(self, vendor: str) -> dict[str, list[HeldNumber]]:
        """``{number_key: entries}`` of every number held for ``vendor`` (resources and
        pending operations that name a number; entries naming no vendor count for all)."""
        held: dict[str, list[HeldNumber]] = {}
        for h in self.numbers:
            if h.number and h.serves(vendor):
                held.setdefault(number_key(h.number), []).append(h)
        return held

    def held_by(self, vendor: str) -> dict[str, HeldNumber]:
        """``{number_key: first entry}`` of every number held for ``vendor``."""
        return {key: entries[0] for key, entries in self.holders(vendor).items()}

    def pending(self, vendor: str) -> list[HeldNumber]:
        """Pending operations (any type) that may concern ``vendor``."""
        return [h for h in self.numbers if h.operation and h.serves(vendor)]

    def pending_creates(self, vendor: str) -> list[HeldNumber]:
        """Interrupted creates that may concern ``vendor`` and name no number (the number
        they may have bought is unknown)."""
        return [h for h in self.pending(vendor) if h.pending_create and not h.number]

    @classmethod
    def union(cls, states: Iterable[StackState]) -> StackState:
        """One view of several stacks: every number any of them holds."""
        paths: list[str] = []
        numbers: list[HeldNumber] = []
        unreadable: list[str] = []
        for state in states:
            paths += [p for p in state.paths if p not in paths]
            numbers += state.numbers
            unreadable += state.unreadable
        return cls(tuple(paths), tuple(numbers), tuple(unreadable))


# -- reading exports ---------------------------------------------------------------------------
def _plain(value: Any) -> Any:
    """Unwrap Pulumi's secret envelope (``--show-secrets`` exports carry ``plaintext``);
    a secret without its plaintext (a ``ciphertext``) gives ``None``."""
    if isinstance(value, Mapping) and _SECRET_SIG in value:
        inner = value.get("plaintext", value.get("value"))
        if isinstance(inner, str):
            try:
                return json.loads(inner)
            except ValueError:
                return inner
        return inner
    return value


def _text(value: Any) -> str:
    value = _plain(value)
    return value if isinstance(value, str) else ""


def _cost(outputs: Mapping[str, Any]) -> Money | None:
    amount = _plain(outputs.get("monthly_cost"))
    if isinstance(amount, bool) or not isinstance(amount, int | float | str):
        return None
    try:
        value = Decimal(str(amount))
    except InvalidOperation:
        return None
    return Money(amount=value, currency=_text(outputs.get("currency")) or "USD")


def _held(resource: Mapping[str, Any], source: str, operation: str) -> HeldNumber | str | None:
    """The entry for a ``PhoneNumber`` resource, its URN when its number cannot be read,
    ``None`` for other resources."""
    if resource.get("type") not in PHONE_NUMBER_TYPES:
        return None
    urn = str(resource.get("urn") or "")
    outputs = resource.get("outputs") or {}
    inputs = resource.get("inputs") or {}
    if not isinstance(outputs, Mapping) or not isinstance(inputs, Mapping):
        return urn or "(a PhoneNumber without urn)"
    # outputs.number, else the id (the same number, and never secret)
    number = _text(outputs.get("number")) or _text(resource.get("id"))
    if operation == "creating" and not number and inputs.get("number") is not None:
        # an interrupted create of a declared number: that number is the stack's
        number = _text(inputs.get("number"))
        if not re.search(r"\d", number):
            return urn or "(a PhoneNumber without urn)"
    if operation != "creating" and not re.search(r"\d", number):
        return urn or "(a PhoneNumber without urn)"
    return HeldNumber(
        urn=urn,
        number=number if re.search(r"\d", number) else "",
        vendor=_text(outputs.get("vendor")) or _text(inputs.get("vendor")),
        source=source,
        operation=operation,
        inputs=dict(inputs),
        monthly_cost=_cost(outputs),
    )


def _deployment(data: Any, path: str) -> Mapping[str, Any]:
    """The deployment of a ``pulumi stack export`` (``{"deployment": ...}``), of the file
    backend's checkpoint (``{"checkpoint": {"latest": ...}}``), or a bare deployment."""
    if isinstance(data, Mapping) and "deployment" in data:
        deployment = data["deployment"]
    elif isinstance(data, Mapping) and isinstance(data.get("checkpoint"), Mapping):
        deployment = data["checkpoint"].get("latest") or {}  # a stack never deployed
    elif isinstance(data, Mapping) and ("resources" in data or "manifest" in data):
        deployment = data
    else:
        deployment = None
    if not isinstance(deployment, Mapping) or not isinstance(
        deployment.get("resources", []), list | type(None)
    ):
        raise ConfigError(f"state file {path} is not a stack export (no deployment); {_HOW}")
    return deployment


def load_state(path: str | Path) -> StackState:
    """Read one ``pulumi stack export`` file (or the bare ``deployment`` object)."""
    source = str(path)
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read state file {source}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise ConfigError(f"state file {source} is not JSON ({exc}); {_HOW}") from None
    deployment = _deployment(data, source)
    entries: list[tuple[Any, str]] = [(r, "") for r in deployment.get("resources") or []]
    operations = deployment.get("pending_operations") or []
    if not isinstance(operations, list):
        raise ConfigError(f"state file {source}: pending_operations is not a list; {_HOW}")
    for operation in operations:
        if not isinstance(operation, Mapping):
            raise ConfigError(f"state file {source}: a pending operation is not an object")
        entries.append((operation.get("resource"), str(operation.get("type") or "unknown")))
    held: list[HeldNumber] = []
    unreadable: list[str] = []
    for resource, operation in entries:
        if not isinstance(resource, Mapping):
            raise ConfigError(f"state file {source}: a resource is not an object; {_HOW}")
        entry = _held(resource, source, operation)
        if isinstance(entry, HeldNumber):
            held.append(entry)
        elif entry is not None:
            unreadable.append(entry)
    return StackState((source,), tuple(held), tuple(unreadable))


def load_states(paths: Iterable[str | Path]) -> StackState:
    """The union of several stack exports (every file must read)."""
    return StackState.union(load_state(p) for p in paths)


# -- reading stack config ------------------------------------------------------------------------
def load_config_file(path: str | Path) -> tuple[dict[str, str], list[str]]:
    """Stack config from ``Pulumi.<stack>.yaml`` or ``pulumi config --json --show-secrets``.

    Returns ``(config, encrypted)``: keys without the ``phonenumbers:`` namespace, and the
    names of encrypted values that could not be read (set them in the environment instead).
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}") from None
    try:
        data: Any = json.loads(text)
    except ValueError:
        import yaml  # PyYAML comes with the pulumi SDK

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            # PyYAML's message quotes the offending line, which may hold a credential:
            # say only where and what.
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            problem = getattr(exc, "problem", None) or "not YAML"
            raise ConfigError(
                f"config file {path} is neither JSON nor YAML ({problem}{where})"
            ) from None
    if isinstance(data, Mapping) and isinstance(data.get("config"), Mapping):
        data = data["config"]
    if not isinstance(data, Mapping):
        raise ConfigError(f"config file {path} holds no config map")
    config: dict[str, str] = {}
    encrypted: list[str] = []
    prefix = NAMESPACE + ":"
    for key, value in data.items():
        if not isinstance(key, str) or not key.startswith(prefix):
            continue
        name = key[len(prefix) :]
        if isinstance(value, Mapping):
            if "value" in value:
                value = value["value"]
            elif "secure" in value:
                encrypted.append(key)
                continue
        if isinstance(value, str | int | float | bool):
            config[name] = str(value).lower() if isinstance(value, bool) else str(value)
    return config, encrypted
