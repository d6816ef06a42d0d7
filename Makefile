# make run  : the whole default study     make test : the test suite
# Both create .venv and install the pinned dependencies when missing.
SHELL := /bin/bash
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
export PATH := $(BIN):$(PATH)
export PYTHONHASHSEED := 0
PYRFR := 0.9.0
# the default study's experiment (config/config.yaml)
EXP := vader

.PHONY: install fanova run resume test lint dag report status dashboard clean

install: $(VENV)/.installed

$(VENV)/.installed: requirements.lock Makefile
	bash .ci/system-deps
	test -x $(BIN)/python || python3 -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.lock
	$(BIN)/pip install -q --no-deps dehb==0.1.2
	touch $@

# The optional fanova importance backend (pyrfr builds from source: needs swig and g++).
fanova: $(VENV)/.fanova

$(VENV)/.fanova: $(VENV)/.installed
	bash .ci/system-deps test
	if $(BIN)/pip install -q --no-deps fanova==2.0.19 pyrfr==$(PYRFR); then touch $@; \
	elif [ "$$(id -u)" = 0 ]; then exit 1; \
	else echo "note: the optional fanova backend did not build (needs swig and g++)" >&2; fi

# After a crash or kill, `make run` again (or `make resume`): hpotext.workflow.resume clears the stale
# lock when no run of this folder is alive, then reruns with --rerun-incomplete.
run: install
	python -m hpotext.workflow.resume --profile profiles/local
	snakemake --report results/$(EXP)/report.html

resume: run

# As root, the test suite installs and requires the extras (fanova, chromium for the report test).
test: install fanova
	HPOTEXT_REQUIRE_EXTRAS=$$([ "$$(id -u)" = 0 ] && echo 1) pytest

lint: install
	ruff check .
	snakefmt --check .
	snakemake --lint
	mypy

dag: install
	snakemake --dag | dot -Tsvg > dag.svg

report: install
	snakemake --report results/$(EXP)/report.html

status: install
	python -m hpotext.status results/$(EXP)

# optuna-dashboard on http://127.0.0.1:$(PORT)/dashboard/, following a running search
PORT := 8080
dashboard: install
	python -m hpotext.dashboard results/$(EXP) --port $(PORT)

clean:
	rm -rf $(VENV)
