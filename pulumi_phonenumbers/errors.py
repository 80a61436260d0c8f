"""The error tree. Every failure the provider raises is one of these::

    PhoneNumbersError
    ├── ConfigError              missing or malformed stack config / credentials
    ├── InventoryExhausted       no number matches the criteria (after every candidate)
    ├── TransportError           the vendor could not be reached, or the answer was lost
    │   ├── TimeoutError_        no complete answer within the configured timeout
    │   └── UnparsableAnswer     an answer that is not what the vendor's API documents
    └── VendorError              the vendor answered with an error
        ├── AuthError            401/403: credentials rejected
        ├── NotFound             the number / object does not exist on this account
        ├── NotAvailable         the candidate was taken or is not for sale
        ├── ValidationError      400/422: the request was malformed or refused
        ├── ComplianceError      KYC / address / regulatory documents required
        ├── PaymentError         balance or payment method problem
        ├── RateLimited          429 (``retry_after`` seconds, when the vendor says)
        └── ServerError          5xx

Messages never carry credentials: :mod:`pulumi_phonenumbers._http` redacts every
configured secret before an error is built.
"""

from __future__ import annotations

__all__ = [
    "AuthError",
    "ComplianceError",
    "ConfigError",
    "InventoryExhausted",
    "NotAvailable",
    "NotFound",
    "PaymentError",
    "PhoneNumbersError",
    "RateLimited",
    "ServerError",
    "TimeoutError_",
    "TransportError",
    "UnparsableAnswer",
    "ValidationError",
    "VendorError",
]


class PhoneNumbersError(Exception):
    """Base of every error this package raises."""


class ConfigError(PhoneNumbersError):
    """Stack config or environment is missing a value, or a value is malformed."""


class InventoryExhausted(PhoneNumbersError):
    """No available number satisfies the criteria at this vendor."""


class TransportError(PhoneNumbersError):
    """The request did not get a usable HTTP answer (connect error, reset, lost response)."""

    def __init__(self, message: str, *, sent: bool = True) -> None:
        super().__init__(message)
        #: False only when the request provably never reached the vendor (connect error).
        self.sent = sent


class TimeoutError_(TransportError):
    """No answer within the configured timeout; the vendor may or may not have acted."""


class UnparsableAnswer(TransportError):
    """The vendor answered, but not with what its API documents.

    An HTML page, an empty, truncated or non-JSON body, JSON of the wrong shape, a number
    that is not valid E.164, or a body above the size cap (:data:`._http.MAX_BODY`). The
    request may have taken effect: after a purchase this is *ambiguous*, and the caller
    asks the vendor whether the account owns the number before doing anything else.
    """

    def __init__(self, message: str, *, vendor: str = "", status: int = 0) -> None:
        super().__init__(message, sent=True)
        self.vendor = vendor
        #: The HTTP status the unreadable answer came with.
        self.status = status


class VendorError(PhoneNumbersError):
    """The vendor answered with an error status."""

    def __init__(
        self,
        message: str,
        *,
        vendor: str = "",
        status: int = 0,
        code: str = "",
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.vendor = vendor
        self.status = status
        self.code = code
        self.retry_after = retry_after


class AuthError(VendorError):
    """Credentials were rejected (401/403)."""


class NotFound(VendorError):
    """The number or object does not exist on this account."""


class NotAvailable(VendorError):
    """The candidate number is no longer for sale (someone else bought it)."""


class ValidationError(VendorError):
    """The vendor refused the request as malformed or not allowed."""


class ComplianceError(VendorError):
    """KYC, address proof or another regulatory requirement blocks the purchase."""


class PaymentError(VendorError):
    """Insufficient balance or no valid payment method."""


class RateLimited(VendorError):
    """HTTP 429; ``retry_after`` holds the vendor's hint in seconds, if any."""


class ServerError(VendorError):
    """HTTP 5xx: the vendor failed; the request may or may not have taken effect."""
