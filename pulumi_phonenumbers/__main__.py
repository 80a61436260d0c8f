"""``pulumi-phonenumbers`` / ``python -m pulumi_phonenumbers``: the command line.

``search [--vendor V] [--country US] [--area-code 415] [--contains 55] [--capabilities
voice,sms] [--max-monthly-cost 1] [--limit 20] [--json]`` prints what a ``PhoneNumber`` with
those criteria would be offered (never buys); exit 0 when something is offered, 1 when
nothing is, 2 on bad criteria or a vendor error.

``audit --vendor V [--state FILE]... [--release [--yes]] [--adopt-program]
[--import-commands] [--json]`` lists the numbers a vendor account owns, marks those the
stack states (their union) do not hold, and can release them (after confirmation) or print
the ``adopt=True`` lines or ``pulumi import`` commands that manage them. Nothing is
released on a partial view: a state file that does not read, a ``PhoneNumber`` whose
number the state does not show, or a vendor listing that fails.

Credentials come from ``--config KEY=VALUE``, then ``--config-file`` (``Pulumi.<stack>.yaml``
or ``pulumi config --json --show-secrets`` output), then the environment variables of
the vendor (``PLIVO_AUTH_ID``...). Exit status: 0 nothing unmanaged (or all released),
1 unmanaged numbers remain, 2 usage, configuration or vendor error.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import sys
import traceback
from collections.abc import Sequence
from typing import Any, TextIO

from . import audit as _audit
from . import audit_output, search_output
from ._cli_safety import (
    Redacting,
    SafeParser,
    UsageError,
    Writer,
    config_vocabulary,
    mask_typed,
    typed_credentials,
)
from ._purchase import criteria_text
from .config import CONFIG_KEYS, NAMESPACE, Settings
from .errors import PhoneNumbersError
from .lookup import InvalidCriteria, find_available, validate_criteria
from .vendors import REGISTRY, get_vendor

__all__ = ["main"]


def _parser() -> SafeParser:
    parser = SafeParser(
        prog="pulumi-phonenumbers", description="Tools for pulumi-phonenumbers stacks."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    cmd = commands.add_parser(
        "audit",
        help="find numbers the account owns that the stack does not hold",
        description="List the numbers a vendor account owns and mark those the Pulumi state "
        "does not hold; release them, or print adopt=True program lines or pulumi import "
        "commands.",
    )
    cmd.add_argument("--vendor", required=True, choices=sorted(REGISTRY))
    _credential_arguments(cmd)
    cmd.add_argument(
        "--state",
        metavar="FILE",
        action="append",
        default=[],
        help="`pulumi stack export` JSON file (or the local engine's state); repeat it for "
        "every stack that uses the account: the audit compares with their union",
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
    cmd.add_argument(
        "--import-commands",
        action="store_true",
        help="print `pulumi import phonenumbers:index:PhoneNumber NAME NUMBER` commands "
        "(native provider) for the unmanaged numbers",
    )
    cmd.add_argument("--json", action="store_true", help="print the report as JSON")
    _search_parser(commands)
    return parser


def _credential_arguments(cmd: argparse.ArgumentParser) -> None:
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


def _search_parser(commands: Any) -> None:
    cmd = commands.add_parser(
        "search",
        help="show the numbers a PhoneNumber with these criteria would be offered (buys nothing)",
        description="Search a vendor's inventory with PhoneNumber's criteria and print the "
        "candidates with locality, capabilities and prices. Never buys.",
    )
    cmd.add_argument("--vendor", choices=sorted(REGISTRY), help="default: phonenumbers:vendor")
    _credential_arguments(cmd)
    cmd.add_argument("--country", default="US", help="ISO 3166-1 alpha-2 (default US)")
    cmd.add_argument("--number-type", default="local", help="local (default), mobile, toll_free")
    cmd.add_argument("--area-code")
    cmd.add_argument("--contains", help="digits the number must contain")
    cmd.add_argument("--capabilities", help="comma-separated: voice,sms,mms")
    cmd.add_argument("--max-monthly-cost", type=float, metavar="AMOUNT")
    cmd.add_argument("--limit", type=int, default=20, help="at most this many (1-100, default 20)")
    cmd.add_argument("--json", action="store_true", help="print the candidates as JSON")


def _search_command(args: argparse.Namespace, out: Redacting, err: Redacting) -> int:
    _require_files("--config-file", [args.config_file] if args.config_file else [])
    settings = _settings(args, err)
    out.add(settings.secrets())
    err.add(settings.secrets())
    caps = [c for c in (args.capabilities or "").split(",") if c.strip()]
    try:
        vendor, query, options = validate_criteria(
            settings,
            vendor=args.vendor,
            criteria={
                "country": args.country,
                "number_type": args.number_type,
                "area_code": args.area_code,
                "contains": args.contains,
                "capabilities": caps or None,
                "max_monthly_cost": args.max_monthly_cost,
            },
        )
        results = find_available(settings, vendor, query, options, args.limit)
    except InvalidCriteria as exc:
        for field, reason in exc.failures:
            err.write(f"error: --{field.replace('_', '-')}: {reason}\n")
        return 2
    if args.json:
        out.write(search_output.results_json(results))
    else:
        out.write(search_output.results_table(results, f"{criteria_text(query)} at {vendor}"))
    return 0 if results else 1


def _config_item(index: int, item: str) -> tuple[str, str]:
    """``(key, value)`` of one ``--config`` item; the error never repeats the typed text.

    Only a known key name may appear in the message: whatever else was typed (a value
    after ``:`` instead of ``=``, a value without its key) may be a credential.
    """
    keys = {k.name for k in CONFIG_KEYS}  # read at use: a vendor registered later is in
    key, sep, value = item.partition("=")
    key = key.removeprefix(NAMESPACE + ":")
    if sep and key in keys:
        return key, value
    bare = item.removeprefix(NAMESPACE + ":")
    known = max((k for k in keys if bare.startswith(k)), key=len, default="")
    if known:
        raise PhoneNumbersError(
            f"--config {known}...: expected {known}=VALUE (one argument, with '='); "
            "the rest is not shown, in case it is a credential"
        )
    guess = difflib.get_close_matches(key.strip(), sorted(keys), n=1, cutoff=0.6)
    hint = f"; did you mean {guess[0]}?" if guess else ""
    raise PhoneNumbersError(
        f"--config #{index}: expected KEY=VALUE with KEY one of {', '.join(sorted(keys))} "
        f"(what was typed is not shown, in case it is a credential){hint}"
    )


def _require_files(option: str, paths: Sequence[str]) -> None:
    """Refuse a path that does not exist without repeating it: it may be a credential
    typed in the wrong place (``--config-file plivoAuthToken=...``)."""
    for index, path in enumerate(paths, 1):
        if not os.path.exists(path):
            number = f" #{index}" if len(paths) > 1 else ""
            raise PhoneNumbersError(
                f"{option}{number}: no such file (the path is not repeated, in case it "
                "is a credential typed in the wrong place)"
            )


def _settings(args: argparse.Namespace, err: Writer) -> Settings:
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
    for index, item in enumerate(args.config, 1):
        key, value = _config_item(index, item)
        raw[key] = value
    settings = Settings(raw=raw, environ=dict(os.environ))
    for config_key in CONFIG_KEYS:
        secret = settings.get(config_key.name) if config_key.secret else None
        # credentials travel in HTTP headers and URLs: printable ASCII only
        if secret and not (secret.isascii() and secret.isprintable()):
            raise PhoneNumbersError(
                f"{NAMESPACE}:{config_key.name} holds a character no credential can hold (not "
                "printable ASCII; the value is not shown): check how it was copied"
            )
    return settings


def _confirm(report: _audit.AuditReport, out: Writer) -> bool:
    """Ask before releasing; only ``yes`` (any case) answers it, as the question says."""
    out.write(audit_output.release_question(report))
    out.flush()
    try:
        answer = input()
    except (EOFError, KeyboardInterrupt):
        answer = ""
    return answer.strip().lower() == "yes"


def _audit_command(args: argparse.Namespace, out: Redacting, err: Redacting) -> int:
    if args.release and not args.state:
        err.write(
            "error: --release needs --state: without it every owned number would look unmanaged\n"
        )
        return 2
    _require_files("--config-file", [args.config_file] if args.config_file else [])
    _require_files("--state", args.state)
    settings = _settings(args, err)
    out.add(settings.secrets())
    err.add(settings.secrets())
    # every file must read: a union missing one stack would mark that stack's numbers
    state = _audit.load_states(args.state) if args.state else None
    vendor = get_vendor(args.vendor, settings)
    try:
        report = _audit.audit(vendor, state)
        if args.json:
            out.write(json.dumps(report.to_json(), indent=2) + "\n")
        else:
            out.write(audit_output.report_text(report))
        if args.adopt_program:
            out.write("\n" + audit_output.adopt_program(report))
        if args.import_commands:
            out.write("\n" + audit_output.import_commands(report))
        if args.release and report.unmanaged and state is not None and state.partial:
            err.write(
                f"error: not releasing anything: {len(state.unreadable)} PhoneNumber "
                "resource(s) of the state show no number, so any owned number may be "
                "theirs; export with `pulumi stack export --show-secrets --file state.json`\n"
            )
            return 2
        if args.release and report.unmanaged:
            if not args.yes and not _confirm(report, out):
                out.write("Nothing released.\n")
                return 1
            failed = 0
            for number, problem in _audit.release_unmanaged(vendor, report.unmanaged):
                if problem:
                    failed += 1
                    err.write(f"could not release {number}: {problem}\n")
                else:
                    out.write(f"released {number}\n")
            return 1 if failed else 0
    finally:
        vendor.close()
    return 1 if report.unmanaged else 0


def _usage_hint(argv: Sequence[str]) -> str:
    """A hint for the usual slip: ``--config KEY VALUE`` (two arguments) for ``KEY=VALUE``."""
    for i, word in enumerate(argv):
        item = argv[i + 1] if word == "--config" and i + 1 < len(argv) else ""
        if word.startswith("--config="):
            item = word.removeprefix("--config=")
        if item and "=" not in item:
            return "hint: write --config KEY=VALUE as one argument, with '='\n"
    return ""


def main(
    argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    """Run the command line; returns the exit status.

    Nothing it writes holds a credential: usage errors never repeat typed words that are
    not the command's own, and all output is redacted of the credentials in force and of
    values typed in a credential's place.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = _parser()
    vocabulary = parser.vocabulary() | config_vocabulary()
    typed = typed_credentials(argv, vocabulary)
    safe_out = Redacting(out or sys.stdout, typed)
    safe_err = Redacting(err or sys.stderr, typed)
    try:
        args = parser.parse_args(argv)
    except UsageError as exc:
        safe_err.write(exc.usage)
        safe_err.write(f"error: {mask_typed(exc.message, argv, vocabulary)}\n")
        safe_err.write(_usage_hint(argv))
        return 2
    try:
        if args.command == "audit":
            return _audit_command(args, safe_out, safe_err)
        if args.command == "search":
            return _search_command(args, safe_out, safe_err)
    except PhoneNumbersError as exc:
        safe_err.write(f"error: {exc}\n")
        return 2
    except Exception:  # a bug: its traceback, redacted like everything else
        safe_err.write(traceback.format_exc())
        return 2
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
