"""The sandbox vendor and the shared store: inventory, persistence, threads, processes."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import phonenumbers
import pytest

from pulumi_phonenumbers.config import Settings
from pulumi_phonenumbers.models import NumberQuery, Routing
from pulumi_phonenumbers.store import Store, generate
from pulumi_phonenumbers.vendors.sandbox import SandboxVendor


def test_inventory_is_valid_deterministic_and_broad() -> None:
    items = generate()
    assert items == generate(20261122)
    kinds = Counter((i.country, i.number_type) for i in items)
    for country in ("US", "CA", "GB", "DE", "FR", "IN", "NG", "KE", "AU", "BR"):
        assert kinds[(country, "local")] >= 25
    for country in ("GB", "DE", "FR", "IN", "NG", "KE", "AU", "BR"):
        assert kinds[(country, "mobile")] >= 15
    for country in ("US", "CA", "GB", "DE", "FR", "IN", "KE", "AU", "BR"):
        assert kinds[(country, "toll_free")] >= 15
    us = Counter(i.area_code for i in items if i.country == "US" and i.number_type == "local")
    for area in ("415", "212", "646", "310", "512"):
        assert us[area] >= 50
    for item in items[::7]:
        assert phonenumbers.is_valid_number(phonenumbers.parse(item.number))
        assert item.locality and item.monthly > 0


def test_sandbox_path_default_is_per_user(tmp_path: Path) -> None:
    settings = Settings(raw={}, environ={"HOME": str(tmp_path)})
    assert "pulumi-phonenumbers" in str(settings.sandbox_path())


def test_sandbox_round_trip(tmp_path: Path) -> None:
    vendor = SandboxVendor(Settings(raw={"sandboxPath": str(tmp_path / "s.db")}, environ={}))
    page = vendor.search(NumberQuery(country="GB", number_type="mobile"))
    assert page.numbers and all(n.number.startswith("+447") for n in page.numbers)
    owned = vendor.buy(page.numbers[0], Routing(voice_target="app", label="x"), {})
    assert owned.routing == Routing(voice_target="app", label="x")
    moved = vendor.update_routing(owned, owned.routing, Routing(voice_target="app2", label="x"))
    assert moved.routing.voice_target == "app2"
    vendor.release(owned.number, owned.vendor_id)
    assert vendor.get(owned.number) is None


def test_ownership_persists_across_processes(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    code = (
        "import sys; from pulumi_phonenumbers.config import Settings;"
        "from pulumi_phonenumbers.models import NumberQuery, Routing;"
        "from pulumi_phonenumbers.vendors.sandbox import SandboxVendor;"
        f"v = SandboxVendor(Settings(raw={{'sandboxPath': {str(path)!r}}}, environ={{}}));"
        "c = v.search(NumberQuery(area_code='512')).numbers[0];"
        "print(v.buy(c, Routing(), {}).number)"
    )
    first = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    second = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert first.stdout.strip() != second.stdout.strip()
    assert {r.number for r in Store(path).owned()} == {first.stdout.strip(), second.stdout.strip()}


def test_concurrent_buys_of_one_number_sell_it_once(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    number = store.search(country="US", area_code="310", limit=1)[0][0].number

    def attempt(i: int) -> bool:
        try:
            store.buy(number, vendor="t", vendor_id=f"id{i}")
        except Exception:
            return False
        return True

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(attempt, range(16)))
    assert results.count(True) == 1
    assert [e["op"] for e in store.ledger()] == ["buy"]


@pytest.mark.parametrize("country", ["US", "DE", "IN", "BR"])
def test_search_filters(tmp_path: Path, country: str) -> None:
    store = Store(tmp_path / "s.db")
    items, total = store.search(
        country=country, number_type="local", capabilities=["voice"], max_monthly=None, limit=5
    )
    assert 0 < len(items) <= 5 <= total
    assert all(i.country == country and "voice" in i.capabilities for i in items)
