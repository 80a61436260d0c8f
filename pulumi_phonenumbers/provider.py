"""``PhoneNumberProvider``: the dynamic provider behind :class:`~.resource.PhoneNumber`.

STATE-COMPAT: this module path and class name are pickled (by reference) into every
resource's state. Never move or rename them.

The instance carries no attributes (unpickling skips ``__init__``); settings and vendor
clients live at class level and are built in ``configure()`` or lazily (the claim set lives
with ``_purchase.Purchase``).
One provider process serves all numbers of a stack with 4 worker threads.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)

from . import inputs as _inputs
from ._purchase import Purchase
from .config import CONFIG_KEYS, NAMESPACE, Settings
from .errors import PhoneNumbersError
from .models import AvailableNumber, Money, OwnedNumber, Routing
from .vendors import Vendor, get_vendor, vendor_class, vendor_infos

if TYPE_CHECKING:
    from ._inventory_check import InventoryCheck

__all__ = ["PhoneNumberProvider"]

_F = TypeVar("_F", bound=Callable[..., Any])


def _clear_errors(operation: str) -> Callable[[_F], _F]:
    """Re-raise any failure as one clear, redacted line with no vendor traceback.

    The line says what failed, which number, and what to do (see ``_failures``).
    """

    def wrap(fn: _F) -> _F:
        @functools.wraps(fn)
        def inner(self: PhoneNumberProvider, *args: Any) -> Any:
            try:
                return fn(self, *args)
            except Exception as exc:
                from . import _failures  # lazily: only a failure needs it

                settings = PhoneNumberProvider._settings_now()
                raise _failures.clean_error(operation, args, exc, settings) from None

        return inner  # type: ignore[return-value]

    return wrap


class PhoneNumberProvider(ResourceProvider):
    """Create = search + buy, update = re-route, delete = release. See DESIGN.md §3."""

    serialize_as_secret_always = False

    _settings: ClassVar[Settings | None] = None
    _vendors: ClassVar[dict[str, Vendor]] = {}
    # made on first use (only with previewInventory on): off the provider's start-up path
    _inventory: ClassVar[InventoryCheck | None] = None
    _inventory_lock: ClassVar[threading.Lock] = threading.Lock()

    # -- configuration ------------------------------------------------------------------
    def configure(self, req: ConfigureRequest) -> None:
        """Read stack config (``phonenumbers:*``); secrets stay in this process only."""
        # Public API only: ``Config.get`` of every key we know, fully qualified.
        names = (f"{NAMESPACE}:{key.name}" for key in CONFIG_KEYS)
        settings = Settings.from_stack_config({name: req.config.get(name) for name in names})
        cls = type(self)
        if cls._settings != settings:
            for vendor in cls._vendors.values():
                vendor.close()
            cls._vendors = {}
        cls._settings = settings
        if cls._inventory is not None:
            cls._inventory.clear()
        Purchase.claims.pages.clear()  # a new run searches afresh (``_pages``)
        Purchase.claims.pages.max_age = settings.search_page_seconds

    @classmethod
    def _settings_now(cls) -> Settings:
        if cls._settings is None:
            cls._settings = Settings()
        return cls._settings

    def _vendor(self, name: str) -> Vendor:
        return get_vendor(name, self._settings_now(), self._vendors)

    # -- check / diff (no network) ------------------------------------------------------
    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """Validate and normalise; every problem is a ``CheckFailure`` naming the field."""
        default_vendor = self._settings_now().get("vendor") or "sandbox"
        infos = vendor_infos()  # imports only the vendor being checked
        try:
            normalized, failures = _inputs.validate(news, default_vendor, infos)
            vendor = normalized.get("vendor")
            # Vendor purchase rules (e.g. Sinch's US-local-only :rent) do not apply to
            # adopting a number the account already owns.
            if (
                not failures
                and isinstance(vendor, str)
                and vendor in infos
                and normalized.get("adopt") is False
                and not any(
                    _inputs.is_unknown(normalized.get(k))
                    for k in ("country", "number_type", "vendor_options")
                )
            ):
                # Options still unknown at preview are checked at `up`, once known.
                cls = vendor_class(vendor)
                extra = cls.check_query(
                    _inputs.query_of(normalized),
                    _inputs.known_options(normalized.get("vendor_options")),
                )
                failures.extend(extra)
                if not olds:  # a new number will be bought (a replacement fails at the buy)
                    failures.extend(cls.check_credentials(self._settings_now()))
            if not failures and not olds:
                failures.extend(self._inventory_failures(normalized))
        except Exception as exc:  # check must answer, never crash
            return CheckResult(dict(news), [CheckFailure("", f"invalid inputs: {exc}")])
        return CheckResult(normalized, [CheckFailure(p, r) for p, r in failures])

    @classmethod
    def _inventory_check(cls) -> InventoryCheck:
        with cls._inventory_lock:
            if cls._inventory is None:
                from ._inventory_check import InventoryCheck

                cls._inventory = InventoryCheck()
            return cls._inventory

    def _inventory_failures(self, normalized: Mapping[str, Any]) -> list[tuple[str, str]]:
        """``previewInventory``: can a resource about to be created be had? (searches only)"""
        settings = self._settings_now()
        if not settings.preview_inventory or _inputs.has_unknown(normalized):
            return []
        vendor = self._vendor(normalized["vendor"])
        try:
            return self._inventory_check().failures(vendor, normalized, _inputs.query_of)
        except PhoneNumbersError as exc:
            return [("vendor", f"previewInventory could not ask {vendor.name}: {exc}")]

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """Replace on vendor / exact-number change or unsatisfied criteria; else update."""
        replaces: list[str] = []
        if news.get("vendor") != olds.get("vendor"):
            replaces.append("vendor")
        number = news.get("number")
        if number and number != olds.get("number"):
            replaces.append("number")
        criteria_changed = [k for k in _inputs.CRITERIA_KEYS if news.get(k) != olds.get(k)]
        if criteria_changed:
            replaces.extend(k for k in _inputs.unsatisfied(olds, news) if k in criteria_changed)
        changes = bool(replaces or criteria_changed)
        if _inputs.routing_of(olds) != _inputs.routing_of(news) or _inputs.is_unknown(
            news.get("routing")
        ):
            changes = True
        for key in ("adopt", "release_on_delete", "vendor_options"):
            if news.get(key) != olds.get(key):
                changes = True
        return DiffResult(changes=changes, replaces=replaces)

    # -- create -------------------------------------------------------------------------
    @_clear_errors("create")
    def create(self, props: dict[str, Any]) -> CreateResult:
        """Search, claim, buy (routing on the purchase when possible). Transactional."""
        vendor = self._vendor(props["vendor"])
        routing = _inputs.routing_of(props)
        options = props.get("vendor_options") or {}
        if props.get("adopt"):
            owned = self._adopt(vendor, props, routing)
        elif props.get("number"):
            owned = self._buy_exact(vendor, props, routing, options)
        else:
            owned = self._buy_matching(vendor, props, routing, options)
        return CreateResult(owned.number, self._outputs(props, owned, routing))

    def _adopt(self, vendor: Vendor, props: Mapping[str, Any], routing: Routing) -> OwnedNumber:
        """Take over an owned number: it must meet the declared criteria (checked here,
        against what the vendor says the number is), else nothing is adopted or changed."""
        number = props["number"]
        owned = vendor.get(number)
        if owned is None:
            raise PhoneNumbersError(
                f"adopt {number}: the {vendor.name} account does not own this number; buy it "
                "with adopt=False, or check the number and the account credentials"
            )
        unmet = _inputs.unmet_by(owned, props)
        if unmet:
            raise PhoneNumbersError(
                f"adopt {number}: the number does not meet {'; '.join(unmet)}. Nothing was "
                "adopted or changed: remove or correct those inputs, or adopt a number that "
                "meets them"
            )
        declared = routing.declared()
        current = owned.routing
        if any(getattr(current, k) != v for k, v in declared.items()):
            owned = vendor.update_routing(owned, current, current.replace(**declared))
        return owned

    def _purchase(self, vendor: Vendor, routing: Routing, options: Mapping[str, Any]) -> Purchase:
        try:
            grace = min(2 * self._settings_now().timeout, 10.0)
        except PhoneNumbersError:
            grace = 10.0
        return Purchase(vendor, routing, options, grace=grace)

    def _buy_exact(
        self, vendor: Vendor, props: Mapping[str, Any], routing: Routing, options: Mapping[str, Any]
    ) -> OwnedNumber:
        """Buy exactly ``props["number"]`` (see :class:`~._purchase.Purchase`)."""
        query = _inputs.query_of(props)
        candidate = AvailableNumber(
            number=props["number"], country=query.country, number_type=query.number_type
        )
        return self._purchase(vendor, routing, options).exact(candidate)

    def _buy_matching(
        self, vendor: Vendor, props: Mapping[str, Any], routing: Routing, options: Mapping[str, Any]
    ) -> OwnedNumber:
        """Search, claim and buy the first free candidate; InventoryExhausted names the criteria."""
        return self._purchase(vendor, routing, options).matching(_inputs.query_of(props))

    # -- update / read / delete ------------------------------------------------------------
    @_clear_errors("update")
    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        """Send only the routing fields that changed; return the full outputs."""
        vendor = self._vendor(news["vendor"])
        held = self._held(olds)
        old, new = _inputs.routing_of(olds), _inputs.routing_of(news)
        if old != new:
            held = vendor.update_routing(held, old, new)
        return UpdateResult(self._outputs(news, held, new))

    @_clear_errors("read")
    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """Fetch the number; gone -> empty id so that refresh drops it."""
        vendor = self._vendor(
            props.get("vendor") or self._settings_now().get("vendor") or "sandbox"
        )
        owned = vendor.get(id_, props.get("vendor_id"))
        if owned is None:
            return ReadResult(id_="", outs={})
        declared = _inputs.routing_of(props)
        seen = {k: getattr(owned.routing, k) for k in declared.declared()}
        # Inputs are left as declared (not returned): the next `up` diffs these refreshed
        # outputs against the program and restores declared routing the vendor lost.
        return ReadResult(
            id_=owned.number, outs=self._outputs(props, owned, Routing.from_dict(seen))
        )

    @_clear_errors("delete")
    def delete(self, id_: str, props: dict[str, Any]) -> None:
        """Release unless ``release_on_delete`` is false.

        "Already gone" counts as success only when the vendor module saw two witnesses
        (its own not-found answer and a listing without the number); anything less raises.
        """
        if props.get("release_on_delete") is False:
            return
        if props.get("release_on_delete") is None and props.get("adopt"):
            return
        vendor = self._vendor(props["vendor"])
        vendor.release(id_, str(props.get("vendor_id") or ""))
        Purchase.claims.forget(vendor.name, id_)

    # -- outputs ----------------------------------------------------------------------------
    @staticmethod
    def _held(olds: Mapping[str, Any]) -> OwnedNumber:
        currency = str(olds.get("currency") or "USD")
        return OwnedNumber(
            number=olds["number"],
            vendor_id=str(olds.get("vendor_id") or ""),
            country=str(olds.get("country") or ""),
            number_type=str(olds.get("number_type") or ""),
            capabilities=tuple(olds.get("number_capabilities") or ()),
            monthly_cost=Money(
                amount=Decimal(str(olds.get("monthly_cost") or 0)), currency=currency
            ),
            setup_cost=Money(amount=Decimal(str(olds.get("setup_cost") or 0)), currency=currency),
            locality=str(olds.get("locality") or ""),
            status=str(olds.get("status") or "active"),
            routing=_inputs.routing_of(olds),
        )

    @staticmethod
    def _outputs(props: Mapping[str, Any], owned: OwnedNumber, routing: Routing) -> dict[str, Any]:
        outs = {k: v for k, v in props.items() if k in _inputs.INPUT_KEYS}
        outs.update(
            number=owned.number,
            vendor_id=owned.vendor_id,
            number_capabilities=sorted(owned.capabilities),
            monthly_cost=float(owned.monthly_cost.amount),
            setup_cost=float(owned.setup_cost.amount),
            currency=owned.monthly_cost.currency,
            locality=owned.locality,
            status=owned.status,
            routing=routing.to_dict(exclude_none=True),
        )
        return outs
