# make run  : the whole default study     make test : the test suite
# Both create .venv and install the pinned dependencies when missing.
SHELL := /bin/bash
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
export PATH := $(BIN):$(PATH)
export PYTHONHASHSEED := 0

.PHONY: install run test lint dag report clean

install: $(VENV)/.installed

$(VENV)/.installed: requirements.lock Makefile
	bash .ci/system-deps
	test -x $(BIN)/python || python3 -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.lock
	$(BIN)/pip install -q --no-deps dehb==0.1.2
	touch $@

run: install
	snakemake --cores all --resources gpu=1

test: install
	pytest

lint: install
	ruff check .
	snakefmt --check .
	snakemake --lint
	mypy

dag: install
	snakemake --dag | dot -Tsvg > dag.svg

report: install
	snakemake --report results/report.html

clean:
	rm -rf $(VENV)
