# Every target bootstraps .venv itself: on a fresh machine `make demo` and
# `make test` are the only commands anyone needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export OPENBLAS_NUM_THREADS ?= 1

.PHONY: demo test lint fuzz bench bench-quick clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,bench,web]'
	$(BIN)/buddymatch warm-up --quiet  # compile the solver kernels once: the first run is fast
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/buddymatch validate sample_data/profiles.csv -c constraints/mentoring.yaml
	$(BIN)/buddymatch match sample_data/profiles.csv -c constraints/mentoring.yaml \
		-o demo-output/mentoring --force --seed 1
	$(BIN)/buddymatch match sample_data/profiles.csv -c constraints/peer.yaml \
		-o demo-output/peer --force --seed 1
	$(BIN)/buddymatch match sample_data/profiles.csv -c constraints/cohorts.yaml \
		-o demo-output/cohorts --force --seed 1 --quiet
	$(BIN)/buddymatch report demo-output/mentoring -o demo-output/mentoring-report.html --force
	$(BIN)/buddymatch report demo-output/peer -o demo-output/peer-report.html --force
	$(BIN)/buddymatch report demo-output/cohorts -o demo-output/cohorts-report.html --force
	@echo "Results in demo-output/: matches.csv, groups.csv, unmatched.csv, summary.json, *-report.html"

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports

test: lint
	.ci/ensure-browser
	$(BIN)/pytest -n 2 -q -m "not slow" --durations=15

fuzz: $(STAMP)  # minutes: thousands of mutated inputs per reader; prints inputs/second
	BUDDYMATCH_FUZZ_PROFILE=fuzz $(BIN)/pytest -n 2 -q tests/fuzz

bench: $(STAMP)  # over an hour (MDGPLIB alone: 54 instances x 60-120 s)
	$(BIN)/python -m benchmarks.run

bench-quick: $(STAMP)  # small sizes, a few minutes; does not touch RESULTS.md
	$(BIN)/python -m benchmarks.run --quick --output benchmarks/RESULTS-quick.md

clean:
	rm -rf $(VENV) demo-output .pytest_cache .mypy_cache .ruff_cache
