# The two commands a fresh machine needs: `make demo` and `make test`. Both create .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export DO_NOT_TRACK := 1
export DAGSTER_DISABLE_TELEMETRY := 1
export RUNTIME__DLTHUB_TELEMETRY := false

.PHONY: demo test lint bench clean

$(BIN)/.installed: pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $@

demo: $(BIN)/.installed
	$(BIN)/spapi-elt demo

test: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

bench: $(BIN)/.installed
	$(BIN)/python bench/sandbox_generation.py
	$(BIN)/python bench/sandbox_requests.py
	$(BIN)/python bench/settlement_ingest.py
	$(BIN)/python bench/order_api_calls.py
	$(BIN)/python bench/throttle_share.py

clean:
	rm -rf $(VENV) data .pytest_cache
