# Two commands on a fresh machine (Python 3.11 + the package registry):
#   make run    create .venv, install statlift, extract every table of the catalog into processed/
#   make test   create .venv, install statlift with test extras, lint (ruff), types (mypy), tests
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint install bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	@echo "statlift: installing statlift and its dependencies into $(VENV) (the first time takes a minute or two)"
	$(BIN)/pip install --progress-bar off -e ".[test]" --config-settings editable_mode=compat
	# statlift's bytecode now, as pip writes it for the dependencies: an editable install has
	# none until first import, and none at all where PYTHONDONTWRITEBYTECODE is set (every
	# process of every run then compiles statlift again: ~0.15 s each, issue 15)
	$(BIN)/python -m compileall -q statlift
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/statlift run

test: $(STAMP) lint
	bash tests/system-deps.sh
	$(BIN)/python -m pytest -n 2 -q

# ruff and mypy, both pinned in the test extra; settings in pyproject.toml
lint: $(STAMP)
	$(BIN)/ruff check statlift tests benchmarks
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) processed/*/ processed/statlift.duckdb
