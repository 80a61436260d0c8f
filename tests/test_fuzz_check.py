"""Property-based tests of check(): any input gets failures or success, never an exception.

``inputs.validate`` and ``PhoneNumberProvider.check`` are driven in-process with many
examples; a smaller sample goes through the real gRPC Check (where unknowns arrive as
``pulumi.output.Unknown``). Then, per vendor, the named failures a preview must show.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pulumi.dynamic.dynamic import serialize_provider

from pulumi_phonenumbers import e164, inputs
from pulumi_phonenumbers.models import CAPABILITIES
from pulumi_phonenumbers.provider import PhoneNumberProvider
from pulumi_phonenumbers.testing import ProviderError, ProviderProcess
from pulumi_phonenumbers.testing.backends import emulated_vendors
from pulumi_phonenumbers.vendors import REGISTRY, vendor_class

URN = "urn:pulumi:dev::phonenumbers-test::pulumi-python:dynamic/phonenumbers:PhoneNumber::{}"
VENDORS = ["sandbox", *emulated_vendors()]
INFOS = {name: vendor_class(name).info for name in VENDORS}
OPTION_KEYS = sorted({k for info in INFOS.values() for k in info.options})
#: the provider's catch-all reason: seeing it means validation itself crashed
CRASHED = "invalid inputs:"

scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats()
    | st.text(max_size=25)
    | st.just(inputs.UNKNOWN)
)


def junk(keys: st.SearchStrategy[str] | None = None) -> st.SearchStrategy[Any]:
    """Nested junk: scalars in lists and objects."""
    key_strategy = keys if keys is not None else st.text(max_size=8)
    return st.recursive(
        scalars,
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(key_strategy, inner, max_size=4)
        ),
        max_leaves=8,
    )


PLAUSIBLE: dict[str, st.SearchStrategy[Any]] = {
    "vendor": st.sampled_from([*REGISTRY, "PLIVO", " sinch ", "nope", ""]),
    "country": st.sampled_from(["US", "us", "GB", "DE", "IN", "XX", "USA", "", "1", "JP"]),
    "number": st.sampled_from(
        [
            "+14155550100",
            "+14152014288",
            "4155550100",
            "+1999",
            "+44 20 7946 0958",
            "+4915123456789",
            "abc",
            "",
            "+",
            "+1 (415) 555-0100",
            "0",
        ]
    ),
    "number_type": st.sampled_from(
        ["local", "mobile", "toll_free", "fixed", "national", "satellite", "LOCAL", ""]
    ),
    "area_code": st.sampled_from(["415", "212", "4", "123456", "abc", "", "0"])
    | st.text(max_size=6),
    "contains": st.sampled_from(["555", "0000", "x1", ""]) | st.text(max_size=16),
    "capabilities": st.lists(
        st.sampled_from([*CAPABILITIES, "fax", "VOICE", inputs.UNKNOWN]), max_size=4
    ),
    "max_monthly_cost": st.floats()
    | st.integers(-5, 10**9)
    | st.sampled_from(["1.5", "nan", "inf", "-1", "abc", True, 0, 1e308]),
    "budget_monthly_cost": st.floats()
    | st.integers(-5, 10**9)
    | st.sampled_from(["2.5", "nan", "-1", "abc", False, 0, 1e308]),
    "adopt": st.booleans() | st.sampled_from(["true", 1, inputs.UNKNOWN]),
    "release_on_delete": st.booleans() | st.sampled_from(["no", 0, inputs.UNKNOWN]),
    "routing": st.dictionaries(
        st.sampled_from([*inputs.ROUTING_KEYS, "bogus"]),
        scalars | st.sampled_from(["app-1", "12345678", "a b"]),
        max_size=4,
    ),
    "vendor_options": st.dictionaries(
        st.sampled_from([*OPTION_KEYS, "bogus"]), scalars, max_size=3
    ),
}


@st.composite
def news(draw: st.DrawFn, *, str_keys: bool = False) -> dict[str, Any]:
    """An input bag: known keys with plausible or junk values, sometimes unknown keys."""
    bag: dict[str, Any] = {}
    for key in inputs.INPUT_KEYS:
        choice = draw(st.integers(0, 9))
        if choice < 5:
            continue
        bag[key] = draw(PLAUSIBLE[key]) if choice < 8 else draw(junk())
        if choice == 9:
            bag[key] = inputs.UNKNOWN
    if draw(st.integers(0, 4)) == 0:
        bag[draw(st.text(min_size=1, max_size=8))] = draw(junk())
    return bag


def _json_safe(value: Any) -> bool:
    """True when ``value`` survives gRPC's Struct (finite numbers that fit a double)."""
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return abs(value) < 2**53
    if isinstance(value, dict):
        return all(isinstance(k, str) and _json_safe(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_json_safe(v) for v in value)
    return True


FAST = settings(
    max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)


@FAST
@given(news())
def test_validate_never_raises_and_names_every_failure(bag: dict[str, Any]) -> None:
    out, failures = inputs.validate(bag, "sandbox", INFOS)
    assert isinstance(out, dict)
    for prop, reason in failures:
        assert isinstance(prop, str) and isinstance(reason, str) and reason.strip()
        root = prop.split(".")[0]
        assert prop in bag or root in inputs.INPUT_KEYS or prop == ""


@FAST
@given(news())
def test_normalisation_is_idempotent(bag: dict[str, Any]) -> None:
    out, failures = inputs.validate(bag, "sandbox", INFOS)
    if not failures:
        again, more = inputs.validate(out, "sandbox", INFOS)
        assert more == [] and again == out


@given(st.one_of(junk(), st.lists(junk())))
@settings(max_examples=100, deadline=None, derandomize=True)
def test_validate_survives_a_bag_that_is_not_an_object(value: Any) -> None:
    out, failures = inputs.validate(value, "sandbox", INFOS)
    if not isinstance(value, dict):
        assert out == {} and failures


@FAST
@given(news())
def test_provider_check_answers_failures_or_success(bag: dict[str, Any]) -> None:
    result = PhoneNumberProvider().check({}, bag)
    reasons = [f.reason for f in result.failures or []]
    assert all(isinstance(r, str) and r for r in reasons)
    assert not [r for r in reasons if r.startswith(CRASHED)], reasons
    if not reasons:  # a clean check is a fixed point: no perpetual diff at preview
        again = PhoneNumberProvider().check({}, dict(result.inputs))
        assert not again.failures and dict(again.inputs) == dict(result.inputs)


# -- through the real gRPC Check ----------------------------------------------------------
@pytest.fixture(scope="module")
def grpc_provider() -> Iterator[tuple[ProviderProcess, str]]:
    with ProviderProcess() as process:
        process.configure({"phonenumbers:vendor": "sandbox"})
        yield process, str(serialize_provider(PhoneNumberProvider()))


def test_grpc_check_answers_junk_with_failures_or_success(
    grpc_provider: tuple[ProviderProcess, str],
) -> None:
    process, serialized = grpc_provider

    @settings(
        max_examples=40,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(news().filter(_json_safe))
    def probe(bag: dict[str, Any]) -> None:
        try:
            outcome = process.check(URN.format("fuzz"), {}, {"__provider": serialized, **bag})
        except ProviderError as exc:  # pragma: no cover - the failure we look for
            pytest.fail(f"Check raised for {bag!r}: {exc.last_line}")
        assert all(reason and not reason.startswith(CRASHED) for _, reason in outcome.failures)

    probe()


# -- per vendor: every bad input is a named failure at preview ---------------------------------
def _failures(process: ProviderProcess, serialized: str, **bag: Any) -> dict[str, str]:
    outcome = process.check(URN.format("bad"), {}, {"__provider": serialized, **bag})
    return dict(outcome.failures)


@pytest.mark.parametrize("vendor", VENDORS)
def test_unsupported_values_are_named_failures(
    grpc_provider: tuple[ProviderProcess, str], vendor: str
) -> None:
    process, ser = grpc_provider
    info = INFOS[vendor]
    base = {"vendor": vendor, "country": "US"}
    if info.countries:
        country = next(c for c in ("JP", "ZA", "MX", "SE") if c not in info.countries)
        reason = _failures(process, ser, vendor=vendor, country=country)["country"]
        assert vendor in reason and country in reason
    reason = _failures(process, ser, **base, number_type="satellite")["number_type"]
    assert "satellite" in reason and "local" in reason
    for cap in [c for c in CAPABILITIES if c not in info.capabilities] + ["fax"]:
        reason = _failures(process, ser, **base, capabilities=[cap])["capabilities"]
        assert repr(cap) in reason
    reason = _failures(process, ser, **base, vendor_options={"bogus": 1})["vendor_options.bogus"]
    assert "no such option" in reason and vendor in reason
    for field in sorted(
        {"voice_target", "sms_target", "label", "inbound", "outbound"} - set(info.routing_fields)
    ):
        value: Any = True if field in ("inbound", "outbound") else "x-1"
        failures = _failures(process, ser, **base, routing={field: value})
        assert f"vendor {vendor} cannot honour it" in failures[f"routing.{field}"]


@pytest.mark.parametrize("vendor", VENDORS)
@pytest.mark.parametrize("number", ["+1999", "12", "+44 20", "not a number", "+99912345678"])
def test_malformed_numbers_are_named_failures(
    grpc_provider: tuple[ProviderProcess, str], vendor: str, number: str
) -> None:
    process, ser = grpc_provider
    assert "E.164" in _failures(process, ser, vendor=vendor, number=number)["number"]


@pytest.mark.parametrize("vendor", VENDORS)
@pytest.mark.parametrize("cost", [-1, 0, -0.01, 1e9, 10_000.01, "NaN", "cheap", True])
def test_bad_max_monthly_cost_is_a_named_failure(
    grpc_provider: tuple[ProviderProcess, str], vendor: str, cost: Any
) -> None:
    process, ser = grpc_provider
    reason = _failures(process, ser, vendor=vendor, country="US", max_monthly_cost=cost)[
        "max_monthly_cost"
    ]
    assert reason.startswith("must be")


@pytest.mark.parametrize("vendor", VENDORS)
@pytest.mark.parametrize(
    "field",
    [
        "country",
        "number_type",
        "area_code",
        "capabilities",
        "max_monthly_cost",
        "routing",
        "vendor_options",
        "vendor",
    ],
)
def test_an_unknown_value_at_preview_is_never_a_failure_of_its_own(
    grpc_provider: tuple[ProviderProcess, str], vendor: str, field: str
) -> None:
    process, ser = grpc_provider
    bag: dict[str, Any] = {"vendor": vendor, "country": "US", "area_code": "415"}
    bag[field] = inputs.UNKNOWN
    assert _failures(process, ser, **bag) == {}


# -- unknowns anywhere (issue 9.10) -------------------------------------------------------
def _clean_bags() -> st.SearchStrategy[dict[str, Any]]:
    """Bags a vendor accepts: its countries, types, capabilities and routing fields."""

    @st.composite
    def bag(draw: st.DrawFn) -> dict[str, Any]:
        vendor = draw(st.sampled_from(VENDORS))
        info = INFOS[vendor]
        out: dict[str, Any] = {"vendor": vendor, "country": "US"}
        if draw(st.booleans()):
            out["area_code"] = draw(st.sampled_from(["415", "212", "646"]))
        if draw(st.booleans()):
            out["capabilities"] = draw(st.lists(st.sampled_from(sorted(info.capabilities))))
        if draw(st.booleans()):
            out["max_monthly_cost"] = draw(st.sampled_from([1.5, 5, "20"]))
        routing: dict[str, Any] = {}
        for field in sorted(info.routing_fields):
            if draw(st.booleans()):
                flag = field in ("inbound", "outbound")
                target = "Front desk" if field == "label" else info.target_examples[0]
                routing[field] = draw(st.booleans()) if flag else target
        if routing:
            out["routing"] = routing
        if vendor == "plivo" and draw(st.booleans()):
            out["vendor_options"] = {"cnam_lookup": "enabled"}
        if vendor == "bolna" and draw(st.booleans()):
            out["vendor_options"] = {"provider": "twilio"}
        if draw(st.booleans()):
            out["adopt"] = draw(st.booleans())
            if out["adopt"]:
                out["number"] = "+14155550100"
        return out

    return bag()


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Paths to every value in a bag: top-level values, list elements, nested values."""
    found = [path] if path else []
    if isinstance(value, dict):
        for key, inner in value.items():
            found += _leaves(inner, (*path, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found += _leaves(inner, (*path, index))
    return found


def _with_unknown(bag: Any, path: tuple[Any, ...], unknown: Any) -> Any:
    if not path:
        return unknown
    head, rest = path[0], path[1:]
    if not isinstance(bag, dict | list):  # an outer value is already unknown
        return bag
    if isinstance(bag, dict):
        return {**bag, head: _with_unknown(bag[head], rest, unknown)}
    copy = list(bag)
    copy[head] = _with_unknown(copy[head], rest, unknown)
    return copy


def _unknowns() -> st.SearchStrategy[Any]:
    """Both forms: the rpc sentinel string and the SDK's ``Unknown`` (what gRPC delivers)."""
    from pulumi.output import Unknown

    return st.sampled_from([inputs.UNKNOWN, Unknown()])


@FAST
@given(_clean_bags(), st.data())
def test_an_unknown_anywhere_in_a_clean_bag_is_never_a_failure(
    bag: dict[str, Any], data: st.DataObject
) -> None:
    first = PhoneNumberProvider().check({}, bag)
    assert not first.failures, [(f.property, f.reason) for f in first.failures]
    paths = _leaves(bag)
    chosen = data.draw(st.lists(st.sampled_from(paths), min_size=1, max_size=3, unique=True))
    unknown = data.draw(_unknowns())
    for path in sorted(chosen, key=len):
        bag = _with_unknown(bag, path, unknown)
    result = PhoneNumberProvider().check({}, bag)
    assert not result.failures, (bag, [(f.property, f.reason) for f in result.failures])


NESTED_UNKNOWNS: list[tuple[str, dict[str, Any]]] = [
    ("capabilities=[unknown]", {"capabilities": [inputs.UNKNOWN]}),
    ("capabilities=[voice, unknown]", {"capabilities": ["voice", inputs.UNKNOWN]}),
    ("routing.voice_target", {"routing": {"voice_target": inputs.UNKNOWN}}),
    ("vendor_options value", {"vendor_options": {}}),  # each of the vendor's options
    # Sinch cannot *buy* toll-free numbers, but adopting one is fine: adopt may be True.
    ("adopt unknown", {"adopt": inputs.UNKNOWN, "number": "+14155550100"}),
]


@pytest.mark.parametrize("vendor", VENDORS)
@pytest.mark.parametrize(("label", "extra"), NESTED_UNKNOWNS, ids=[n for n, _ in NESTED_UNKNOWNS])
def test_unknowns_nested_in_the_inputs_pass_check_over_grpc(
    grpc_provider: tuple[ProviderProcess, str], vendor: str, label: str, extra: dict[str, Any]
) -> None:
    """The engine sends an unknown as the sentinel string inside lists and objects too."""
    process, ser = grpc_provider
    info = INFOS[vendor]
    bag: dict[str, Any] = {"vendor": vendor, "country": "US", **extra}
    if "vendor_options" in extra:
        if not info.options:
            pytest.skip(f"{vendor} takes no vendor_options")
        bag["vendor_options"] = dict.fromkeys(info.options, inputs.UNKNOWN)
    if "routing" in extra and "voice_target" not in info.routing_fields:
        pytest.skip(f"{vendor} has no voice_target")
    if "adopt" in extra:
        bag["number_type"] = "toll_free" if "toll_free" in info.number_types else "local"
    outcome = process.check(URN.format("nested"), {}, {"__provider": ser, **bag})
    assert outcome.failures == [], (label, outcome.failures)
    if "capabilities" in extra:  # the unknown element is kept for the real check at `up`
        assert len(outcome.inputs["capabilities"]) == len(set(extra["capabilities"]))
        diff = process.diff(
            URN.format("nested"),
            "+14155550100",
            {**outcome.inputs, "number": "+14155550100", "number_capabilities": ["voice"]},
            {"__provider": ser, **outcome.inputs},
        )
        assert diff.changes is not False


# -- messages say a thing once (issue 12.12) ----------------------------------------------
def _sentences(reason: str) -> list[str]:
    parts = re.split(r"(?<=[.;:])\s+|\s+\(|\)\s*", reason)
    return [p.strip(" .;:()").lower() for p in parts if len(p.split()) >= 4]


def _restates(prop: str, reason: str) -> bool:
    """True when ``reason`` names its own property: the engine already prints it before."""
    text = reason.strip().lower()
    segments = [s for s in prop.lower().split(".") if s]
    if any(re.match(rf"{re.escape(s)}(?!\w)", text) for s in segments):
        return True
    names = [prop.lower()] if ("." in prop or "_" in prop) else []
    names += [s for s in segments[1:] if "_" in s]
    return any(re.search(rf"(?<![\w.]){re.escape(n)}(?!\w)", text) for n in names)


def assert_said_once(failures: list[tuple[str, str]]) -> None:
    """One failure per property; no reason restates its property or says a sentence twice,
    in itself or in another reason of the same check."""
    props = [p for p, _ in failures]
    assert len(props) == len(set(props)), failures
    seen: dict[str, str] = {}
    for prop, reason in failures:
        assert not _restates(prop, reason), (prop, reason)
        mine = _sentences(reason)
        assert len(mine) == len(set(mine)), reason
        for sentence in mine:
            assert sentence not in seen or len(sentence.split()) < 8, (sentence, failures)
            seen.setdefault(sentence, prop)


@FAST
@given(news())
def test_check_failures_say_each_thing_once(bag: dict[str, Any]) -> None:
    result = PhoneNumberProvider().check({}, bag)
    assert_said_once([(f.property, f.reason) for f in result.failures or []])


REPEATERS: list[dict[str, Any]] = [
    {"country": "USA"},
    {"country": "1", "number": "+14155550100"},
    {"vendor": "sinch", "country": "GB", "number_type": "mobile"},
    {"vendor": "sinch", "number_type": "toll_free"},
    {"max_monthly_cost": -1, "area_code": "41a", "contains": "x"},
    {"capabilities": ["fax", "telex", "mms"], "number_type": "satellite"},
    {"routing": {"label": "x" * 200, "sms_target": "a b", "colour": "red"}},
    {"vendor_options": {"bogus": 1, "other": 2, "cnam_lookup": "maybe"}},
    {"adopt": True},
    {"adopt": "yes", "release_on_delete": "no", "bogus": 1},
    {"number": "not a number"},
    {"contains": "12345678901", "area_code": "4155"},
]


@pytest.mark.parametrize("vendor", VENDORS)
def test_grpc_check_failures_say_each_thing_once(
    grpc_provider: tuple[ProviderProcess, str], vendor: str
) -> None:
    process, ser = grpc_provider
    for bag in REPEATERS:
        bag = {"vendor": vendor, **bag} if "vendor" not in bag else bag
        outcome = process.check(URN.format("said"), {}, {"__provider": ser, **bag})
        assert_said_once(outcome.failures)


# -- only ASCII digits (issue 9.13) -------------------------------------------------------
def _foreign_digits() -> st.SearchStrategy[str]:
    """Characters Python calls numeric that are not 0-9 (full-width, Devanagari, superscript)."""
    return st.characters(categories=["Nd", "No", "Nl"]).filter(lambda c: not c.isascii())


@FAST
@given(st.data())
def test_digit_fields_take_only_ascii_digits(data: st.DataObject) -> None:
    foreign = data.draw(st.lists(_foreign_digits(), min_size=1, max_size=3))
    ascii_digits = data.draw(st.text("0123456789", max_size=3))
    at = data.draw(st.integers(0, len(ascii_digits)))
    text = ascii_digits[:at] + "".join(foreign) + ascii_digits[at:]
    national = "4155550100"
    spot = data.draw(st.integers(0, len(national) - 1))
    number = "+1" + national[:spot] + foreign[0] + national[spot + 1 :]
    for field, value in [
        ("area_code", text),
        ("contains", text),
        ("max_monthly_cost", text),
        ("number", number),
    ]:
        _, failures = inputs.validate({field: value}, "sandbox", INFOS)
        assert field in dict(failures), (field, value)
    with pytest.raises(e164.InvalidNumber):
        e164.normalize(number)
    region = {"vendor": "bolna", "country": "IN", "vendor_options": {"region": text}}
    assert "vendor_options.region" in {
        f.property for f in PhoneNumberProvider().check({}, region).failures
    }


#: The issue's examples: full-width 415, Devanagari 415, superscript 212.
@pytest.mark.parametrize("text", ["\uff14\uff11\uff15", "\u096a\u0967\u096b", "\u00b2\u00b9\u00b2"])
def test_the_reported_unicode_digits_fail_check(text: str) -> None:
    for field in ("area_code", "contains", "max_monthly_cost"):
        _, failures = inputs.validate({field: text}, "sandbox", INFOS)
        assert "0-9" in dict(failures)[field]


def test_preview_inventory_failures_say_each_thing_once(serialized_provider: str) -> None:
    """``previewInventory`` failures (vendor searches at check) follow the same rules."""
    with ProviderProcess() as process:
        process.configure(
            {"phonenumbers:vendor": "sandbox", "phonenumbers:previewInventory": "true"}
        )
        for bag in (
            {"area_code": "999"},
            {"area_code": "415", "contains": "99999999"},
            {"country": "GB", "number_type": "toll_free", "capabilities": ["sms"]},
            {"adopt": True, "number": "+14155550100"},
        ):
            outcome = process.check(
                URN.format("inv"), {}, {"__provider": serialized_provider, **bag}
            )
            assert outcome.failures, bag
            assert_said_once(outcome.failures)
