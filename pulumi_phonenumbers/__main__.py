"""``pulumi-phonenumbers`` / ``python -m pulumi_phonenumbers``: the command line.

``audit --vendor V [--state FILE] [--release [--yes]] [--adopt-program] [--json]`` lists
the numbers a vendor account owns, marks those the stack state does not hold, and can
release them (after confirmation) or print the ``adopt=True`` lines that manage them.

Credentials come from ``--config KEY=VALUE``, then ``--config-file`` (``Pulumi.<stack>.yaml``
or ``pulumi config --json --show-secrets`` output), then the environment variables of
the vendor (``PLIVO_AUTH_ID``...). Exit status: 0 nothing unmanaged (or all released),
1 unmanaged numbers remain, 2 usage, configuration or vendor error.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import TextIO

from . import audit as _audit
from ._http import redact
from .config import CONFIG_KEYS, NAMESPACE, Settings
from .errors import PhoneNumbersError
from .vendors import REGISTRY, get_vendor

__all__ = ["main"]

_KEYS = {k.name for k in CONFIG_KEYS}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pulumi-phonenumbers", description="Tools for pulumi-phonenumbers stacks."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    cmd = commands.add_parser(
        "audit",
        help="find numbers the account owns that the stack does not hold",
        description="List the numbers a vendor account owns and mark those the Pulumi state "
        "does not hold; release them or print adopt=True program lines.",
    )
    cmd.add_argument("--vendor", required=True, choices=sorted(REGISTRY))
    cmd.add_argument(
        "--state",
        metavar="FILE",
        help="`pulumi stack export` JSON file (or the local engine's state)",
    )
    cmd.add_argument(
        "--config",
        metavar="KEY=VALUE",
        action="append",
        default=[],
        help="stack config such as plivoAuthId=MA... (repeatable; the "
        "phonenumbers: prefix is optional)",
    )
    cmd.add_argument(
        "--config-file",
        metavar="FILE",
        help="Pulumi.<stack>.yaml, or `pulumi config --json --show-secrets` output",
    )
    cmd.add_argument(
        "--release",
        action="store_true",
        help="release the numbers the state does not hold (asks first)",
    )
    cmd.add_argument("--yes", action="store_true", help="do not ask before releasing")
    cmd.add_argument(
        "--adopt-program",
        action="store_true",
        help="print PhoneNumber(..., adopt=True) lines for the unmanaged numbers",
    )
    cmd.add_argument("--json", action="store_true", help="print the report as JSON")
    return parser


def _settings(args: argparse.Namespace, err: TextIO) -> Settings:
    raw: dict[str, str] = {}
    if args.config_file:
        from_file, encrypted = _audit.load_config_file(args.config_file)
        raw.update(from_file)
        for key in encrypted:
            err.write(
                f"note: {key} is encrypted in {args.config_file}; set it with --config "
                "or its environment variable, or use `pulumi config --json "
                "--show-secrets` output\n"
            )
    for item in args.config:
        key, sep, value = item.partition("=")
        key = key.removeprefix(NAMESPACE + ":")
        if not sep or key not in _KEYS:
            raise PhoneNumbersError(
                f"--config {key!r}: expected KEY=VALUE with KEY one of {', '.join(sorted(_KEYS))}"
            )
        raw[key] = value
    return Settings(raw=raw, environ=dict(os.environ))


def _confirm(count: int, vendor: str, out: TextIO) -> bool:
    out.write(
        f"Release {count} number(s) from the {vendor} account? A released number is "
        "gone for good. Type 'yes' to release: "
    )
    out.flush()
    try:
        answer = input()
    except EOFError:
        answer = ""
    return answer.strip().lower() in ("y", "yes")


def _print_report(report: _audit.AuditReport, out: TextIO) -> None:
    state = report.state
    out.write(f"{report.vendor}: the account owns {len(report.owned)} number(s)")
    out.write(
        f"; {state.path} holds {len(state.held_by(report.vendor))}\n"
        if state
        else " (no --state given: nothing can be marked)\n"
    )
    unmanaged = {o.number for o in report.unmanaged}
    held = state.held_by(report.vendor) if state else {}
    for owned in report.owned:
        if state is None:
            mark = ""
        elif owned.number in unmanaged:
            mark = "NOT IN STATE"
        else:
            mark = f"managed by {held[owned.number].name}"
        cost = f"{owned.monthly_cost.amount} {owned.monthly_cost.currency}/month"
        out.write(f"  {owned.number:<16} {owned.status:<8} {cost:<18} {mark}\n".rstrip() + "\n")
    for missing in report.missing:
        out.write(
            f"  {missing.number:<16} in state ({missing.name}) but not owned: "
            "`pulumi refresh` drops it\n"
        )
    if state is not None:
        for pending in state.pending(report.vendor):
            out.write(
                f"  note: the create of {pending.name} was interrupted "
                "(pending operation in the state)\n"
            )


def _audit_command(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    if args.release and not args.state:
        err.write(
            "error: --release needs --state: without it every owned number would look unmanaged\n"
        )
        return 2
    settings = _settings(args, err)
    secrets = settings.secrets()
    try:
        state = _audit.load_state(args.state) if args.state else None
        vendor = get_vendor(args.vendor, settings)
        try:
            report = _audit.audit(vendor, state)
            if args.json:
                out.write(json.dumps(report.to_json(), indent=2) + "\n")
            else:
                _print_report(report, out)
            if args.adopt_program:
                out.write("\n" + _audit.adopt_program(report))
            if args.release and report.unmanaged:
                if not args.yes and not _confirm(len(report.unmanaged), vendor.name, out):
                    out.write("Nothing released.\n")
                    return 1
                failed = 0
                for number, problem in _audit.release_unmanaged(vendor, report.unmanaged):
                    if problem:
                        failed += 1
                        err.write(redact(f"could not release {number}: {problem}\n", secrets))
                    else:
                        out.write(f"released {number}\n")
                return 1 if failed else 0
        finally:
            vendor.close()
    except PhoneNumbersError as exc:
        err.write(redact(f"error: {exc}\n", secrets))
        return 2
    return 1 if report.unmanaged else 0


def main(
    argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    """Run the command line; returns the exit status."""
    out = out or sys.stdout
    err = err or sys.stderr
    args = _parser().parse_args(argv)
    try:
        if args.command == "audit":
            return _audit_command(args, out, err)
    except PhoneNumbersError as exc:
        err.write(f"error: {exc}\n")
        return 2
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
