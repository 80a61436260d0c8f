"""Unit tests: the resource declares every input once, and its type token has one home."""

from __future__ import annotations

import dataclasses

from pulumi_phonenumbers import audit, inputs
from pulumi_phonenumbers.resource import PhoneNumber, PhoneNumberArgs
from pulumi_phonenumbers.testing import _state


def test_the_args_and_outputs_cover_exactly_the_inputs() -> None:
    args = {f.name for f in dataclasses.fields(PhoneNumberArgs) if not f.name.startswith("_")}
    assert args == set(inputs.INPUT_KEYS)
    outputs = set(PhoneNumber.__annotations__)
    assert set(inputs.INPUT_KEYS) | set(PhoneNumber._OUTPUTS) <= outputs


def test_the_type_token_is_defined_once_and_is_the_resource_s() -> None:
    # STATE-COMPAT: the token is in every resource's state; the audit reads state by it.
    assert f"pulumi-python:{PhoneNumber._resource_type_name}" == inputs.PHONE_NUMBER_TYPE
    assert audit.PHONE_NUMBER_TYPE is inputs.PHONE_NUMBER_TYPE
    assert _state.PHONE_NUMBER_TYPE is inputs.PHONE_NUMBER_TYPE
