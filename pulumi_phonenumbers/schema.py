"""Build the Pulumi Package Schema (``schema.json``) from the models and the config table.

``python scripts/gen_schema.py`` writes it; a test fails when the committed file is stale.
Plain Python: no Pulumi import.
"""

from __future__ import annotations

import json
from typing import Any

from .config import CONFIG_KEYS
from .inputs import CRITERIA_KEYS, INPUT_KEYS, ROUTING_KEYS
from .models import CAPABILITIES, Routing
from .registry import DOC_FIELDS, entries

__all__ = ["build_schema", "render_schema"]

#: Each routing field's meaning; ``{}`` is filled with the vendors' phrases (their docs rows).
_ROUTING_DOCS = {
    "voice_target": "Where inbound calls go: a {or}.",
    "sms_target": "Messaging target ({and}).",
    "label": "Display name / alias shown in the vendor console ({and}).",
    "inbound": "Allow inbound calls ({and}).",
    "outbound": "Allow outbound calls ({and}).",
}
_ROUTING_TYPES = {"inbound": "boolean", "outbound": "boolean"}

_INPUT_DOCS: dict[str, tuple[dict[str, Any], str]] = {
    "vendor": (
        {"type": "string"},
        "Vendor: {names}. Defaults to "
        "stack config `phonenumbers:vendor`, else `sandbox`. A change replaces the number.",
    ),
    "country": ({"type": "string"}, "ISO 3166-1 alpha-2 country (default `US`)."),
    "number_type": (
        {"type": "string"},
        "`local` (default), `mobile`, `toll_free`, or a vendor "
        "extra such as Plivo's `national` / `fixed`.",
    ),
    "area_code": (
        {"type": "string"},
        "Area code / national destination code (a hint: an edit "
        "replaces only when the held number no longer matches).",
    ),
    "contains": ({"type": "string"}, "Digits the number must contain (a hint)."),
    "capabilities": (
        {"type": "array", "items": {"type": "string", "enum": list(CAPABILITIES)}},
        "Required capabilities (a hint).",
    ),
    "max_monthly_cost": ({"type": "number"}, "Maximum monthly price in the vendor's currency."),
    "budget_monthly_cost": (
        {"type": "number"},
        "Purchase-time ceiling on the monthly price (a fleet's share of "
        "max_total_monthly_cost); not a criterion: a change never replaces a held number.",
    ),
    "number": ({"type": "string"}, "Buy (or adopt) exactly this E.164 number; a change replaces."),
    "adopt": ({"type": "boolean"}, "Take over a number the account already owns (no purchase)."),
    "release_on_delete": (
        {"type": "boolean"},
        "Release the number on delete (default true; false when adopted).",
    ),
    "routing": (
        {"$ref": "#/types/phonenumbers:index:Routing"},
        "Where traffic goes; a routing edit is an in-place update.",
    ),
    "vendor_options": (
        {"type": "object", "additionalProperties": {"$ref": "pulumi.json#/Any"}},
        "Vendor-only purchase options ({;}).",
    ),
}
_OUTPUT_DOCS: dict[str, tuple[dict[str, Any], str]] = {
    "vendor_id": ({"type": "string"}, "The vendor's own id of the number."),
    "number_capabilities": (
        {"type": "array", "items": {"type": "string"}},
        "What the held number supports.",
    ),
    "monthly_cost": ({"type": "number"}, "Monthly price."),
    "setup_cost": ({"type": "number"}, "One-off setup price."),
    "currency": ({"type": "string"}, "Currency of the prices."),
    "locality": ({"type": "string"}, "Place name of the number."),
    "status": ({"type": "string"}, "`active`, or a vendor state such as `pending`."),
}
_FLEET_INPUTS: dict[str, tuple[dict[str, Any], str]] = {
    "size": (
        {"type": "integer"},
        "Number of numbers, keyed 0..N-1 (shrinking releases the "
        "highest keys). Exactly one of size / keys.",
    ),
    "keys": (
        {"type": "array", "items": {"type": "string"}},
        "Named numbers (removing a key releases exactly that number).",
    ),
    "max_total_monthly_cost": (
        {"type": "number"},
        "Cap on the fleet's summed monthly price: refused at preview when size x "
        "max_monthly_cost (or x the cheapest match, with previewInventory) exceeds it; each "
        "member buys at most max_total_monthly_cost / size a month.",
    ),
    **{k: v for k, v in _INPUT_DOCS.items() if k not in ("number", "adopt", "budget_monthly_cost")},
}
_FLEET_OUTPUTS: dict[str, tuple[dict[str, Any], str]] = {
    "numbers": (
        {"type": "object", "additionalProperties": {"type": "string"}},
        "Key -> E.164 number.",
    ),
    "monthly_cost": ({"type": "number"}, "Sum of the monthly prices."),
}


_FUNCTION_INPUTS: dict[str, tuple[dict[str, Any], str]] = {
    **{k: v for k, v in _INPUT_DOCS.items() if k in ("vendor", "vendor_options", *CRITERIA_KEYS)},
    "limit": ({"type": "integer"}, "Most candidates returned (1-100, default 20)."),
}
_AVAILABLE: dict[str, tuple[dict[str, Any], str]] = {
    "number": ({"type": "string"}, "The E.164 number offered."),
    "monthly_cost": ({"type": "number"}, "Monthly price."),
    "setup_cost": ({"type": "number"}, "One-off setup price."),
    "currency": ({"type": "string"}, "Currency of the prices."),
    "locality": ({"type": "string"}, "Place name of the number."),
    "capabilities": ({"type": "array", "items": {"type": "string"}}, "What it supports."),
    "number_type": ({"type": "string"}, "The number's type."),
}


