# The two commands of the README's quick start. Each one sets itself up (a local .venv) first.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# The optional mypyc build of the analyser (setup.py): its own venv, the project installed as a compiled wheel.
CVENV  ?= .venv-compiled
CBIN   := $(CVENV)/bin
MYPY   ?= mypy==2.4.1
CHECK  := build/compiled-check
SOURCES := $(wildcard setup.py cashwatch/*.py cashwatch/*/*.py cashwatch/data/* processors/*.py processors/data/* \
                      producers/*.py sinks/*.py)

.PHONY: run test demo bench clean compiled test-compiled

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-base: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-all: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[all]'
	touch $@ $(VENV)/.installed-base

$(CBIN)/python:
	$(PYTHON) -m venv $(CVENV)
	$(CBIN)/python -m pip install --quiet --upgrade pip

# Rebuilt whenever a source changes (a wheel, not editable). mypy is installed here only, so without build isolation.
$(CVENV)/.installed: pyproject.toml $(SOURCES) | $(CBIN)/python
	PYTHONSAFEPATH=1 $(CBIN)/python tests/compiled_build.py toolchain
	$(CBIN)/pip install --quiet '$(MYPY)' 'setuptools>=77' wheel
	$(CBIN)/pip uninstall --quiet --yes cashwatch 2>/dev/null || true
	CASHWATCH_MYPYC=1 $(CBIN)/pip install --quiet --no-build-isolation '.[test]'
	touch $@

## make run: install and start the monitor (embedded runtime, deploy/cashwatch.yaml)
run: $(VENV)/.installed-base
	$(BIN)/cashwatch run

## make test: install everything and run the whole test suite (starts a local Kafka and Elasticsearch)
test: $(VENV)/.installed-all
	$(BIN)/python -m pytest -ra $(PYTEST_ARGS)

## make demo: simulated newsroom -> monitor -> incidents and a webhook landing in a local receiver
demo: $(VENV)/.installed-base
	$(BIN)/cashwatch demo

## make compiled: the analyser compiled by mypyc (needs gcc and the Python headers), installed in .venv-compiled
compiled: $(CVENV)/.installed

## make test-compiled: the analyser's tests on the compiled build, and its output byte-compared with the pure one
test-compiled: $(CVENV)/.installed $(VENV)/.installed-base
	PYTHONSAFEPATH=1 $(CBIN)/python tests/compiled_build.py pytest -p no:cacheprovider --import-mode=importlib -q \
		tests/test_analyse.py tests/test_classify.py tests/test_lexicon.py tests/test_places.py tests/test_dates.py
	mkdir -p $(CHECK)
	PYTHONSAFEPATH=1 $(CBIN)/python tests/compiled_build.py general $(CHECK)/general.jsonl
	for f in $(wildcard ../shared/eval/dev.jsonl) cashwatch/newsroom/corpus/demo.jsonl $(CHECK)/general.jsonl; do \
		PYTHONHASHSEED=0 $(BIN)/cashwatch analyse $$f > $(CHECK)/pure.jsonl && \
		PYTHONHASHSEED=0 $(CBIN)/cashwatch analyse $$f > $(CHECK)/compiled.jsonl && \
		cmp $(CHECK)/pure.jsonl $(CHECK)/compiled.jsonl && \
		echo "$$f: $$(wc -l < $(CHECK)/pure.jsonl) results, pure and compiled identical" || exit 1; \
	done

clean:
	rm -rf $(VENV) $(CVENV) build *.egg-info
