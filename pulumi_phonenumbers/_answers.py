"""The one parse step between a vendor's 2xx answer and a vendor module.

:class:`~._http.HttpClient` turns every non-2xx answer into an error of the tree (with the
vendor's error mapper and ``not_found`` shape). Every 2xx answer goes through here and
becomes exactly one of:

* a validated wire model (:func:`parse`), or a list of them (:func:`rows`);
* :class:`~.errors.UnparsableAnswer`, the one documented "unreadable answer" error: an
  HTML page, an empty, truncated or non-JSON body, JSON of the wrong shape (``{}``,
  ``[]``, ``null`` where an object is documented), or a number that is not E.164.

Nothing else escapes (no ``JSONDecodeError``, no pydantic ``ValidationError``). After a
purchase the error is ambiguous (:class:`~.errors.TransportError`, ``sent=True``), so the
purchase code asks the vendor whether the account owns the number.

Numbers: a wire model declares every vendor number as :data:`E164` (Plivo's digits
without ``+`` included: the value always carries the ``+``). Format characters (spaces,
dashes, dots, parentheses) are dropped; what remains must be ``+`` and 7-15 digits that
``phonenumbers`` accepts as a valid number written canonically. Anything else
(``"1415/../../Number/..."``, letters, a national number) fails validation: in a single
answer that is :class:`UnparsableAnswer`; in a search result or an account listing the
row is skipped with a log line.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import httpx
from pydantic import AfterValidator, BaseModel
from pydantic import ValidationError as PydanticValidationError

from . import e164
from .errors import UnparsableAnswer

__all__ = ["E164", "body", "e164_of", "each", "parse", "rows"]

_M = TypeVar("_M", bound=BaseModel)
_log = logging.getLogger("pulumi_phonenumbers.answers")
_FORMAT = str.maketrans("", "", " -().\u00a0")
_SHAPE = re.compile(r"\+?[0-9]{7,15}")


def e164_of(text: object) -> str:
    """A vendor's number as canonical E.164, or ``ValueError`` (the wire validator)."""
    if not isinstance(text, str):
        raise ValueError("a phone number must be a string")
    compact = text.strip().translate(_FORMAT)
    # str.isdigit() accepts non-ASCII digits; the regex takes ASCII digits only.
    if not _SHAPE.fullmatch(compact):
        raise ValueError(f"{text[:40]!r} is not an E.164 number")
    candidate = "+" + compact.lstrip("+")
    if not e164.is_e164(candidate):
        raise ValueError(f"{text[:40]!r} is not a valid E.164 number")
    return candidate


#: A number a vendor sent, validated and normalised to E.164 (``+14155550100``).
E164 = Annotated[str, AfterValidator(e164_of)]


def _unparsable(vendor: str, response: httpx.Response, what: str, detail: str) -> UnparsableAnswer:
    kind = response.headers.get("content-type", "no content type").split(";")[0]
    return UnparsableAnswer(
        f"{vendor}: unreadable answer while trying to {what} (HTTP {response.status_code}, "
        f"{kind}, {len(response.content)} bytes): {detail}; the request may have taken effect",
        vendor=vendor,
        status=response.status_code,
    )


def body(vendor: str, response: httpx.Response, what: str) -> Any:
    """The decoded JSON body; anything that is not JSON is :class:`UnparsableAnswer`."""
    text = response.content.strip()
    if not text:
        raise _unparsable(vendor, response, what, "empty body")
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        raise _unparsable(vendor, response, what, "not JSON (an HTML page or truncated)") from None


def _first_problem(exc: PydanticValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "body"
    return f"{where}: {first['msg']}"


def _pick(
    vendor: str, response: httpx.Response, what: str, at: Callable[[Any], Any] | None, raw: Any
) -> Any:
    """``at(raw)``; an envelope that is not there is :class:`UnparsableAnswer`."""
    if at is None:
        return raw
    try:
        return at(raw)
    except (LookupError, TypeError, AttributeError):
        raise _unparsable(vendor, response, what, "not the documented envelope") from None


def parse(
    vendor: str,
    response: httpx.Response,
    model: type[_M],
    what: str,
    *,
    at: Callable[[Any], Any] | None = None,
) -> _M:
    """The answer as ``model`` (``at(body)`` picks the documented object out of an envelope)."""
    raw = body(vendor, response, what)
    if not isinstance(raw, dict):
        raise _unparsable(vendor, response, what, f"a JSON {type(raw).__name__}, not an object")
    raw = _pick(vendor, response, what, at, raw)
    try:
        return model.model_validate(raw)
    except PydanticValidationError as exc:
        raise _unparsable(vendor, response, what, _first_problem(exc)) from None


def rows(
    vendor: str,
    response: httpx.Response,
    model: type[_M],
    what: str,
    *,
    at: Callable[[Any], Any] | None = None,
) -> list[_M]:
    """The answer's array (``at(body)`` finds it; default: a bare array) as ``model`` rows.

    A missing array is :class:`UnparsableAnswer`; a row that does not validate (a number
    that is not E.164, say) is skipped with a warning, so one strange row neither hides
    the others nor reaches a URL path, the state or a purchase.
    """
    found = _pick(vendor, response, what, at, body(vendor, response, what))
    if not isinstance(found, list):
        raise _unparsable(vendor, response, what, "no list of results in the answer")
    return each(vendor, found, model, what)


def each(vendor: str, found: list[Any], model: type[_M], what: str) -> list[_M]:
    """The rows of ``found`` that validate as ``model``; the others skipped with a warning."""
    valid: list[_M] = []
    for index, row in enumerate(found):
        try:
            valid.append(model.model_validate(row))
        except PydanticValidationError as exc:
            _log.warning(
                "%s: skipped row %d of the answer to %s: %s",
                vendor,
                index,
                what,
                _first_problem(exc),
            )
    return valid
