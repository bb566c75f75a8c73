# The two commands a newcomer needs: `make run` and `make test`. Both create .venv when it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# One local Dagster instance for `make dev`, `make run` and the API, so a run launched anywhere shows in the UI.
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home
INSTANCE := $(DAGSTER_HOME)/dagster.yaml

.PHONY: run test lint bench bench-full dev clean

# The repo's dagster.yaml (local SQLite instance, telemetry off) into DAGSTER_HOME, unless one is there already.
$(INSTANCE):
	mkdir -p $(DAGSTER_HOME)
	cp -L dagster.yaml $(INSTANCE)

$(STAMP): setup.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
	$(BIN)/python -m pip install --quiet -e '.[dev]' 2>&1 | grep -v "^WARNING: Location" || true
	$(BIN)/python -c "import feed_pipeline, dagster, google.genai, fastapi" 
	touch $(STAMP)

## run: the bundled sample feed through all six stages on SQLite, the offline classifier and the local Xano sandbox
run: $(STAMP) $(INSTANCE)
	$(BIN)/feed-pipeline demo

## test: the whole suite (PostgreSQL tests use the local server; under CI=true a missing server fails)
test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadgroup -q --durations=20 feed_pipeline_tests

lint: $(STAMP)
	$(BIN)/ruff check feed_pipeline feed_pipeline_tests bench

## bench: every benchmark at its default size; figures go to BENCHMARKS.md by hand
bench: $(STAMP)
	for script in bench/bench_*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

## dev: the Dagster UI on http://127.0.0.1:3000
dev: $(STAMP) $(INSTANCE)
	$(BIN)/dagster dev -h 127.0.0.1 -p 3000

clean:
	rm -rf .feed_pipeline .dagster_home
