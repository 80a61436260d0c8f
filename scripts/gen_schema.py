"""Write schema.json (the Pulumi Package Schema) from the package's models."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pulumi_phonenumbers.schema import render_schema  # noqa: E402


def render() -> str:
    """The schema text exactly as committed."""
    return render_schema()


if __name__ == "__main__":
    (ROOT / "schema.json").write_text(render())
    print(f"wrote {ROOT / 'schema.json'}")
