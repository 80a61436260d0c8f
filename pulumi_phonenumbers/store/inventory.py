"""Deterministic inventory: valid numbers generated with ``phonenumbers``, real localities.

The same seed always yields the same numbers, so every store (sandbox file or emulator)
offers the same catalogue. At least 50 US local numbers per listed area code.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

__all__ = ["VERIFICATION_COUNTRIES", "InventoryItem", "generate"]

#: Countries whose numbers stay ``pending`` until an address/identity check (Plivo-style).
VERIFICATION_COUNTRIES = frozenset({"DE", "FR", "AU", "BR", "IN"})

_NAMESPACE = uuid.UUID("6f1c3a52-5d0e-4c55-9a57-2b1e0c7f4e10")


@dataclass(frozen=True)
class InventoryItem:
    """One number for sale."""

    number: str
    country: str
    number_type: str
    area_code: str
    capabilities: tuple[str, ...]
    monthly: Decimal
    setup: Decimal
    currency: str
    locality: str
    needs_verification: bool

    @property
    def ref(self) -> str:
        """Stable inventory id (KrosAI ``inventory_id``)."""
        return str(uuid.uuid5(_NAMESPACE, self.number))


# phonenumbers.PhoneNumberType values (libphonenumber's enum), spelled out so that the
# sandbox's start-up path does not import phonenumbers; only generate() needs it.
_LOCAL, _MOBILE, _TOLL, _LOCAL_OR_MOBILE = 0, 1, 3, 2
_TYPE_NAME = {_LOCAL: "local", _MOBILE: "mobile", _TOLL: "toll_free"}

# (country, type, prefixes, per prefix, capabilities, monthly, setup)
_SPECS: tuple[tuple[str, int, tuple[str, ...], int, tuple[str, ...], str, str], ...] = (
    (
        "US",
        _LOCAL,
        ("415", "212", "646", "310", "512", "628", "718", "305", "206", "617"),
        60,
        ("voice", "sms", "mms"),
        "0.80",
        "0.00",
    ),
    (
        "US",
        _TOLL,
        ("800", "833", "844", "855", "866", "877", "888"),
        15,
        ("voice", "sms"),
        "1.00",
        "0.00",
    ),
    ("CA", _LOCAL, ("416", "604", "514", "403"), 30, ("voice", "sms"), "0.80", "0.00"),
    ("CA", _TOLL, ("800", "888"), 15, ("voice",), "1.00", "0.00"),
    ("GB", _LOCAL, ("20", "161", "121", "131"), 25, ("voice",), "0.95", "0.00"),
    ("GB", _MOBILE, ("74", "75", "77", "78", "79"), 15, ("voice", "sms"), "2.50", "0.00"),
    ("GB", _TOLL, ("800", "808"), 15, ("voice",), "4.00", "0.00"),
    ("DE", _LOCAL, ("30", "89", "40", "69"), 25, ("voice",), "1.50", "1.00"),
    ("DE", _MOBILE, ("151", "160", "170", "176"), 15, ("voice", "sms"), "5.00", "1.00"),
    ("DE", _TOLL, ("800",), 20, ("voice",), "12.00", "5.00"),
    ("FR", _LOCAL, ("1", "4", "5"), 25, ("voice",), "1.20", "0.00"),
    ("FR", _MOBILE, ("6", "7"), 20, ("voice", "sms"), "4.00", "0.00"),
    ("FR", _TOLL, ("80",), 20, ("voice",), "10.00", "0.00"),
    ("IN", _LOCAL, ("80", "22", "11", "44"), 25, ("voice",), "5.00", "10.00"),
    ("IN", _MOBILE, ("98", "97", "81"), 15, ("voice", "sms"), "6.00", "10.00"),
    ("IN", _TOLL, ("1800",), 20, ("voice",), "25.00", "25.00"),
    ("NG", _LOCAL, ("1", "9", "2"), 25, ("voice",), "7.00", "0.00"),
    ("NG", _MOBILE, ("803", "805", "806"), 15, ("voice", "sms"), "8.00", "0.00"),
    ("KE", _LOCAL, ("20",), 30, ("voice",), "6.00", "0.00"),
    ("KE", _MOBILE, ("71", "72"), 20, ("voice", "sms"), "7.00", "0.00"),
    ("KE", _TOLL, ("800",), 15, ("voice",), "9.00", "0.00"),
    ("AU", _LOCAL, ("2", "3", "7"), 25, ("voice",), "3.50", "0.00"),
    ("AU", _MOBILE, ("4",), 40, ("voice", "sms"), "6.50", "0.00"),
    ("AU", _TOLL, ("1800",), 20, ("voice",), "15.00", "0.00"),
    ("BR", _LOCAL, ("11", "21", "31"), 25, ("voice",), "4.00", "0.00"),
    ("BR", _MOBILE, ("119", "219"), 20, ("voice", "sms"), "7.00", "0.00"),
    ("BR", _TOLL, ("800",), 20, ("voice",), "20.00", "0.00"),
)


def _lengths(country: str, ptype: int) -> list[int]:
    import phonenumbers

    meta = phonenumbers.PhoneMetadata.metadata_for_region(country)
    assert meta is not None and meta.general_desc is not None
    desc = {_LOCAL: meta.fixed_line, _MOBILE: meta.mobile, _TOLL: meta.toll_free}[ptype]
    possible = (
        desc.possible_length if desc is not None else None
    ) or meta.general_desc.possible_length
    lengths = [n for n in possible if n > 0]
    return lengths or list(meta.general_desc.possible_length)


def _accepts(kind: int, want: int) -> bool:
    if want == _LOCAL:
        return kind in (_LOCAL, _LOCAL_OR_MOBILE)
    return kind == want


@lru_cache(maxsize=1)
def generate(seed: int = 20261122) -> tuple[InventoryItem, ...]:
    """The whole catalogue, sorted by number. Deterministic for a given ``seed``."""
    import phonenumbers
    from phonenumbers import PhoneNumberType, geocoder  # only needed to build a fresh store

    assert (
        PhoneNumberType.FIXED_LINE,
        PhoneNumberType.MOBILE,
        PhoneNumberType.TOLL_FREE,
        PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ) == (_LOCAL, _MOBILE, _TOLL, _LOCAL_OR_MOBILE)

    rng = random.Random(seed)
    items: dict[str, InventoryItem] = {}
    for country, ptype, prefixes, per_prefix, caps, monthly, setup in _SPECS:
        code = phonenumbers.country_code_for_region(country)
        lengths = _lengths(country, ptype)
        for prefix in prefixes:
            found = 0
            for _ in range(per_prefix * 200):
                if found >= per_prefix:
                    break
                length = rng.choice(lengths)
                if length <= len(prefix):
                    continue
                nsn = prefix + "".join(
                    rng.choice("0123456789") for _ in range(length - len(prefix))
                )
                parsed = phonenumbers.parse(f"+{code}{nsn}")
                if not phonenumbers.is_valid_number(parsed):
                    continue
                region = phonenumbers.region_code_for_number(parsed)
                # NANP toll-free numbers are shared by US and CA; the metadata says US.
                if region != country and not (ptype == _TOLL and code == 1):
                    continue
                if not _accepts(phonenumbers.number_type(parsed), ptype):
                    continue
                e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
                if e164 in items:
                    continue
                ndc_len = phonenumbers.length_of_national_destination_code(parsed)
                place = (
                    geocoder.description_for_number(parsed, "en")
                    or geocoder.country_name_for_number(parsed, "en")
                    or country
                )
                items[e164] = InventoryItem(
                    number=e164,
                    country=country,
                    number_type=_TYPE_NAME[ptype],
                    area_code=nsn[:ndc_len] if ndc_len > 0 else prefix,
                    capabilities=caps,
                    monthly=Decimal(monthly),
                    setup=Decimal(setup),
                    currency="USD",
                    locality=place,
                    needs_verification=country in VERIFICATION_COUNTRIES,
                )
                found += 1
    return tuple(sorted(items.values(), key=lambda i: i.number))
