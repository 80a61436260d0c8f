"""Fleets at the vendor's pace: shared search pages (``_pages``) and pacing (``_pace``).

Sibling creates with the same criteria share one search page: 40 simultaneous creates
through the real gRPC provider (4 worker threads) against the Plivo emulator, whose pages
hold 20 numbers, search about twice, not 40 times, and still buy 40 distinct numbers, each
once. The emulators answer 429 (with ``Retry-After``) above a ``rate_limit`` setting; a
burst of creates through the provider, configured to that rate, is never refused.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from pulumi_phonenumbers._pages import PageCache, page_key
from pulumi_phonenumbers.config import Settings
from pulumi_phonenumbers.errors import ConfigError
from pulumi_phonenumbers.models import AvailableNumber, NumberQuery, SearchPage
from pulumi_phonenumbers.testing import ProviderProcess
from pulumi_phonenumbers.testing.backends import Backend

URN = "urn:pulumi:dev::phonenumbers-test::pulumi-python:dynamic/phonenumbers:PhoneNumber::{}"
CREATES = 40
PLIVO_PAGE = 20
RATE = 20  # requests per second, enforced by the emulator and configured in the provider
#: The emulator's limit: 5 requests per 0.25 s (20/s, bursts of at most 5).
LIMIT = {"requests": 5, "per_seconds": 0.25}


@pytest.fixture
def plivo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    backend = Backend.start("plivo", tmp_path_factory.mktemp("plivo"))
    yield backend
    backend.stop()


def _create_distinct(
    plivo: Backend, config: dict[str, str], serialized: str, criteria: dict[str, str]
) -> list[str]:
    """40 simultaneous creates through one provider process: 40 numbers, each bought once."""
    with ProviderProcess() as provider:
        provider.configure(config)
        news = {"__provider": serialized, "vendor": "plivo", **criteria}
        inputs = provider.check(URN.format("x"), {}, news).inputs
        plivo.control("DELETE", "requests")

        def create(i: int) -> str:
            return provider.create(URN.format(f"n{i}"), inputs)[0]

        with ThreadPoolExecutor(CREATES) as pool:
            ids = list(pool.map(create, range(CREATES)))
    assert len(set(ids)) == CREATES
    buys = Counter(e["number"] for e in plivo.ledger() if e["op"] == "buy")
    assert set(buys) == set(ids) and max(buys.values()) == 1  # distinct, none bought twice
    return ids


def test_emulator_rate_limit_answers_429_with_retry_after(plivo: Backend) -> None:
    plivo.control("POST", "settings", {"rate_limit": {"requests": 3, "per_seconds": 60}})
    auth = (plivo.config["phonenumbers:plivoAuthId"], plivo.config["phonenumbers:plivoAuthToken"])
    url = f"{plivo.url}/v1/Account/{auth[0]}/Number/"
    answers = [httpx.get(url, auth=auth, timeout=10) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert 1 <= int(answers[3].headers["Retry-After"]) <= 60
    assert answers[3].json()["error"]  # the vendor's own error shape
    assert plivo.control("GET", "rate_limit") == {
        "rate_limit": {"requests": 3, "per_seconds": 60.0},
        "refused": 1,
    }
    plivo.control("POST", "settings", {"rate_limit": None})
    assert httpx.get(url, auth=auth, timeout=10).status_code == 200
    for junk in ({"requests": 0, "per_seconds": 1}, {"requests": 5}, 7, "on"):
        bad = httpx.post(f"{plivo.url}/_emulator/settings", json={"rate_limit": junk}, timeout=10)
        assert bad.status_code == 400 and "rate_limit" in bad.json()["error"]


def test_rate_config_key_is_checked() -> None:
    assert Settings(environ={}).requests_per_second("plivo") == 60.0  # 300 per 5 s
    assert Settings(environ={}).requests_per_second("sinch") == 10.0  # none documented
    settings = Settings(raw={"plivoRequestsPerSecond": "2.5"}, environ={})
    assert settings.requests_per_second("plivo") == 2.5
    for junk in ("fast", "-1"):
        with pytest.raises(ConfigError, match="plivoRequestsPerSecond"):
            Settings(raw={"plivoRequestsPerSecond": junk}, environ={}).requests_per_second("plivo")


def test_burst_of_creates_paced_to_the_vendor_rate_is_never_refused(
    plivo: Backend, serialized_provider: str
) -> None:
    plivo.control("POST", "settings", {"rate_limit": LIMIT})
    config = {**plivo.config, "phonenumbers:plivoRequestsPerSecond": str(RATE)}
    _create_distinct(plivo, config, serialized_provider, {"country": "US"})
    assert len(plivo.requests()) > RATE  # more than one second's worth: pacing mattered
    assert plivo.control("GET", "rate_limit")["refused"] == 0


def _searches(backend: Backend) -> int:
    return sum(1 for m, p, _ in backend.requests() if m == "GET" and p.endswith("/PhoneNumber/"))


def test_40_creates_share_search_pages(plivo: Backend, serialized_provider: str) -> None:
    criteria = {"country": "US", "number_type": "local", "area_code": "415"}
    ids = _create_distinct(plivo, plivo.config, serialized_provider, criteria)
    assert all(i.startswith("+1415") for i in ids)
    # One search per page of 20, plus slack for a page refreshed while siblings held its
    # last candidates (the old path searched once per create: 40).
    assert _searches(plivo) <= math.ceil(CREATES / PLIVO_PAGE) + 3


def test_search_page_seconds_zero_searches_for_every_create(
    plivo: Backend, serialized_provider: str
) -> None:
    with ProviderProcess() as provider:
        provider.configure({**plivo.config, "phonenumbers:searchPageSeconds": "0"})
        inputs = provider.check(
            URN.format("x"),
            {},
            {"__provider": serialized_provider, "vendor": "plivo", "country": "US"},
        ).inputs
        plivo.control("DELETE", "requests")
        ids = [provider.create(URN.format(f"n{i}"), inputs)[0] for i in range(3)]
    assert len(set(ids)) == 3
    assert _searches(plivo) == 3


def _page_of(
    count: int,
) -> tuple[tuple[str, ...], SearchPage, Callable[[], SearchPage], list[int]]:
    """``count`` numbers, their page, a search answering it, and the searches made."""
    numbers = tuple(f"+1415555010{i}" for i in range(count))
    page = SearchPage(numbers=tuple(AvailableNumber(n, "US", "local") for n in numbers))
    searches: list[int] = []

    def search() -> SearchPage:
        searches.append(1)
        return page

    return numbers, page, search, searches


def test_a_page_runs_dry_when_every_number_is_spent_held_or_bought() -> None:
    """A number bought by this process from another page (never spent on this one) still
    wears the page out: otherwise every later create skips it and searches page 2."""
    numbers, page, search, searches = _page_of(3)
    cache = PageCache(prefetch_at=0)  # no early search of the next page (tested below)
    key = page_key("plivo", NumberQuery(area_code="415"), {})
    gone: set[str] = set()
    first, asked = cache.first_page(key, search, gone.__contains__)
    assert first == page and len(searches) == 1
    cache.spend(key, numbers[0])
    assert cache.spent(key, asked, numbers[0]) and not cache.spent(key, asked, numbers[1])
    gone.add(numbers[1])  # held by a sibling, or bought by this process from another page
    assert cache.first_page(key, search, gone.__contains__) == (page, asked)
    assert len(searches) == 1  # numbers[2] is still to be had: shared, not searched
    gone.add(numbers[2])
    _, again = cache.first_page(key, search, gone.__contains__)
    assert len(searches) == 2 and again >= asked  # dry: searched afresh
    cache.first_page(key, search, lambda n: False, newer_than=again + 1)
    assert len(searches) == 3  # a second pass wants a page newer than its first
    other = page_key("plivo", NumberQuery(area_code="212"), {})
    cache.first_page(other, search, lambda n: False)
    assert len(searches) == 4  # other criteria: their own page
    cache.max_age = 0
    cache.first_page(other, search, lambda n: False)
    assert len(searches) == 5  # searchPageSeconds=0: every create searches


def test_a_nearly_dry_page_is_searched_again_before_it_runs_dry() -> None:
    numbers, _, search, searches = _page_of(6)
    cache = PageCache(prefetch_at=2)
    key = page_key("plivo", NumberQuery(area_code="415"), {})
    gone: set[str] = set()
    cache.first_page(key, search, gone.__contains__)
    gone.update(numbers[:3])
    cache.first_page(key, search, gone.__contains__)
    assert len(searches) == 1  # 3 candidates left: shared
    gone.add(numbers[3])
    cache.first_page(key, search, gone.__contains__)
    assert len(searches) == 2  # 2 left: this create searches the next page meanwhile
