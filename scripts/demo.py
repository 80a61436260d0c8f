"""The README main job (`make demo`): examples/quickstart, start to finish, offline.

up -> show the numbers -> edit routing -> up (an update, no replacement) -> destroy, on the
embedded sandbox vendor (a scratch sandbox file, never the user's default one). It uses the
real `pulumi` CLI with a local file backend when one is built (`make pulumi-cli`:
.tools/bin/pulumi) or on PATH, otherwise the local test engine (pulumi_phonenumbers.testing),
and says which. Every claim it prints is checked
against the sandbox's own ledger. No account, no network. Exits non-zero on any failure.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any, Protocol

from pulumi_phonenumbers.store import Store
from pulumi_phonenumbers.testing import LocalEngine
from pulumi_phonenumbers.testing._cli import PulumiCLI, pulumi_binary

QUICKSTART = Path(__file__).resolve().parent.parent / "examples" / "quickstart"
FIRST_TARGET, SECOND_TARGET = "app-support-v1", "app-support-v2"


class Stack(Protocol):
    """What the demo needs from an engine."""

    description: str

    def up(self) -> dict[str, Any]: ...
    def set_config(self, key: str, value: str) -> None: ...
    def destroy(self) -> None: ...


class LocalStack:
    """The quickstart on the local test engine."""

    def __init__(self, workdir: Path, config: dict[str, str]) -> None:
        self.engine = LocalEngine(
            QUICKSTART, config=config, state=workdir / "state.json", stack="demo"
        )
        self.description = (
            "the local test engine (pulumi_phonenumbers.testing), because no pulumi "
            "CLI was found (run `make pulumi-cli`, or put pulumi on PATH)"
        )

    def up(self) -> dict[str, Any]:
        return self.engine.up().outputs

    def set_config(self, key: str, value: str) -> None:
        self.engine.config[key] = value

    def destroy(self) -> None:
        self.engine.destroy()


class CliStack:
    """The quickstart through the real pulumi CLI, state in a local file backend."""

    def __init__(self, workdir: Path, config: dict[str, str], binary: str) -> None:
        self.cli = PulumiCLI(QUICKSTART, workdir, stack="demo", binary=binary)
        self.cli.init(config)
        self.description = (
            f"the real pulumi CLI ({binary}) with a local file backend in {workdir}; "
            f"the program runs in {self.cli.program_host}"
        )

    def up(self) -> dict[str, Any]:
        return self.cli.up()

    def set_config(self, key: str, value: str) -> None:
        self.cli.set_config(key, value)

    def destroy(self) -> None:
        self.cli.destroy()
        self.cli.remove()


class DemoFailed(Exception):
    """A check of the walk-through failed."""


def _ops(store: Store, op: str, since: int = 0) -> list[str]:
    return [e["number"] for e in store.ledger()[since:] if e["op"] == op]


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise DemoFailed(message)


def walk_through(stack: Stack, store: Store) -> None:
    """The four steps, each checked against the sandbox ledger."""
    print(f"[1/4] pulumi up: buy two numbers (calls go to {FIRST_TARGET})")
    outputs = stack.up()
    numbers = {name: str(outputs[name]) for name in ("support", "sales")}
    bought = _ops(store, "buy")
    _expect(
        sorted(bought) == sorted(numbers.values()),
        f"the sandbox sold {bought}, the stack reports {numbers}",
    )
    for name, number in numbers.items():
        record = store.get(number)
        _expect(record is not None, f"{number} is not owned after up")
        assert record is not None
        print(
            f"      bought {number}  ({name}, {record.item.locality}, "
            f"{record.item.monthly} {record.item.currency}/month, "
            f"calls -> {record.routing.get('voice_target')})"
        )

    print(f"[2/4] edit routing: voiceTarget {FIRST_TARGET} -> {SECOND_TARGET}")
    stack.set_config("voiceTarget", SECOND_TARGET)
    mark = len(store.ledger())

    print("[3/4] pulumi up: re-route in place")
    outputs = stack.up()
    _expect({n: str(outputs[n]) for n in numbers} == numbers, "the numbers changed on a re-route")
    _expect(
        _ops(store, "buy", mark) == [] and _ops(store, "release", mark) == [],
        "the routing edit bought or released numbers (a replacement)",
    )
    updated = set(_ops(store, "update", mark))
    _expect(updated == set(numbers.values()), f"expected both numbers re-routed, saw {updated}")
    for number in numbers.values():
        record = store.get(number)
        _expect(
            record is not None and record.routing.get("voice_target") == SECOND_TARGET,
            f"{number} is not routed to {SECOND_TARGET}",
        )
    print(f"      2 updated, 0 replaced: same numbers, calls now go to {SECOND_TARGET}")

    print("[4/4] pulumi destroy: release them")
    stack.destroy()
    released = _ops(store, "release")
    _expect(
        sorted(released) == sorted(numbers.values()),
        f"released {released}, expected {sorted(numbers.values())}",
    )
    _expect(not store.owned(), f"still owned: {[r.number for r in store.owned()]}")
    for number in released:
        print(f"      released {number}")


def main(argv: list[str] | None = None) -> int:
    """Run the demo; 0 on success."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--engine",
        choices=("auto", "cli", "local"),
        default="auto",
        help="auto: the pulumi CLI (.tools/bin/pulumi or on PATH) when there is one, else "
        "the local test engine",
    )
    args = parser.parse_args(argv)
    binary = pulumi_binary()
    if args.engine == "cli" and binary is None:
        print("demo: --engine cli, but no pulumi CLI: run `make pulumi-cli`", file=sys.stderr)
        return 2
    use_cli = binary is not None and args.engine != "local"
    with tempfile.TemporaryDirectory(prefix="phonenumbers-demo-") as tmp:
        workdir = Path(tmp)
        sandbox = workdir / "sandbox.db"
        store = Store(sandbox)
        config = {"phonenumbers:sandboxPath": str(sandbox), "voiceTarget": FIRST_TARGET}
        print(
            "pulumi-phonenumbers demo: examples/quickstart on the sandbox vendor "
            "(no account, no network)"
        )
        try:
            stack: Stack = (
                CliStack(workdir, config, binary)
                if use_cli and binary
                else LocalStack(workdir, config)
            )
            print(f"engine: {stack.description}")
            print(f"sandbox: {sandbox} (a scratch file, removed afterwards)")
            walk_through(stack, store)
        except Exception as exc:
            print(f"demo FAILED: {type(exc).__name__}: {exc}", file=sys.stderr)
            return 1
    print("demo OK: every number bought was released; nothing is left behind")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
