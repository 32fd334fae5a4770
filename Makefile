# One command per habit. `make run` and `make test` each do the whole set-up on a new machine.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: setup system browser run serve cli test test-fast lint bench clean second-tf

# The pinned packages, then this package in editable mode (console script tf-graph-inspector).
$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	$(PY) -m pip install -q --no-deps -e .
	rm -f $(VENV)/.installed-* && touch $(STAMP)

system:
	scripts/ensure-system.sh

# The graph viewer's pan and zoom library, pinned by its lock file (npm's integrity hash), into
# the package: served with the app's component and inlined in HTML reports, never fetched.
VIEWER := inspector/output/viewer_assets
$(VIEWER)/node_modules/.installed: $(VIEWER)/package.json $(VIEWER)/package-lock.json | system
	cd $(VIEWER) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

browser:
	scripts/ensure-system.sh --test

# The gallery's two models (MobileNetV3Small with random weights, as .keras and SavedModel),
# made once by Keras into a cache outside the checkout (32 MB, 14 s here); nothing is downloaded.
MODELS ?= $(HOME)/.cache/tf-graph-inspector/models
$(MODELS)/.made: scripts/make_gallery_models.py | $(STAMP)
	$(PY) scripts/make_gallery_models.py $(MODELS)
	touch $@

setup: $(STAMP) system $(VIEWER)/node_modules/.installed $(MODELS)/.made

run: setup
	INSPECTOR_MODELS=$(MODELS) $(PY) -m streamlit run app.py

# The hosted dashboard: CONFIG=inspector.toml SECRETS=/path/secrets.toml make serve (refuses to
# start without a working sign-in, its store or its sandbox; CHECK=1 only checks).
CONFIG ?= inspector.toml
SECRETS ?= .streamlit/secrets.toml
serve: setup
	$(VENV)/bin/tf-graph-inspector serve --config $(CONFIG) --secrets $(SECRETS) $(if $(CHECK),--check)

cli: setup
	$(VENV)/bin/tf-graph-inspector inspect gallery:process_data

# Everything: workers, PostgreSQL, chromium; with oneDNN's CPU kernels off (TensorFlow's default on
# CPUs without AVX512), then the in-process TensorFlow tests again with them on (the default on most
# current x86 servers: MatMul runs as _MklMatMul there).
test: setup browser second-tf
	INSPECTOR_TEST_VERSIONS=$(TF_CACHE) INSPECTOR_TEST_SECOND_TF=$(SECOND_TF) \
	INSPECTOR_MODELS=$(MODELS) TF_ENABLE_ONEDNN_OPTS=0 $(PY) -m pytest
	TF_ENABLE_ONEDNN_OPTS=1 $(PY) -m pytest -m tf -p no:cacheprovider

# The second TensorFlow the version tests run beside the pinned one (issue 28): installed once
# per machine into a cache outside the checkout, then reused: 2.15, the oldest supported and the
# last with Keras 2, so the suite meets the largest difference (1.6 GB, 36 s here).
SECOND_TF ?= 2.15
TF_CACHE ?= $(HOME)/.cache/tf-graph-inspector/versions
second-tf: setup
	INSPECTOR_VERSIONS=$(TF_CACHE) $(VENV)/bin/tf-graph-inspector versions add $(SECOND_TF)

# No TensorFlow in the test process, no worker, browser, PostgreSQL or Ray: the pure parts, the
# pass log, passes, patterns, profile, pictures, tables and text on TensorFlow output recorded by
# scripts/record_fixtures.py (tests/data/recorded), in about a minute.
test-fast: setup
	$(PY) -m pytest -m "not tf and not worker and not browser and not postgres and not ray"

# Style, types (bench included) and the layering contracts (pyproject.toml's [tool.importlinter]).
lint: setup
	$(VENV)/bin/ruff check inspector tests bench scripts app.py
	$(VENV)/bin/mypy inspector bench scripts/record_fixtures.py
	$(VENV)/bin/lint-imports

bench: setup
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache $(VIEWER)/node_modules
