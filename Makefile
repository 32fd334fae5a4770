# One command per habit. `make run` and `make test` each do the whole set-up on a new machine.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cksum requirements.txt | cut -d' ' -f1)

.PHONY: setup system browser run cli test lint bench clean

$(STAMP): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	rm -f $(VENV)/.installed-* && touch $(STAMP)

system:
	scripts/ensure-system.sh

browser:
	scripts/ensure-system.sh --browser

setup: $(STAMP) system

run: setup
	$(PY) -m streamlit run app.py

cli: setup
	$(PY) -m inspector inspect gallery:process_data

test: setup browser
	$(PY) -m pytest

lint: setup
	$(VENV)/bin/ruff check inspector tests bench app.py
	$(VENV)/bin/mypy inspector

bench: setup
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
