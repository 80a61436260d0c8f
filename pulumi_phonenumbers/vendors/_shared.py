"""Helpers shared by the JSON vendor clients, private to :mod:`pulumi_phonenumbers.vendors`.

Used by KrosAI and Bolna (lenient JSON reading, wire-model validation) and by KrosAI and
Sondos (the client-side search filter for what the vendor's search cannot narrow).
"""

from __future__ import annotations

from typing import Any, TypeVar

import httpx
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from .. import e164
from ..errors import ServerError
from ..models import AvailableNumber, NumberQuery

__all__ = ["json_or_none", "matches", "parse"]

_M = TypeVar("_M", bound=BaseModel)


def json_or_none(response: httpx.Response) -> Any:
    """The decoded JSON body, or ``None`` when the body is not JSON."""
    try:
        return response.json()
    except ValueError:
        return None


def parse(vendor: str, model: type[_M], raw: Any, response: httpx.Response, what: str) -> _M:
    """A wire model, or :class:`ServerError` (the request may have taken effect)."""
    try:
        return model.model_validate(raw)
    except PydanticValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise ServerError(
            f"{vendor}: unexpected answer while trying to {what} ({where}: {first['msg']})",
            vendor=vendor,
            status=response.status_code,
        ) from None


def matches(available: AvailableNumber, query: NumberQuery) -> bool:
    """``contains``, ``capabilities`` and ``max_monthly_cost``, checked on the client side."""
    if query.contains and query.contains not in e164.digits(available.number):
        return False
    if not set(query.capabilities) <= set(available.capabilities):
        return False
    return query.max_monthly_cost is None or available.monthly_cost.amount <= query.max_monthly_cost
