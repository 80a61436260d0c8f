"""``PhoneNumbersPlugin``: the native provider, a thin adapter over the dynamic face's core.

Every resource operation converts the engine's PropertyValues to the plain dicts the
dynamic provider sees (:mod:`.values`), calls the same
:class:`~pulumi_phonenumbers.provider.PhoneNumberProvider` method, and converts the answer
back: one validation, one purchase path, one release rule for both faces. The blocking core
runs on a thread pool as large as the engine's parallelism needs (no 4-operation cap; vendor
pacing still keeps each vendor within its rate limit).
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from pulumi.dynamic import ConfigureRequest as DynamicConfigureRequest
from pulumi.dynamic.config import Config as DynamicConfig
from pulumi.provider.experimental import provider as p

from .. import inputs as _inputs
from ..config import CONFIG_KEYS, NAMESPACE, secret_config_keys
from ..lookup import InvalidCriteria, find_available, validate_criteria
from ..provider import PhoneNumberProvider
from ..schema import render_schema
from . import FLEET_TYPE, FUNCTION_TOKEN, RESOURCE_TYPE
from .imported import import_inputs
from .values import secret_keys, to_plain, to_plain_map, to_values

__all__ = ["MAX_CONCURRENCY", "PhoneNumbersPlugin"]

#: Threads for blocking vendor calls: far above any sensible ``--parallel``.
MAX_CONCURRENCY = 64
_T = TypeVar("_T")
#: Provider inputs the engine may send besides the config keys.
_ENGINE_KEYS = frozenset({"version", "pluginDownloadURL"})
_FUNCTION_ARGS = ("vendor", *_inputs.CRITERIA_KEYS)


def _config_name(key: str) -> str:
    """``plivoAuthId`` from ``plivoAuthId``, ``phonenumbers:plivoAuthId`` or
    ``phonenumbers:config:plivoAuthId`` (the engine's legacy variables form)."""
    for prefix in (f"{NAMESPACE}:config:", f"{NAMESPACE}:"):
        if key.startswith(prefix):
            return key[len(prefix) :]
    return key


def _config_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class PhoneNumbersPlugin(p.Provider):
    """The provider behind ``pulumi-resource-phonenumbers`` (see the module docstring)."""

    def __init__(self) -> None:
        self.core = PhoneNumberProvider()
        self._pool = ThreadPoolExecutor(MAX_CONCURRENCY, thread_name_prefix="phonenumbers")

    async def _run(self, fn: Callable[..., _T], *args: Any) -> _T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, functools.partial(fn, *args))

    @staticmethod
    def _require_type(urn_type: str) -> None:
        # The URN's type is the parent chain ("...PhoneNumberFleet$phonenumbers:index:...").
        if urn_type.rsplit("$", 1)[-1] != RESOURCE_TYPE:
            raise ValueError(
                f"unknown resource type {urn_type!r} (this provider serves {RESOURCE_TYPE})"
            )

    # -- schema and configuration ---------------------------------------------------------
    async def get_schema(self, request: p.GetSchemaRequest) -> p.GetSchemaResponse:
        """The committed ``schema.json``, byte for byte."""
        return p.GetSchemaResponse(schema=render_schema())

    async def check_config(self, request: p.CheckRequest) -> p.CheckResponse:
        """Refuse keys the schema does not declare; credentials come back marked secret, so
        the engine encrypts them in the provider's state even when set as plain config."""
        known = {key.name for key in CONFIG_KEYS}
        secret = set(secret_config_keys())
        failures = [
            p.CheckFailure(key, f"unknown provider config key {NAMESPACE}:{key}")
            for key in request.new_inputs
            if _config_name(key) not in known
            and key not in _ENGINE_KEYS
            and not key.startswith("__")
        ]
        inputs = {
            k: v.with_secret(True) if _config_name(k) in secret else v
            for k, v in request.new_inputs.items()
        }
        return p.CheckResponse(inputs=inputs, failures=failures)

    async def diff_config(self, request: p.DiffRequest) -> p.DiffResponse:
        """A config change never replaces numbers (settings are re-read on configure)."""
        changed = to_plain_map(request.old_state) != to_plain_map(request.new_inputs)
        return p.DiffResponse(changes=changed)

    async def configure(self, request: p.ConfigureRequest) -> p.ConfigureResponse:
        """Read ``phonenumbers:*`` (provider inputs, else the engine's variables) into the
        core's settings; secrets stay in this process."""
        raw: dict[str, Any] = {}
        for key, text in request.variables.items():
            raw[f"{NAMESPACE}:{_config_name(key)}"] = text
        for key, value in request.args.items():
            plain = to_plain(value)
            if plain is not None and plain != _inputs.UNKNOWN and key not in _ENGINE_KEYS:
                raw[f"{NAMESPACE}:{_config_name(key)}"] = _config_text(plain)
        config = DynamicConfig(raw_config=raw, project_name="")
        await self._run(self.core.configure, DynamicConfigureRequest(config))
        return p.ConfigureResponse(
            accept_secrets=True, supports_preview=False, accept_resources=True
        )

    # -- resource operations: the dynamic face's methods ---------------------------------
    async def check(self, request: p.CheckRequest) -> p.CheckResponse:
        """``PhoneNumberProvider.check`` on plain inputs."""
        self._require_type(request.type)
        olds, news = to_plain_map(request.old_inputs), to_plain_map(request.new_inputs)
        result = await self._run(self.core.check, olds, news)
        failures = [p.CheckFailure(f.property, f.reason) for f in result.failures or []]
        secret = secret_keys(request.new_inputs)
        return p.CheckResponse(inputs=to_values(result.inputs or {}, secret), failures=failures)

    async def diff(self, request: p.DiffRequest) -> p.DiffResponse:
        """``PhoneNumberProvider.diff`` of the old outputs and the new inputs."""
        self._require_type(request.type)
        olds, news = to_plain_map(request.old_state), to_plain_map(request.new_inputs)
        result = self.core.diff(request.resource_id, olds, news)
        replaces = list(result.replaces or [])
        detailed: dict[str, p.PropertyDiff] = {}
        for key in sorted(set(_inputs.INPUT_KEYS) & (set(olds) | set(news))):
            if key in request.ignore_changes or olds.get(key) == news.get(key):
                continue
            if key not in olds:
                kind = p.PropertyDiffKind.ADD_REPLACE if key in replaces else p.PropertyDiffKind.ADD
            elif key not in news:
                kind = (
                    p.PropertyDiffKind.DELETE_REPLACE
                    if key in replaces
                    else p.PropertyDiffKind.DELETE
                )
            else:
                kind = (
                    p.PropertyDiffKind.UPDATE_REPLACE
                    if key in replaces
                    else p.PropertyDiffKind.UPDATE
                )
            detailed[key] = p.PropertyDiff(kind, input_diff=True)
        return p.DiffResponse(
            changes=result.changes,
            replaces=replaces,
            stables=list(result.stables or []),
            delete_before_replace=bool(result.delete_before_replace),
            diffs=sorted(detailed),
            detailed_diff=detailed,
        )

    async def create(self, request: p.CreateRequest) -> p.CreateResponse:
        """``PhoneNumberProvider.create``: search, claim, buy, route."""
        self._require_type(request.type)
        result = await self._run(self.core.create, to_plain_map(request.properties))
        outs = to_values(result.outs or {}, secret_keys(request.properties))
        return p.CreateResponse(resource_id=str(result.id), properties=outs)

    async def read(self, request: p.ReadRequest) -> p.ReadResponse:
        """Refresh (``PhoneNumberProvider.read``), or import when only the id is given."""
        self._require_type(request.type)
        if not request.properties and not request.inputs:
            return await self._import(request.resource_id)
        props = to_plain_map(request.properties)
        result = await self._run(self.core.read, request.resource_id, props)
        if not result.id:
            return p.ReadResponse(resource_id="")
        secret = secret_keys(request.properties, request.inputs)
        return p.ReadResponse(
            resource_id=str(result.id),
            properties=to_values(result.outs or {}, secret),
            inputs=request.inputs,  # left as declared: the next `up` restores lost routing
        )

    async def _import(self, number: str) -> p.ReadResponse:
        found = await self._run(import_inputs, self.core, number)
        if found is None:
            return p.ReadResponse(resource_id="")
        result = await self._run(self.core.read, number, found)
        if not result.id:
            return p.ReadResponse(resource_id="")
        return p.ReadResponse(
            resource_id=str(result.id),
            properties=to_values(result.outs or {}),
            inputs=to_values(found),
        )

    async def update(self, request: p.UpdateRequest) -> p.UpdateResponse:
        """``PhoneNumberProvider.update``: re-route in place."""
        self._require_type(request.type)
        olds, news = to_plain_map(request.olds), to_plain_map(request.news)
        result = await self._run(self.core.update, request.resource_id, olds, news)
        secret = secret_keys(request.olds, request.news)
        return p.UpdateResponse(properties=to_values(result.outs or {}, secret))

    async def delete(self, request: p.DeleteRequest) -> None:
        """``PhoneNumberProvider.delete``: release, unless adopted/imported or told not to."""
        self._require_type(request.type)
        await self._run(self.core.delete, request.resource_id, to_plain_map(request.properties))

    # -- function and component ----------------------------------------------------------
    async def invoke(self, request: p.InvokeRequest) -> p.InvokeResponse:
        """``getAvailableNumbers``: search with the resource's own validation; never buys."""
        if request.tok != FUNCTION_TOKEN:
            raise ValueError(
                f"unknown function {request.tok!r} (this provider serves {FUNCTION_TOKEN})"
            )
        args = to_plain_map(request.args)
        unknown = sorted(set(args) - {*_FUNCTION_ARGS, "limit", "vendor_options"})
        if unknown:
            return p.InvokeResponse(
                failures=[p.CheckFailure(k, "unknown argument") for k in unknown]
            )
        settings = self.core._settings_now()
        try:
            name, query, options = validate_criteria(
                settings,
                vendor=args.get("vendor"),
                criteria={k: args.get(k) for k in _FUNCTION_ARGS if k != "vendor"},
                options=args.get("vendor_options"),
            )
            limit = args.get("limit", 20)
            found = await self._run(find_available, settings, name, query, options, limit)
        except InvalidCriteria as exc:
            return p.InvokeResponse(failures=[p.CheckFailure(f, r) for f, r in exc.failures])
        numbers = [dataclasses.asdict(r) for r in found]
        return p.InvokeResponse(return_value=to_values({"numbers": numbers}))

    async def construct(self, request: p.ConstructRequest) -> p.ConstructResponse:
        """``PhoneNumberFleet``: one native ``PhoneNumber`` child per key."""
        if request.resource_type != FLEET_TYPE:
            raise ValueError(f"unknown component {request.resource_type!r}")
        from .fleet import construct_fleet  # imports pulumi's resource machinery

        return await construct_fleet(request.name, to_plain_map(request.inputs), request.options)

    async def cancel(self) -> None:
        """Nothing to cancel: every operation is bounded by the vendor timeout."""
