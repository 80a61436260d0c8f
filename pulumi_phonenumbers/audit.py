"""Audit: numbers the account owns that Pulumi state does not hold, and how to fix them.

A provider process killed right after a purchase (or any failure a dynamic provider
cannot report) leaves a number that is paid for every month but that no stack knows.
:func:`audit` compares what a vendor account owns (``Vendor.list_owned``) with the
``PhoneNumber`` resources of a ``pulumi stack export`` file (the local test engine writes
the same format); the command line (``python -m pulumi_phonenumbers audit``) then lists
them, releases them after confirmation, or prints the ``adopt=True`` program lines that
bring them under management.

Plain Python: no Pulumi import, usable from scripts and CI.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .config import NAMESPACE
from .errors import ConfigError, NotFound, PhoneNumbersError
from .inputs import PHONE_NUMBER_TYPE
from .models import OwnedNumber
from .vendors.base import Vendor

__all__ = [
    "PHONE_NUMBER_TYPE",
    "AuditReport",
    "HeldNumber",
    "StackState",
    "adopt_program",
    "audit",
    "load_config_file",
    "load_state",
    "release_unmanaged",
]

#: Pulumi's marker of a secret value in a stack export.
_SECRET_SIG = "4dabf18193072939515e22adb298388d"


@dataclass(frozen=True)
class HeldNumber:
    """A ``PhoneNumber`` resource of the state (``number`` empty while a create is pending)."""

    urn: str
    number: str
    vendor: str
    pending_create: bool = False
    inputs: Mapping[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The resource name (last URN component)."""
        return self.urn.rsplit("::", 1)[-1]


@dataclass(frozen=True)
class StackState:
    """The phone numbers a stack export holds, and creates it left pending."""

    path: str
    numbers: tuple[HeldNumber, ...]

    def held_by(self, vendor: str) -> dict[str, HeldNumber]:
        """Numbers held for ``vendor`` (resources that name no vendor count for every one)."""
        return {
            h.number: h
            for h in self.numbers
            if h.number and not h.pending_create and h.vendor in (vendor, "")
        }

    def pending(self, vendor: str) -> list[HeldNumber]:
        """Creates that were interrupted (``pending_operations`` of type ``creating``)."""
        return [h for h in self.numbers if h.pending_create and h.vendor in (vendor, "")]


@dataclass
class AuditReport:
    """What the account owns versus what the state holds."""

    vendor: str
    owned: list[OwnedNumber]
    state: StackState | None
    #: Owned but held by no resource of the state (empty without a state).
    unmanaged: list[OwnedNumber] = field(default_factory=list)
    #: Held by the state but not owned any more (``pulumi refresh`` drops them).
    missing: list[HeldNumber] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """A JSON-able summary (``--json``)."""
        return {
            "vendor": self.vendor,
            "state": self.state.path if self.state else None,
            "owned": [_owned_json(o) for o in self.owned],
            "unmanaged": [o.number for o in self.unmanaged],
            "missing": [{"number": h.number, "urn": h.urn} for h in self.missing],
            "pending_creates": [h.urn for h in self.state.pending(self.vendor)]
            if self.state
            else [],
        }


def _owned_json(owned: OwnedNumber) -> dict[str, Any]:
    return {
        "number": owned.number,
        "vendor_id": owned.vendor_id,
        "status": owned.status,
        "monthly_cost": str(owned.monthly_cost.amount),
        "currency": owned.monthly_cost.currency,
        "routing": owned.routing.to_dict(exclude_none=True),
    }


# -- reading files ---------------------------------------------------------------------------
def _plain(value: Any) -> Any:
    """Unwrap Pulumi's secret envelope (``--show-secrets`` exports carry ``plaintext``)."""
    if isinstance(value, Mapping) and value.get(_SECRET_SIG):
        inner = value.get("plaintext", value.get("value"))
        if isinstance(inner, str):
            try:
                return json.loads(inner)
            except ValueError:
                return inner
        return inner
    return value


def _held(resource: Mapping[str, Any], pending: bool) -> HeldNumber | None:
    if resource.get("type") != PHONE_NUMBER_TYPE:
        return None
    outputs = resource.get("outputs") or {}
    inputs = resource.get("inputs") or {}
    if not isinstance(outputs, Mapping) or not isinstance(inputs, Mapping):
        return None
    number = _plain(outputs.get("number")) or ("" if pending else _plain(resource.get("id")))
    vendor = _plain(outputs.get("vendor")) or _plain(inputs.get("vendor")) or ""
    return HeldNumber(
        urn=str(resource.get("urn") or ""),
        number=str(number or ""),
        vendor=str(vendor),
        pending_create=pending,
        inputs=dict(inputs),
    )