def _vendor_docs(text: str, field: str) -> str:
    """``text`` with its placeholder filled from the registered vendors' docs rows."""
    if field == "vendor":
        return text.replace("{names}", ", ".join(sorted(e.name for e in entries())))
    phrases = [e.docs[field] for e in entries() if field in e.docs]
    if field == "voice_target":
        joined = " or ".join(
            [", ".join(phrases[:-1]), phrases[-1]] if len(phrases) > 1 else phrases
        )
        return text.replace("{or}", joined)
    return text.replace("{and}", ", ".join(phrases)).replace("{;}", "; ".join(phrases))


def _props(table: dict[str, tuple[dict[str, Any], str]]) -> dict[str, Any]:
    return {
        name: {**spec, "description": _vendor_docs(doc, name)}
        for name, (spec, doc) in sorted(table.items())
    }


def build_schema(version: str = "0.1.0") -> dict[str, Any]:
    """The schema as a dict (deterministic key order)."""
    assert set(_INPUT_DOCS) == set(INPUT_KEYS), "schema: document every PhoneNumber input"
    assert set(_ROUTING_DOCS) == set(ROUTING_KEYS) == set(Routing.field_names)
    assert set(DOC_FIELDS) == {*ROUTING_KEYS, "vendor_options"}
    titles = [e.title for e in entries() if e.name != "sandbox"]
    inputs = _props(_INPUT_DOCS)
    outputs = {**inputs, **_props(_OUTPUT_DOCS)}
    outputs["number"] = {"type": "string", "description": "The E.164 number (also the id)."}
    config = {
        key.name: {
            "type": "string",
            "description": key.description
            + (f" Environment fallback: `{key.env}`." if key.env else ""),
            **({"default": key.default} if key.default else {}),
            **({"secret": True} if key.secret else {}),
        }
        for key in sorted(CONFIG_KEYS, key=lambda k: k.name)
    }
    return {
        "name": "phonenumbers",
        "displayName": "Phone numbers",
        "version": version,
        "description": "Telephone numbers as infrastructure: search, buy, route and release "
        f"numbers at {', '.join(titles[:-1])} and {titles[-1]}. Served by the native plugin "
        "`pulumi-resource-phonenumbers`; Python programs use the dynamic `PhoneNumber`.",
        "keywords": ["telephony", "phone-numbers", "category/utility", "kind/native"],
        "language": {
            "python": {"packageName": "pulumi_phonenumbers"},
            # sdk/nodejs (make sdk): a local package, installed by path, not from npm.
            "nodejs": {"packageName": "pulumi-phonenumbers", "respectSchemaVersion": True},
        },
        "config": {"variables": config},
        "types": {
            "phonenumbers:index:Routing": {
                "type": "object",
                "description": "Vendor-neutral routing; a field a vendor cannot honour fails at "
                "preview.",
                "properties": {
                    name: {
                        "type": _ROUTING_TYPES.get(name, "string"),
                        "description": _vendor_docs(doc, name),
                    }
                    for name, doc in sorted(_ROUTING_DOCS.items())
                },
            },
            "phonenumbers:index:AvailableNumber": {
                "type": "object",
                "description": "A number a vendor offers now.",
                "properties": _props(_AVAILABLE),
                "required": sorted(_AVAILABLE),
            },
        },
        "resources": {
            "phonenumbers:index:PhoneNumber": {
                "description": "A telephone number. The Python dynamic resource of the same "
                "inputs has the runtime type token "
                "`pulumi-python:dynamic/phonenumbers:PhoneNumber`.",
                "inputProperties": inputs,
                "requiredInputs": [],
                "properties": outputs,
                "required": sorted(["number", "vendor_id", "status", "vendor", "country"]),
            },
            "phonenumbers:index:PhoneNumberFleet": {
                "isComponent": True,
                "description": "N numbers from one set of criteria and routing.",
                "inputProperties": _props(_FLEET_INPUTS),
                "requiredInputs": [],
                "properties": _props(_FLEET_OUTPUTS),
                "required": ["monthly_cost", "numbers"],
            },
        },
        "functions": {
            "phonenumbers:index:getAvailableNumbers": {
                "description": "Numbers a vendor offers now that meet the criteria, as "
                "`PhoneNumber` would search (same validation). Searches only; never buys.",
                "inputs": {"type": "object", "properties": _props(_FUNCTION_INPUTS)},
                "outputs": {
                    "type": "object",
                    "properties": {
                        "numbers": {
                            "type": "array",
                            "items": {"$ref": "#/types/phonenumbers:index:AvailableNumber"},
                            "description": "The candidates, at most `limit`.",
                        }
                    },
                    "required": ["numbers"],
                },
            }
        },
    }


def render_schema(version: str = "0.1.0") -> str:
    """``schema.json``'s exact text: what ``scripts/gen_schema.py`` writes, the plugin serves."""
    return json.dumps(build_schema(version), indent=2, sort_keys=False) + "\n"
