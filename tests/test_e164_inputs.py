"""Unit tests: E.164 handling, input validation/normalisation, criteria satisfaction."""

from __future__ import annotations

from typing import Any

import pytest

from pulumi_phonenumbers import e164
from pulumi_phonenumbers.inputs import UNKNOWN, query_of, unsatisfied, validate
from pulumi_phonenumbers.vendors import vendor_class

INFOS = {"sandbox": vendor_class("sandbox").info}


def check(**news: Any) -> tuple[dict[str, Any], dict[str, str]]:
    out, failures = validate(news, "sandbox", INFOS)
    return out, dict(failures)


@pytest.mark.parametrize(
    ("text", "region", "expected"),
    [
        ("+1 (415) 555-2671", None, "+14155552671"),
        ("14155552671", None, "+14155552671"),
        ("020 7946 0018", "GB", "+442079460018"),
        ("+442079460018", "GB", "+442079460018"),
    ],
)
def test_normalize(text: str, region: str | None, expected: str) -> None:
    assert e164.normalize(text, region) == expected
    assert e164.normalize(expected) == expected  # idempotent


@pytest.mark.parametrize("text", ["", "abc", "+1999", "+1415555", "++"])
def test_normalize_rejects(text: str) -> None:
    with pytest.raises(e164.InvalidNumber):
        e164.normalize(text)


def test_number_facts() -> None:
    assert e164.country_of("+442079460018") == "GB"
    assert e164.area_code("+14155552671") == "415"
    assert e164.digits("+14155552671") == "14155552671"
    assert e164.number_type_of("+18002345678") == "toll_free"
    assert e164.country_code("+442079460018") == 44


def test_defaults_are_filled_and_idempotent() -> None:
    out, failures = check(area_code="415", capabilities=["SMS", "voice", "sms"])
    assert failures == {}
    assert out["vendor"] == "sandbox" and out["country"] == "US" and out["number_type"] == "local"
    assert out["capabilities"] == ["sms", "voice"]
    assert out["release_on_delete"] is True and out["adopt"] is False
    again, failures = check(**out)
    assert again == out and failures == {}


def test_adopt_defaults_release_on_delete_false_and_needs_number() -> None:
    out, failures = check(adopt=True, number="+14155552671")
    assert failures == {} and out["release_on_delete"] is False
    _, failures = check(adopt=True)
    assert "adopt" in failures


def test_every_bad_field_is_named() -> None:
    _, failures = check(
        vendor="nope",
        number="12",
        country="USA",
        number_type="satellite",
        area_code="41a",
        contains="x" * 20,
        capabilities=["fax"],
        max_monthly_cost=-1,
        adopt="yes",
        routing={"voice_target": "", "colour": "red"},
        bogus=1,
    )
    assert {
        "vendor",
        "number",
        "country",
        "area_code",
        "contains",
        "capabilities",
        "max_monthly_cost",
        "adopt",
        "routing.voice_target",
        "routing.colour",
        "bogus",
    } <= set(failures)


def test_number_country_mismatch_is_named() -> None:
    _, failures = check(number="+442079460018", country="US")
    assert "GB number" in failures["number"]


@pytest.mark.parametrize("cost", [float("nan"), float("inf"), 1e9, 0, "cheap", True])
def test_absurd_costs(cost: Any) -> None:
    assert "max_monthly_cost" in check(max_monthly_cost=cost)[1]


def test_unknowns_pass_through() -> None:
    out, failures = check(
        area_code=UNKNOWN, routing={"voice_target": UNKNOWN}, vendor_options=UNKNOWN
    )
    assert failures == {}
    assert out["area_code"] == UNKNOWN
    assert query_of(out).area_code is None


def test_junk_never_raises() -> None:
    for junk in ([1, 2], {"a": {"b": [None]}}, 3.5, None, object()):
        for key in ("vendor", "country", "routing", "capabilities", "vendor_options", "number"):
            validate({key: junk}, "sandbox", INFOS)
    assert validate("not a mapping", "sandbox", INFOS)[1]  # type: ignore[arg-type]


def test_unsatisfied_criteria() -> None:
    outs = {
        "number": "+14155552671",
        "country": "US",
        "number_type": "local",
        "number_capabilities": ["sms", "voice"],
        "monthly_cost": 0.8,
    }
    assert unsatisfied(outs, {"area_code": "415", "capabilities": ["sms"]}) == []
    assert unsatisfied(outs, {"area_code": "212"}) == ["area_code"]
    assert unsatisfied(outs, {"contains": "2671"}) == []
    assert unsatisfied(outs, {"contains": "9999"}) == ["contains"]
    assert unsatisfied(outs, {"capabilities": ["mms"]}) == ["capabilities"]
    assert unsatisfied(outs, {"max_monthly_cost": 0.5}) == ["max_monthly_cost"]
    assert unsatisfied(outs, {"country": "GB"}) == ["country"]
    assert unsatisfied(outs, {"number_type": "toll_free"}) == ["number_type"]
    assert unsatisfied(outs, {"number_type": "fixed"}) == []
    assert unsatisfied(outs, {"area_code": UNKNOWN}) == []


def test_an_adopted_number_is_held_to_each_declared_criterion() -> None:
    from decimal import Decimal

    from pulumi_phonenumbers.inputs import unmet_by
    from pulumi_phonenumbers.models import Money, OwnedNumber

    owned = OwnedNumber(
        number="+14155552671",
        vendor_id="v1",
        country="US",
        number_type="local",
        capabilities=("voice",),
        monthly_cost=Money(amount=Decimal("2.5")),
    )
    assert unmet_by(owned, {"country": "US", "number_type": "mobile", "capabilities": []}) == []
    met = {"area_code": "415", "contains": "2671", "capabilities": ["voice"]}
    assert unmet_by(owned, met) == []
    unmet = unmet_by(
        owned,
        {"area_code": "212", "contains": "999", "capabilities": ["mms"], "max_monthly_cost": 1.0},
    )
    assert [line.split()[0] for line in unmet] == [
        "area_code",
        "contains",
        "capabilities",
        "max_monthly_cost",
    ]
    assert "it has voice" in unmet[2] and "2.5 USD" in unmet[3]