def load_state(path: str | Path) -> StackState:
    """Read a ``pulumi stack export`` file (or the bare ``deployment`` object)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read state file {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise ConfigError(
            f"state file {path} is not JSON ({exc}); create it with "
            "`pulumi stack export --file state.json`"
        ) from None
    deployment = data.get("deployment", data) if isinstance(data, dict) else None
    resources = deployment.get("resources") if isinstance(deployment, dict) else None
    if not isinstance(deployment, dict) or not isinstance(resources, list | type(None)):
        raise ConfigError(
            f"state file {path} is not a stack export (no deployment.resources); "
            "create it with `pulumi stack export --file state.json`"
        )
    held: list[HeldNumber] = []
    for resource in resources or []:
        if isinstance(resource, Mapping) and (h := _held(resource, False)) is not None:
            held.append(h)
    for operation in deployment.get("pending_operations") or []:
        if isinstance(operation, Mapping) and operation.get("type") == "creating":
            resource = operation.get("resource")
            if isinstance(resource, Mapping) and (h := _held(resource, True)) is not None:
                held.append(h)
    return StackState(str(path), tuple(held))


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


# -- the audit and its fixes ------------------------------------------------------------------
def audit(vendor: Vendor, state: StackState | None) -> AuditReport:
    """List what ``vendor``'s account owns and compare it with ``state``."""
    owned = sorted(vendor.list_owned(), key=lambda o: o.number)
    report = AuditReport(vendor.name, owned, state)
    if state is not None:
        held = state.held_by(vendor.name)
        numbers = {o.number for o in owned}
        report.unmanaged = [o for o in owned if o.number not in held]
        report.missing = [h for n, h in sorted(held.items()) if n not in numbers]
    return report


def release_unmanaged(vendor: Vendor, numbers: Iterable[OwnedNumber]) -> list[tuple[str, str]]:
    """Release each number; ``[(number, problem)]`` for those that failed ("" = released)."""
    results = []
    for owned in numbers:
        try:
            vendor.release(owned.number, owned.vendor_id)
            results.append((owned.number, ""))
        except NotFound:
            results.append((owned.number, ""))
        except PhoneNumbersError as exc:
            results.append((owned.number, str(exc)))
    return results


def _resource_name(vendor: str, number: str, taken: set[str]) -> str:
    base = f"{vendor}-{re.sub(r'[^0-9]', '', number)}"
    name, n = base, 2
    while name in taken:
        name, n = f"{base}-{n}", n + 1
    taken.add(name)
    return name


def adopt_program(report: AuditReport) -> str:
    """Python program lines declaring every unmanaged number with ``adopt=True``."""
    numbers = report.unmanaged if report.state is not None else report.owned
    if not numbers:
        return "# Nothing to adopt: every number the account owns is in the stack.\n"
    pending = report.state.pending(report.vendor) if report.state else []
    taken = {h.name for h in report.state.numbers} if report.state else set()
    lines = [
        f"# Numbers the {report.vendor} account owns that the stack does not hold",
        "# (found by `pulumi-phonenumbers audit`). Add these to the Pulumi program and run",
        "# `pulumi up`: adopt=True takes a number over without buying it. Set",
        "# release_on_delete=True on the ones `pulumi destroy` should give back.",
    ]
    if pending:
        names = ", ".join(repr(h.name) for h in pending)
        lines.append(
            f"# Interrupted creates in this stack: {names}. If one of these numbers was "
            "bought for it, declare it there instead (number=..., adopt=True)."
        )
    lines += ["from pulumi_phonenumbers import PhoneNumber", ""]
    for owned in numbers:
        routing = owned.routing.to_dict(exclude_none=True)
        args = [
            repr(_resource_name(report.vendor, owned.number, taken)),
            f"vendor={report.vendor!r}",
            f"number={owned.number!r}",
            "adopt=True",
            "release_on_delete=False",
        ]
        if routing:
            args.append(f"routing={routing!r}")
        lines.append(f"PhoneNumber({', '.join(args)})")
    return "\n".join(lines) + "\n"
