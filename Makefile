# The two commands a fresh machine needs: `make demo` and `make test`. Both create .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export DO_NOT_TRACK := 1
export DAGSTER_DISABLE_TELEMETRY := 1
export RUNTIME__DLTHUB_TELEMETRY := false

.PHONY: demo ui test browser java lint bench bench-scale clean

# The UI test drives Debian's headless Chromium; as root (CI), install it when it is missing.
browser:
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq \
		&& DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
		|| { echo "The UI test needs Debian's chromium: sudo apt-get install chromium"; exit 1; }

# The Spark tests run dbt-spark on a local Spark (the pyspark wheel's jars), which needs Java 17: as root (CI),
# install Debian's headless JRE when `java` is missing.
java:
	@command -v java >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq \
		&& DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null; } \
		|| { echo "The Spark tests need Java 17: sudo apt-get install openjdk-17-jre-headless"; exit 1; }

$(BIN)/.installed: pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev,spark,s3]"
	touch $@

# The whole product through Dagster on the sandbox: data, Dagster home and lakehouse under data/demo.
demo: $(BIN)/.installed
	$(BIN)/python -m orchestration.demo

# The Dagster UI on the demo's instance and lakehouse (http://127.0.0.1:3000), with the demo's sandbox
# started again from what `make demo` left in data/demo (orchestration/ui.py); Ctrl-C stops both.
ui: $(BIN)/.installed
	$(BIN)/python -m orchestration.ui

# Two pytest-xdist workers, a test module per work unit (its module fixtures built once); most tests wait on
# servers and subprocesses, so two workers fill the 2 cores a one-process run leaves a third idle.
TEST_WORKERS ?= 2
test: $(BIN)/.installed browser java
	$(BIN)/ruff check .
	$(BIN)/python -m pytest --numprocesses $(TEST_WORKERS) --dist loadscope --no-loadscope-reorder --durations 25

bench: $(BIN)/.installed
	$(BIN)/python bench/sandbox_generation.py
	$(BIN)/python bench/sandbox_requests.py
	$(BIN)/python bench/settlement_ingest.py
	$(BIN)/python bench/order_api_calls.py
	$(BIN)/python bench/throttle_share.py
	$(BIN)/python bench/report_workbook.py
	$(BIN)/python bench/lake_object_storage.py

# Long (about 35 minutes on 2 cores): dbt build at three sizes up to 4M settlement lines, per engine (bench/scale.py).
bench-scale: $(BIN)/.installed
	$(BIN)/python bench/scale.py

clean:
	rm -rf $(VENV) data .pytest_cache
