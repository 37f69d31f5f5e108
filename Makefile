# pinnrun: `make run` trains the default problem, `make test` runs the tests.
# Both create (or reuse) the virtual environment $(VENV) and install pinnrun in it.
# torch: if $(VENV) has none, $(TORCH) is installed first. For a GPU, install the
# CUDA build you need into $(VENV) before the first `make`, or pass e.g.
#   make run TORCH="torch --index-url https://download.pytorch.org/whl/cu126"
VENV ?= .venv
PYTHON ?= python3
TORCH ?= torch==2.13.0
PY := $(VENV)/bin/python
STAMP := $(VENV)/.pinnrun-installed
# the tests' extras (the trackers, the sweep plugins, ONNX, the linters): only for test and lint
TEST_STAMP := $(VENV)/.pinnrun-test-installed
# the documentation site's packages (MkDocs, the Material theme, mkdocstrings): only for docs
DOCS_STAMP := $(VENV)/.pinnrun-docs-installed

.PHONY: install run test test-all lint docs data reproduce reproduce-smoke bench clean

# Everything with uv, which resolves and installs in parallel (pip: about 2 min, uv: about 20 s);
# torch first, unless the venv has one, looking where pip is configured to find wheels (a machine's
# local CPU wheel of torch: uv reads no pip.conf). Bytecode is compiled at install (uv's
# --compile-bytecode, compileall for pinnrun itself): where PYTHONDONTWRITEBYTECODE is set, no
# import writes it, and every process would compile torch, Hydra and matplotlib from source again
# (a subprocess test: 17 s, not 7)
UV := $(VENV)/bin/uv
$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@test -x $(UV) || $(PY) -m pip install -q uv
	@$(PY) -c "import torch" 2>/dev/null || { \
	  links=$$($(PY) -m pip config get global.find-links 2>/dev/null); \
	  $(UV) pip install -q --compile-bytecode --python $(PY) $$(for l in $$links; do echo --find-links $$l; done) $(TORCH); }
	$(UV) pip install -q --compile-bytecode --python $(PY) -e .
	@$(PY) -m compileall -q pinnrun
	@touch $(STAMP)

$(TEST_STAMP): $(STAMP)
	$(UV) pip install -q --compile-bytecode --python $(PY) -e ".[test]"
	@touch $(TEST_STAMP)

$(DOCS_STAMP): $(STAMP)
	$(UV) pip install -q --compile-bytecode --python $(PY) -e ".[docs]"
	@touch $(DOCS_STAMP)

install: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/pinnrun $(ARGS)

test: $(TEST_STAMP)
	$(PY) -m pytest -q -n auto --dist worksteal --durations=25 $(ARGS)

test-all: $(TEST_STAMP)
	$(PY) -m pytest -q -n auto --dist worksteal -m "" $(ARGS)

# style (ruff, configured in pyproject.toml) and the import layers (import-linter, ditto)
LINTED := pinnrun tests benchmarks examples docs/hooks
lint: $(TEST_STAMP)
	$(VENV)/bin/ruff check $(LINTED)
	$(VENV)/bin/ruff format --check $(LINTED)
	$(VENV)/bin/lint-imports

# the documentation site (mkdocs.yml) into build/site; --strict: a broken link or a page missing
# from the navigation fails it. The configuration reference is generated from the schema as it builds
docs: $(DOCS_STAMP)
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict

data: $(STAMP)
	$(PY) -m pinnrun.reference

# full-budget paper runs (GPU work); writes docs/REPRODUCTION.md
reproduce: $(STAMP)
	$(PY) benchmarks/reproduce.py $(ARGS)

# every experiment on a reduced budget with pass/fail checks: a few minutes on a 2-core CPU
reproduce-smoke: $(STAMP)
	$(PY) benchmarks/reproduce.py --smoke $(ARGS)

bench: $(STAMP)
	$(PY) benchmarks/speed.py $(ARGS)

clean:
	rm -rf outputs build dist *.egg-info
