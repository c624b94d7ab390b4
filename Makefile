# The README's two commands are `make run` and `make test`; everything installs itself.
VENV := .venv
BIN := $(VENV)/bin
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: install run test lint format train clean nlu-report bench

install:
	@scripts/bootstrap

run: install
	$(BIN)/crm run

train: install
	$(BIN)/crm train

test: install
	@scripts/install-browser
	$(BIN)/crm train
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest
	$(BIN)/rasa data validate
	$(BIN)/rasa test core --model "$$($(BIN)/crm model)" --stories tests/stories \
		--fail-on-prediction-errors --out var/results/core

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf var/results .pytest_cache .ruff_cache

nlu-report: install
	$(BIN)/rasa test nlu --nlu data/nlu --config config.yml --cross-validation --folds 5 \
		--out var/results/nlu_cv
	$(BIN)/python scripts/nlu_report.py var/results/nlu_cv 5 > docs/nlu-cross-validation.md

DATASETS ?= ../shared/datasets

bench: install
	$(BIN)/python -m bench.intent --data $(DATASETS)/banking77 --data $(DATASETS)/hwu64 --repeats 3
	$(BIN)/python -m bench.similar --data $(DATASETS)/banking77 --repeats 3 --scale 1000000
	$(BIN)/python -m bench.inbox_groups --data $(DATASETS)/banking77 --data $(DATASETS)/hwu64
	$(BIN)/python -m bench.summaries --data $(DATASETS)/dialogsum --repeats 3
	$(BIN)/python -m bench.pii --cases bench/data/pii_cases.jsonl --repeats 3
	$(BIN)/python -m bench.pii --cases bench/data/pii_unseen.jsonl --repeats 3
	$(BIN)/python -m bench.segments
	$(BIN)/python -m bench.segment_scale --repeats 3
	$(BIN)/python -m bench.risk --repeats 5
	$(BIN)/python -m bench.analytics --database both --repeats 20
	$(BIN)/python -m bench.turn_latency --rounds 7
	$(BIN)/python -m bench.soak --minutes 10
	$(BIN)/python -m bench.turns --customers 16 --duration 60 --rounds 3 --long 200 --channel both --train
	$(BIN)/python -m bench.graph_runner
	$(BIN)/python -m bench.report
