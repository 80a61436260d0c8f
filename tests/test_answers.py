"""The one parse step (``_answers``): a 2xx answer is a wire model or UnparsableAnswer."""

from __future__ import annotations

import logging

import httpx
import pytest
from pydantic import BaseModel

from pulumi_phonenumbers import _answers as answers
from pulumi_phonenumbers._answers import E164
from pulumi_phonenumbers.errors import TransportError, UnparsableAnswer


class Thing(BaseModel):
    id: str
    number: E164


def _answer(body: str, content_type: str = "application/json") -> httpx.Response:
    request = httpx.Request("POST", "https://api.acme.test/buy")
    return httpx.Response(
        201, content=body.encode(), headers={"content-type": content_type}, request=request
    )


@pytest.mark.parametrize(
    "body",
    ["<html>Bad gateway</html>", "", "   ", "{}", "[]", "null", '{"id": "x", "numb', "42"],
)
def test_every_unreadable_body_is_one_documented_error(body: str) -> None:
    with pytest.raises(UnparsableAnswer) as info:
        answers.parse("acme", _answer(body), Thing, "buy +14155550100")
    error = info.value
    assert isinstance(error, TransportError) and error.sent  # ambiguous after a purchase
    assert error.status == 201 and error.vendor == "acme"
    assert "while trying to buy +14155550100" in str(error)


def test_a_number_that_is_not_e164_makes_the_answer_unreadable() -> None:
    good = answers.parse("acme", _answer('{"id": "a", "number": "14155550123"}'), Thing, "get")
    assert good.number == "+14155550123"
    with pytest.raises(UnparsableAnswer, match="number"):
        answers.parse("acme", _answer('{"id": "a", "number": "1415/../x"}'), Thing, "get")


def test_rows_skip_bad_rows_with_a_warning_and_need_a_list(
    caplog: pytest.LogCaptureFixture,
) -> None:
    body = '{"data": [{"id": "a", "number": "+14155550123"}, {"id": "b", "number": "1/../2"}]}'
    with caplog.at_level(logging.WARNING, logger="pulumi_phonenumbers.answers"):
        rows = answers.rows("acme", _answer(body), Thing, "search", at=lambda b: b.get("data"))
    assert [r.id for r in rows] == ["a"]
    assert "skipped row 1 of the answer to search" in caplog.text
    with pytest.raises(UnparsableAnswer, match="no list"):
        answers.rows("acme", _answer('{"data": null}'), Thing, "search", at=lambda b: b["data"])
    with pytest.raises(UnparsableAnswer, match="envelope"):
        answers.rows("acme", _answer("[1]"), Thing, "search", at=lambda b: b["data"])
