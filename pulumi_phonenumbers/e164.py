"""E.164 parsing, formatting and validation, done once at the edge with ``phonenumbers``.

Everything past this module handles numbers as E.164 strings (``+14155550123``).
"""

from __future__ import annotations

import functools

__all__ = [
    "InvalidNumber",
    "area_code",
    "country_code",
    "country_of",
    "digits",
    "is_e164",
    "locality",
    "normalize",
    "number_type_of",
]

# ``phonenumbers`` is imported inside each function: its metadata costs ~11 ms, and the
# provider's create/update/delete path never needs it (only check and diff do).
_TYPE_NAMES: dict[str, str] = {
    "FIXED_LINE": "local",
    "FIXED_LINE_OR_MOBILE": "local",
    "MOBILE": "mobile",
    "TOLL_FREE": "toll_free",
}


#: Why ``phonenumbers`` could not parse a text (nothing when it "is not a phone number").
_PARSE_ERRORS: dict[int, str] = {
    0: " (no country has that calling code)",
    2: " (too short after the international prefix)",
    3: " (too short)",
    4: " (too long)",
}


class InvalidNumber(ValueError):
    """The text is not a valid telephone number."""


def normalize(text: str, region: str | None = None) -> str:
    """Parse ``text`` (E.164, or national format with ``region``) and return E.164.

    Raises :class:`InvalidNumber` when the text does not parse or is not a valid number.
    Idempotent: ``normalize(normalize(x)) == normalize(x)``.
    """
    if not isinstance(text, str) or not text.strip():
        raise InvalidNumber("a phone number must be a non-empty string")
    if any(ch.isnumeric() and not ch.isascii() for ch in text):
        # ``phonenumbers`` reads full-width, Devanagari or superscript digits as 0-9; we
        # take only what a vendor API and a URL path carry unchanged.
        raise InvalidNumber(f"{text!r} has digits other than 0-9")
    return _normalize(text, region)


# Vendor clients parse every search result at the edge, and consecutive searches with the
# same criteria return mostly the same numbers: the pure helpers below are memoised.
@functools.lru_cache(maxsize=4096)
def _normalize(text: str, region: str | None) -> str:
    import phonenumbers

    raw = text.strip()
    if region is None and raw[0].isdigit():
        raw = "+" + raw
    try:
        parsed = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        why = _PARSE_ERRORS.get(exc.error_type, "")
        raise InvalidNumber(f"{text!r} is not a phone number{why}") from None
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidNumber(f"{text!r} is not a valid phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def is_e164(text: str) -> bool:
    """True when ``text`` is already a valid number written in E.164."""
    try:
        return normalize(text) == text
    except InvalidNumber:
        return False


def digits(e164: str) -> str:
    """E.164 without the leading ``+`` (Plivo's path form)."""
    return e164.lstrip("+")


@functools.lru_cache(maxsize=4096)
def country_of(e164: str) -> str:
    """ISO 3166-1 alpha-2 region of a valid E.164 number (``"US"``)."""
    import phonenumbers

    region = phonenumbers.region_code_for_number(phonenumbers.parse(e164))
    return str(region or "")


@functools.lru_cache(maxsize=4096)
def number_type_of(e164: str) -> str:
    """Vendor-neutral type (``local``, ``mobile``, ``toll_free``) by numbering plan."""
    import phonenumbers

    kind = phonenumbers.number_type(phonenumbers.parse(e164))
    names = {getattr(phonenumbers.PhoneNumberType, k): v for k, v in _TYPE_NAMES.items()}
    return names.get(kind, "local")


@functools.lru_cache(maxsize=4096)
def area_code(e164: str) -> str:
    """The national destination code (US/CA: the 3-digit area code), or ``""``."""
    import phonenumbers

    parsed = phonenumbers.parse(e164)
    national = phonenumbers.national_significant_number(parsed)
    length = phonenumbers.length_of_national_destination_code(parsed)
    return national[:length] if length > 0 else ""


@functools.lru_cache(maxsize=4096)
def locality(e164: str) -> str:
    """Place name from the ``phonenumbers`` geocoder, or ``""``."""
    import phonenumbers
    from phonenumbers import geocoder  # ~300 ms of data: kept off the provider's start-up path

    return str(geocoder.description_for_number(phonenumbers.parse(e164), "en"))


@functools.lru_cache(maxsize=4096)
def country_code(e164: str) -> int:
    """The calling code (``1`` for NANP)."""
    import phonenumbers

    return int(phonenumbers.parse(e164).country_code or 0)
