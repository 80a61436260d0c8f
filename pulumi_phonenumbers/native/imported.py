"""What ``pulumi import`` records: the inputs of a number the account already owns.

Import sends Read with the id alone (no properties, no inputs). The answer's inputs are what
the generated program declares: the vendor (stack config ``phonenumbers:vendor``), the
number, its country and type, its current routing, and ``adopt: true``, so that deleting
the resource later leaves the number owned, exactly as for ``adopt`` (the program must say
``release_on_delete: true`` to release it).
"""

from __future__ import annotations

from typing import Any

from ..provider import PhoneNumberProvider

__all__ = ["import_inputs"]


def import_inputs(core: PhoneNumberProvider, number: str) -> dict[str, Any] | None:
    """The inputs for an owned ``number`` at the configured vendor; None when not owned."""
    vendor_name = core._settings_now().get("vendor") or "sandbox"
    owned = core._vendor(vendor_name).get(number)
    if owned is None:
        return None
    found: dict[str, Any] = {
        "vendor": vendor_name,
        "number": owned.number,
        "adopt": True,
    }
    if owned.country:
        found["country"] = owned.country
    if owned.number_type:
        found["number_type"] = owned.number_type
    routing = owned.routing.to_dict(exclude_none=True)
    if routing:
        found["routing"] = routing
    return found
