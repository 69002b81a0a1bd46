# The two commands of the README's quick start. Each one sets itself up (a local .venv) first.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: run test demo eval train clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-base: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-all: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[all]'
	touch $@ $(VENV)/.installed-base

## make run: install and start the monitor (embedded runtime, deploy/cashwatch.yaml)
run: $(VENV)/.installed-base
	$(BIN)/cashwatch run

## make test: install everything and run the whole test suite (starts a local Kafka and Elasticsearch)
test: $(VENV)/.installed-all
	$(BIN)/python -m pytest -ra $(PYTEST_ARGS)

## make demo: simulated newsroom -> monitor -> incidents and a webhook landing in a local receiver
demo: $(VENV)/.installed-base
	$(BIN)/cashwatch demo

## make eval: the analyser's scores on ../shared/eval/dev.jsonl, plain and cross-validated (folds grouped by incident)
eval: $(VENV)/.installed-all
	$(BIN)/python -m cashwatch.processors.training eval --rules --with mention --with type --with link

## make train: retrain the analyser's models from ../shared/eval/dev.jsonl into processors/data/models.json
train: $(VENV)/.installed-all
	$(BIN)/python -m cashwatch.processors.training train

clean:
	rm -rf $(VENV) build *.egg-info
