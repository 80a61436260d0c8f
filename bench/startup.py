"""Provider start-up: ``python -u -m pulumi.dynamic`` started -> first Create answered.

Ours (sandbox vendor, its file already initialised, as on every ``pulumi up`` but the very
first) against :class:`bench.trivial_provider.TrivialProvider`, alternating, same run. Each
run sends what the engine sends before the first Create: Configure, Check, Create.
Floor: median(ours) <= 1.3 x median(trivial). ``python -X importtime`` in the provider
process shows what our import path costs.
"""

from __future__ import annotations

import compileall
import functools
import os
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from pulumi_phonenumbers.store import Store
from pulumi_phonenumbers.testing import ProviderProcess

from .common import REPO, URN, median, serialized_provider

__all__ = ["LIMIT", "import_costs", "measure"]

LIMIT = 1.3


@functools.cache
def _trivial() -> str:
    from pulumi.dynamic.dynamic import serialize_provider

    from .trivial_provider import TrivialProvider

    return str(serialize_provider(TrivialProvider()))


def _env(extra: dict[str, str] | None = None) -> dict[str, str]:
    path = os.environ.get("PYTHONPATH", "")
    return {"PYTHONPATH": f"{REPO}{os.pathsep}{path}" if path else str(REPO), **(extra or {})}


def _first_create(
    config: dict[str, str], props: dict[str, Any], env: dict[str, str]
) -> tuple[float, ProviderProcess]:
    """Seconds from process start to the first Create answered; the process stays up."""
    started = time.perf_counter()
    process = ProviderProcess(env=env)
    try:
        process.configure(config)
        checked = process.check(URN.format("s"), {}, props)
        if checked.failures:
            raise RuntimeError(f"check failed: {checked.failures}")
        process.create(URN.format("s"), checked.inputs)
    except BaseException:
        process.close()
        raise
    return time.perf_counter() - started, process


def _compile_bytecode() -> None:
    """Write the bytecode of both providers' modules, as ``pip install`` of a wheel does.

    Without it a machine with ``PYTHONDONTWRITEBYTECODE=1`` (this bench's VM has it) compiles
    every module of ours from source at every start (about 14 ms), while the SDK's modules,
    compiled when pip installed them, are read from bytecode: not the start a user's stack
    has.
    """
    for package in ("pulumi_phonenumbers", "bench"):
        compileall.compile_dir(str(REPO / package), quiet=1)


def measure(runs: int = 7, directory: str | Path | None = None) -> dict[str, Any]:
    """Median start-up of ours against the trivial provider, ``runs`` each, alternating."""
    _compile_bytecode()
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        path = Path(directory or tmp) / "sandbox.db"
        Store(path)  # initialised once, as an existing sandbox file is
        config = {"phonenumbers:sandboxPath": str(path), "phonenumbers:vendor": "sandbox"}
        ours_props = {"__provider": serialized_provider(), "vendor": "sandbox", "country": "US"}
        trivial_props = {"__provider": _trivial()}
        env = _env()
        times: dict[str, list[float]] = defaultdict(list)
        for i in range(runs + 1):  # the first pair warms the OS caches and is dropped
            for name, cfg, props in (("ours", config, ours_props), ("trivial", {}, trivial_props)):
                seconds, process = _first_create(cfg, props, env)
                process.close()
                if i:
                    times[name].append(seconds)
        imports = import_costs(config, ours_props)
    ours, trivial = median(times["ours"]), median(times["trivial"])
    ratio = ours / trivial if trivial else 0.0
    return {
        "runs": runs,
        "ours_seconds": round(ours, 3),
        "trivial_seconds": round(trivial, 3),
        "ours_all": [round(t, 3) for t in times["ours"]],
        "trivial_all": [round(t, 3) for t in times["trivial"]],
        "ratio": round(ratio, 3),
        # noise only ever adds time: the best runs are a steadier second opinion
        "best_ratio": round(min(times["ours"]) / min(times["trivial"]), 3),
        "limit": LIMIT,
        "passed": ratio <= LIMIT,
        "imports": imports,
    }


# -- python -X importtime in the provider process -----------------------------------------
def import_costs(config: dict[str, str], props: dict[str, Any], top: int = 8) -> dict[str, Any]:
    """Import time our path adds over the trivial provider's, by top-level package.

    (Modules imported with ``importlib.import_module`` get no ``-X importtime`` line of
    their own, so the children's self times are summed rather than the tree trusted.)
    """
    ours = _imports(config, props)
    trivial = _imports({}, {"__provider": _trivial()})
    extra: dict[str, float] = defaultdict(float)
    for name, self_us in ours.items():
        if name not in trivial:
            extra[name.split(".")[0]] += self_us / 1000
    heaviest = sorted(extra.items(), key=lambda kv: -kv[1])[:top]
    return {
        "ours_ms": round(sum(ours.values()) / 1000, 1),
        "trivial_ms": round(sum(trivial.values()) / 1000, 1),
        "extra_ms": round(sum(extra.values()), 1),
        "extra_by_package": [{"package": k, "ms": round(v, 1)} for k, v in heaviest],
    }


def _imports(config: dict[str, str], props: dict[str, Any]) -> dict[str, int]:
    """``{module: self time in us}`` imported by a provider process up to its first Create."""
    _, process = _first_create(config, props, _env({"PYTHONPROFILEIMPORTTIME": "1"}))
    process.close()
    pump = getattr(process, "_pump", None)  # let the stderr reader drain the pipe
    if pump is not None:
        pump.join(timeout=5)
    return _self_times(process.stderr_lines)


def _self_times(lines: list[str]) -> dict[str, int]:
    """Parse ``-X importtime`` lines: ``{module: self time in us}``."""
    times: dict[str, int] = {}
    for line in lines:
        parts = line[len("import time:") :].split("|", 2)
        if not line.startswith("import time:") or len(parts) != 3:
            continue
        try:
            times[parts[2].strip()] = int(parts[0])
        except ValueError:  # the header line
            continue
    return times
