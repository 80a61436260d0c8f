"""One clear error per failed provider call: what failed, which number, what to do.

The provider's public methods are wrapped by ``provider._clear_errors``, which calls
:func:`clean_error`. The result is a single-line :class:`PhoneNumbersError` of the same
class as the failure, raised ``from None`` so the engine shows no vendor traceback, with
every configured secret redacted.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from . import inputs as _inputs
from . import registry
from ._purchase import criteria_text
from .config import NAMESPACE, Settings
from .errors import (
    AuthError,
    ComplianceError,
    NotFound,
    PaymentError,
    PhoneNumbersError,
    RateLimited,
    ServerError,
    TimeoutError_,
    TransportError,
    UnparsableAnswer,
    ValidationError,
)

__all__ = ["advice", "clean_error", "subject"]

_AGAIN = {
    "create": "`pulumi up`",
    "update": "`pulumi up`",
    "read": "`pulumi refresh`",
    "delete": "`pulumi up` (or `pulumi destroy`)",
}


def subject(operation: str, args: Sequence[Any]) -> str:
    """``of +14155550100`` / ``of a plivo number (country=US, area_code=415)``."""
    if operation == "create" and args and isinstance(args[0], Mapping):
        props = args[0]
        vendor = props.get("vendor") or "?"
        if props.get("number"):
            verb = "adopting" if props.get("adopt") else "of"
            return f"{verb} {props['number']} at {vendor}"
        try:
            crit = criteria_text(_inputs.query_of(props))
        except Exception:  # the subject must never hide the real failure
            crit = "the given criteria"
        return f"of a {vendor} number ({crit})"
    if args and isinstance(args[0], str) and args[0]:
        return f"of {args[0]}"
    return ""


def _credential_keys(vendor: str) -> str:
    """The vendor's credential keys, as its registry entry declares them."""
    try:
        keys = [f"{NAMESPACE}:{name}" for name in registry.entry(vendor).credentials]
    except KeyError:
        keys = []
    return ", ".join(keys) or f"the {vendor} credentials"


def _base_url_key(vendor: str) -> str:
    try:
        return f"{NAMESPACE}:{registry.entry(vendor).base_url_key}"
    except KeyError:
        return "the vendor's base URL setting"


#: A vendor module's own instruction in a message (KrosAI KYC, Sondos billing, ...): the
#: generic advice would say the same thing again.
_ADVISED = re.compile(r"then run|and run again|run `pulumi up`|contact \S+ support", re.I)


def advice(operation: str, exc: BaseException, settings: Settings) -> str:
    """What the user can do about ``exc`` ("" when the message already says it)."""
    if _ADVISED.search(str(exc)):
        return ""
    again = _AGAIN.get(operation, "`pulumi up`")
    vendor = str(getattr(exc, "vendor", "") or "the vendor")
    if isinstance(exc, AuthError):
        return (
            f"The vendor rejected the credentials: check {_credential_keys(vendor)} "
            "(`pulumi config set --secret ...`) or the matching environment variables."
        )
    if isinstance(exc, NotFound) and operation in ("update", "read"):
        return (
            "The number is no longer on this account: run `pulumi refresh` to drop it from "
            "the stack, then `pulumi up` to get a replacement."
        )
    if isinstance(exc, PaymentError):
        return f"Add funds or a payment method at the vendor, then run {again} again."
    if isinstance(exc, ComplianceError):
        return (
            "Complete the vendor's verification for this country (address or identity "
            f"documents), then run {again} again."
        )
    if isinstance(exc, RateLimited):
        return (
            f"The vendor is rate limiting this account: wait a minute, then run {again} "
            "again (a lower `--parallel` helps)."
        )
    if isinstance(exc, ServerError):
        return f"The vendor is failing: run {again} again later."
    if isinstance(exc, UnparsableAnswer):
        return (
            f"The answer did not come from the vendor's API as documented: check "
            f"{_base_url_key(vendor)} and any proxy in between, then run {again} again."
        )
    if isinstance(exc, TimeoutError_):
        try:
            timeout = f"{settings.timeout:g}s"
        except PhoneNumbersError:
            timeout = "invalid"
        return (
            f"The vendor did not answer in time: run {again} again, or raise "
            f"{NAMESPACE}:timeoutSeconds (now {timeout})."
        )
    if isinstance(exc, TransportError) and exc.sent:
        return (
            f"The connection broke before the vendor answered: run {again} again (if it "
            "keeps happening, check the network or proxy between here and the vendor)."
        )
    if isinstance(exc, TransportError):
        return (
            f"The vendor could not be reached: check the network and the vendor's base URL "
            f"setting, then run {again} again."
        )
    if isinstance(exc, ValidationError):
        return "The vendor refused the request: check the resource's inputs."
    if not isinstance(exc, PhoneNumbersError):
        return "This is a bug in pulumi-phonenumbers: please report it with this message."
    return ""


def clean_error(
    operation: str, args: Sequence[Any], exc: BaseException, settings: Settings
) -> PhoneNumbersError:
    """The one-line, redacted error the user sees for ``exc``."""
    from ._http import redact  # lazily: httpx stays off the sandbox's start-up path

    what = subject(operation, args)
    head = f"phonenumbers {operation} {what}".rstrip()
    detail = (
        str(exc)
        if isinstance(exc, PhoneNumbersError)
        else f"unexpected {type(exc).__name__}: {exc}"
    )
    text = f"{head} failed: {detail.rstrip('.')}."
    hint = advice(operation, exc, settings)
    if hint:
        text = f"{text} {hint}"
    message = redact(" ".join(text.split()), settings.secrets())
    if isinstance(exc, PhoneNumbersError):
        clean = type(exc).__new__(type(exc))
        clean.__dict__.update(exc.__dict__)
        clean.args = (message,)
        return clean
    return PhoneNumbersError(message)
