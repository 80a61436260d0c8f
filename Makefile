# Set-up is part of every target: a virtual environment with the package and its dev extra.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: test test-fast test-bench demo bench lint typecheck schema sdk clean pulumi-cli node-tools wheelhouse

$(STAMP): pyproject.toml
	@echo "Setting up $(VENV) with the dev extra (the first time takes about a minute)"
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -e '.[dev]'
	touch $(STAMP)

test: $(STAMP)
	$(PY) -m ruff check pulumi_phonenumbers tests scripts bench examples
	$(PY) -m ruff format --check pulumi_phonenumbers tests scripts bench examples
	$(PY) -m mypy pulumi_phonenumbers
	$(PY) -m pytest -q -m "not bench"

# The quick tiers (unit, contract): a few minutes. Tiers: tests/conftest.py MODULE_TIERS.
test-fast: $(STAMP)
	$(PY) -m pytest -q -m "unit or contract"

# Timing comparisons, noisy on a loaded machine: not part of `make test`.
test-bench: $(STAMP)
	$(PY) -m pytest -q -m bench

# The real Pulumi CLI (pinned) built from the Go module proxy into .tools/bin; reused when
# already built for that version. See scripts/build_pulumi_cli.sh.
pulumi-cli:
	bash scripts/build_pulumi_cli.sh

demo: $(STAMP)
	$(PY) scripts/demo.py

bench: $(STAMP)
	$(PY) bench/run.py
	$(PY) bench/realcli.py

lint: $(STAMP)
	$(PY) -m ruff check pulumi_phonenumbers tests scripts bench examples
	$(PY) -m ruff format --check pulumi_phonenumbers tests scripts bench examples

typecheck: $(STAMP)
	$(PY) -m mypy pulumi_phonenumbers

schema: $(STAMP)
	$(PY) scripts/gen_schema.py

# schema.json, then the Node.js SDK under sdk/nodejs from it (sdkgen/: the pkg/v3 codegen of
# the CLI's version; needs Go, shares the module cache of make pulumi-cli).
sdk: schema
	bash scripts/gen_nodejs_sdk.sh

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

# The Node.js SDK generator and the compiled TypeScript example with its npm packages, under
# .tools/ (npm and the Go module proxy are reached here, never by a test).
node-tools:
	bash scripts/build_node_tools.sh

# Wheels of the runtime requirements and the build backend in .tools/wheels, so that the
# packaging tests install into fresh venvs with --no-index (no test reaches the network).
wheelhouse: $(STAMP)
	$(PY) -m pip wheel -q -w .tools/wheels . 'setuptools>=68' wheel
